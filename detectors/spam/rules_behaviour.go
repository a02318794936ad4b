package spam

import (
	"math"
	"strconv"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"go.yaml.in/yaml/v3"
)

type levelDoc struct {
	At      int            `yaml:"at"`
	Weight  float64        `yaml:"weight"`
	Unknown map[string]any `yaml:",inline"`
}

// levels reads a list of {at, weight}: thresholds rising, weights not
// falling, so that reaching a higher level never lowers a score.
func levels(f *detectors.RuleFields, field string, n *yaml.Node, name string, minAt, maxN int) []level {
	if n.Kind == 0 {
		return nil
	}
	const want = "a list of {at, weight}"
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		f.Errorf(field, "%s is not %s", detectors.DescribeNode(n), want)
		return nil
	}
	if len(n.Content) > maxN {
		f.Errorf(field, "%d levels: at most %d", len(n.Content), maxN)
		return nil
	}
	var out []level
	for _, c := range n.Content {
		l, ok := strict(f, field, c, "a level {at, weight}", func(v *levelDoc) map[string]any { return v.Unknown })
		if !ok {
			return nil
		}
		w, ok := weightValue(f, field, l.Weight)
		if !ok {
			return nil
		}
		if l.At < minAt || l.At > 1_000_000 {
			f.Errorf(field, "at %d is not in [%d, 1000000]", l.At, minAt)
			return nil
		}
		if k := len(out); k > 0 && (l.At <= out[k-1].at || w < out[k-1].weight) {
			f.Errorf(field, "levels must rise: at %d (weight %g) after at %d (weight %g)", l.At, l.Weight, out[k-1].at, float64(out[k-1].weight)/points)
			return nil
		}
		out = append(out, level{at: l.At, weight: w, name: name + "_" + strconv.Itoa(l.At)})
	}
	return out
}

type burstDoc struct {
	Window   string         `yaml:"window"`
	Messages int            `yaml:"messages"`
	Weight   float64        `yaml:"weight"`
	Unknown  map[string]any `yaml:",inline"`
}

type typingDoc struct {
	Characters int            `yaml:"characters"`
	Messages   int            `yaml:"messages"`
	Weight     float64        `yaml:"weight"`
	Unknown    map[string]any `yaml:",inline"`
}

type ageDoc struct {
	Under   string         `yaml:"under"`
	Factor  float64        `yaml:"factor"`
	Unknown map[string]any `yaml:",inline"`
}

type trustDoc struct {
	AccountAge string         `yaml:"account_age"`
	Cap        *float64       `yaml:"cap"`
	Unknown    map[string]any `yaml:",inline"`
}

type newAccountDoc struct {
	Under      string         `yaml:"under"`
	Weight     float64        `yaml:"weight"`
	LinkUnder  string         `yaml:"link_under"`
	LinkWeight float64        `yaml:"link_weight"`
	ColdUnder  string         `yaml:"first_contact_under"`
	ColdWeight float64        `yaml:"first_contact_weight"`
	Unknown    map[string]any `yaml:",inline"`
}

type contentFanoutDoc struct {
	Window           string         `yaml:"window"`
	MaxDistance      *int           `yaml:"max_distance"`
	MinWords         *int           `yaml:"min_words"`
	MaxBucketEntries *int           `yaml:"max_bucket_entries"`
	MaxEntries       *int           `yaml:"max_entries"`
	Conversations    yaml.Node      `yaml:"conversations"`
	Senders          yaml.Node      `yaml:"senders"`
	Unknown          map[string]any `yaml:",inline"`
}

type convStateDoc struct {
	MaxEntries int            `yaml:"max_entries"`
	Idle       string         `yaml:"idle"`
	Unknown    map[string]any `yaml:",inline"`
}

const week = 7 * 24 * time.Hour

