package spam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/event"
)

// Records of the internal streams (format version 1). A value is the format
// version byte, the record kind byte, then the kind's fields in order:
// integers as varints (signed) or uvarints, byte strings as a uvarint length
// and the bytes, fingerprints as 8 bytes little-endian. Nothing may follow
// the last field. docs/spam.md lists the fields of each kind.
const recordVersion = 1

// Record kinds.
const (
	recMessage = 1 // features of one message: spam-sender, keyed by sender id
	recContent = 2 // content fan-out levels one message reached: spam-sender, keyed by sender id
	recPrint   = 3 // a message's fingerprint: spam-fingerprint, keyed by band bucket
)

// Flags of a message record.
const (
	flagFirst     uint16 = 1 << iota // the sender's first message in the conversation
	flagCold                         // no one else had written in the conversation before it
	flagLink                         // it has a link
	flagShortener                    // a link is on a URL shortener
	flagPunycode                     // a link's host is internationalised (xn-- or non-ASCII)
	flagLookalike                    // a link's host imitates a brand
	flagPrinted                      // it has a fingerprint
	flagsKnown    = flagPrinted<<1 - 1
)

// Limits of a record.
const (
	maxRecipients = 16  // recipients a message record lists (the first ones)
	maxHits       = 64  // content rule hits of one message
	maxRuleID     = 128 // bytes of a rule id
)

// ErrBadRecord is wrapped by the error of a stage's Handle for a value it
// cannot decode: a poison record, never worth a retry.
var ErrBadRecord = errors.New("spam: undecodable record")

// The record types are generic in how they hold bytes: the detector encodes
// from strings, the stages decode into views of the value ([]byte) that
// they copy only what they keep of.
type bytestring interface{ ~string | ~[]byte }

type hitRec[S bytestring] struct {
	id     S
	weight float32 // the rule's weight when the detector saw it; stages weigh by their own rules
}

type messageRec[S bytestring] struct {
	msgID, convID, senderID S
	sentAt                  int64 // Unix ns
	accountAge              int64 // seconds; -1 when unknown
	runes                   uint32
	flags                   uint16
	links                   uint16
	simhash                 uint64
	recipients              []S
	hits                    []hitRec[S]
}

type contentRec[S bytestring] struct {
	msgID, senderID S
	sentAt          int64
	convs, senders  uint32 // thresholds of the highest levels reached; 0 for none
}

type printRec[S bytestring] struct {
	msgID, convID, senderID S
	sentAt                  int64
	simhash                 uint64
}

func appendBytes[S bytestring](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// maxIDPrefix bounds the length prefix appendBytes writes before an id.
const maxIDPrefix = binary.MaxVarintLen16

// nextID reads one id that appendBytes packed into a state string, so that
// ids holding any byte, NUL included, come back whole.
func nextID(s string) (id, rest string) {
	var n, shift uint
	i := 0
	for ; i < len(s) && shift < 64; i++ {
		c := s[i]
		n |= uint(c&0x7f) << shift
		if c < 0x80 {
			i++
			break
		}
		shift += 7
	}
	if n > uint(len(s)-i) {
		return s[i:], ""
	}
	return s[i : i+int(n)], s[i+int(n):]
}

func appendMessage[S bytestring](b []byte, r *messageRec[S]) []byte {
	b = append(b, recordVersion, recMessage)
	b = appendBytes(b, r.msgID)
	b = appendBytes(b, r.convID)
	b = appendBytes(b, r.senderID)
	b = binary.AppendVarint(b, r.sentAt)
	b = binary.AppendVarint(b, r.accountAge)
	b = binary.AppendUvarint(b, uint64(r.runes))
	b = binary.AppendUvarint(b, uint64(r.flags))
	b = binary.AppendUvarint(b, uint64(r.links))
	b = binary.LittleEndian.AppendUint64(b, r.simhash)
	b = binary.AppendUvarint(b, uint64(len(r.recipients)))
	for _, p := range r.recipients {
		b = appendBytes(b, p)
	}
	b = binary.AppendUvarint(b, uint64(len(r.hits)))
	for _, h := range r.hits {
		b = appendBytes(b, h.id)
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(h.weight))
	}
	return b
}

func appendContent[S bytestring](b []byte, r *contentRec[S]) []byte {
	b = append(b, recordVersion, recContent)
	b = appendBytes(b, r.msgID)
	b = appendBytes(b, r.senderID)
	b = binary.AppendVarint(b, r.sentAt)
	b = binary.AppendUvarint(b, uint64(r.convs))
	return binary.AppendUvarint(b, uint64(r.senders))
}

