// Package event holds the message event contract (v1): the Go type, the
// decoder that validates raw Kafka record values against it, and the JSON
// Schema that documents it for producers outside this repository.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// Limits the pipeline adds to the v1 contract (issue 7): they catch bad
// input that the contract's types let through and that would otherwise
// corrupt the store or detector state.
const (
	// SchemaVersion is the only value an event's optional schema_version
	// field may have. An event without it (or with null) is version 1.
	SchemaVersion = 1
	// MaxKeyBytes bounds the Kafka record key (the conversation id, itself
	// at most MaxIDBytes). A longer key is not a conversation id.
	MaxKeyBytes = 1 << 10
	// MaxClockSkew is how far sent_at may lie after the Kafka record's own
	// timestamp (see DecodeRecord).
	MaxClockSkew = 24 * time.Hour
)

// sent_at must lie in [MinSentAt, MaxSentAt). The bounds are fixed, not
// relative to the wall clock, so that a stream and a replay of the same
// events always agree. They are inside the range of every time type the
// stores use (ClickHouse 18.16's DateTime holds 1970 to 2106 and silently
// wraps what lies outside; DateTime64 holds 1900 to 2299).
var (
	MinSentAt = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)
	MaxSentAt = time.Date(2100, time.January, 1, 0, 0, 0, 0, time.UTC)
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
	// Reasons added by issue 7.
	ReasonUnsupportedVersion Reason = "unsupported_version" // schema_version present and not SchemaVersion
	ReasonKeyTooLarge        Reason = "key_too_large"       // record key longer than MaxKeyBytes (DecodeRecord)
	ReasonFutureTimestamp    Reason = "future_timestamp"    // sent_at after the record timestamp plus MaxClockSkew (DecodeRecord)
)

// Reasons lists every Reason, for exporting zero-valued metric series.
var Reasons = []Reason{
	ReasonEmpty, ReasonTooLarge, ReasonInvalidUTF8, ReasonInvalidJSON, ReasonTooDeep,
	ReasonMissingField, ReasonWrongType, ReasonInvalidValue, ReasonTooLong, ReasonTooManyRecipients,
	ReasonUnsupportedVersion, ReasonKeyTooLarge, ReasonFutureTimestamp,
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

// wire mirrors Message with pointer fields, so that one json.Unmarshal
// tells a missing (or null) field from an empty one.
type wire struct {
	SchemaVersion  *int             `json:"schema_version"`
	MessageID      *string          `json:"message_id"`
	ConversationID *string          `json:"conversation_id"`
	SentAt         *string          `json:"sent_at"`
	Sender         *wireParticipant `json:"sender"`
	Recipients     []wireRecipient  `json:"recipients"`
	Text           *string          `json:"text"`
}

type wireParticipant struct {
	ID               *string `json:"id"`
	Age              *int    `json:"age"`
	AccountCreatedAt *string `json:"account_created_at"`
}

type wireRecipient struct {
	ID  *string `json:"id"`
	Age *int    `json:"age"`
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
	w, ok := decodeFast(data)
	if !ok {
		var err error
		if w, err = decodeJSON(data); err != nil {
			return nil, err
		}
	}
	return w.message()
}

// decodeJSON parses data with encoding/json, after a check of its nesting
// depth: the general path, for whatever decodeFast leaves.
func decodeJSON(data []byte) (wire, error) {
	if d := nestingDepth(data); d > MaxNestDepth {
		return wire{}, reject(ReasonTooDeep, "", "JSON nesting depth exceeds %d", MaxNestDepth)
	}
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return wire{}, reject(ReasonWrongType, "", "event must be a JSON object")
			}
			return wire{}, reject(ReasonWrongType, te.Field, "must be %s", expected(te.Field))
		}
		return wire{}, reject(ReasonInvalidJSON, "", "%v", err)
	}
	return w, nil
}

