package generator

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/event"
)

// record is one message event before encoding.
type record struct {
	MessageID      string
	ConversationID string
	SentAt         time.Time
	Sender         participant
	Recipients     []participant
	Text           string
}

type participant struct {
	ID      string
	Age     int       // -1: not declared
	Created time.Time // zero: not sent
}

// mutation damages a record while it is encoded; field paths are
// "message_id", "sender.id", "recipients.0.id" and so on.
type mutation struct {
	omit    string // leave this field out
	replace string // write raw as this field's value
	raw     string
	extra   string // a raw `"key":value` member added to the top-level object
}

const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// appendJSON appends the record's JSON encoding, damaged by mut when it is
// not nil.
func (r *record) appendJSON(b []byte, mut *mutation) []byte {
	w := objWriter{b: append(b, '{'), mut: mut}
	if w.field("message_id", "message_id") {
		w.b = appendString(w.b, r.MessageID)
	}
	if w.field("conversation_id", "conversation_id") {
		w.b = appendString(w.b, r.ConversationID)
	}
	if w.field("sent_at", "sent_at") {
		w.b = append(w.b, '"')
		w.b = r.SentAt.UTC().AppendFormat(w.b, timeLayout)
		w.b = append(w.b, '"')
	}
	if w.field("sender", "sender") {
		w.b = r.Sender.appendJSON(w.b, mut, "sender")
	}
	if w.field("recipients", "recipients") {
		w.b = append(w.b, '[')
		for i := range r.Recipients {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = r.Recipients[i].appendJSON(w.b, mut, "recipients."+strconv.Itoa(i))
		}
		w.b = append(w.b, ']')
	}
	if w.field("text", "text") {
		w.b = appendString(w.b, r.Text)
	}
	if mut != nil && mut.extra != "" {
		w.sep()
		w.b = append(w.b, mut.extra...)
	}
	return append(w.b, '}')
}

func (p *participant) appendJSON(b []byte, mut *mutation, path string) []byte {
	if mut != nil && !strings.HasPrefix(mut.omit, path+".") && !strings.HasPrefix(mut.replace, path+".") {
		mut = nil // nothing to damage in here
	}
	w := objWriter{b: append(b, '{'), mut: mut}
	if w.field(path+".id", "id") {
		w.b = appendString(w.b, p.ID)
	}
	if p.Age >= 0 && w.field(path+".age", "age") {
		w.b = strconv.AppendInt(w.b, int64(p.Age), 10)
	}
	if !p.Created.IsZero() && w.field(path+".account_created_at", "account_created_at") {
		w.b = append(w.b, '"')
		w.b = p.Created.UTC().AppendFormat(w.b, timeLayout)
		w.b = append(w.b, '"')
	}
	return append(w.b, '}')
}

// objWriter writes the members of one JSON object, applying a mutation.
type objWriter struct {
	b     []byte
	mut   *mutation
	wrote bool
}

func (w *objWriter) sep() {
	if w.wrote {
		w.b = append(w.b, ',')
	}
	w.wrote = true
}

// field writes the key of a member and reports whether the caller should
// write its value: false when the mutation omits or replaces it.
func (w *objWriter) field(path, key string) bool {
	if w.mut != nil && w.mut.omit == path {
		return false
	}
	w.sep()
	w.b = appendString(w.b, key)
	w.b = append(w.b, ':')
	if w.mut != nil && w.mut.replace == path {
		w.b = append(w.b, w.mut.raw...)
		return false
	}
	return true
}

// appendString appends s as a JSON string. s must be valid UTF-8.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Bad record kinds, each with the reason event.Decode must give.
var badKinds = []struct {
	kind   string
	reason event.Reason
}{
	{"invalid_json", event.ReasonInvalidJSON},
	{"invalid_utf8", event.ReasonInvalidUTF8},
	{"missing_field", event.ReasonMissingField},
	{"wrong_type", event.ReasonWrongType},
	{"empty", event.ReasonEmpty},
	{"too_many_recipients", event.ReasonTooManyRecipients},
	{"text_too_long", event.ReasonTooLong},
	{"empty_id", event.ReasonInvalidValue},
	{"too_deep", event.ReasonTooDeep},
}

// BadKinds lists the kinds of invalid record the generator makes.
func BadKinds() []string {
	out := make([]string, len(badKinds))
	for i, k := range badKinds {
		out[i] = k.kind
	}
	return out
}

