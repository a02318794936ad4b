package grooming_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/grooming"
	"github.com/goshawk-safety/goshawk/detectors/text"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

// corpusTraffic is every corpus conversation copied n times under other
// ids, all interleaved by time: traffic in which every conversation is
// either grooming or a hard negative, the costly case.
func corpusTraffic(t testing.TB, n int) []*event.Message {
	var out []*event.Message
	for _, c := range readCorpus(t) {
		for k := range n {
			shift := time.Duration(k) * 17 * time.Minute
			for _, m := range c.Events {
				mm := *m
				mm.ConversationID = m.ConversationID + "-" + strconv.Itoa(k)
				mm.MessageID = m.MessageID + "-" + strconv.Itoa(k)
				mm.SentAt = m.SentAt.Add(shift)
				out = append(out, &mm)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SentAt.Before(out[j].SentAt) })
	return out
}

// generated is n decoded messages of generated traffic, keeping those of
// the given labels (all when none).
func generated(b testing.TB, n int, labels ...generator.Label) []*event.Message {
	g := generator.New(1, generator.Options{})
	var out []*event.Message
	for len(out) < n {
		ev := g.Next()
		if ev.Bad {
			continue
		}
		keep := len(labels) == 0
		for _, l := range labels {
			keep = keep || ev.Label == l
		}
		if !keep {
			continue
		}
		m, err := event.Decode(ev.Value)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// BenchmarkInspect: ns, bytes and allocations per message of Inspect, in
// order, over
//   - corpus: the labelled corpus, every conversation grooming or a hard
//     negative (state, scoring, flags on most messages' conversations);
//   - benign: generated benign chat, the common case;
//   - generated: the generator's mix (12% harmful conversations).
//
// The detector is rebuilt (outside the timer) when the messages run out, so
// that no message is seen twice. Each stream also runs as "normalise",
// the shared text layer's normal form of the same messages alone: in the
// engine the detectors share one normal form per message (text.Shared),
// so Inspect minus normalise is what grooming adds to it.
//
//	go test ./detectors/grooming -run '^$' -bench Inspect -benchmem
func BenchmarkInspect(b *testing.B) {
	for _, tc := range []struct {
		name string
		msgs []*event.Message
	}{
		{"corpus", corpusTraffic(b, 20)},
		{"benign", generated(b, 50_000, generator.LabelBenign)},
		{"generated", generated(b, 50_000)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			d := newWith(b, grooming.DefaultOptions())
			var out []detectors.Finding
			textBytes := 0
			for _, m := range tc.msgs {
				textBytes += len(m.Text)
			}
			b.SetBytes(int64(textBytes / len(tc.msgs)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i == len(tc.msgs) {
					b.StopTimer()
					d, i = newWith(b, grooming.DefaultOptions()), 0
					b.StartTimer()
				}
				out = d.Inspect(tc.msgs[i], out[:0])
				i++
			}
		})
		b.Run(tc.name+"/normalise", func(b *testing.B) {
			var z text.Normalizer
			b.ReportAllocs()
			i, n := 0, 0
			for b.Loop() {
				if i == len(tc.msgs) {
					i = 0
				}
				n += len(z.Normalize(tc.msgs[i].Text).Text)
				i++
			}
			if n == 0 {
				b.Fatal("nothing normalised")
			}
		})
	}
}

// fill makes n conversations, each with a few stage signals, a stated age
// and a question open, the state a typical flagged-or-nearly conversation
// keeps.
func fill(d *grooming.Detector, n int) {
	at := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	texts := []string{"you're so mature for your age", "im 13", "how old are you?", "are you home alone right now?", "add me on snap"}
	for i := range n {
		conv := fmt.Sprintf("conversation-%08d", i)
		for j, text := range texts {
			from, to := "user-"+strconv.Itoa(2*i), "user-"+strconv.Itoa(2*i+1)
			if j == 1 {
				from, to = to, from
			}
			d.Inspect(&event.Message{MessageID: fmt.Sprintf("%s-%d", conv, j), ConversationID: conv, SentAt: at.Add(time.Duration(i*5+j) * time.Second),
				Sender: event.Participant{ID: from}, Recipients: []event.Participant{{ID: to}}, Text: text}, nil)
		}
	}
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// maxBytesPerConversation is the memory budget of one tracked conversation.
const maxBytesPerConversation = 1024

// TestMemoryPerConversation fills 100,000 conversations with four stage
// signals and a stated age each and measures the heap they hold, from
// runtime.MemStats after GC:
//
//	go test ./detectors/grooming -run MemoryPerConversation -v
func TestMemoryPerConversation(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 100,000 conversations")
	}
	const n = 100_000
	d := newWith(t, grooming.Options{IdleExpiry: 365 * 24 * time.Hour, MaxConversations: n})
	before := heap()
	fill(d, n)
	d.TakeChanged(func(string, []byte) {}) // what the pipeline does: the change list is emptied
	after := heap()
	if d.StateEntries() != n {
		t.Fatalf("%d conversations kept, want %d", d.StateEntries(), n)
	}
	per := float64(after-before) / n
	t.Logf("%d conversations: %.0f bytes each (heap %d → %d)", n, per, before, after)
	runtime.KeepAlive(d)
	if per > maxBytesPerConversation {
		t.Errorf("%.0f bytes per conversation, want at most %d", per, maxBytesPerConversation)
	}
}

// BenchmarkState: the cost of handing out a conversation's state
// (TakeChanged, one encoding) and of restoring one, over the states of the
// labelled corpus; bytes/state is the mean encoded size.
//
//	go test ./detectors/grooming -run '^$' -bench State -benchmem
func BenchmarkState(b *testing.B) {
	d := newWith(b, grooming.DefaultOptions())
	var states [][]byte
	var keys []string
	for _, c := range readCorpus(b) {
		for _, m := range c.Events {
			d.Inspect(m, nil)
		}
	}
	total := 0
	d.TakeChanged(func(k string, s []byte) {
		keys = append(keys, k)
		states = append(states, s)
		total += len(s)
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		i := 0
		for b.Loop() {
			buf = d.AppendState(buf[:0], keys[i%len(keys)])
			_ = slices.Clone(buf) // TakeChanged hands out a copy
			i++
		}
	})
	b.Run("restore", func(b *testing.B) {
		d := newWith(b, grooming.DefaultOptions())
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := d.Restore(keys[i%len(keys)], states[i%len(states)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(total)/float64(len(states)), "bytes/state")
	})
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "%d corpus states, %d bytes each on average\n", len(states), total/len(states))
	}
}
