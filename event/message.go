// Package event holds the message event contract (v1): the Go type, the
// decoder that validates raw Kafka record values against it, and the JSON
// Schema that documents it for producers outside this repository.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits of the v1 contract. They are part of the contract: the JSON Schema
// in message.v1.schema.json states the same numbers, and a test checks that
// the two agree.
const (
	MaxIDBytes     = 128
	MaxRecipients  = 1000
	MaxTextBytes   = 64 << 10
	MaxEventBytes  = 1 << 20 // a whole record; larger values are rejected before parsing
	MaxNestDepth   = 32      // JSON nesting deeper than this is rejected before parsing
	MaxDeclaredAge = 150
)

// Message is one private message, as produced onto the messages topic.
type Message struct {
	MessageID      string        `json:"message_id"`
	ConversationID string        `json:"conversation_id"`
	SentAt         time.Time     `json:"sent_at"`
	Sender         Participant   `json:"sender"`
	Recipients     []Participant `json:"recipients"`
	Text           string        `json:"text"`
}

// Participant is a sender or a recipient. Age is the declared age in years,
// when the platform knows it; AccountCreatedAt is only meaningful for senders.
type Participant struct {
	ID               string     `json:"id"`
	Age              *int       `json:"age,omitempty"`
	AccountCreatedAt *time.Time `json:"account_created_at,omitempty"`
}

// RecipientIDs returns the recipients' ids in event order.
func (m *Message) RecipientIDs() []string {
	ids := make([]string, len(m.Recipients))
	for i, r := range m.Recipients {
		ids[i] = r.ID
	}
	return ids
}

// Reason is why an event was rejected. The set is closed so that it can be a
// metric label and a dead-letter header without unbounded cardinality.
type Reason string

const (
	ReasonEmpty             Reason = "empty"
	ReasonTooLarge          Reason = "too_large"
	ReasonInvalidUTF8       Reason = "invalid_utf8"
	ReasonInvalidJSON       Reason = "invalid_json"
	ReasonTooDeep           Reason = "too_deep"
	ReasonMissingField      Reason = "missing_field"
	ReasonWrongType         Reason = "wrong_type"
	ReasonInvalidValue      Reason = "invalid_value"
	ReasonTooLong           Reason = "too_long"
	ReasonTooManyRecipients Reason = "too_many_recipients"
)

// Reasons lists every Reason, for exporting zero-valued metric series.
var Reasons = []Reason{
	ReasonEmpty, ReasonTooLarge, ReasonInvalidUTF8, ReasonInvalidJSON, ReasonTooDeep,
	ReasonMissingField, ReasonWrongType, ReasonInvalidValue, ReasonTooLong, ReasonTooManyRecipients,
}

// Error is a rejected event: the reason code plus a human-readable detail
// naming the field. The detail never contains message text.
type Error struct {
	Reason Reason
	Field  string
	Detail string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Reason, e.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", e.Reason, e.Field, e.Detail)
}

// ReasonOf extracts the rejection reason from an error returned by Decode.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ReasonInvalidJSON
}

