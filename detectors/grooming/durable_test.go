package grooming_test

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/grooming"
	"github.com/goshawk-safety/goshawk/event"
)

// changelog is what the pipeline keeps of TakeChanged: a compacted topic,
// the latest state per key in the order of the writes, a nil state deleting
// the key.
type changelog struct {
	order []string
	state map[string][]byte
}

func newLog() *changelog { return &changelog{state: map[string][]byte{}} }

func (l *changelog) take(d *grooming.Detector) (writes int) {
	d.TakeChanged(func(key string, state []byte) {
		writes++
		if i := slices.Index(l.order, key); i >= 0 {
			l.order = slices.Delete(l.order, i, i+1)
		}
		if state == nil {
			delete(l.state, key)
			return
		}
		l.order = append(l.order, key)
		l.state[key] = state
	})
	return writes
}

func (l *changelog) clone() *changelog {
	return &changelog{order: slices.Clone(l.order), state: maps.Clone(l.state)}
}

func (l *changelog) equal(o *changelog) bool {
	return slices.Equal(l.order, o.order) && maps.EqualFunc(l.state, o.state, bytes.Equal)
}

// restoreFrom builds a fresh detector from a changelog, read in order as
// the pipeline reads the topic.
func restoreFrom(t testing.TB, l *changelog, opts grooming.Options) *grooming.Detector {
	t.Helper()
	d := newWith(t, opts)
	for _, k := range l.order {
		if err := d.Restore(k, l.state[k]); err != nil {
			t.Fatalf("restore %q: %v", k, err)
		}
	}
	return d
}

func newWith(t testing.TB, opts grooming.Options) *grooming.Detector {
	t.Helper()
	d, err := factory(opts).New(builtin(t).For(grooming.Name))
	if err != nil {
		t.Fatal(err)
	}
	return d.(*grooming.Detector)
}

func describe(fs []detectors.Finding) string {
	var b bytes.Buffer
	for _, f := range fs {
		fmt.Fprintf(&b, "%s/%s/%.6f/%d-%d/%s; ", f.Rule, f.Severity, f.Score, f.Start, f.End, f.Evidence)
	}
	return b.String()
}

// A detector restored mid-conversation from the changelog gives exactly the
// flags, and hands out exactly the states, that an uninterrupted one does,
// for every corpus conversation cut at several points.
func TestRestoreMidConversation(t *testing.T) {
	opts := grooming.DefaultOptions()
	for _, c := range readCorpus(t) {
		t.Run(c.Name, func(t *testing.T) {
			n := len(c.Events)
			// The uninterrupted run: findings and the changelog after each message.
			a := newWith(t, opts)
			log := newLog()
			want := make([]string, n)
			logs := make([]*changelog, n)
			for i, m := range c.Events {
				want[i] = describe(a.Inspect(m, nil))
				log.take(a)
				logs[i] = log.clone()
			}
			cuts := []int{1, n / 4, n / 2, 3 * n / 4, n - 1}
			for _, cut := range slices.Compact(cuts) {
				b := restoreFrom(t, logs[cut-1], opts)
				blog := logs[cut-1].clone()
				for i := cut; i < n; i++ {
					if got := describe(b.Inspect(c.Events[i], nil)); got != want[i] {
						t.Fatalf("restored after message %d: message %d gives\n  %s\nwant\n  %s", cut, i+1, got, want[i])
					}
					blog.take(b)
					if !blog.equal(logs[i]) {
						t.Fatalf("restored after message %d: the state after message %d differs from the uninterrupted run's", cut, i+1)
					}
				}
			}
		})
	}
}

// The same with every corpus conversation interleaved by time in one
// detector (as one pipeline worker sees them), cut at several points.
func TestRestoreInterleaved(t *testing.T) {
	opts := grooming.DefaultOptions()
	var all []*event.Message
	for i, c := range readCorpus(t) {
		// Move each conversation to start within the same week, so that
		// they interleave.
		shift := c.Events[0].SentAt.Sub(time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)) - time.Duration(i)*time.Hour
		for _, m := range c.Events {
			mm := *m
			mm.SentAt = m.SentAt.Add(-shift)
			all = append(all, &mm)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].SentAt.Before(all[j].SentAt) })
	n := len(all)
	a := newWith(t, opts)
	log := newLog()
	want := make([]string, n)
	logs := make([]*changelog, n)
	for i, m := range all {
		want[i] = describe(a.Inspect(m, nil))
		log.take(a)
		logs[i] = log.clone()
	}
	if len(log.state) == 0 {
		t.Fatal("no state handed out")
	}
	for _, cut := range []int{1, n / 7, n / 3, n / 2, 2 * n / 3, n - 2} {
		b := restoreFrom(t, logs[cut-1], opts)
		blog := logs[cut-1].clone()
		for i := cut; i < n; i++ {
			if got := describe(b.Inspect(all[i], nil)); got != want[i] {
				t.Fatalf("restored after message %d: message %d (%s) gives\n  %s\nwant\n  %s", cut, i+1, all[i].MessageID, got, want[i])
			}
			blog.take(b)
		}
		if !blog.equal(log) {
			t.Fatalf("restored after message %d: final changelog differs", cut)
		}
	}
}

