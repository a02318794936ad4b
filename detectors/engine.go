package detectors

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/detectors/text"
	"github.com/goshawk-safety/goshawk/event"
)

// DefaultEvidenceContext is how many characters of context the evidence
// excerpt keeps on each side of what matched.
const DefaultEvidenceContext = 40

// MaxEvidenceBytes bounds every evidence excerpt, whatever a detector asks.
const MaxEvidenceBytes = 512

// Clock stamps detected_at. The pipeline passes the wall clock; replay
// passes EventTime so that its output is reproducible.
type Clock func(m *event.Message) time.Time

// EventTime is the Clock that stamps a flag with its message's sent_at.
func EventTime(m *event.Message) time.Time { return m.SentAt }

// WallClock is the Clock that stamps a flag with the current time.
func WallClock(*event.Message) time.Time { return time.Now().UTC() }

// EngineOptions configure an Engine.
type EngineOptions struct {
	Clock           Clock // default WallClock
	EvidenceContext int   // characters each side; default DefaultEvidenceContext
}

// Engine runs a set of detector instances over messages. It is not safe for
// concurrent use: each pipeline worker owns one.
type Engine struct {
	factories []Factory
	detectors []Detector
	rules     *RuleSet
	text      *text.Shared // the normaliser shared by the TextSharer detectors
	clock     Clock
	context   int
	findings  []Finding
	watermark time.Time // set by SetWatermark, passed to every Watermarked detector
}

// NewEngine builds one instance of each factory, running the rules of set
// (which may be nil for detectors that take no rules).
func NewEngine(factories []Factory, set *RuleSet, opts EngineOptions) (*Engine, error) {
	e := &Engine{factories: factories, clock: opts.Clock, context: opts.EvidenceContext, text: new(text.Shared)}
	if e.clock == nil {
		e.clock = WallClock
	}
	if e.context <= 0 {
		e.context = DefaultEvidenceContext
	}
	if set == nil {
		set = &RuleSet{}
	}
	e.rules = set
	for _, f := range factories {
		d, err := f.New(set.For(f.Name))
		if err != nil {
			return nil, fmt.Errorf("detector %s: %w", f.Name, err)
		}
		e.share(d)
		e.detectors = append(e.detectors, d)
	}
	return e, nil
}

// StateEntries calls fn with each stateful detector's name and the number
// of entries it holds. Call it between messages, like Inspect.
func (e *Engine) StateEntries(fn func(detector string, entries int)) {
	for _, d := range e.detectors {
		if s, ok := d.(StateSizer); ok {
			fn(d.Name(), s.StateEntries())
		}
	}
}

func (e *Engine) share(d Detector) {
	if s, ok := d.(TextSharer); ok {
		s.ShareText(e.text)
	}
}

// TakeForwards appends what the detectors want forwarded to their stages
// since the previous call (see Forwarder). Call it after Inspect.
func (e *Engine) TakeForwards(out []Forward) []Forward {
	for _, d := range e.detectors {
		if f, ok := d.(Forwarder); ok {
			out = f.TakeForwards(out)
		}
	}
	return out
}

// TakeChanged calls fn with every durable detector's changed states since
// the previous call (see Durable).
func (e *Engine) TakeChanged(fn func(detector, key string, state []byte)) {
	for _, d := range e.detectors {
		if s, ok := d.(Durable); ok {
			name := d.Name()
			s.TakeChanged(func(key string, state []byte) { fn(name, key, state) })
		}
	}
}

// Restore hands a state read back from the changelog to the named durable
// detector. A detector the engine does not run, or one that is not durable
// (a rule change switched it off), ignores it.
func (e *Engine) Restore(detector, key string, state []byte) error {
	for _, d := range e.detectors {
		if s, ok := d.(Durable); ok && d.Name() == detector {
			if err := s.Restore(key, state); err != nil {
				return fmt.Errorf("detector %s: restore %q: %w", detector, key, err)
			}
		}
	}
	return nil
}

// Durable reports whether any of the engine's detectors keeps durable
// state.
func (e *Engine) Durable() bool {
	for _, d := range e.detectors {
		if _, ok := d.(Durable); ok {
			return true
		}
	}
	return false
}

// Rules returns the rule set the engine runs.
func (e *Engine) Rules() *RuleSet { return e.rules }

