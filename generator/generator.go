// Package generator produces realistic, deterministic private-message
// traffic in the message event v1 format, for `goshawk produce`, the demo,
// integration tests and benchmarks.
//
// The traffic is many concurrent conversations, interleaved by event time,
// between users with declared ages (mostly adults, some teenagers, a few who
// never said). Most conversations are everyday chat, sprinkled with benign
// texts that a careless filter would flag ("I'm going to kill it at my
// interview", "I live in Scunthorpe", quoting what someone said). A minority
// are harmful: harassment, spam and scams, and grooming-pattern conversations
// between an adult and a minor, described at the level of behaviour only.
// On request a share of records is deliberately invalid, one kind of defect
// each, to exercise the dead-letter path.
//
// Every event carries its ground truth (Label, Harmful), so that tests can
// measure what detectors find. The same seed and options always give the
// same bytes: the generator never reads the wall clock, and event time
// advances from Options.Start.
package generator

import (
	"bufio"
	"container/heap"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/goshawk-safety/goshawk/event"
)

// Label is the ground truth of an event: the kind of conversation it belongs
// to, or LabelBad for a deliberately invalid record.
type Label string

// The labels. The harmful ones are spelled like detectors.Category.
const (
	LabelBenign     Label = "benign"
	LabelHarassment Label = "harassment"
	LabelSpam       Label = "spam"
	LabelGrooming   Label = "grooming"
	LabelBad        Label = "bad"
)

// Defaults for zero Options fields.
const (
	DefaultUsers         = 3000
	DefaultConversations = 48
	DefaultHarmfulRatio  = 0.12
)

// Options tune the traffic. The zero value gives valid, realistic traffic.
type Options struct {
	// BadRatio is the share of events that are deliberately invalid, in
	// [0, 1]. Zero gives only valid events.
	BadRatio float64
	// Start is the sent_at of the first message. When zero it is
	// 2026-03-02T16:00:00Z, a weekday afternoon after school.
	Start time.Time
	// Users is the size of the user population (DefaultUsers when zero).
	Users int
	// Conversations is how many conversations are in flight at once
	// (DefaultConversations when zero); their messages interleave.
	Conversations int
	// HarmfulRatio is the share of conversations that are harmful
	// (DefaultHarmfulRatio when zero; negative for none).
	HarmfulRatio float64
}

// Event is one generated Kafka record with its ground truth.
type Event struct {
	Key   []byte // the conversation_id, the record key
	Value []byte // the JSON record
	Time  time.Time
	// Label is the kind of conversation the message belongs to, or
	// LabelBad. Every message of a harmful conversation carries the
	// conversation's label, including small talk.
	Label Label
	// Harmful is true when this message's text itself carries the harmful
	// behaviour (false for small talk and replies in a harmful
	// conversation, and for every benign message).
	Harmful bool
	// Bad is true for a deliberately invalid record. BadKind names the
	// defect and Reason is the reason event.Decode must give. Bad values
	// are distinct from each other, except the empty ones ("", blanks).
	Bad     bool
	BadKind string
	Reason  event.Reason
}

// Generator produces events. It is not safe for concurrent use.
type Generator struct {
	rng        *rand.Rand
	opts       Options
	seedTag    string
	users      []*user
	adults     []*user
	minors     []*user
	undeclared []*user
	spammers   []*user
	active     convHeap
	nextConv   int
	order      uint64
	now        time.Time // sent_at of the latest event
	reports    *reporter // reports.go; nil until the first Report
	ended      []*conversation
}

// New returns a generator. The same seed and options give the same
// sequence of events.
func New(seed int64, opts Options) *Generator {
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, time.March, 2, 16, 0, 0, 0, time.UTC)
	}
	opts.Start = opts.Start.UTC().Truncate(time.Millisecond)
	if opts.Users <= 0 {
		opts.Users = DefaultUsers
	}
	opts.Users = max(opts.Users, 20)
	if opts.Conversations <= 0 {
		opts.Conversations = DefaultConversations
	}
	switch {
	case opts.HarmfulRatio == 0:
		opts.HarmfulRatio = DefaultHarmfulRatio
	case opts.HarmfulRatio < 0:
		opts.HarmfulRatio = 0
	case opts.HarmfulRatio > 1:
		opts.HarmfulRatio = 1
	}
	opts.BadRatio = min(max(opts.BadRatio, 0), 1)
	g := &Generator{
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		opts:    opts,
		seedTag: strconv.FormatInt(seed, 10),
		now:     opts.Start,
	}
	g.populate()
	for i := range opts.Conversations {
		var due time.Time
		if i == 0 {
			due = opts.Start // the first message is sent exactly at Start
		} else {
			due = opts.Start.Add(g.millis(100, 60_000))
		}
		g.startConversation(due)
	}
	return g
}

// Next returns the next event. Its Key and Value are newly allocated and
// belong to the caller.
func (g *Generator) Next() Event {
	if g.opts.BadRatio > 0 && g.rng.Float64() < g.opts.BadRatio {
		return g.badEvent()
	}
	c := g.active[0]
	l := c.lines[c.next]
	at := c.due
	g.now = at
	c.next++
	from := c.members[l.from]
	rec := record{
		MessageID:      c.id + "-m" + strconv.Itoa(c.next),
		ConversationID: c.id,
		SentAt:         at,
		Sender:         from.participant(true),
		Text:           l.text,
	}
	rec.Recipients = make([]participant, 0, len(c.members)-1)
	for i, u := range c.members {
		if i != l.from {
			rec.Recipients = append(rec.Recipients, u.participant(false))
		}
	}
	ev := Event{
		Key:     []byte(c.id),
		Value:   rec.appendJSON(nil, nil),
		Time:    at,
		Label:   c.label,
		Harmful: l.harmful,
	}
	if c.next < len(c.lines) {
		c.due = at.Add(c.lines[c.next].gap)
		heap.Fix(&g.active, 0)
	} else {
		g.remember(heap.Pop(&g.active).(*conversation))
		g.startConversation(at.Add(g.millis(500, 30_000)))
	}
	return ev
}

// WriteJSONLines writes the next n events to w, one record value per line.
// Record values never contain a newline, so each line is one record (an
// empty record is an empty line).
func (g *Generator) WriteJSONLines(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for i := range n {
		ev := g.Next()
		bw.Write(ev.Value)
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("writing event %d: %w", i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing events: %w", err)
	}
	return nil
}

// millis returns a random duration between lo and hi milliseconds.
func (g *Generator) millis(lo, hi int) time.Duration {
	return time.Duration(lo+g.rng.IntN(hi-lo+1)) * time.Millisecond
}

// seconds returns a random whole number of seconds between lo and hi.
func (g *Generator) seconds(lo, hi int) time.Duration {
	return time.Duration(lo+g.rng.IntN(hi-lo+1)) * time.Second
}

func (g *Generator) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

// convHeap orders the conversations in flight by the time of their next
// message, then by creation order, so that ties are deterministic.
type convHeap []*conversation

func (h convHeap) Len() int { return len(h) }
func (h convHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].order < h[j].order
}
func (h convHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *convHeap) Push(x any)   { *h = append(*h, x.(*conversation)) }
func (h *convHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return c
}