// message validates a parsed event.
func (w *wire) message() (*Message, error) {
	if w.SchemaVersion != nil && *w.SchemaVersion != SchemaVersion {
		return nil, reject(ReasonUnsupportedVersion, "schema_version", "%d is not supported (this decoder reads version %d)", *w.SchemaVersion, SchemaVersion)
	}
	m := &Message{}
	var err error
	if m.MessageID, err = idField(w.MessageID, "message_id"); err != nil {
		return nil, err
	}
	if m.ConversationID, err = idField(w.ConversationID, "conversation_id"); err != nil {
		return nil, err
	}
	if m.SentAt, err = timeField(w.SentAt, "sent_at"); err != nil {
		return nil, err
	}
	if m.SentAt.Before(MinSentAt) || !m.SentAt.Before(MaxSentAt) {
		return nil, reject(ReasonInvalidValue, "sent_at", "outside [%s, %s)", MinSentAt.Format(time.RFC3339), MaxSentAt.Format(time.RFC3339))
	}
	if w.Sender == nil {
		return nil, reject(ReasonMissingField, "sender", "required")
	}
	if m.Sender.ID, err = idField(w.Sender.ID, "sender.id"); err != nil {
		return nil, err
	}
	if m.Sender.Age, err = ageField(w.Sender.Age, "sender.age"); err != nil {
		return nil, err
	}
	if w.Sender.AccountCreatedAt != nil {
		t, err := timeField(w.Sender.AccountCreatedAt, "sender.account_created_at")
		if err != nil {
			return nil, err
		}
		m.Sender.AccountCreatedAt = &t
	}
	switch {
	case w.Recipients == nil:
		return nil, reject(ReasonMissingField, "recipients", "required")
	case len(w.Recipients) == 0:
		return nil, reject(ReasonInvalidValue, "recipients", "must have at least one entry")
	case len(w.Recipients) > MaxRecipients:
		return nil, reject(ReasonTooManyRecipients, "recipients", "%d entries, limit %d", len(w.Recipients), MaxRecipients)
	}
	m.Recipients = make([]Participant, len(w.Recipients))
	for i, r := range w.Recipients {
		if m.Recipients[i].ID, err = idField(r.ID, "id"); err == nil {
			m.Recipients[i].Age, err = ageField(r.Age, "age")
		}
		if err != nil {
			// The field's full name only when it is needed: building it
			// for every recipient of every message costs two allocations.
			if e, ok := err.(*Error); ok {
				e.Field = "recipients[" + strconv.Itoa(i) + "]." + e.Field
			}
			return nil, err
		}
	}
	if w.Text == nil {
		return nil, reject(ReasonMissingField, "text", "required")
	}
	if len(*w.Text) > MaxTextBytes {
		return nil, reject(ReasonTooLong, "text", "%d bytes, limit %d", len(*w.Text), MaxTextBytes)
	}
	m.Text = *w.Text
	return m, nil
}

// DecodeRecord is Decode for a Kafka record, as the pipeline consumes it:
// it also rejects a key longer than MaxKeyBytes (before parsing), and a
// sent_at more than MaxClockSkew after recordTime, the record's own Kafka
// timestamp (when that is known and itself within [MinSentAt, MaxSentAt)).
// The record timestamp, not the wall clock, is the reference, so a record
// delivered again later gets the same answer. Replay has no record and uses
// Decode: it accepts such a future-dated event.
func DecodeRecord(key, value []byte, recordTime time.Time) (*Message, error) {
	if len(key) > MaxKeyBytes {
		return nil, reject(ReasonKeyTooLarge, "", "record key is %d bytes, limit %d", len(key), MaxKeyBytes)
	}
	m, err := Decode(value)
	if err != nil {
		return nil, err
	}
	if !recordTime.Before(MinSentAt) && recordTime.Before(MaxSentAt) && m.SentAt.After(recordTime.Add(MaxClockSkew)) {
		return nil, reject(ReasonFutureTimestamp, "sent_at", "%s after the record timestamp, limit %s",
			m.SentAt.Sub(recordTime).Round(time.Second), MaxClockSkew)
	}
	return m, nil
}

// expected describes the JSON type a field must have, for error details.
func expected(field string) string {
	switch {
	case field == "sender":
		return "an object"
	case field == "recipients":
		return "an array of objects"
	case strings.HasSuffix(field, ".age"), field == "schema_version":
		return "an integer"
	case strings.HasSuffix(field, "_at"):
		return "an RFC 3339 string"
	}
	return "a string"
}

func idField(v *string, field string) (string, error) {
	switch {
	case v == nil:
		return "", reject(ReasonMissingField, field, "required")
	case len(*v) == 0:
		return "", reject(ReasonInvalidValue, field, "must not be empty")
	case len(*v) > MaxIDBytes:
		return "", reject(ReasonTooLong, field, "%d bytes, limit %d", len(*v), MaxIDBytes)
	}
	return *v, nil
}

func timeField(v *string, field string) (time.Time, error) {
	if v == nil {
		return time.Time{}, reject(ReasonMissingField, field, "required")
	}
	t, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return time.Time{}, reject(ReasonInvalidValue, field, "not an RFC 3339 timestamp")
	}
	return t.UTC(), nil
}

func ageField(v *int, field string) (*int, error) {
	if v != nil && (*v < 0 || *v > MaxDeclaredAge) {
		return nil, reject(ReasonInvalidValue, field, "must be between 0 and %d", MaxDeclaredAge)
	}
	return v, nil
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
