package pipeline

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestTrackerCommitsOnlyContiguousPrefix(t *testing.T) {
	tp := TopicPartition{"messages", 0}
	other := TopicPartition{"messages", 1}
	tests := []struct {
		name  string
		fetch []int64
		done  []int64 // offsets of tp marked done, in this order
		want  []Position
	}{
		{"nothing done", []int64{0, 1, 2}, nil, nil},
		{"prefix", []int64{0, 1, 2}, []int64{0, 1}, []Position{{tp, 1}}},
		{"gap holds back", []int64{0, 1, 2}, []int64{0, 2}, []Position{{tp, 0}}},
		{"gap filled", []int64{0, 1, 2}, []int64{2, 0, 1}, []Position{{tp, 2}}},
		{"first missing", []int64{5, 6, 7}, []int64{6, 7}, nil},
		{"offsets with holes (compaction)", []int64{3, 9, 10}, []int64{3, 9}, []Position{{tp, 9}}},
		{"done twice is harmless", []int64{0, 1}, []int64{0, 0}, []Position{{tp, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker()
			tickets := map[int64]Ticket{}
			for _, off := range tc.fetch {
				tickets[off] = tr.Track(tp, off)
				tr.Track(other, off) // never done: must never be committed
			}
			for _, off := range tc.done {
				tr.Done(tickets[off])
			}
			if got := tr.Committable(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Committable() = %v, want %v", got, tc.want)
			}
			if got := tr.Committable(); got != nil {
				t.Fatalf("second Committable() = %v, want nothing new", got)
			}
		})
	}
}

func TestTrackerRedeliveryResetsPartition(t *testing.T) {
	tp := TopicPartition{"messages", 3}
	tr := NewTracker()
	old0 := tr.Track(tp, 10)
	old1 := tr.Track(tp, 11)
	// Rebalance: the partition is delivered again from 10.
	new0 := tr.Track(tp, 10)
	tr.Done(old0, old1) // stale tickets must not commit anything
	if got := tr.Committable(); got != nil {
		t.Fatalf("stale tickets committed %v", got)
	}
	tr.Done(new0)
	if got, want := tr.Committable(), []Position{{tp, 10}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Committable() = %v, want %v", got, want)
	}
	if n := tr.InFlight(); n != 0 {
		t.Fatalf("InFlight() = %d after everything was done, want 0", n)
	}
}

func TestTrackerRequeue(t *testing.T) {
	tp := TopicPartition{"messages", 0}
	tr := NewTracker()
	a := tr.Track(tp, 0)
	b := tr.Track(tp, 1)
	tr.Done(a)
	failed := tr.Committable()
	tr.Requeue(failed)
	if got := tr.Committable(); !reflect.DeepEqual(got, failed) {
		t.Fatalf("after requeue got %v, want %v", got, failed)
	}
	tr.Done(b)
	tr.Requeue(failed) // older than what is ready now: ignored
	if got, want := tr.Committable(), []Position{{tp, 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// Random completion order must always commit exactly the done prefix.
func TestTrackerRandomOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		tr := NewTracker()
		tp := TopicPartition{"t", 0}
		n := 1 + rng.IntN(300)
		tickets := make([]Ticket, n)
		for i := range n {
			tickets[i] = tr.Track(tp, int64(i))
		}
		order := rng.Perm(n)
		done := make([]bool, n)
		committed := int64(-1)
		for _, i := range order[:rng.IntN(n+1)] {
			tr.Done(tickets[i])
			done[i] = true
			for _, p := range tr.Committable() {
				committed = p.Offset
			}
			want := int64(-1)
			for want+1 < int64(n) && done[want+1] {
				want++
			}
			if committed != want {
				t.Fatalf("round %d: committed %d, want %d", round, committed, want)
			}
		}
	}
}

func BenchmarkTracker(b *testing.B) {
	tr := NewTracker()
	tp := TopicPartition{"messages", 0}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tk := tr.Track(tp, int64(i))
		tr.Done(tk)
		if i%1000 == 0 {
			tr.Committable()
		}
	}
}
