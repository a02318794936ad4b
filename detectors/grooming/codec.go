package grooming

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// The durable encoding of a conversation's state (TakeChanged, Restore).
// Binary, little-endian, varints as encoding/binary writes them:
//
//	byte     version (1)
//	varint   last: the latest event time of a change, Unix ns
//	byte     number of people (≤ 8), then for each:
//	           byte id length (≤ 128), id bytes,
//	           byte stated age (0: none; ≤ 150),
//	           byte life contexts (bits, see cueBit)
//	byte     1 + index of the person with an open age question (0: none)
//	varint   when it was asked, Unix ns (only when the byte before is not 0)
//	byte     conversational contexts (bits, see cueBit)
//	byte     number of rules that fired (≤ 16), then 4 bytes each: FNV-1a
//	         32 of the rule id
//	byte     number of signals (≤ 16), then for each:
//	           byte stage, byte person index, byte strength (1..255),
//	           byte flags (1: shadow rules only),
//	           uvarint last minus the signal's time (ns),
//	           8 bytes FNV-1a 64 of the message id,
//	           byte id length (≤ 40), the id (cut to 40 bytes),
//	           byte excerpt length (≤ 60), the excerpt
//
// A state with two people and five signals is about 300 bytes. Decode
// rejects anything else: another version, a count or length out of bounds,
// an index that points nowhere, more than two signals of one stage and
// person, unknown bits, a truncated or a longer input.

const codecVersion = 1

// Masks of the valid bits.
const (
	lifeCueMask = 1<<ctxAdultLife | 1<<ctxChildLife | 1<<(ctxAdultLife+4) | 1<<(ctxChildLife+4)
	convCueMask = 1<<ctxFamily | 1<<ctxGuardians | 1<<(ctxFamily+4) | 1<<(ctxGuardians+4)
	maxAge      = 150
)

// encode appends the encoding of c to buf.
func (c *conv) encode(buf []byte) []byte {
	buf = append(buf, codecVersion)
	buf = binary.AppendVarint(buf, c.last)
	buf = append(buf, c.nPeople)
	for i := range int(c.nPeople) {
		p := &c.people[i]
		buf = append(buf, p.n)
		buf = append(buf, c.arena[p.off:int(p.off)+int(p.n)]...)
		buf = append(buf, p.age, p.cues)
	}
	buf = append(buf, c.askBy)
	if c.askBy > 0 {
		buf = binary.AppendVarint(buf, c.askAt)
	}
	buf = append(buf, c.ctx, uint8(len(c.fired)))
	for _, f := range c.fired {
		buf = binary.LittleEndian.AppendUint32(buf, f)
	}
	buf = append(buf, uint8(len(c.signals)))
	for i := range c.signals {
		s := &c.signals[i]
		buf = append(buf, uint8(s.stage), s.who, s.q, s.flags)
		buf = binary.AppendUvarint(buf, uint64(c.last-s.at))
		buf = binary.LittleEndian.AppendUint64(buf, s.idHash)
		buf = append(buf, s.idLen)
		buf = append(buf, c.arena[s.off:int(s.off)+int(s.idLen)]...)
		buf = append(buf, s.exLen)
		from := int(s.off) + int(s.idLen)
		buf = append(buf, c.arena[from:from+int(s.exLen)]...)
	}
	return buf
}

var errTruncated = errors.New("truncated")