// Messages that change nothing write nothing to the changelog: benign chat
// in a conversation with state, and a stage signal the state already has
// no room for.
func TestOnlyMeaningfulChangesAreWritten(t *testing.T) {
	d := newWith(t, grooming.DefaultOptions())
	log := newLog()
	at := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	n := 0
	msg := func(from, text string) *event.Message {
		n++
		to := "kid"
		if from == "kid" {
			to = "adult"
		}
		a, k := 35, 13
		ages := map[string]*int{"adult": &a, "kid": &k}
		return &event.Message{MessageID: fmt.Sprintf("m%d", n), ConversationID: "c", SentAt: at.Add(time.Duration(n) * time.Minute),
			Sender: event.Participant{ID: from, Age: ages[from]}, Recipients: []event.Participant{{ID: to, Age: ages[to]}}, Text: text}
	}
	d.Inspect(msg("kid", "hey what's up"), nil)
	if w := log.take(d); w != 0 {
		t.Fatalf("a message without a signal in a conversation without state wrote %d states", w)
	}
	d.Inspect(msg("adult", "you're so mature for your age"), nil)
	if w := log.take(d); w != 1 {
		t.Fatalf("a stage signal wrote %d states, want 1", w)
	}
	for _, text := range []string{"lol thanks", "what are you playing", "the new map is huge", "ok", "gtg dinner"} {
		d.Inspect(msg("kid", text), nil)
		d.Inspect(msg("adult", "cool"), nil)
	}
	if w := log.take(d); w != 0 {
		t.Fatalf("ten messages without a signal wrote %d states", w)
	}
	d.Inspect(msg("adult", "are you home alone?"), nil)
	d.Inspect(msg("adult", "don't tell your mom we talk"), nil)
	if w := log.take(d); w != 1 {
		t.Fatalf("two signals between two takes wrote %d states, want 1 (the latest)", w)
	}
}

// Idle conversations expire, evicted ones go, and both are reported as
// tombstones once their state was handed out.
func TestExpiryAndEvictionTombstones(t *testing.T) {
	opts := grooming.Options{IdleExpiry: 30 * 24 * time.Hour, MaxConversations: 2}
	d := newWith(t, opts)
	log := newLog()
	at := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	say := func(conv string, after time.Duration, text string) []detectors.Finding {
		at = at.Add(after)
		return d.Inspect(&event.Message{MessageID: conv + at.String(), ConversationID: conv, SentAt: at,
			Sender: event.Participant{ID: "a"}, Recipients: []event.Participant{{ID: "b"}}, Text: text}, nil)
	}
	say("c1", 0, "are you home alone?")
	say("c2", time.Minute, "are you home alone?")
	log.take(d)
	if len(log.state) != 2 || d.StateEntries() != 2 {
		t.Fatalf("%d states in the changelog, %d in the detector; want 2 and 2", len(log.state), d.StateEntries())
	}
	say("c3", time.Minute, "are you home alone?") // over the cap: c1 goes
	log.take(d)
	if _, ok := log.state["c1"]; ok || len(log.state) != 2 || d.StateEntries() != 2 {
		t.Fatalf("after eviction: changelog %v, %d entries", log.order, d.StateEntries())
	}
	// c2, 31 days later: its state expired, so it starts afresh.
	say("c2", 31*24*time.Hour, "hi")
	log.take(d)
	if _, ok := log.state["c2"]; ok {
		t.Fatal("c2 idle for 31 days is still in the changelog")
	}
	// c3 is idle for longer than IdleExpiry plus the lateness allowance:
	// reclaimed on another conversation's message.
	if d.StateEntries() != 1 {
		t.Fatalf("%d entries after expiry, want 1 (c3, until it is reclaimed)", d.StateEntries())
	}
	say("c4", 2*24*time.Hour, "hello")
	log.take(d)
	if _, ok := log.state["c3"]; ok || d.StateEntries() != 0 {
		t.Fatalf("c3 idle for 33 days: changelog %v, %d entries", log.order, d.StateEntries())
	}
}

// Restore replaces a state, removes it for nil, and refuses bytes it cannot
// decode, keeping the state as it was.
func TestRestoreRejectsGarbage(t *testing.T) {
	d := newWith(t, grooming.DefaultOptions())
	log := newLog()
	c := readCorpus(t)[0]
	for _, m := range c.Events[:10] {
		d.Inspect(m, nil)
	}
	log.take(d)
	good := log.state[c.Name]
	if len(good) == 0 {
		t.Fatal("no state")
	}
	bad := [][]byte{
		{},
		{2},                           // another version
		good[:len(good)-1],            // truncated
		append(slices.Clone(good), 0), // trailing byte
		{1, 0, 9},                     // nine people
	}
	flip := slices.Clone(good)
	flip[len(flip)/2] ^= 0xff
	bad = append(bad, flip)
	for _, b := range bad {
		err := d.Restore(c.Name, b)
		if err == nil && !bytes.Equal(b, flip) {
			t.Errorf("Restore(%x) accepted", b)
		}
	}
	// The state is as it was: the next message gives what it gives on an
	// uninterrupted detector.
	u := newWith(t, grooming.DefaultOptions())
	for _, m := range c.Events[:10] {
		u.Inspect(m, nil)
	}
	if err := d.Restore(c.Name, good); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Events[10:] {
		if got, want := describe(d.Inspect(m, nil)), describe(u.Inspect(m, nil)); got != want {
			t.Fatalf("after rejected restores: %s, want %s", got, want)
		}
	}
	if err := d.Restore(c.Name, nil); err != nil || d.StateEntries() != 0 {
		t.Fatalf("Restore(nil): %v, %d entries", err, d.StateEntries())
	}
}