func parseBehaviour(f *detectors.RuleFields, d *ruleDoc) *behaviourRule {
	b := defaultBehaviour()
	b.source = newSource(f.Rule())
	b.window = duration(f, "window", &d.Window, 24*time.Hour, b.window)
	b.lateness = duration(f, "allowed_lateness", &d.AllowedLateness, 24*time.Hour, b.lateness)
	b.maxSenders = count(f, "max_senders", &d.MaxSenders, 1, 100_000_000, b.maxSenders)
	b.maxEntries = count(f, "max_entries", &d.MaxEntries, 1000, 1_000_000_000, b.maxEntries)
	b.maxMessages = count(f, "max_messages", &d.MaxMessages, 8, 100_000, b.maxMessages)
	b.fanout = levels(f, "fanout", &d.Fanout, "fanout", 2, 16)
	b.coldFanout = levels(f, "cold_fanout", &d.ColdFanout, "cold_fanout", 2, 16)
	b.coldLinkFanout = levels(f, "cold_link_fanout", &d.ColdLinkFanout, "cold_link_fanout", 2, 16)
	b.coldWordingFanout = levels(f, "cold_wording_fanout", &d.ColdWordingFanout, "cold_wording_fanout", 1, 16)
	if bd, ok := strict(f, "burst", &d.Burst, "{window, messages, weight}", func(v *burstDoc) map[string]any { return v.Unknown }); ok {
		if w, ok := durationValue(f, "burst", bd.Window, time.Hour); ok {
			b.burstWindow = w
		}
		if bd.Messages < 2 || bd.Messages > 10_000 {
			f.Errorf("burst", "messages %d is not in [2, 10000]", bd.Messages)
		}
		b.burstMessages = bd.Messages
		b.burstWeight, _ = weightValue(f, "burst", bd.Weight)
	}
	if td, ok := strict(f, "typing", &d.Typing, "{characters, messages, weight}", func(v *typingDoc) map[string]any { return v.Unknown }); ok {
		if td.Characters < 1 || td.Messages < 2 || td.Messages > 10_000 {
			f.Errorf("typing", "want characters ≥ 1 and messages in [2, 10000]")
		}
		b.typingChars, b.typingMessages = td.Characters, td.Messages
		b.typingWeight, _ = weightValue(f, "typing", td.Weight)
	}
	if d.AccountAgeScale.Kind != 0 {
		if d.AccountAgeScale.Kind != yaml.SequenceNode {
			f.Errorf("account_age_scale", "%s is not a list of {under, factor}", detectors.DescribeNode(&d.AccountAgeScale))
		}
		for _, n := range d.AccountAgeScale.Content {
			a, ok := strict(f, "account_age_scale", n, "{under, factor}", func(v *ageDoc) map[string]any { return v.Unknown })
			if !ok {
				continue
			}
			under, ok := durationValue(f, "account_age_scale", a.Under, 365*24*time.Hour)
			if !ok {
				continue
			}
			if !(a.Factor > 0 && a.Factor <= 1) {
				f.Errorf("account_age_scale", "factor %g is not in (0, 1]", a.Factor)
				continue
			}
			if k := len(b.ageScale); k > 0 && (under <= b.ageScale[k-1].under || a.Factor < b.ageScale[k-1].factor) {
				f.Errorf("account_age_scale", "ages must rise and factors not fall: under %s after %s", under, b.ageScale[k-1].under)
				continue
			}
			b.ageScale = append(b.ageScale, ageFactor{under, a.Factor})
		}
	}
	if nd, ok := strict(f, "new_account", &d.NewAccount, "{under, weight, link_under, link_weight, first_contact_under, first_contact_weight}", func(v *newAccountDoc) map[string]any { return v.Unknown }); ok {
		if nd.Under != "" {
			b.newAccountUnder, _ = durationValue(f, "new_account", nd.Under, 365*24*time.Hour)
			b.newAccount, _ = weightValue(f, "new_account", nd.Weight)
		}
		if nd.LinkUnder != "" {
			b.newLinkUnder, _ = durationValue(f, "new_account", nd.LinkUnder, 365*24*time.Hour)
			b.newAccountLink, _ = weightValue(f, "new_account", nd.LinkWeight)
		}
		if nd.ColdUnder != "" {
			b.newColdUnder, _ = durationValue(f, "new_account", nd.ColdUnder, 365*24*time.Hour)
			b.newAccountCold, _ = weightValue(f, "new_account", nd.ColdWeight)
		}
	}
	if td, ok := strict(f, "trust", &d.Trust, "{account_age, cap}", func(v *trustDoc) map[string]any { return v.Unknown }); ok {
		if a, ok := durationValue(f, "trust", td.AccountAge, 10*365*24*time.Hour); ok {
			if a < b.newLinkUnder || a < b.newAccountUnder || a < b.newColdUnder {
				f.Errorf("trust", "account_age %s is younger than a new account (new_account): an account cannot be both", a)
			}
			b.trustAge = max(1, int64(a/time.Second))
		}
		switch {
		case td.Cap == nil:
			f.Errorf("trust", "cap required: what behaviour alone may score for a trusted sender")
		case *td.Cap < 0 || *td.Cap > 1000:
			f.Errorf("trust", "cap %g is not in [0, 1000]", *td.Cap)
		default:
			b.trustCap = int64(math.Round(*td.Cap * points))
		}
	}
	if cd, ok := strict(f, "content_fanout", &d.ContentFanout, "{window, max_distance, min_words, max_bucket_entries, max_entries, conversations, senders}", func(v *contentFanoutDoc) map[string]any { return v.Unknown }); ok {
		if w, ok := durationValue(f, "content_fanout", cd.Window, 24*time.Hour); ok {
			b.contentWindow = w
		}
		if cd.MaxDistance != nil {
			if *cd.MaxDistance < 0 || *cd.MaxDistance > bands-1 {
				f.Errorf("content_fanout", "max_distance %d is not in [0, %d]: with %d bands of the fingerprint, only that many differing bits are sure to share a band", *cd.MaxDistance, bands-1, bands)
			} else {
				b.maxDistance = *cd.MaxDistance
			}
		}
		if cd.MinWords != nil {
			if *cd.MinWords < 2 || *cd.MinWords > 100 {
				f.Errorf("content_fanout", "min_words %d is not in [2, 100]", *cd.MinWords)
			} else {
				b.minWords = *cd.MinWords
			}
		}
		if cd.MaxBucketEntries != nil {
			if *cd.MaxBucketEntries < 8 || *cd.MaxBucketEntries > 100_000 {
				f.Errorf("content_fanout", "max_bucket_entries %d is not in [8, 100000]", *cd.MaxBucketEntries)
			} else {
				b.maxPrints = *cd.MaxBucketEntries
			}
		}
		if cd.MaxEntries != nil {
			if *cd.MaxEntries < 1000 || *cd.MaxEntries > 1_000_000_000 {
				f.Errorf("content_fanout", "max_entries %d is not in [1000, 1000000000]", *cd.MaxEntries)
			} else {
				b.maxPrintsTotal = *cd.MaxEntries
			}
		}
		b.contentConvs = levels(f, "content_fanout", &cd.Conversations, "content_fanout", 2, maxLevels)
		b.contentSenders = levels(f, "content_fanout", &cd.Senders, "content_senders", 2, maxLevels)
		if len(b.contentConvs) == 0 && len(b.contentSenders) == 0 {
			f.Errorf("content_fanout", "conversations or senders levels required")
		}
	}
	if sd, ok := strict(f, "conversation_state", &d.ConversationState, "{max_entries, idle}", func(v *convStateDoc) map[string]any { return v.Unknown }); ok {
		if sd.MaxEntries < 1 || sd.MaxEntries > 100_000_000 {
			f.Errorf("conversation_state", "max_entries %d is not in [1, 100000000]", sd.MaxEntries)
		} else {
			b.maxConvs = sd.MaxEntries
		}
		if w, ok := durationValue(f, "conversation_state", sd.Idle, 365*24*time.Hour); ok {
			b.convIdle = w
		}
	}
	if len(f.Errs()) > 0 {
		return nil
	}
	return b
}