func reject(r Reason, field, format string, args ...any) *Error {
	return &Error{Reason: r, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// wire mirrors Message with raw fields so that the decoder can tell a
// missing field from an empty one and report mistyped fields by name.
type wire struct {
	MessageID      json.RawMessage `json:"message_id"`
	ConversationID json.RawMessage `json:"conversation_id"`
	SentAt         json.RawMessage `json:"sent_at"`
	Sender         json.RawMessage `json:"sender"`
	Recipients     json.RawMessage `json:"recipients"`
	Text           json.RawMessage `json:"text"`
}

type wireParticipant struct {
	ID               json.RawMessage `json:"id"`
	Age              json.RawMessage `json:"age"`
	AccountCreatedAt json.RawMessage `json:"account_created_at"`
}

// Decode parses and validates one event. Unknown fields are ignored. The
// returned error is an *Error whose Reason is one of Reasons.
func Decode(data []byte) (*Message, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, reject(ReasonEmpty, "", "record value is empty")
	}
	if len(data) > MaxEventBytes {
		return nil, reject(ReasonTooLarge, "", "record value is %d bytes, limit %d", len(data), MaxEventBytes)
	}
	// encoding/json silently replaces invalid UTF-8 with U+FFFD; the
	// contract says text must be valid UTF-8, so check the raw bytes.
	if !utf8.Valid(data) {
		return nil, reject(ReasonInvalidUTF8, "", "record value is not valid UTF-8")
	}
	if d := nestingDepth(data); d > MaxNestDepth {
		return nil, reject(ReasonTooDeep, "", "JSON nesting depth exceeds %d", MaxNestDepth)
	}
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, reject(ReasonWrongType, "", "event must be a JSON object")
		}
		return nil, reject(ReasonInvalidJSON, "", "%v", err)
	}
	m := &Message{}
	var err error
	if m.MessageID, err = idField(w.MessageID, "message_id"); err != nil {
		return nil, err
	}
	if m.ConversationID, err = idField(w.ConversationID, "conversation_id"); err != nil {
		return nil, err
	}
	if m.SentAt, err = timeField(w.SentAt, "sent_at", true); err != nil {
		return nil, err
	}
	if isAbsent(w.Sender) {
		return nil, reject(ReasonMissingField, "sender", "required")
	}
	if m.Sender, err = participant(w.Sender, "sender", true); err != nil {
		return nil, err
	}
	if isAbsent(w.Recipients) {
		return nil, reject(ReasonMissingField, "recipients", "required")
	}
	var rawRecipients []json.RawMessage
	if err := json.Unmarshal(w.Recipients, &rawRecipients); err != nil {
		return nil, reject(ReasonWrongType, "recipients", "must be an array of objects")
	}
	switch {
	case len(rawRecipients) == 0:
		return nil, reject(ReasonInvalidValue, "recipients", "must have at least one entry")
	case len(rawRecipients) > MaxRecipients:
		return nil, reject(ReasonTooManyRecipients, "recipients", "%d entries, limit %d", len(rawRecipients), MaxRecipients)
	}
	m.Recipients = make([]Participant, len(rawRecipients))
	for i, raw := range rawRecipients {
		if m.Recipients[i], err = participant(raw, fmt.Sprintf("recipients[%d]", i), false); err != nil {
			return nil, err
		}
	}
	if isAbsent(w.Text) {
		return nil, reject(ReasonMissingField, "text", "required")
	}
	if err := json.Unmarshal(w.Text, &m.Text); err != nil {
		return nil, reject(ReasonWrongType, "text", "must be a string")
	}
	if len(m.Text) > MaxTextBytes {
		return nil, reject(ReasonTooLong, "text", "%d bytes, limit %d", len(m.Text), MaxTextBytes)
	}
	return m, nil
}

func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func idField(raw json.RawMessage, field string) (string, error) {
	if isAbsent(raw) {
		return "", reject(ReasonMissingField, field, "required")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", reject(ReasonWrongType, field, "must be a string")
	}
	if len(s) == 0 {
		return "", reject(ReasonInvalidValue, field, "must not be empty")
	}
	if len(s) > MaxIDBytes {
		return "", reject(ReasonTooLong, field, "%d bytes, limit %d", len(s), MaxIDBytes)
	}
	return s, nil
}

func timeField(raw json.RawMessage, field string, required bool) (time.Time, error) {
	if isAbsent(raw) {
		if required {
			return time.Time{}, reject(ReasonMissingField, field, "required")
		}
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, reject(ReasonWrongType, field, "must be an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, reject(ReasonInvalidValue, field, "not an RFC 3339 timestamp")
	}
	return t.UTC(), nil
}

func participant(raw json.RawMessage, field string, sender bool) (Participant, error) {
	var w wireParticipant
	if err := json.Unmarshal(raw, &w); err != nil {
		return Participant{}, reject(ReasonWrongType, field, "must be an object")
	}
	var p Participant
	var err error
	if p.ID, err = idField(w.ID, field+".id"); err != nil {
		return Participant{}, err
	}
	if !isAbsent(w.Age) {
		var age int
		if err := json.Unmarshal(w.Age, &age); err != nil {
			return Participant{}, reject(ReasonWrongType, field+".age", "must be an integer")
		}
		if age < 0 || age > MaxDeclaredAge {
			return Participant{}, reject(ReasonInvalidValue, field+".age", "must be between 0 and %d", MaxDeclaredAge)
		}
		p.Age = &age
	}
	if sender && !isAbsent(w.AccountCreatedAt) {
		t, err := timeField(w.AccountCreatedAt, field+".account_created_at", false)
		if err != nil {
			return Participant{}, err
		}
		p.AccountCreatedAt = &t
	}
	return p, nil
}

// nestingDepth returns the maximum depth of JSON arrays and objects in data,
// ignoring brackets inside strings. It stops counting once past the limit.
func nestingDepth(data []byte) int {
	depth, maxDepth := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxDepth {
				maxDepth = depth
				if maxDepth > MaxNestDepth {
					return maxDepth
				}
			}
		case '}', ']':
			depth--
		}
	}
	return maxDepth
}
