package spam

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/state"
	"github.com/goshawk-safety/goshawk/event"
)

// t0 is the start of test time.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// builtinRules returns the running built-in spam rules.
func builtinRules(t testing.TB) []*detectors.Rule {
	t.Helper()
	set, err := detectors.LoadRules([]detectors.Factory{Factory()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set.For(Name)
}

// rulesFrom loads a rule file of the spam detector on its own (examples
// are not run).
func rulesFrom(t testing.TB, yaml string) []*detectors.Rule {
	t.Helper()
	f := detectors.Factory{Name: Name, RuleFields: RuleFields(), New: New,
		Rules: fstest.MapFS{"spam.yaml": &fstest.MapFile{Data: []byte(yaml)}}}
	set, err := detectors.LoadRules([]detectors.Factory{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set.For(Name)
}

// rec is a message record, as the detector would forward it, for stage
// tests.
type rec struct {
	id, conv, sender string
	at               time.Duration // after t0
	age              time.Duration // account age; negative: unknown
	flags            uint16
	links            int
	runes            int
	hits             []string
	to               []string
}

func (r rec) value() []byte {
	m := messageRec[string]{
		msgID: r.id, convID: r.conv, senderID: r.sender, sentAt: t0.Add(r.at).UnixNano(),
		accountAge: -1, runes: uint32(r.runes), flags: r.flags, links: uint16(r.links), recipients: r.to,
	}
	if r.age >= 0 {
		m.accountAge = int64(r.age / time.Second)
	}
	if m.recipients == nil {
		m.recipients = []string{"to-" + r.conv}
	}
	if r.links > 0 {
		m.flags |= flagLink
	}
	for _, h := range r.hits {
		m.hits = append(m.hits, hitRec[string]{id: h, weight: 1})
	}
	return appendMessage(nil, &m)
}

func (r rec) forward() detectors.Forward {
	return detectors.Forward{Stream: StreamSender, Key: r.sender, Value: r.value()}
}

func contentValue(id, sender string, at time.Duration, convs, senders int) []byte {
	return appendContent(nil, &contentRec[string]{msgID: id, senderID: sender, sentAt: t0.Add(at).UnixNano(), convs: uint32(convs), senders: uint32(senders)})
}

// handle feeds forwards to a stage, failing the test on an error.
func handle(t testing.TB, s detectors.Stage, fw ...detectors.Forward) []detectors.Flag {
	t.Helper()
	var out []detectors.Flag
	for _, f := range fw {
		var err error
		if out, err = s.Handle(f.Key, f.Value, out); err != nil {
			t.Fatalf("Handle(%s, %q): %v", f.Stream, f.Key, err)
		}
	}
	return out
}

// flagKey is what must not depend on the order of records: which message,
// which rule, which severity.
func flagKey(f detectors.Flag) string { return f.MessageID + " " + f.Rule + " " + string(f.Severity) }

func flagKeys(flags []detectors.Flag) []string {
	out := make([]string, 0, len(flags))
	seen := map[string]bool{}
	for _, f := range flags {
		k := flagKey(f)
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// traced returns a sender stage whose scorings are recorded: the names of
// the last contributions of each message.
func traced(t testing.TB, rules []*detectors.Rule) (*SenderStage, map[string][]string) {
	t.Helper()
	s, err := newSenderStage(rules)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string][]string{}
	s.trace = func(id string, c []contrib) {
		names := make([]string, len(c))
		for i, x := range c {
			names[i] = x.name
		}
		last[id] = names
	}
	return s, last
}

// ---------------------------------------------------------------- events

// msgSpec is one message of a synthetic scenario.
type msgSpec struct {
	id, conv, from string
	to             []string
	at             time.Time
	created        time.Time // zero: unknown
	text           string
}

func (m msgSpec) event() *event.Message {
	e := &event.Message{MessageID: m.id, ConversationID: m.conv, SentAt: m.at, Sender: event.Participant{ID: m.from}, Text: m.text}
	if !m.created.IsZero() {
		c := m.created
		e.Sender.AccountCreatedAt = &c
	}
	for _, r := range m.to {
		e.Recipients = append(e.Recipients, event.Participant{ID: r})
	}
	return e
}

// timedForward is a forward with the sent_at of its message.
type timedForward struct {
	at int64
	f  detectors.Forward
}

// detectorForwards runs the detector over events in sent_at order (as a
// replay does) and returns every forward with its message's time.
func detectorForwards(t testing.TB, rules []*detectors.Rule, msgs []*event.Message) []timedForward {
	t.Helper()
	d, err := New(rules)
	if err != nil {
		t.Fatal(err)
	}
	msgs = slices.Clone(msgs)
	slices.SortStableFunc(msgs, func(a, b *event.Message) int { return a.SentAt.Compare(b.SentAt) })
	var out []timedForward
	var fw []detectors.Forward
	for _, m := range msgs {
		if f := d.Inspect(m, nil); len(f) > 0 {
			t.Fatalf("the spam detector returned findings %v", f)
		}
		fw = d.(detectors.Forwarder).TakeForwards(fw[:0])
		for _, f := range fw {
			out = append(out, timedForward{m.SentAt.UnixNano(), f})
		}
	}
	return out
}

// inOrder routes forwards through fresh stages in their order (Route).
func inOrder(t testing.TB, rules []*detectors.Rule, fw []timedForward) []detectors.Flag {
	t.Helper()
	stages, err := NewStages(rules)
	if err != nil {
		t.Fatal(err)
	}
	var flags []detectors.Flag
	for _, f := range fw {
		got, err := Route([]detectors.Forward{f.f}, stages)
		if err != nil {
			t.Fatal(err)
		}
		flags = append(flags, got...)
	}
	return flags
}

// arrival is a record in flight in a shuffled delivery.
type arrival struct {
	at  int64
	seq int
	f   detectors.Forward
}

type arrivals []arrival

func (a arrivals) Len() int { return len(a) }
func (a arrivals) Less(i, j int) bool {
	return a[i].at < a[j].at || a[i].at == a[j].at && a[i].seq < a[j].seq
}
func (a arrivals) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *arrivals) Push(x any)   { *a = append(*a, x.(arrival)) }
func (a *arrivals) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// shuffled delivers forwards through fresh stages in a random order that
// respects a lateness bound: each hop (detector to stage, stage to stage)
// delays a record by a random time below delay after the time it was
// written (a message's sent_at, or the arrival of the record that made a
// stage write it), and each record is delivered a second time with
// probability dup, also within delay. With delay at most the rules'
// allowed_lateness, every record is within the lateness the stages allow
// for.
func shuffled(t testing.TB, rules []*detectors.Rule, fw []timedForward, rng *rand.Rand, delay time.Duration, dup float64) []detectors.Flag {
	t.Helper()
	flags, _ := shuffledStages(t, rules, fw, rng, delay, dup)
	return flags
}

// shuffledStages is shuffled, returning the stages too.
func shuffledStages(t testing.TB, rules []*detectors.Rule, fw []timedForward, rng *rand.Rand, delay time.Duration, dup float64) ([]detectors.Flag, map[string]detectors.Stage) {
	t.Helper()
	stages, err := NewStages(rules)
	if err != nil {
		t.Fatal(err)
	}
	var q arrivals
	seq := 0
	push := func(written int64, f detectors.Forward) {
		copies := 1
		if rng.Float64() < dup {
			copies = 2
		}
		for range copies {
			seq++
			heap.Push(&q, arrival{written + rng.Int64N(int64(delay)), seq, f})
		}
	}
	for _, f := range fw {
		push(f.at, f.f)
	}
	var flags []detectors.Flag
	for q.Len() > 0 {
		a := heap.Pop(&q).(arrival)
		st := stages[a.f.Stream]
		if flags, err = st.Handle(a.f.Key, a.f.Value, flags); err != nil {
			t.Fatal(err)
		}
		if fwd, ok := st.(detectors.Forwarder); ok {
			for _, f := range fwd.TakeForwards(nil) {
				push(a.at, f)
			}
		}
	}
	return flags, stages
}

// ---------------------------------------------------------------- reference

// reference works out the flags of a set of forwards from their
// definitions, by brute force over the whole set: every count of every
// message over every record in its window, with nothing evicted. The
// stages must agree with it whatever the order of delivery.
func reference(t testing.TB, rules []*detectors.Rule, fw []timedForward) []string {
	t.Helper()
	flags, _ := referenceEntries(t, rules, fw)
	return flags
}

// referenceEntries is reference, with each message's counts.
func referenceEntries(t testing.TB, rules []*detectors.Rule, fw []timedForward) ([]string, map[string]msgEntry) {
	t.Helper()
	s, err := newSenderStage(rules)
	if err != nil {
		t.Fatal(err)
	}
	b := s.cfg.behaviour
	type msg struct {
		r      messageRec[[]byte]
		conv   uint64
		prints bool
	}
	msgs := map[string]*msg{} // by message id
	var prints []printRec[[]byte]
	artefacts := map[string][]printRec[[]byte]{} // by bucket key
	seenPrint := map[string]bool{}
	for _, f := range fw {
		kind, body, err := recordKind(f.f.Value)
		if err != nil {
			t.Fatal(err)
		}
		switch kind {
		case recMessage:
			m := &msg{}
			if err := decodeMessage(body, &m.r); err != nil {
				t.Fatal(err)
			}
			m.conv = hashID(m.r.convID)
			msgs[string(m.r.msgID)] = m
		case recPrint:
			var p printRec[[]byte]
			if err := decodePrint(body, &p); err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasPrefix(f.f.Key, "a:"):
				// An artefact's bucket: its own near-duplicates.
				if k := f.f.Key + " " + string(p.msgID); !seenPrint[k] {
					seenPrint[k] = true
					artefacts[f.f.Key] = append(artefacts[f.f.Key], p)
				}
			case !seenPrint[string(p.msgID)]:
				seenPrint[string(p.msgID)] = true
				prints = append(prints, p)
			}
		}
	}
	// Content fan-out: per band bucket, the near-duplicates in the window;
	// a message's level is the highest over its buckets.
	convLevel, senderLevel := map[string]int{}, map[string]int{}
	w := int64(b.contentWindow)
	for _, m := range prints {
		for k := range bands {
			convs, senders := map[uint64]bool{}, map[uint64]bool{}
			for _, x := range prints {
				if band(x.simhash, k) == band(m.simhash, k) && abs(x.sentAt-m.sentAt) <= w && distance(x.simhash, m.simhash) <= b.maxDistance {
					convs[hashID(x.convID)] = true
					senders[hashID(x.senderID)] = true
				}
			}
			if lv := reached(b.contentConvs, len(convs)); lv != nil {
				convLevel[string(m.msgID)] = max(convLevel[string(m.msgID)], lv.at)
			}
			if lv := reached(b.contentSenders, len(senders)); lv != nil {
				senderLevel[string(m.msgID)] = max(senderLevel[string(m.msgID)], lv.at)
			}
		}
	}
	for _, bucket := range artefacts {
		for _, m := range bucket {
			convs, senders := map[uint64]bool{}, map[uint64]bool{}
			for _, x := range bucket {
				if abs(x.sentAt-m.sentAt) <= w {
					convs[hashID(x.convID)] = true
					senders[hashID(x.senderID)] = true
				}
			}
			if lv := reached(b.contentConvs, len(convs)); lv != nil {
				convLevel[string(m.msgID)] = max(convLevel[string(m.msgID)], lv.at)
			}
			if lv := reached(b.contentSenders, len(senders)); lv != nil {
				senderLevel[string(m.msgID)] = max(senderLevel[string(m.msgID)], lv.at)
			}
		}
	}
	var out []string
	entries := map[string]msgEntry{}
	wf, wb := int64(b.window), int64(b.burstWindow)
	for id, m := range msgs {
		e := msgEntry{at: m.r.sentAt, conv: m.conv, runes: m.r.runes, flags: m.r.flags | hasFeatures,
			links: uint8(min(m.r.links, 255)), age: int32(min(m.r.accountAge, 1<<31-1))}
		for _, h := range m.r.hits {
			if bit, ok := s.bit(h.id); ok {
				e.hits |= 1 << bit
			}
		}
		all, colds, links, words := map[uint64]bool{}, map[uint64]bool{}, map[uint64]bool{}, map[uint64]bool{}
		for _, x := range msgs {
			if string(x.r.senderID) != string(m.r.senderID) {
				continue
			}
			var xe msgEntry // the other message's content hits, to read its wording
			for _, h := range x.r.hits {
				if bit, ok := s.bit(h.id); ok {
					xe.hits |= 1 << bit
				}
			}
			dt := abs(x.r.sentAt - m.r.sentAt)
			if dt <= wb {
				e.nBurst++
				e.chars += x.r.runes
			}
			if dt <= wf {
				all[x.conv] = true
				if x.r.flags&flagCold != 0 {
					colds[x.conv] = true
					if x.r.flags&flagLink != 0 {
						links[x.conv] = true
					}
					if s.wording(&xe) {
						words[x.conv] = true
					}
				}
			}
		}
		e.nConv, e.nCold, e.nColdLink, e.nColdWord = uint16(len(all)), uint16(len(colds)), uint16(len(links)), uint16(len(words))
		e.cConv, e.cSenders = uint16(convLevel[id]), uint16(senderLevel[id])
		entries[id] = e
		var live, sum int64
		for _, c := range s.score(&e) {
			sum += c.weight
			if !c.src.shadow {
				live += c.weight
			}
		}
		for _, tier := range s.cfg.tiers {
			score := live
			if tier.shadow {
				score = sum
			}
			if score >= tier.minScore {
				out = append(out, id+" "+tier.rule.ID+" "+string(tier.rule.Severity))
			}
		}
	}
	sort.Strings(out)
	return out, entries
}

// counts are the counts of an entry, for comparing.
type counts struct {
	nBurst, nConv, nCold, nColdLink, nColdWord, cConv, cSenders uint16
	chars                                                       uint32
}

func countsOf(e msgEntry) counts {
	return counts{e.nBurst, e.nConv, e.nCold, e.nColdLink, e.nColdWord, e.cConv, e.cSenders, e.chars}
}

// heldEntries returns the messages a sender stage holds, by message id.
func heldEntries(s *SenderStage) map[string]msgEntry {
	out := map[string]msgEntry{}
	s.senders.Each(func(se *state.Entry[senderState]) {
		for _, e := range se.Value.msgs {
			if e.flags&hasFeatures != 0 {
				id, _ := nextID(e.ids)
				out[id] = e
			}
		}
	})
	return out
}

func diff(a, b []string) string {
	in := func(s []string, x string) bool { _, ok := slices.BinarySearch(s, x); return ok }
	var d []string
	for _, x := range a {
		if !in(b, x) {
			d = append(d, "-"+x)
		}
	}
	for _, x := range b {
		if !in(a, x) {
			d = append(d, "+"+x)
		}
	}
	if len(d) > 20 {
		d = append(d[:20], fmt.Sprintf("… %d more", len(d)-20))
	}
	return strings.Join(d, "\n")
}
