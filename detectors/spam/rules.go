package spam

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
)

// Rule kinds (the field `kind` of every spam rule).
const (
	kindContent   = "content"   // scam wording: phrases (and optionally `with`), weight
	kindLinks     = "links"     // link features and their weights
	kindBehaviour = "behaviour" // sender behaviour and content fan-out
	kindTier      = "tier"      // a score threshold that raises a flag
	kindBayes     = "bayes"     // a token model's spam probability, in bands
)

// ruleFields lists the spam rules' own fields, by kind.
var ruleFields = map[string][]string{
	kindContent:   {"weight", "phrases", "frames", "with"},
	kindLinks:     {"weights", "shorteners", "brands", "many_links"},
	kindBehaviour: {"window", "allowed_lateness", "max_senders", "max_messages", "max_entries", "fanout", "cold_fanout", "cold_link_fanout", "cold_wording_fanout", "burst", "typing", "account_age_scale", "new_account", "trust", "content_fanout", "conversation_state"},
	kindTier:      {"min_score", "score"},
	kindBayes:     {"model", "bands"},
}

// RuleFields are the fields of spam rules beyond the common ones.
func RuleFields() []string {
	out := []string{"kind"}
	for _, k := range []string{kindContent, kindLinks, kindBehaviour, kindTier, kindBayes} {
		out = append(out, ruleFields[k]...)
	}
	return out
}

// Limits of the rule set.
const (
	maxTiers       = 8   // tier rules (a bit each in a message's memory)
	maxLevels      = 4   // levels of a content fan-out list (a bit each)
	maxContentBits = 64  // distinct content rule ids a sender stage tracks
	maxWeight      = 100 // points per rule or level
	// points are thousandths of a score point: weights are summed as
	// integers, so a score never depends on the order of its terms.
	points = 1000
)

// config is a parsed rule set: what the detector and both stages run.
type config struct {
	rules       []*detectors.Rule
	content     []*contentRule
	contentByID map[string]*contentRule
	matcher     *text.Matcher  // phrases and `with` phrases of every content rule; nil without content rules
	phraseRule  []int32        // matcher phrase → index into content
	phraseWith  []bool         // the phrase is one of its rule's `with` phrases
	frames      *text.FrameSet // frames of every content rule; nil without any
	frameRule   []int32        // frame → index into content
	links       *linksRule     // nil: no link signals
	bayes       *bayesRule     // nil: no Bayes rule
	behaviour   *behaviourRule
	tiers       []*tierRule // ascending min score
}

// source is a rule that adds to a message's score.
type source struct {
	id     string
	name   string // the id without "spam.", as evidence shows it
	shadow bool
}

func newSource(r *detectors.Rule) source {
	return source{id: r.ID, name: strings.TrimPrefix(r.ID, "spam."), shadow: r.Mode == detectors.Shadow}
}

type contentRule struct {
	source
	key string // what forwards name it by: the id, or "<id>/<band>" for a Bayes band
	// statistical: a Bayes band, which adds to the score but, unlike scam
	// wording, does not lift the trust cap (a guess from words is not
	// enough to doubt an established sender).
	statistical bool
	weight      int64
	index       int
	hasWith     bool
}

// level is one step of a counted signal: from `at` on, it adds weight.
type level struct {
	at     int
	weight int64
	name   string // e.g. cold_fanout_20
}

// reached returns the highest level whose threshold n reaches, or nil.
func reached(levels []level, n int) *level {
	var best *level
	for i := range levels {
		if n >= levels[i].at {
			best = &levels[i]
		}
	}
	return best
}

type linksRule struct {
	source
	shorteners   map[string]bool
	brands       []brand
	manyLinks    int
	shortener    int64
	punycode     int64
	lookalike    int64
	many         int64
	firstContact int64
}

// brand is a name that look-alike domains imitate, and the domains that
// really belong to it.
type brand struct {
	name     string
	skeleton string // see skeleton
	domains  []string
}

type ageFactor struct {
	under  time.Duration
	factor float64
}

