package event

import (
	"unicode/utf16"
	"unicode/utf8"
)

// decodeFast parses the plain shape of an event, the one every producer
// writes, into a wire without reflection. It never rejects anything: it
// answers ok=false for whatever it is not certain about, and Decode then
// lets encoding/json decide. For input it accepts, the wire is exactly the
// one json.Unmarshal would give (FuzzDecodeFast checks this), so both
// paths share the validation that follows.
//
// It accepts: one object of the known members, each at most once, spelled
// exactly (encoding/json also matches other cases, and a repeated member
// overwrites or merges); strings with any escape but a lone surrogate;
// integers without fraction or exponent, up to 18 digits; null for any
// member; and JSON whitespace. It gives up on anything else: unknown
// members (which encoding/json ignores), other types, invalid JSON, and
// trailing data.
//
// data must be valid UTF-8 (Decode checks it first).
func decodeFast(data []byte) (wire, bool) {
	p := fastParser{data: data, arena: new(fastArena)}
	w, ok := p.event()
	if !ok {
		return wire{}, false
	}
	p.space()
	return w, p.i == len(data)
}

// fastArena holds what a wire's string pointers point to, in one
// allocation. Ages get allocations of their own: a Message keeps them.
type fastArena struct {
	strs   [6]string // message_id, conversation_id, sent_at, text, sender.id, sender.account_created_at
	sender wireParticipant
	recips [4]wireRecipient
	rids   [4]string
}

type fastParser struct {
	data  []byte
	i     int
	arena *fastArena
}

// Members of the event, the sender and a recipient, as bits of a set.
const (
	mMessageID = 1 << iota
	mConversationID
	mSentAt
	mSender
	mRecipients
	mText
	mSchemaVersion
	mID
	mAge
	mAccountCreatedAt
)