// badEvent returns a deliberately invalid record with one defect, keyed by a
// conversation in flight. It does not advance any conversation. Every bad
// value except the empty ones contains its own message id, so no two are
// equal; empty values repeat.
func (g *Generator) badEvent() Event {
	c := g.active[g.rng.IntN(len(g.active))]
	k := badKinds[g.rng.IntN(len(badKinds))]
	g.order++
	rec := record{
		MessageID:      c.id + "-x" + strconv.FormatUint(g.order, 10),
		ConversationID: c.id,
		SentAt:         g.now,
		Sender:         c.members[0].participant(true),
		Text:           g.fill(g.pick(plansLines)),
	}
	for _, u := range c.members[1:] {
		rec.Recipients = append(rec.Recipients, u.participant(false))
	}
	// An unknown field, which Decode ignores, keeps every damaged object
	// distinct even when the damage removes the message id.
	trace := `"trace_id":` + string(appendString(nil, rec.MessageID))
	var value []byte
	switch k.kind {
	case "invalid_json":
		switch g.rng.IntN(3) {
		case 0: // cut short, at a character boundary, after the message id
			full := rec.appendJSON(nil, nil)
			from := bytes.Index(full, []byte(`,"conversation_id"`))
			n := from + g.rng.IntN(len(full)-from)
			for !utf8.RuneStart(full[n]) {
				n--
			}
			value = full[:n]
		case 1: // a trailing comma
			full := rec.appendJSON(nil, nil)
			value = append(full[:len(full)-1], ",}"...)
		default:
			value = []byte("message " + rec.MessageID + " from " + rec.Sender.ID + ": " + rec.Text)
		}
	case "invalid_utf8":
		bad := []string{"\xff\xfe", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80"}[g.rng.IntN(4)]
		raw := appendString(nil, rec.Text)
		raw = append(raw[:len(raw)-1], bad+`"`...)
		value = rec.appendJSON(nil, &mutation{replace: "text", raw: string(raw)})
	case "missing_field":
		fields := []string{"message_id", "conversation_id", "sent_at", "sender", "recipients", "text", "sender.id"}
		f := fields[g.rng.IntN(len(fields))]
		if g.chance(0.5) {
			value = rec.appendJSON(nil, &mutation{omit: f, extra: trace})
		} else {
			value = rec.appendJSON(nil, &mutation{replace: f, raw: "null", extra: trace})
		}
	case "wrong_type":
		muts := []mutation{
			{replace: "sent_at", raw: strconv.FormatInt(rec.SentAt.Unix(), 10)},
			{replace: "text", raw: "42"},
			{replace: "recipients", raw: string(appendString(nil, rec.Recipients[0].ID))},
			{replace: "recipients", raw: "[" + string(appendString(nil, rec.Recipients[0].ID)) + "]"},
			{replace: "sender", raw: string(appendString(nil, rec.Sender.ID))},
			{replace: "sender.age", raw: `"fifteen"`},
			{replace: "message_id", raw: "12345"},
		}
		m := muts[g.rng.IntN(len(muts))]
		m.extra = trace
		if m.replace == "sender.age" && rec.Sender.Age < 0 {
			rec.Sender.Age = 30 // so that there is an age to mistype
		}
		value = rec.appendJSON(nil, &m)
	case "empty":
		value = []byte([]string{"", " ", "  \t "}[g.rng.IntN(3)])
	case "too_many_recipients":
		n := event.MaxRecipients + 1 + g.rng.IntN(500)
		rec.Recipients = make([]participant, n)
		for i := range rec.Recipients {
			rec.Recipients[i] = participant{ID: "u" + strconv.Itoa(i+1), Age: -1}
		}
		value = rec.appendJSON(nil, nil)
	case "text_too_long":
		var b strings.Builder
		for b.Len() <= event.MaxTextBytes {
			b.WriteString(g.fill(g.pick(jokeLines)))
			b.WriteByte(' ')
		}
		rec.Text = b.String()
		value = rec.appendJSON(nil, nil)
	case "empty_id":
		fields := []string{"message_id", "conversation_id", "sender.id", "recipients.0.id"}
		value = rec.appendJSON(nil, &mutation{replace: fields[g.rng.IntN(len(fields))], raw: `""`, extra: trace})
	case "too_deep":
		depth := event.MaxNestDepth + 1 + g.rng.IntN(20)
		extra := trace + `,"meta":` + strings.Repeat("[", depth) + strings.Repeat("]", depth)
		value = rec.appendJSON(nil, &mutation{extra: extra})
	}
	return Event{
		Key:     []byte(c.id),
		Value:   value,
		Time:    g.now,
		Label:   LabelBad,
		Bad:     true,
		BadKind: k.kind,
		Reason:  k.reason,
	}
}
