package grooming

import "github.com/goshawk-safety/goshawk/event"

// RiskAt returns the live risk of m's sender in m's conversation at m's
// time, after m was inspected (0 when there is no state): for tests that
// print how far a conversation is from a tier.
func (d *Detector) RiskAt(m *event.Message) float64 {
	e := d.convs.Get(m.ConversationID)
	if e == nil {
		return 0
	}
	c := &e.Value
	who := c.find(m.Sender.ID)
	if who < 0 {
		return 0
	}
	v := c.ageView(m, who, false)
	return c.risk(d.rs, who, m.SentAt.UnixNano(), false, &v)
}

// AppendState appends the encoding of a conversation's state to buf, as
// TakeChanged makes it: for benchmarks.
func (d *Detector) AppendState(buf []byte, key string) []byte {
	if e := d.convs.Get(key); e != nil {
		return e.Value.encode(buf)
	}
	return buf
}