func (p *fastParser) event() (wire, bool) {
	a := p.arena
	var w wire
	seen := 0
	ok := p.object(func(key []byte) bool {
		var bit int
		ok := false
		switch string(key) {
		case "message_id":
			bit, ok = mMessageID, p.nullableString(&w.MessageID, &a.strs[0])
		case "conversation_id":
			bit, ok = mConversationID, p.nullableString(&w.ConversationID, &a.strs[1])
		case "sent_at":
			bit, ok = mSentAt, p.nullableString(&w.SentAt, &a.strs[2])
		case "text":
			bit, ok = mText, p.nullableString(&w.Text, &a.strs[3])
		case "schema_version":
			bit, ok = mSchemaVersion, p.nullableInt(&w.SchemaVersion)
		case "sender":
			bit = mSender
			if p.null() {
				w.Sender, ok = nil, true
			} else {
				w.Sender, ok = &a.sender, p.sender(&a.sender)
			}
		case "recipients":
			bit = mRecipients
			if p.null() {
				w.Recipients, ok = nil, true
			} else {
				w.Recipients, ok = p.recipients()
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
	return w, ok
}

func (p *fastParser) sender(s *wireParticipant) bool {
	a := p.arena
	seen := 0
	return p.object(func(key []byte) bool {
		var bit int
		ok := false
		switch string(key) {
		case "id":
			bit, ok = mID, p.nullableString(&s.ID, &a.strs[4])
		case "age":
			bit, ok = mAge, p.nullableInt(&s.Age)
		case "account_created_at":
			bit, ok = mAccountCreatedAt, p.nullableString(&s.AccountCreatedAt, &a.strs[5])
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
}

func (p *fastParser) recipients() ([]wireRecipient, bool) {
	a := p.arena
	out := a.recips[:0]
	if !p.consume('[') {
		return nil, false
	}
	if p.consume(']') {
		return out, true // empty, not nil, as encoding/json gives
	}
	for {
		var r wireRecipient
		var id *string
		if n := len(out); n < len(a.rids) {
			id = &a.rids[n]
		} else {
			id = new(string)
		}
		seen := 0
		ok := p.object(func(key []byte) bool {
			var bit int
			ok := false
			switch string(key) {
			case "id":
				bit, ok = mID, p.nullableString(&r.ID, id)
			case "age":
				bit, ok = mAge, p.nullableInt(&r.Age)
			default:
				return false
			}
			if seen&bit != 0 {
				return false
			}
			seen |= bit
			return ok
		})
		if !ok || len(out) >= MaxRecipients {
			return nil, false // too many: encoding/json builds the whole slice, then validation rejects it
		}
		out = append(out, r)
		if p.consume(',') {
			continue
		}
		return out, p.consume(']')
	}
}

// object parses {"key": value, ...}, calling member after each key and
// its colon; member parses the value.
func (p *fastParser) object(member func(key []byte) bool) bool {
	if !p.consume('{') {
		return false
	}
	if p.consume('}') {
		return true
	}
	for {
		key, ok := p.key()
		if !ok || !p.consume(':') || !member(key) {
			return false
		}
		if p.consume(',') {
			continue
		}
		return p.consume('}')
	}
}

func (p *fastParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) consume(c byte) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *fastParser) null() bool {
	p.space()
	if len(p.data)-p.i >= 4 && string(p.data[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

// key returns a member name without escapes (others are not the names of
// known members).
func (p *fastParser) key() ([]byte, bool) {
	p.space()
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return nil, false
	}
	for j := p.i + 1; j < len(p.data); j++ {
		switch c := p.data[j]; {
		case c == '"':
			key := p.data[p.i+1 : j]
			p.i = j + 1
			return key, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// nullableString parses a string into *store and points *dst at it, or
// parses null and sets *dst to nil.
func (p *fastParser) nullableString(dst **string, store *string) bool {
	if p.null() {
		*dst = nil
		return true
	}
	s, ok := p.string()
	if !ok {
		return false
	}
	*store = s
	*dst = store
	return true
}

func (p *fastParser) nullableInt(dst **int) bool {
	if p.null() {
		*dst = nil
		return true
	}
	n, ok := p.int()
	if !ok {
		return false
	}
	*dst = &n
	return true
}

func (p *fastParser) string() (string, bool) {
	p.space()
	if p.i >= len(p.data) || p.data[p.i] != '"' {
		return "", false
	}
	start := p.i + 1
	for j := start; j < len(p.data); j++ {
		switch c := p.data[j]; {
		case c == '"':
			p.i = j + 1
			return string(p.data[start:j]), true
		case c == '\\':
			return p.escaped(start, j)
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

// escaped finishes a string that has an escape at data[j].
func (p *fastParser) escaped(start, j int) (string, bool) {
	d := p.data
	// Room for what precedes the escape and a little more, not for the
	// rest of the record: an event may hold a thousand escaped strings.
	buf := make([]byte, 0, j-start+32)
	buf = append(buf, d[start:j]...)
	for j < len(d) {
		c := d[j]
		switch {
		case c == '"':
			p.i = j + 1
			return string(buf), true
		case c < 0x20:
			return "", false
		case c != '\\':
			buf = append(buf, c)
			j++
			continue
		}
		if j+1 >= len(d) {
			return "", false
		}
		switch e := d[j+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d, j+2)
			if !ok {
				return "", false
			}
			j += 6
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by a low one; encoding/json
				// replaces a lone one with U+FFFD, which is its call.
				if j+1 >= len(d) || d[j] != '\\' || d[j+1] != 'u' {
					return "", false
				}
				r2, ok := hex4(d, j+2)
				if !ok {
					return "", false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return "", false
				}
				j += 6
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			return "", false
		}
		j += 2
	}
	return "", false
}

func hex4(d []byte, at int) (rune, bool) {
	if at+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// int parses an integer without fraction or exponent, of at most 18
// digits (so it cannot overflow).
func (p *fastParser) int() (int, bool) {
	p.space()
	j := p.i
	neg := j < len(p.data) && p.data[j] == '-'
	if neg {
		j++
	}
	start := j
	n := 0
	for j < len(p.data) && '0' <= p.data[j] && p.data[j] <= '9' {
		n = n*10 + int(p.data[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 18 || digits > 1 && p.data[start] == '0' {
		return 0, false
	}
	if j < len(p.data) {
		switch p.data[j] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	p.i = j
	if neg {
		n = -n
	}
	return n, true
}