func appendPrint[S bytestring](b []byte, r *printRec[S]) []byte {
	b = append(b, recordVersion, recPrint)
	b = appendBytes(b, r.msgID)
	b = appendBytes(b, r.convID)
	b = appendBytes(b, r.senderID)
	b = binary.AppendVarint(b, r.sentAt)
	return binary.LittleEndian.AppendUint64(b, r.simhash)
}

// decoder reads a record; the first problem sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrBadRecord}, args...)...)
	}
}

func (d *decoder) uvarint(field string, limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("%s: truncated or overlong number", field)
		return 0
	}
	d.b = d.b[n:]
	if v > limit {
		d.fail("%s: %d exceeds %d", field, v, limit)
		return 0
	}
	return v
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("%s: truncated or overlong number", field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(field string, minLen, maxLen int) []byte {
	n := int(d.uvarint(field, uint64(maxLen)))
	if d.err != nil {
		return nil
	}
	if n < minLen || n > len(d.b) {
		d.fail("%s: length %d out of range", field, n)
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	if !utf8.Valid(v) {
		d.fail("%s: not UTF-8", field)
		return nil
	}
	return v
}

func (d *decoder) id(field string) []byte { return d.bytes(field, 1, event.MaxIDBytes) }

func (d *decoder) fixed64(field string) uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("%s: truncated", field)
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) fixed32(field string) uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 4 {
		d.fail("%s: truncated", field)
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) sentAt() int64 {
	t := d.varint("sent_at")
	if d.err == nil && (t < event.MinSentAt.UnixNano() || t >= event.MaxSentAt.UnixNano()) {
		d.fail("sent_at: %d out of range", t)
	}
	return t
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the last field", len(d.b))
	}
	return d.err
}

// recordKind checks a value's header and returns its kind and fields.
func recordKind(v []byte) (byte, []byte, error) {
	if len(v) < 2 {
		return 0, nil, fmt.Errorf("%w: %d bytes, no header", ErrBadRecord, len(v))
	}
	if v[0] != recordVersion {
		return 0, nil, fmt.Errorf("%w: format version %d (this build reads %d)", ErrBadRecord, v[0], recordVersion)
	}
	return v[1], v[2:], nil
}

// decodeMessage decodes the fields of a message record into r, reusing its
// slices.
func decodeMessage(b []byte, r *messageRec[[]byte]) error {
	d := decoder{b: b}
	r.msgID = d.id("message_id")
	r.convID = d.id("conversation_id")
	r.senderID = d.id("sender_id")
	r.sentAt = d.sentAt()
	r.accountAge = d.varint("account_age")
	if d.err == nil && r.accountAge < -1 {
		d.fail("account_age: %d", r.accountAge)
	}
	r.runes = uint32(d.uvarint("runes", event.MaxTextBytes))
	r.flags = uint16(d.uvarint("flags", uint64(flagsKnown)))
	r.links = uint16(d.uvarint("links", math.MaxUint16))
	r.simhash = d.fixed64("simhash")
	n := int(d.uvarint("recipients", maxRecipients))
	r.recipients = r.recipients[:0]
	for range n {
		r.recipients = append(r.recipients, d.id("recipient"))
	}
	n = int(d.uvarint("hits", maxHits))
	r.hits = r.hits[:0]
	for range n {
		id := d.bytes("hit", 1, maxRuleID)
		w := math.Float32frombits(d.fixed32("hit weight"))
		r.hits = append(r.hits, hitRec[[]byte]{id: id, weight: w})
	}
	return d.end()
}

func decodeContent(b []byte, r *contentRec[[]byte]) error {
	d := decoder{b: b}
	r.msgID = d.id("message_id")
	r.senderID = d.id("sender_id")
	r.sentAt = d.sentAt()
	r.convs = uint32(d.uvarint("conversations", 1_000_000))
	r.senders = uint32(d.uvarint("senders", 1_000_000))
	return d.end()
}

func decodePrint(b []byte, r *printRec[[]byte]) error {
	d := decoder{b: b}
	r.msgID = d.id("message_id")
	r.convID = d.id("conversation_id")
	r.senderID = d.id("sender_id")
	r.sentAt = d.sentAt()
	r.simhash = d.fixed64("simhash")
	return d.end()
}
