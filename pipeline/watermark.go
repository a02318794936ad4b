package pipeline

import (
	"math"
	"time"
)

// watermarkIdle is how long (wall time) a partition may send a worker
// nothing before it stops holding the worker's watermark back: it was
// revoked, or its traffic stopped, and then its conversations are idle on
// any clock.
const watermarkIdle = time.Minute

// watermark is the event time that every partition a worker reads has
// reached: the least, over those partitions, of the latest sent_at read
// from each. Detectors reclaim idle state by it (detectors.Watermarked), so
// that a partition consumed ahead of another, as happens after a restart or
// a rebalance, does not expire the conversations of the one behind. It
// holds a handful of partitions; the scan on each record is cheaper than
// any index.
type watermark struct {
	parts []partitionClock
}

type partitionClock struct {
	partition int
	event     int64 // latest sent_at read, Unix ns
	wall      int64 // when a record of it was last read, Unix ns
}

// observe records a message of partition sent at event, read at wall, and
// returns the watermark.
func (w *watermark) observe(partition int, event time.Time, wall time.Time) time.Time {
	ev, now := event.UnixNano(), wall.UnixNano()
	found := false
	low := int64(math.MaxInt64)
	for i := 0; i < len(w.parts); i++ {
		p := &w.parts[i]
		if p.partition == partition {
			p.event, p.wall, found = max(p.event, ev), now, true
		} else if now-p.wall > int64(watermarkIdle) {
			w.parts[i] = w.parts[len(w.parts)-1]
			w.parts = w.parts[:len(w.parts)-1]
			i--
			continue
		}
		low = min(low, p.event)
	}
	if !found {
		w.parts = append(w.parts, partitionClock{partition: partition, event: ev, wall: now})
		low = min(low, ev)
	}
	return time.Unix(0, low).UTC()
}
