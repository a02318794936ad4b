package spam

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
)

// Rule kinds (the field `kind` of every spam rule).
const (
	kindContent   = "content"   // scam wording: phrases (and optionally `with`), weight
	kindLinks     = "links"     // link features and their weights
	kindBehaviour = "behaviour" // sender behaviour and content fan-out
	kindTier      = "tier"      // a score threshold that raises a flag
)

// ruleFields lists the spam rules' own fields, by kind.
var ruleFields = map[string][]string{
	kindContent:   {"weight", "phrases", "frames", "with"},
	kindLinks:     {"weights", "shorteners", "brands", "many_links"},
	kindBehaviour: {"window", "allowed_lateness", "max_senders", "max_messages", "max_entries", "fanout", "cold_fanout", "cold_link_fanout", "burst", "typing", "account_age_scale", "new_account", "trust", "content_fanout", "conversation_state"},
	kindTier:      {"min_score", "score"},
}

// RuleFields are the fields of spam rules beyond the common ones.
func RuleFields() []string {
	out := []string{"kind"}
	for _, k := range []string{kindContent, kindLinks, kindBehaviour, kindTier} {
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
	weight  int64
	index   int
	hasWith bool
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
	window          time.Duration // fan-out: ± around each message
	lateness        time.Duration
	maxSenders      int
	maxEntries      int // messages held by a sender stage, over all senders
	maxMessages     int
	fanout          []level
	coldFanout      []level
	coldLinkFanout  []level
	burstWindow     time.Duration // ± around each message
	burstMessages   int
	burstWeight     int64
	typingChars     int
	typingMessages  int
	typingWeight    int64
	ageScale        []ageFactor // ascending under
	newAccountUnder time.Duration
	newAccount      int64
	newLinkUnder    time.Duration
	newAccountLink  int64
	newColdUnder    time.Duration
	newAccountCold  int64
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
		kind, ok := f.Required("kind", &doc.Kind, "a rule kind (content, links, behaviour or tier)", "!!str")
		if ok && ruleFields[kind] == nil {
			f.Errorf("kind", "%q is not a rule kind (want content, links, behaviour or tier)", kind)
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
					c.contentByID[r.ID] = cr.rule
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
	Burst             yaml.Node `yaml:"burst"`
	Typing            yaml.Node `yaml:"typing"`
	AccountAgeScale   yaml.Node `yaml:"account_age_scale"`
	NewAccount        yaml.Node `yaml:"new_account"`
	Trust             yaml.Node `yaml:"trust"`
	ContentFanout     yaml.Node `yaml:"content_fanout"`
	ConversationState yaml.Node `yaml:"conversation_state"`
	MinScore          yaml.Node `yaml:"min_score"`
	Score             yaml.Node `yaml:"score"`
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
		{"cold_link_fanout", &d.ColdLinkFanout}, {"burst", &d.Burst}, {"typing", &d.Typing},
		{"account_age_scale", &d.AccountAgeScale}, {"new_account", &d.NewAccount}, {"trust", &d.Trust},
		{"content_fanout", &d.ContentFanout}, {"conversation_state", &d.ConversationState},
		{"min_score", &d.MinScore}, {"score", &d.Score},
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

type parsedContent struct {
	rule    *contentRule
	phrases []string
	frames  []string
	with    []string
}

func parseContent(f *detectors.RuleFields, d *ruleDoc, index int) *parsedContent {
	r := f.Rule()
	w := weight(f, "weight", &d.Weight, true)
	phrases, ok := detectors.DecodeField[[]string](f, "phrases", &d.Phrases, "a list of phrases")
	frames, fok := detectors.DecodeField[[]string](f, "frames", &d.Frames, "a list of frames (text.CompileFrames)")
	if d.Phrases.Kind == 0 && d.Frames.Kind == 0 {
		f.Errorf("phrases", "required: a list of phrases, or frames")
	}
	if ok && d.Phrases.Kind != 0 && len(phrases) == 0 {
		f.Errorf("phrases", "empty")
	}
	if fok && d.Frames.Kind != 0 && len(frames) == 0 {
		f.Errorf("frames", "empty: leave it out instead")
	}
	for _, spec := range frames {
		if _, err := text.CompileFrames([]string{spec}); err != nil {
			f.Errorf("frames", "%v", err)
		}
	}
	with, _ := detectors.DecodeField[[]string](f, "with", &d.With, "a list of phrases")
	if d.With.Kind != 0 && len(with) == 0 {
		f.Errorf("with", "empty: leave it out instead")
	}
	for field, list := range map[string][]string{"phrases": phrases, "with": with} {
		for _, p := range list {
			if _, err := text.NewMatcher([]string{p}); err != nil {
				f.Errorf(field, "%v", err)
			}
		}
	}
	if len(f.Errs()) > 0 {
		return nil
	}
	return &parsedContent{
		rule:    &contentRule{source: newSource(r), weight: w, index: index, hasWith: len(with) > 0},
		phrases: phrases, frames: frames, with: with,
	}
}

type linkWeightsDoc struct {
	Shortener    *float64       `yaml:"shortener"`
	Punycode     *float64       `yaml:"punycode"`
	Lookalike    *float64       `yaml:"lookalike"`
	ManyLinks    *float64       `yaml:"many_links"`
	FirstContact *float64       `yaml:"first_contact"`
	Unknown      map[string]any `yaml:",inline"`
}

type brandDoc struct {
	Name    string         `yaml:"name"`
	Domains []string       `yaml:"domains"`
	Unknown map[string]any `yaml:",inline"`
}

func parseLinks(f *detectors.RuleFields, d *ruleDoc) *linksRule {
	l := &linksRule{source: newSource(f.Rule()), shorteners: map[string]bool{}}
	const wantWeights = "a mapping of shortener, punycode, lookalike, many_links, first_contact to weights"
	ws, ok := strict(f, "weights", &d.Weights, wantWeights, func(v *linkWeightsDoc) map[string]any { return v.Unknown })
	if d.Weights.Kind == 0 {
		f.Errorf("weights", "required: %s", wantWeights)
	}
	if ok {
		for _, w := range []struct {
			v   *float64
			dst *int64
		}{{ws.Shortener, &l.shortener}, {ws.Punycode, &l.punycode}, {ws.Lookalike, &l.lookalike}, {ws.ManyLinks, &l.many}, {ws.FirstContact, &l.firstContact}} {
			if w.v != nil {
				*w.dst, _ = weightValue(f, "weights", *w.v)
			}
		}
	}
	shorteners, _ := detectors.DecodeField[[]string](f, "shorteners", &d.Shorteners, "a list of host names")
	for _, h := range shorteners {
		h = strings.ToLower(strings.TrimSpace(h))
		if !validHost(h) {
			f.Errorf("shorteners", "%q is not a host name such as bit.ly", h)
			continue
		}
		l.shorteners[h] = true
	}
	if l.shortener > 0 && len(l.shorteners) == 0 {
		f.Errorf("shorteners", "required with a shortener weight")
	}
	var brands []brandDoc
	if d.Brands.Kind != 0 {
		if d.Brands.Kind != yaml.SequenceNode {
			f.Errorf("brands", "%s is not a list of {name, domains}", detectors.DescribeNode(&d.Brands))
		} else {
			for _, n := range d.Brands.Content {
				b, ok := strict(f, "brands", n, "a brand {name, domains}", func(v *brandDoc) map[string]any { return v.Unknown })
				if ok {
					brands = append(brands, b)
				}
			}
		}
	}
	for _, b := range brands {
		name := foldLabel(b.Name)
		if len(name) < 3 || name != b.Name || !isLowerAlnum(name) {
			f.Errorf("brands", "brand name %q: want a lower-case ASCII word of at least 3 letters", b.Name)
			continue
		}
		if len(b.Domains) == 0 {
			f.Errorf("brands", "brand %q: domains required", b.Name)
			continue
		}
		br := brand{name: name, skeleton: skeleton(name)}
		for _, dom := range b.Domains {
			dom = strings.ToLower(strings.TrimSpace(dom))
			if !validHost(dom) {
				f.Errorf("brands", "brand %q: %q is not a domain", b.Name, dom)
				continue
			}
			br.domains = append(br.domains, dom)
		}
		l.brands = append(l.brands, br)
	}
	if l.lookalike > 0 && len(l.brands) == 0 {
		f.Errorf("brands", "required with a lookalike weight")
	}
	l.manyLinks = count(f, "many_links", &d.ManyLinks, 2, 1000, 3)
	if len(f.Errs()) > 0 {
		return nil
	}
	return l
}

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
