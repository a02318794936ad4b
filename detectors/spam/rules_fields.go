package spam

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"go.yaml.in/yaml/v3"
)

// ruleDoc holds every spam field, undecoded, so that each is read (and its
// errors reported) on its own.
type ruleDoc struct {
	Kind              yaml.Node `yaml:"kind"`
	Weight            yaml.Node `yaml:"weight"`
	Phrases           yaml.Node `yaml:"phrases"`
	Frames            yaml.Node `yaml:"frames"`
	With              yaml.Node `yaml:"with"`
	Weights           yaml.Node `yaml:"weights"`
	Shorteners        yaml.Node `yaml:"shorteners"`
	Brands            yaml.Node `yaml:"brands"`
	ManyLinks         yaml.Node `yaml:"many_links"`
	Window            yaml.Node `yaml:"window"`
	AllowedLateness   yaml.Node `yaml:"allowed_lateness"`
	MaxSenders        yaml.Node `yaml:"max_senders"`
	MaxMessages       yaml.Node `yaml:"max_messages"`
	MaxEntries        yaml.Node `yaml:"max_entries"`
	Fanout            yaml.Node `yaml:"fanout"`
	ColdFanout        yaml.Node `yaml:"cold_fanout"`
	ColdLinkFanout    yaml.Node `yaml:"cold_link_fanout"`
	ColdWordingFanout yaml.Node `yaml:"cold_wording_fanout"`
	Burst             yaml.Node `yaml:"burst"`
	Typing            yaml.Node `yaml:"typing"`
	AccountAgeScale   yaml.Node `yaml:"account_age_scale"`
	NewAccount        yaml.Node `yaml:"new_account"`
	Trust             yaml.Node `yaml:"trust"`
	ContentFanout     yaml.Node `yaml:"content_fanout"`
	ConversationState yaml.Node `yaml:"conversation_state"`
	MinScore          yaml.Node `yaml:"min_score"`
	Score             yaml.Node `yaml:"score"`
	Model             yaml.Node `yaml:"model"`
	Bands             yaml.Node `yaml:"bands"`
}

// set lists the fields that are present, other than kind.
func (d *ruleDoc) set() []string {
	var out []string
	for _, f := range []struct {
		name string
		n    *yaml.Node
	}{
		{"weight", &d.Weight}, {"phrases", &d.Phrases}, {"frames", &d.Frames}, {"with", &d.With}, {"weights", &d.Weights},
		{"shorteners", &d.Shorteners}, {"brands", &d.Brands}, {"many_links", &d.ManyLinks},
		{"window", &d.Window}, {"allowed_lateness", &d.AllowedLateness}, {"max_senders", &d.MaxSenders},
		{"max_messages", &d.MaxMessages}, {"max_entries", &d.MaxEntries}, {"fanout", &d.Fanout}, {"cold_fanout", &d.ColdFanout},
		{"cold_link_fanout", &d.ColdLinkFanout}, {"cold_wording_fanout", &d.ColdWordingFanout}, {"burst", &d.Burst}, {"typing", &d.Typing},
		{"account_age_scale", &d.AccountAgeScale}, {"new_account", &d.NewAccount}, {"trust", &d.Trust},
		{"content_fanout", &d.ContentFanout}, {"conversation_state", &d.ConversationState},
		{"min_score", &d.MinScore}, {"score", &d.Score}, {"model", &d.Model}, {"bands", &d.Bands},
	} {
		if f.n.Kind != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// weight reads a weight in (0, maxWeight] as points.
func weight(f *detectors.RuleFields, field string, n *yaml.Node, required bool) int64 {
	if n.Kind == 0 {
		if required {
			f.Errorf(field, "required: a number in (0, %d]", maxWeight)
		}
		return 0
	}
	w, ok := detectors.DecodeField[float64](f, field, n, fmt.Sprintf("a number in (0, %d]", maxWeight), "!!float", "!!int")
	if !ok {
		return 0
	}
	if !(w > 0 && w <= maxWeight) {
		f.Errorf(field, "%s is not in (0, %d]", strconv.FormatFloat(w, 'g', -1, 64), maxWeight)
		return 0
	}
	return int64(math.Round(w * points))
}

// count reads a whole number in [lo, hi].
func count(f *detectors.RuleFields, field string, n *yaml.Node, lo, hi, def int) int {
	if n.Kind == 0 {
		return def
	}
	v, ok := detectors.DecodeField[int](f, field, n, "a whole number", "!!int")
	if !ok {
		return def
	}
	if v < lo || v > hi {
		f.Errorf(field, "%d is not in [%d, %d]", v, lo, hi)
		return def
	}
	return v
}

// duration reads a duration in (0, hi].
func duration(f *detectors.RuleFields, field string, n *yaml.Node, hi, def time.Duration) time.Duration {
	d, ok := f.Duration(field, n, false)
	if !ok {
		return def
	}
	if d <= 0 || d > hi {
		f.Errorf(field, "%s is not in (0, %s]", d, hi)
		return def
	}
	return d
}

// strict decodes a mapping into v (a struct with an inline Unknown map),
// reporting unknown keys.
func strict[T any](f *detectors.RuleFields, field string, n *yaml.Node, want string, unknown func(*T) map[string]any) (T, bool) {
	var v T
	if n.Kind == 0 {
		return v, false
	}
	if n.Kind != yaml.MappingNode {
		f.Errorf(field, "%s is not %s", detectors.DescribeNode(n), want)
		return v, false
	}
	if err := n.Decode(&v); err != nil {
		f.Errorf(field, "%s is not %s: %v", detectors.DescribeNode(n), want, err)
		return v, false
	}
	if u := unknown(&v); len(u) > 0 {
		keys := make([]string, 0, len(u))
		for k := range u {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		f.Errorf(field, "unknown key %s (%s)", strings.Join(keys, ", "), want)
		return v, false
	}
	return v, true
}

func durationValue(f *detectors.RuleFields, field, s string, hi time.Duration) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > hi {
		f.Errorf(field, "%q is not a duration in (0, %s]", s, hi)
		return 0, false
	}
	return d, true
}

func weightValue(f *detectors.RuleFields, field string, w float64) (int64, bool) {
	if !(w > 0 && w <= maxWeight) {
		f.Errorf(field, "weight %s is not in (0, %d]", strconv.FormatFloat(w, 'g', -1, 64), maxWeight)
		return 0, false
	}
	return int64(math.Round(w * points)), true
}
