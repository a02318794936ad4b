// Package detectors holds the detection engine: the Detector interface that
// every detector implements, the registry that lists them, the Flag record
// they produce, and the Engine that runs them over an ordered stream of
// messages. The streaming pipeline, replay and tests all drive the same
// Engine, so a rule behaves identically in each.
package detectors

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/goshawk-safety/goshawk/detectors/text"
	"github.com/goshawk-safety/goshawk/event"
)

// Finding is what a detector reports about one message. The engine turns it
// into a Flag, filling in the ids, times and a bounded evidence excerpt.
type Finding struct {
	Rule string
	// RuleVersion and Mode are filled by the engine from the rule set for
	// rules loaded from rule files; a detector sets them only for rules it
	// defines in code (Mode empty means live).
	RuleVersion string
	Mode        Mode
	Category    Category
	Severity    Severity
	Score       float64 // 0–1
	// Start and End are byte offsets into the message text of what matched;
	// the engine cuts the evidence excerpt around them.
	Start, End int
	// Evidence, when set, replaces the excerpt (for conversation-level
	// findings that cite more than the current message). It is truncated to
	// the engine's evidence limit.
	Evidence string
}

// Detector examines messages in order. A detector instance is used by one
// goroutine at a time and sees every message of a conversation in order, so
// it may keep per-conversation state without locking. It must not read the
// wall clock: time is the message's SentAt, which keeps replay and the
// stream identical.
type Detector interface {
	// Name is the stable detector name stored in every flag.
	Name() string
	// Inspect appends what it finds in m to out and returns out.
	Inspect(m *event.Message, out []Finding) []Finding
}

// StateSizer is implemented by detectors that keep state, so that its size
// is exported (goshawk_detector_state_entries). It is called from the
// goroutine that runs the detector, between messages.
type StateSizer interface {
	StateEntries() int
}

// Factory builds a fresh detector instance; the pipeline builds one per
// worker so that instances never share mutable state.
type Factory struct {
	Name        string
	Description string
	// RuleFields lists the detector-specific fields of its rules (beyond
	// the common ones, see rules.go); nil when the detector takes no rules.
	RuleFields []string
	// Rules holds the detector's built-in rule files, normally embedded.
	Rules fs.FS
	// New builds an instance that runs the given rules: the detector's
	// rules of the active RuleSet whose mode is live or shadow.
	New func(rules []*Rule) (Detector, error)
	// Stages are the detector's keyed stages (see Stage), nil for most.
	Stages []StageFactory
}

// TextSharer is implemented by detectors that normalise each message's text
// with the shared text layer. The engine gives all of them one
// text.Shared, which normalises a message's text once however many
// detectors read it.
type TextSharer interface {
	ShareText(z *text.Shared)
}

// Durable is implemented by detectors whose per-conversation state must
// survive restarts, deploys and rebalances (grooming spans days). The
// pipeline writes each changed state to a compacted Kafka changelog topic
// keyed by conversation, in the same batch as the message's flags and before
// its offset is committed, and restores the state of a partition before it
// processes that partition's records. Like Inspect, both methods are called
// between messages.
type Durable interface {
	// TakeChanged calls fn for each conversation whose state changed since
	// the previous call, with an encoding of the state, or with nil when
	// the state was dropped (expired or evicted), which the pipeline
	// writes as a tombstone.
	TakeChanged(fn func(key string, state []byte))
	// Restore replaces the state of key with an encoding TakeChanged made
	// (nil removes it). Bytes it cannot decode are an error; the state of
	// key is then left as it was.
	Restore(key string, state []byte) error
}

// Forward is a record a detector sends to one of its stages through an
// internal Kafka topic keyed by Key, so that exactly one pipeline instance
// owns each key (a sender, a content fingerprint) however the conversations
// are spread over instances.
type Forward struct {
	Stream string // the stage's stream name, e.g. "spam-sender"
	Key    string
	Value  []byte
}

// Forwarder is implemented by detectors and stages whose decisions need
// state keyed by something other than the conversation. Right after each
// Inspect (or Handle) the caller collects what it wants forwarded.
type Forwarder interface {
	TakeForwards(out []Forward) []Forward
}

// Stage consumes one internal stream of Forward records. Records of one key
// arrive in the order they were written, but records written by different
// instances interleave differently from run to run, and any record may
// arrive twice, so Handle's flags must depend only on the set of records
// seen, not their order: then `replay` (one instance) and `run` (many) flag
// the same messages. A flag it returns carries its ids, rule version and
// mode; a zero DetectedAt is stamped by the caller (the wall clock in run,
// sent_at in replay). Stages may also implement Forwarder, Reloader and
// StateSizer.
type Stage interface {
	Stream() string
	Handle(key string, value []byte, out []Flag) ([]Flag, error)
}

// StageFactory builds a stage that runs its detector's rules.
type StageFactory struct {
	Stream string
	New    func(rules []*Rule) (Stage, error)
}

// Reloader is implemented by detectors that can switch to new rules while
// keeping their state. The engine calls it between two messages. Reload
// must be atomic: it either switches to the new rules or returns an error
// and keeps the old ones. A detector without it is rebuilt on reload, and
// loses its state.
type Reloader interface {
	Reload(rules []*Rule) error
}

// Registry is the list of detectors a binary knows about. It is built once at
// start-up (see detectors/builtin) and read-only afterwards.
type Registry struct {
	factories []Factory
}

// NewRegistry returns a registry of the given factories; names must be unique
// lower-case words.
func NewRegistry(factories ...Factory) (*Registry, error) {
	r := &Registry{}
	for _, f := range factories {
		if f.Name == "" || strings.ToLower(f.Name) != f.Name || strings.ContainsAny(f.Name, " ,") {
			return nil, fmt.Errorf("detector name %q: must be a non-empty lower-case word", f.Name)
		}
		if f.New == nil {
			return nil, fmt.Errorf("detector %q: no constructor", f.Name)
		}
		if slices.ContainsFunc(r.factories, func(g Factory) bool { return g.Name == f.Name }) {
			return nil, fmt.Errorf("detector %q registered twice", f.Name)
		}
		r.factories = append(r.factories, f)
	}
	return r, nil
}

// Names lists the registered detector names in registration order.
func (r *Registry) Names() []string {
	names := make([]string, len(r.factories))
	for i, f := range r.factories {
		names[i] = f.Name
	}
	return names
}

// Factories returns the factories of the named detectors, or of all of them
// when names is empty. An unknown name is an error that lists the known ones.
func (r *Registry) Factories(names []string) ([]Factory, error) {
	if len(names) == 0 {
		return slices.Clone(r.factories), nil
	}
	out := make([]Factory, 0, len(names))
	for _, n := range names {
		i := slices.IndexFunc(r.factories, func(f Factory) bool { return f.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown detector %q (known: %s)", n, strings.Join(r.Names(), ", "))
		}
		out = append(out, r.factories[i])
	}
	return out, nil
}
