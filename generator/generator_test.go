package generator_test

import (
	"bufio"
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

func TestSameSeedSameBytes(t *testing.T) {
	opts := generator.Options{BadRatio: 0.05}
	a, b := generator.New(42, opts), generator.New(42, opts)
	c := generator.New(43, opts)
	differs := false
	for i := range 5000 {
		x, y, z := a.Next(), b.Next(), c.Next()
		if !bytes.Equal(x.Key, y.Key) || !bytes.Equal(x.Value, y.Value) || x.Label != y.Label ||
			x.Harmful != y.Harmful || x.BadKind != y.BadKind || !x.Time.Equal(y.Time) {
			t.Fatalf("event %d differs between two generators with seed 42:\n%s\n%s", i, x.Value, y.Value)
		}
		differs = differs || !bytes.Equal(x.Value, z.Value)
	}
	if !differs {
		t.Fatal("seeds 42 and 43 gave the same 5000 events")
	}
}

func TestValidEventsDecode(t *testing.T) {
	start := time.Date(2025, 11, 3, 8, 30, 0, 0, time.UTC)
	g := generator.New(7, generator.Options{Start: start})
	const n = 20000
	lastInConv := map[string]time.Time{}
	ids := map[string]bool{}
	labels := map[generator.Label]int{}
	harmful := map[generator.Label]int{}
	var prev time.Time
	for i := range n {
		ev := g.Next()
		if ev.Bad || ev.Label == generator.LabelBad || ev.Reason != "" {
			t.Fatalf("event %d is bad with BadRatio 0: %+v", i, ev)
		}
		m, err := event.Decode(ev.Value)
		if err != nil {
			t.Fatalf("event %d rejected: %v\n%s", i, err, ev.Value)
		}
		if string(ev.Key) != m.ConversationID {
			t.Fatalf("event %d: key %q, conversation_id %q", i, ev.Key, m.ConversationID)
		}
		if !m.SentAt.Equal(ev.Time) {
			t.Fatalf("event %d: Time %s, sent_at %s", i, ev.Time, m.SentAt)
		}
		if i == 0 && !m.SentAt.Equal(start) {
			t.Fatalf("first sent_at %s, want Start %s", m.SentAt, start)
		}
		if m.SentAt.Before(prev) {
			t.Fatalf("event %d: sent_at %s before the previous event's %s", i, m.SentAt, prev)
		}
		prev = m.SentAt
		if last, ok := lastInConv[m.ConversationID]; ok && !m.SentAt.After(last) {
			t.Fatalf("event %d: conversation %s goes back in time: %s after %s", i, m.ConversationID, m.SentAt, last)
		}
		lastInConv[m.ConversationID] = m.SentAt
		if ids[m.MessageID] {
			t.Fatalf("event %d: message_id %s repeated", i, m.MessageID)
		}
		ids[m.MessageID] = true
		if slices.Contains(m.RecipientIDs(), m.Sender.ID) {
			t.Fatalf("event %d: sender %s is also a recipient", i, m.Sender.ID)
		}
		if m.Sender.AccountCreatedAt == nil || m.Sender.AccountCreatedAt.After(m.SentAt) {
			t.Fatalf("event %d: account_created_at %v missing or after sent_at %s", i, m.Sender.AccountCreatedAt, m.SentAt)
		}
		labels[ev.Label]++
		if ev.Harmful {
			harmful[ev.Label]++
		}
		if ev.Label == generator.LabelGrooming && ev.Harmful {
			// The adult writes, to one minor of 13–15.
			if a := m.Sender.Age; a != nil && *a < 18 {
				t.Fatalf("event %d: grooming line from a declared %d-year-old", i, *a)
			}
			if len(m.Recipients) != 1 || m.Recipients[0].Age == nil || *m.Recipients[0].Age > 15 || *m.Recipients[0].Age < 13 {
				t.Fatalf("event %d: grooming line not addressed to one minor of 13–15: %s", i, ev.Value)
			}
		}
	}
	if harmful[generator.LabelBenign] != 0 {
		t.Errorf("%d benign events marked harmful", harmful[generator.LabelBenign])
	}
	for _, l := range []generator.Label{generator.LabelHarassment, generator.LabelSpam, generator.LabelGrooming} {
		if harmful[l] == 0 {
			t.Errorf("no harmful %s messages in %d events", l, n)
		}
	}
	if share := float64(labels[generator.LabelBenign]) / n; share < 0.6 || share > 0.95 {
		t.Errorf("benign share %.2f, want most traffic benign (labels %v)", share, labels)
	}
	if len(lastInConv) < 500 {
		t.Errorf("only %d conversations in %d events", len(lastInConv), n)
	}
	// A few hundred ms to seconds per message on average.
	if gap := prev.Sub(start) / n; gap < 100*time.Millisecond || gap > 10*time.Second {
		t.Errorf("mean gap between events %s, want between 100ms and 10s", gap)
	}
	t.Logf("labels %v, harmful messages %v, %d conversations, mean gap %s", labels, harmful, len(lastInConv), prev.Sub(start)/n)
}

func TestBadEventsRejected(t *testing.T) {
	g := generator.New(3, generator.Options{BadRatio: 1})
	kinds := map[string]int{}
	values := map[string]bool{}
	for i := range 3000 {
		ev := g.Next()
		if ev.BadKind != "empty" {
			if values[string(ev.Value)] {
				t.Fatalf("event %d (%s): the same bad value twice: %.100q", i, ev.BadKind, ev.Value)
			}
			values[string(ev.Value)] = true
		}
		if !ev.Bad || ev.Label != generator.LabelBad || ev.BadKind == "" || ev.Reason == "" {
			t.Fatalf("event %d with BadRatio 1 is not marked bad: %+v", i, ev)
		}
		kinds[ev.BadKind]++
		m, err := event.Decode(ev.Value)
		if err == nil {
			t.Fatalf("event %d (%s) accepted by event.Decode: %+v\n%.300s", i, ev.BadKind, m, ev.Value)
		}
		var e *event.Error
		if !errors.As(err, &e) {
			t.Fatalf("event %d (%s): error %v is not an *event.Error", i, ev.BadKind, err)
		}
		if e.Reason != ev.Reason {
			t.Fatalf("event %d (%s): rejected as %s (%v), want %s\n%.300s", i, ev.BadKind, e.Reason, err, ev.Reason, ev.Value)
		}
		if bytes.IndexByte(ev.Value, '\n') >= 0 {
			t.Fatalf("event %d (%s) contains a newline, which breaks JSON lines", i, ev.BadKind)
		}
	}
	for _, k := range generator.BadKinds() {
		if kinds[k] == 0 {
			t.Errorf("bad kind %s never generated in 3000 events", k)
		}
	}
	for _, want := range []string{"invalid_json", "invalid_utf8", "missing_field", "wrong_type", "empty",
		"too_many_recipients", "text_too_long", "empty_id"} {
		if !slices.Contains(generator.BadKinds(), want) {
			t.Errorf("BadKinds() = %v, missing %s", generator.BadKinds(), want)
		}
	}
	t.Logf("bad kinds: %v", kinds)
}

func TestBadRatio(t *testing.T) {
	g := generator.New(5, generator.Options{BadRatio: 0.1})
	bad := 0
	const n = 10000
	for range n {
		ev := g.Next()
		_, err := event.Decode(ev.Value)
		if ev.Bad != (err != nil) {
			t.Fatalf("Bad=%v but Decode error %v", ev.Bad, err)
		}
		if ev.Bad {
			bad++
		}
	}
	if share := float64(bad) / n; share < 0.08 || share > 0.12 {
		t.Fatalf("bad share %.3f, want about 0.1", share)
	}
}

func TestHarmfulRatioNegativeMeansNone(t *testing.T) {
	g := generator.New(9, generator.Options{HarmfulRatio: -1})
	for i := range 5000 {
		if ev := g.Next(); ev.Label != generator.LabelBenign || ev.Harmful {
			t.Fatalf("event %d labelled %s (harmful %v) with HarmfulRatio -1", i, ev.Label, ev.Harmful)
		}
	}
}

func TestWriteJSONLines(t *testing.T) {
	opts := generator.Options{BadRatio: 0.2}
	var buf bytes.Buffer
	if err := generator.New(11, opts).WriteJSONLines(&buf, 2000); err != nil {
		t.Fatal(err)
	}
	ref := generator.New(11, opts)
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, event.MaxEventBytes+1)
	n := 0
	for sc.Scan() {
		want := ref.Next()
		if !bytes.Equal(sc.Bytes(), want.Value) {
			t.Fatalf("line %d differs from event %d:\n%.200s\n%.200s", n+1, n, sc.Bytes(), want.Value)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 2000 {
		t.Fatalf("%d lines, want 2000", n)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJSONLinesError(t *testing.T) {
	err := generator.New(1, generator.Options{}).WriteJSONLines(failWriter{}, 5000)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the writer's error", err)
	}
}

// TestTrafficShape checks the population the traffic is drawn from: ages
// are mostly adult with some teenagers, conversations are mostly two-party.
func TestTrafficShape(t *testing.T) {
	g := generator.New(13, generator.Options{})
	ages := map[string]int{}
	parties := map[int]int{}
	seen := map[string]bool{}
	for range 10000 {
		m, err := event.Decode(g.Next().Value)
		if err != nil {
			t.Fatal(err)
		}
		if !seen[m.Sender.ID] {
			seen[m.Sender.ID] = true
			switch a := m.Sender.Age; {
			case a == nil:
				ages["undeclared"]++
			case *a < 18:
				ages["minor"]++
			default:
				ages["adult"]++
			}
		}
		parties[min(len(m.Recipients)+1, 3)]++
	}
	if ages["adult"] <= ages["minor"] || ages["minor"] == 0 || ages["undeclared"] == 0 {
		t.Errorf("sender ages %v, want mostly adults, some minors, a few undeclared", ages)
	}
	if parties[2] <= parties[3] {
		t.Errorf("message party sizes %v, want mostly two-party", parties)
	}
	t.Logf("sender ages %v; messages by party size (3 = three or more) %v", ages, parties)
}

func BenchmarkNext(b *testing.B) {
	g := generator.New(1, generator.Options{BadRatio: 0.01})
	b.ReportAllocs()
	var bytes int64
	for b.Loop() {
		bytes += int64(len(g.Next().Value))
	}
	b.SetBytes(bytes / int64(b.N))
}
