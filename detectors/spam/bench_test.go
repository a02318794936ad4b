package spam_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/spam"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

func generated(b testing.TB, n int) []*event.Message {
	b.Helper()
	g := generator.New(1, generator.Options{})
	msgs := make([]*event.Message, n)
	for i := range msgs {
		m, err := event.Decode(g.Next().Value)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = m
	}
	return msgs
}

func builtinRules(b testing.TB) []*detectors.Rule {
	b.Helper()
	set, err := detectors.LoadRules([]detectors.Factory{spam.Factory()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return set.For(spam.Name)
}

// BenchmarkInspect runs the spam detector (the per-conversation engine
// side: wording, links, first contact, fingerprint, the Bayes rule,
// encoding the forwards) over generated traffic, in order; "no-bayes" is
// the same without the Bayes rule, in the same run:
//
//	go test ./detectors/spam -run '^$' -bench Inspect -benchmem
func BenchmarkInspect(b *testing.B) {
	msgs := generated(b, 10_000)
	all := builtinRules(b)
	var noBayes []*detectors.Rule
	for _, r := range all {
		if r.ID != "spam.bayes" {
			noBayes = append(noBayes, r)
		}
	}
	if len(noBayes) == len(all) {
		b.Fatal("no spam.bayes rule among the built-in rules")
	}
	for _, v := range []struct {
		name  string
		rules []*detectors.Rule
	}{{"all", all}, {"no-bayes", noBayes}} {
		b.Run(v.name, func(b *testing.B) {
			d, err := spam.New(v.rules)
			if err != nil {
				b.Fatal(err)
			}
			fw := d.(detectors.Forwarder)
			var out []detectors.Forward
			textBytes := 0
			for _, m := range msgs {
				textBytes += len(m.Text)
			}
			b.SetBytes(int64(textBytes / len(msgs)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				d.Inspect(msgs[i%len(msgs)], nil)
				out = fw.TakeForwards(out[:0])
				i++
			}
		})
	}
}

// stageForwards returns the forwards of generated traffic to one stream,
// as the detector writes them.
func stageForwards(b testing.TB, n int, stream string) []detectors.Forward {
	b.Helper()
	d, err := spam.New(builtinRules(b))
	if err != nil {
		b.Fatal(err)
	}
	var out []detectors.Forward
	for _, m := range generated(b, n) {
		d.Inspect(m, nil)
		for _, f := range d.(detectors.Forwarder).TakeForwards(nil) {
			if f.Stream == stream {
				out = append(out, f)
			}
		}
	}
	return out
}

// benchStage feeds a stage the forwards in order, once each; when they run
// out it starts again on a fresh stage (off the clock), so that every
// measured record is new to the stage.
func benchStage(b *testing.B, stream string, fw []detectors.Forward) {
	rules := builtinRules(b)
	stages, err := spam.NewStages(rules)
	if err != nil {
		b.Fatal(err)
	}
	st := stages[stream]
	var flags []detectors.Flag
	var out []detectors.Forward
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(fw) {
			b.StopTimer()
			stages, _ = spam.NewStages(rules)
			st, i = stages[stream], 0
			b.StartTimer()
		}
		f := fw[i]
		if flags, err = st.Handle(f.Key, f.Value, flags[:0]); err != nil {
			b.Fatal(err)
		}
		if fwd, ok := st.(detectors.Forwarder); ok {
			out = fwd.TakeForwards(out[:0])
		}
		i++
	}
}

// BenchmarkSenderHandle: the spam-sender stage's Handle per record of
// generated traffic (one record per message).
//
//	go test ./detectors/spam -run '^$' -bench Handle -benchmem
func BenchmarkSenderHandle(b *testing.B) {
	benchStage(b, spam.StreamSender, stageForwards(b, 100_000, spam.StreamSender))
}

// BenchmarkFingerprintHandle: the spam-fingerprint stage's Handle per
// record (four per message with a fingerprint).
func BenchmarkFingerprintHandle(b *testing.B) {
	benchStage(b, spam.StreamFingerprint, stageForwards(b, 100_000, spam.StreamFingerprint))
}

// BenchmarkCampaignSenderHandle: the sender stage on a spammer's records
// alone, the worst case: every new record lands in the windows of hundreds
// of earlier ones.
func BenchmarkCampaignSenderHandle(b *testing.B) {
	d, err := spam.New(builtinRules(b))
	if err != nil {
		b.Fatal(err)
	}
	var fw []detectors.Forward
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	created := start.Add(-time.Hour)
	for i := range 20_000 {
		m := &event.Message{MessageID: fmt.Sprintf("msg-%08d", i), ConversationID: fmt.Sprintf("conv-%08d", i), SentAt: start.Add(time.Duration(i) * 5 * time.Second),
			Sender: event.Participant{ID: "spammer", AccountCreatedAt: &created}, Recipients: []event.Participant{{ID: fmt.Sprintf("user-%d", i)}},
			Text: fmt.Sprintf("Congratulations! You have won a $%d gift card, claim your prize at bit.ly/%x", 100+i%900, i)}
		d.Inspect(m, nil)
		for _, f := range d.(detectors.Forwarder).TakeForwards(nil) {
			if f.Stream == spam.StreamSender {
				fw = append(fw, f)
			}
		}
	}
	benchStage(b, spam.StreamSender, fw)
}

// BenchmarkChain is the whole chain in process per message of generated
// traffic: Inspect, then Route through both stages.
func BenchmarkChain(b *testing.B) {
	msgs := generated(b, 100_000)
	rules := builtinRules(b)
	d, err := spam.New(rules)
	if err != nil {
		b.Fatal(err)
	}
	stages, err := spam.NewStages(rules)
	if err != nil {
		b.Fatal(err)
	}
	var fw []detectors.Forward
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(msgs) {
			b.StopTimer()
			d, _ = spam.New(rules)
			stages, _ = spam.NewStages(rules)
			i = 0
			b.StartTimer()
		}
		d.Inspect(msgs[i], nil)
		fw = d.(detectors.Forwarder).TakeForwards(fw[:0])
		if _, err := spam.Route(fw, stages); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// words is a text of ten words, different for each n.
func words(n int) string {
	vocab := []string{"practice", "saturday", "team", "boots", "water", "coach", "match", "field", "bus", "kit", "goal", "win",
		"lunch", "school", "homework", "maths", "film", "game", "music", "party", "beach", "rain", "train", "station", "bike",
		"pizza", "dinner", "cinema", "ticket", "park", "dog", "cat", "birthday", "present", "holiday", "summer", "winter", "snow"}
	out := make([]string, 10)
	x := uint64(n)*0x9e3779b97f4a7c15 + 1
	for i := range out {
		x ^= x >> 29
		x *= 0xbf58476d1ce4e5b9
		out[i] = vocab[x%uint64(len(vocab))]
	}
	return strings.Join(out, " ")
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestStateMemory measures state memory with runtime.MemStats (heap in
// use after a GC, before and after): the sender stage per active sender
// (100,000 senders with one message each in the window, then three), the
// fingerprint stage per entry, and the detector per conversation. Ids are
// of realistic length (UUIDs for messages and conversations). The target
// is at most 512 bytes per sender with one message.
//
//	go test ./detectors/spam -run StateMemory -v
func TestStateMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates state for 100,000 senders")
	}
	const senders = 100_000
	rules := builtinRules(t)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	created := start.Add(-400 * 24 * time.Hour)
	message := func(k, i int) *event.Message {
		return &event.Message{
			MessageID:      fmt.Sprintf("4f1c2a9e-8b7d-4c3a-9e2f-%06d%06d", k, i),
			ConversationID: fmt.Sprintf("9d3e7c1b-2a4f-4e8d-b6c5-%06d%06d", k, i),
			SentAt:         start.Add(time.Duration(k*senders+i) * 2 * time.Millisecond),
			Sender:         event.Participant{ID: fmt.Sprintf("user-%08d", i), AccountCreatedAt: &created},
			Recipients:     []event.Participant{{ID: fmt.Sprintf("user-%08d", senders+i)}},
			Text:           words(k*senders + i),
		}
	}
	// forwards returns the forwards of perSender messages from each sender
	// to stream, made by a detector that is then dropped.
	forwards := func(perSender int, stream string) []detectors.Forward {
		d, err := spam.New(rules)
		if err != nil {
			t.Fatal(err)
		}
		var out []detectors.Forward
		for k := range perSender {
			for i := range senders {
				d.Inspect(message(k, i), nil)
				for _, f := range d.(detectors.Forwarder).TakeForwards(nil) {
					if f.Stream == stream {
						out = append(out, f)
					}
				}
			}
		}
		return out
	}
	stageBytes := func(stream string, fw []detectors.Forward) (float64, int) {
		stages, err := spam.NewStages(rules)
		if err != nil {
			t.Fatal(err)
		}
		st := stages[stream]
		before := heapInUse()
		for _, f := range fw {
			if _, err := st.Handle(f.Key, f.Value, nil); err != nil {
				t.Fatal(err)
			}
			if fwd, ok := st.(detectors.Forwarder); ok {
				fwd.TakeForwards(nil)
			}
		}
		after := heapInUse()
		runtime.KeepAlive(fw)
		entries := st.(detectors.StateSizer).StateEntries()
		runtime.KeepAlive(st)
		return float64(after) - float64(before), entries
	}
	for _, per := range []int{1, 3} {
		b, n := stageBytes(spam.StreamSender, forwards(per, spam.StreamSender))
		if n != per*senders {
			t.Fatalf("%d messages held, want %d", n, per*senders)
		}
		t.Logf("sender stage: %d senders with %d message(s) each: %.1f MB, %.0f bytes per sender, %.0f per message", senders, per, b/1e6, b/senders, b/float64(n))
		if per == 1 && b/senders > 512 {
			t.Errorf("%.0f bytes per sender with one message; target 512", b/senders)
		}
	}
	b, n := stageBytes(spam.StreamFingerprint, forwards(1, spam.StreamFingerprint))
	if n < 4*senders*99/100 { // a few texts repeat and fill their buckets to the cap
		t.Fatalf("%d fingerprint entries, want about %d", n, 4*senders)
	}
	t.Logf("fingerprint stage: %d entries (%d messages, one per band): %.1f MB, %.0f bytes per entry, %.0f per message", n, senders, b/1e6, b/float64(n), b/senders)

	before := heapInUse()
	d, err := spam.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	for i := range senders {
		d.Inspect(message(0, i), nil)
		d.(detectors.Forwarder).TakeForwards(nil)
	}
	d.(detectors.Durable).TakeChanged(func(string, []byte) {})
	after := heapInUse()
	convs := d.(detectors.StateSizer).StateEntries()
	runtime.KeepAlive(d)
	t.Logf("detector: %d conversations: %.1f MB, %.0f bytes per conversation", convs, float64(after-before)/1e6, float64(after-before)/float64(convs))
}
