package pipeline

import (
	"sort"
	"sync"
)

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int
}

// Position is the offset of the last record of a partition whose results are
// durably written, together with every record before it. Committing it
// tells Kafka to resume at Offset+1.
type Position struct {
	TopicPartition
	Offset int64
}

// Ticket identifies one fetched record in the tracker.
type Ticket struct {
	tp     TopicPartition
	gen    uint64
	offset int64
}

// Tracker remembers, per partition, which fetched offsets are fully handled
// and yields the highest offset below which everything is handled. Records
// finish out of order (workers run in parallel); commits never pass a record
// that is still in flight. It is safe for concurrent use.
type Tracker struct {
	mu         sync.Mutex
	partitions map[TopicPartition]*partitionState
	inFlight   int
}

type partitionState struct {
	gen      uint64
	offsets  []int64 // fetched, not yet committable, ascending
	done     []bool  // parallel to offsets
	head     int     // offsets[:head] were popped
	lastSeen int64
	ready    int64 // highest committable offset not yet handed out, -1 if none
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	return &Tracker{partitions: make(map[TopicPartition]*partitionState)}
}

// Track registers a fetched record. Records of a partition must be tracked
// in fetch order. An offset at or below one already seen means the
// partition was re-assigned and is being re-delivered (after a rebalance or
// a failed commit): the partition's earlier records are forgotten, and
// tickets issued for them no longer count.
func (t *Tracker) Track(tp TopicPartition, offset int64) Ticket {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.partitions[tp]
	if p == nil {
		p = &partitionState{lastSeen: -1, ready: -1}
		t.partitions[tp] = p
	}
	if offset <= p.lastSeen {
		t.inFlight -= len(p.offsets) - p.head
		p.gen++
		p.offsets, p.done, p.head = p.offsets[:0], p.done[:0], 0
		p.ready = -1
	}
	p.lastSeen = offset
	p.offsets = append(p.offsets, offset)
	p.done = append(p.done, false)
	t.inFlight++
	return Ticket{tp: tp, gen: p.gen, offset: offset}
}

// Done marks records as fully handled.
func (t *Tracker) Done(tickets ...Ticket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tk := range tickets {
		p := t.partitions[tk.tp]
		if p == nil || p.gen != tk.gen {
			continue // the partition was re-delivered since; the new delivery counts
		}
		live := p.offsets[p.head:]
		i := sort.Search(len(live), func(i int) bool { return live[i] >= tk.offset })
		if i == len(live) || live[i] != tk.offset || p.done[p.head+i] {
			continue
		}
		p.done[p.head+i] = true
		for p.head < len(p.offsets) && p.done[p.head] {
			p.ready = p.offsets[p.head]
			p.head++
			t.inFlight--
		}
		if p.head == len(p.offsets) || p.head > 4096 && p.head > len(p.offsets)/2 {
			n := copy(p.offsets, p.offsets[p.head:])
			copy(p.done, p.done[p.head:])
			p.offsets, p.done, p.head = p.offsets[:n], p.done[:n], 0
		}
	}
}

// Committable returns, for every partition that advanced since the last
// call, the position to commit, in a stable order.
func (t *Tracker) Committable() []Position {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Position
	for tp, p := range t.partitions {
		if p.ready >= 0 {
			out = append(out, Position{TopicPartition: tp, Offset: p.ready})
			p.ready = -1
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// Requeue hands positions whose commit failed back, unless a later position
// of the same partition is already waiting.
func (t *Tracker) Requeue(positions []Position) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, pos := range positions {
		if p := t.partitions[pos.TopicPartition]; p != nil && p.ready < pos.Offset && pos.Offset <= p.lastSeen {
			p.ready = pos.Offset
		}
	}
}

// InFlight is the number of tracked records not yet handled.
func (t *Tracker) InFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inFlight
}