// Reload switches the engine to a new rule set. Detectors that implement
// Reloader keep their state; others are rebuilt. On error the engine keeps
// running the old rules. Call it between messages.
func (e *Engine) Reload(set *RuleSet) error {
	e.text.ForgetMatchers() // the union of the old lexicons; rebuilt from the next texts'
	next := make([]Detector, len(e.detectors))
	for i, f := range e.factories {
		var err error
		if r, ok := e.detectors[i].(Reloader); ok {
			err = r.Reload(set.For(f.Name)) // atomic: switches or fails unchanged
			next[i] = e.detectors[i]
		} else {
			if next[i], err = f.New(set.For(f.Name)); err == nil {
				e.share(next[i])
			}
		}
		if err != nil {
			return fmt.Errorf("detector %s: %w", f.Name, err)
		}
	}
	e.detectors, e.rules = next, set
	for _, d := range e.detectors {
		if w, ok := d.(Watermarked); ok {
			w.SetWatermark(e.watermark) // a rebuilt detector starts without it
		}
	}
	return nil
}

// SetWatermark passes t to every detector that reclaims idle state by
// event time (see Watermarked); the zero time clears it. A pipeline worker
// calls it before each message with the time all its partitions reached.
func (e *Engine) SetWatermark(t time.Time) {
	if t.Equal(e.watermark) {
		return
	}
	e.watermark = t
	for _, d := range e.detectors {
		if w, ok := d.(Watermarked); ok {
			w.SetWatermark(t)
		}
	}
}

// DetectorNames lists the engine's detectors in the order they run.
func (e *Engine) DetectorNames() []string {
	names := make([]string, len(e.detectors))
	for i, d := range e.detectors {
		names[i] = d.Name()
	}
	return names
}

// Observer receives the time each detector took on a message; the pipeline
// uses it for the detector latency histogram. It may be nil.
type Observer func(detector string, elapsed time.Duration)

// Inspect runs every detector on m, in order, and appends the resulting flags
// to out. The same message always yields the same flags (apart from
// DetectedAt under the wall clock).
func (e *Engine) Inspect(m *event.Message, out []Flag, observe Observer) []Flag {
	return e.inspect(m, out, observe, nil)
}

// InspectRedelivered is Inspect for a message that some durable detectors
// have already seen (a record re-delivered after a restart or rebalance,
// whose effect is in their restored state): it skips the durable detectors
// for which seen returns true and runs every other detector.
func (e *Engine) InspectRedelivered(m *event.Message, out []Flag, observe Observer, seen func(detector string) bool) []Flag {
	return e.inspect(m, out, observe, seen)
}

func (e *Engine) inspect(m *event.Message, out []Flag, observe Observer, seen func(string) bool) []Flag {
	detectedAt := e.clock(m)
	var recipients []string
	for _, d := range e.detectors {
		if seen != nil {
			if _, ok := d.(Durable); ok && seen(d.Name()) {
				continue
			}
		}
		var start time.Time
		if observe != nil {
			start = time.Now()
		}
		e.findings = d.Inspect(m, e.findings[:0])
		if observe != nil {
			observe(d.Name(), time.Since(start))
		}
		for _, f := range e.findings {
			if recipients == nil {
				recipients = m.RecipientIDs()
			}
			evidence := f.Evidence
			if evidence == "" {
				evidence = Excerpt(m.Text, f.Start, f.End, e.context)
			}
			version, mode := f.RuleVersion, f.Mode
			if rule, ok := e.rules.Lookup(d.Name(), f.Rule); ok {
				version, mode = rule.Version, rule.Mode
			}
			out = append(out, Flag{
				FlagID:         FlagID(m.MessageID, d.Name(), f.Rule),
				MessageID:      m.MessageID,
				ConversationID: m.ConversationID,
				SenderID:       m.Sender.ID,
				RecipientIDs:   recipients,
				Category:       f.Category,
				Detector:       d.Name(),
				Rule:           f.Rule,
				RuleVersion:    version,
				Mode:           mode.OrLive(),
				Severity:       f.Severity,
				Score:          clamp01(f.Score),
				Evidence:       truncate(evidence, MaxEvidenceBytes),
				SentAt:         m.SentAt,
				DetectedAt:     detectedAt,
			})
		}
	}
	return out
}

func clamp01(x float64) float64 {
	switch {
	case x < 0 || x != x:
		return 0
	case x > 1:
		return 1
	}
	return x
}

// Excerpt returns text[start:end] with up to context characters on each side,
// cut at character boundaries, with "…" where text was cut off.
func Excerpt(text string, start, end, context int) string {
	if start < 0 || end > len(text) || start > end {
		start, end = 0, 0
	}
	from := start
	for n := 0; n < context && from > 0; n++ {
		_, size := utf8.DecodeLastRuneInString(text[:from])
		from -= size
	}
	to := end
	for n := 0; n < context && to < len(text); n++ {
		_, size := utf8.DecodeRuneInString(text[to:])
		to += size
	}
	s := text[from:to]
	if from > 0 {
		s = "…" + s
	}
	if to < len(text) {
		s += "…"
	}
	return s
}

// truncate cuts s to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
