package detectors

import "time"

// Watermarked is implemented by detectors that reclaim idle state by event
// time. Without a watermark a detector reclaims what has been idle too long
// before the message at hand. A pipeline worker reads several partitions,
// which run ahead of one another: on the clock of the one ahead, a
// conversation of one that lags would look idle and be reclaimed, although
// its next message is yet to be read. So the worker sets, before each
// message, the event time that all its partitions have reached, and the
// detector reclaims by the earlier of the two. Replay reads one stream in
// time order and sets none.
type Watermarked interface {
	SetWatermark(t time.Time)
}

// Watermark holds the watermark of a detector that embeds it, and
// implements Watermarked for it. The zero value holds none.
type Watermark struct{ ns int64 }

// SetWatermark implements Watermarked; the zero time clears it.
func (w *Watermark) SetWatermark(t time.Time) {
	if t.IsZero() {
		w.ns = 0
		return
	}
	w.ns = t.UnixNano()
}

// Horizon returns the event time (Unix ns) to reclaim idle state by for a
// message sent at t: t, or the watermark when that is earlier.
func (w *Watermark) Horizon(t int64) int64 {
	if w.ns != 0 && w.ns < t {
		return w.ns
	}
	return t
}