// decoder reads an encoding, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) byte() uint8 {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errTruncated
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errTruncated
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// decodeConv decodes an encoding made by encode.
func decodeConv(data []byte) (conv, error) {
	var c conv
	if len(data) == 0 {
		return c, errors.New("grooming state: empty")
	}
	if data[0] != codecVersion {
		return c, fmt.Errorf("grooming state: version %d, want %d", data[0], codecVersion)
	}
	d := &decoder{b: data[1:]}
	c.last = d.varint()
	n := int(d.byte())
	if n > maxPeople {
		d.fail("%d people, at most %d", n, maxPeople)
	}
	for i := 0; i < n && d.err == nil; i++ {
		l := int(d.byte())
		if l > maxPersonID {
			d.fail("person id of %d bytes, at most %d", l, maxPersonID)
			break
		}
		id := d.bytes(l)
		age, cues := d.byte(), d.byte()
		if age > maxAge {
			d.fail("age %d", age)
		}
		if cues&^lifeCueMask != 0 {
			d.fail("person contexts %#x", cues)
		}
		if d.err != nil {
			break
		}
		if c.find(string(id)) >= 0 {
			d.fail("person %d given twice", i)
			break
		}
		c.people[i] = person{off: uint16(len(c.arena)), n: uint8(l), age: age, cues: cues}
		c.arena = append(c.arena, id...)
		c.nPeople++
	}
	c.askBy = d.byte()
	if c.askBy > c.nPeople {
		d.fail("age question by person %d of %d", c.askBy, c.nPeople)
	}
	if c.askBy > 0 {
		c.askAt = d.varint()
	}
	c.ctx = d.byte()
	if c.ctx&^convCueMask != 0 {
		d.fail("contexts %#x", c.ctx)
	}
	nf := int(d.byte())
	if nf > maxFired {
		d.fail("%d fired rules, at most %d", nf, maxFired)
	}
	for i := 0; i < nf && d.err == nil; i++ {
		b := d.bytes(4)
		if d.err == nil {
			h := binary.LittleEndian.Uint32(b)
			if c.hasFired(h) {
				d.fail("fired rule given twice")
			}
			c.fired = append(c.fired, h)
		}
	}
	ns := int(d.byte())
	if ns > maxSignals {
		d.fail("%d signals, at most %d", ns, maxSignals)
	}
	if d.err == nil && ns > 0 {
		c.signals = make([]signal, 0, ns)
	}
	for i := 0; i < ns && d.err == nil; i++ {
		s := signal{stage: stage(d.byte()), who: d.byte(), q: d.byte(), flags: d.byte()}
		delta := d.uvarint()
		h := d.bytes(8)
		idLen := int(d.byte())
		if idLen > maxIDText {
			d.fail("message id of %d bytes, at most %d", idLen, maxIDText)
			break
		}
		id := d.bytes(idLen)
		exLen := int(d.byte())
		if exLen > maxExcerpt {
			d.fail("excerpt of %d bytes, at most %d", exLen, maxExcerpt)
			break
		}
		ex := d.bytes(exLen)
		switch {
		case d.err != nil:
		case s.stage >= nStages:
			d.fail("stage %d", s.stage)
		case s.who >= c.nPeople:
			d.fail("signal of person %d of %d", s.who, c.nPeople)
		case s.q == 0:
			d.fail("signal of strength 0")
		case s.flags&^(sigShadow|sigOverrides) != 0:
			d.fail("signal flags %#x", s.flags)
		case !utf8.Valid(ex):
			d.fail("excerpt is not UTF-8")
		case delta > math.MaxInt64 || c.last-int64(delta) > c.last:
			d.fail("signal time out of range")
		}
		if d.err != nil {
			break
		}
		same := 0
		for _, o := range c.signals {
			if o.stage == s.stage && o.who == s.who {
				same++
			}
		}
		if same >= maxPerPair {
			d.fail("more than %d signals of stage %s by one person", maxPerPair, s.stage)
			break
		}
		s.at = c.last - int64(delta)
		s.idHash = binary.LittleEndian.Uint64(h)
		s.off, s.idLen, s.exLen = uint16(len(c.arena)), uint8(idLen), uint8(exLen)
		c.arena = append(c.arena, id...)
		c.arena = append(c.arena, ex...)
		c.signals = append(c.signals, s)
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the end", len(d.b))
	}
	if d.err != nil {
		return conv{}, fmt.Errorf("grooming state: %w", d.err)
	}
	return c, nil
}