type behaviourRule struct {
	source
	window         time.Duration // fan-out: ± around each message
	lateness       time.Duration
	maxSenders     int
	maxEntries     int // messages held by a sender stage, over all senders
	maxMessages    int
	fanout         []level
	coldFanout     []level
	coldLinkFanout []level
	// coldWordingFanout: the other cold conversations whose message has scam
	// wording (see SenderStage.otherWording).
	coldWordingFanout []level
	burstWindow       time.Duration // ± around each message
	burstMessages     int
	burstWeight       int64
	typingChars       int
	typingMessages    int
	typingWeight      int64
	ageScale          []ageFactor // ascending under
	newAccountUnder   time.Duration
	newAccount        int64
	newLinkUnder      time.Duration
	newAccountLink    int64
	newColdUnder      time.Duration
	newAccountCold    int64
	// trust: what behaviour alone may score for an established sender
	// (trustAge; 0: no trust) or one writing to a known contact, when the
	// message has no scam wording and no suspicious link.
	trustAge       int64 // seconds
	trustCap       int64
	contentWindow  time.Duration // 0: no fingerprints
	maxDistance    int
	minWords       int
	maxPrints      int // entries per bucket
	maxPrintsTotal int // entries held by a fingerprint stage, over all buckets
	contentConvs   []level
	contentSenders []level
	maxConvs       int
	convIdle       time.Duration
}

// defaultBehaviour is what runs when no behaviour rule does: windows and
// state bounds, and no behaviour signal.
func defaultBehaviour() *behaviourRule {
	return &behaviourRule{
		window: time.Hour, lateness: 15 * time.Minute, maxSenders: 1_000_000, maxMessages: 512, maxEntries: 4_000_000,
		burstWindow: 30 * time.Second, maxDistance: 3, minWords: 5, maxPrints: 256, maxPrintsTotal: 4_000_000,
		maxConvs: 500_000, convIdle: 30 * 24 * time.Hour,
	}
}

// senderHorizon is how far behind a sender's latest record its entries are
// kept: twice the longest window (a message's window, and the windows of the
// messages in it), plus the allowed lateness; and at least as long as a
// content fan-out signal can trail its message (the content window plus
// the lateness of two hops).
func (b *behaviourRule) senderHorizon() int64 {
	w := max(b.window, b.burstWindow)
	return int64(max(2*w+b.lateness, b.contentWindow+2*b.lateness))
}

// printHorizon is the same for a fingerprint bucket.
func (b *behaviourRule) printHorizon() int64 {
	return int64(2*b.contentWindow + b.lateness)
}

// burstThreshold is the burst size for an account of the given age (in
// seconds; negative when unknown): smaller for young accounts.
func (b *behaviourRule) scaled(n int, age int64) int {
	if age < 0 {
		return n
	}
	for _, a := range b.ageScale {
		if time.Duration(age)*time.Second < a.under {
			return max(2, int(math.Ceil(float64(n)*a.factor)))
		}
	}
	return n
}

type tierRule struct {
	rule     *detectors.Rule
	minScore int64
	score    float64
	shadow   bool
}

// parseRules reads the spam rules that run. With matcher unset it skips
// building the phrase matcher (the stages do not read text).
func parseRules(rules []*detectors.Rule, matcher bool) (*config, error) {
	c := &config{rules: rules, contentByID: map[string]*contentRule{}}
	var phrases, frames []string
	var errs []error
	for _, r := range rules {
		if r.Detector != Name {
			continue
		}
		f := r.Fields()
		var doc ruleDoc
		if err := r.Decode(&doc); err != nil {
			return nil, err
		}
		kind, ok := f.Required("kind", &doc.Kind, "a rule kind (content, links, behaviour, tier or bayes)", "!!str")
		if ok && ruleFields[kind] == nil {
			f.Errorf("kind", "%q is not a rule kind (want content, links, behaviour, tier or bayes)", kind)
			ok = false
		}
		if ok {
			for _, k := range doc.set() {
				if !slices.Contains(ruleFields[kind], k) {
					f.Errorf(k, "not a field of %s rules (they take %s)", kind, strings.Join(ruleFields[kind], ", "))
				}
			}
			switch kind {
			case kindContent:
				cr := parseContent(f, &doc, len(c.content))
				if cr != nil {
					for _, p := range cr.phrases {
						phrases = append(phrases, p)
						c.phraseRule = append(c.phraseRule, int32(cr.rule.index))
						c.phraseWith = append(c.phraseWith, false)
					}
					for _, spec := range cr.frames {
						frames = append(frames, spec)
						c.frameRule = append(c.frameRule, int32(cr.rule.index))
					}
					for _, p := range cr.with {
						phrases = append(phrases, p)
						c.phraseRule = append(c.phraseRule, int32(cr.rule.index))
						c.phraseWith = append(c.phraseWith, true)
					}
					c.content = append(c.content, cr.rule)
					c.contentByID[cr.rule.key] = cr.rule
				}
			case kindLinks:
				if c.links != nil {
					f.Errorf("kind", "a second links rule (%s is the first)", c.links.id)
				}
				if l := parseLinks(f, &doc); l != nil && c.links == nil {
					c.links = l
				}
			case kindBehaviour:
				if c.behaviour != nil {
					f.Errorf("kind", "a second behaviour rule (%s is the first)", c.behaviour.id)
				}
				if b := parseBehaviour(f, &doc); b != nil && c.behaviour == nil {
					c.behaviour = b
				}
			case kindTier:
				if t := parseTier(f, &doc); t != nil {
					c.tiers = append(c.tiers, t)
				}
			case kindBayes:
				if c.bayes != nil {
					f.Errorf("kind", "a second bayes rule (%s is the first)", c.bayes.id)
				}
				if b := parseBayes(f, &doc, matcher); b != nil && c.bayes == nil {
					c.bayes = b
					for _, band := range b.bands {
						band.rule.index = len(c.content)
						c.content = append(c.content, band.rule)
						c.contentByID[band.rule.key] = band.rule
					}
				}
			}
		}
		errs = append(errs, f.Errs()...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c.behaviour == nil {
		c.behaviour = defaultBehaviour()
	}
	if len(c.content) > maxContentBits {
		return nil, fmt.Errorf("%d content rules: at most %d", len(c.content), maxContentBits)
	}
	if len(c.tiers) > maxTiers {
		return nil, fmt.Errorf("%d tier rules: at most %d", len(c.tiers), maxTiers)
	}
	slices.SortStableFunc(c.tiers, func(a, b *tierRule) int { return int(a.minScore - b.minScore) })
	if matcher && len(phrases) > 0 {
		m, err := text.NewMatcher(phrases)
		if err != nil {
			return nil, fmt.Errorf("spam content phrases: %w", err)
		}
		c.matcher = m
	}
	if matcher && len(frames) > 0 {
		fs, err := text.CompileFrames(frames)
		if err != nil {
			return nil, fmt.Errorf("spam content frames: %w", err)
		}
		c.frames = fs
	}
	return c, nil
}

func parseTier(f *detectors.RuleFields, d *ruleDoc) *tierRule {
	r := f.Rule()
	t := &tierRule{rule: r, shadow: r.Mode == detectors.Shadow}
	if d.MinScore.Kind == 0 {
		f.Errorf("min_score", "required: the score from which the rule flags a message")
	} else if s, ok := detectors.DecodeField[float64](f, "min_score", &d.MinScore, "a number in (0, 1000]", "!!float", "!!int"); ok {
		if !(s > 0 && s <= 1000) {
			f.Errorf("min_score", "%g is not in (0, 1000]", s)
		}
		t.minScore = int64(math.Round(s * points))
	}
	t.score = f.Score(&d.Score)
	if r.Severity.Rank() < detectors.Low.Rank() {
		f.Errorf("severity", "required")
	}
	if len(f.Errs()) > 0 {
		return nil
	}
	return t
}
