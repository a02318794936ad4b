package event

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// ReportSchemaV1 is the JSON Schema (draft 2020-12) of the report event v1.
// As for messages, byte limits are stated in x-goshawk-max-bytes and
// enforced by DecodeReport.
//
//go:embed report.v1.schema.json
var ReportSchemaV1 string

// Limits of the report event v1 contract; report.v1.schema.json states the
// same numbers and a test checks that the two agree.
const (
	// MaxCommentBytes bounds the reporter's free-text comment.
	MaxCommentBytes = 1000
	// MaxReportBytes bounds a whole report record. A valid report is at
	// most a few kilobytes (five ids, a reason, a 1,000-byte comment).
	MaxReportBytes = 16 << 10
	// AdultAge is the declared age from which a reporter is an adult: a
	// report with reporter_age below it is a report by a minor.
	AdultAge = 18
)

// ReportReason is why a user reported a conversation.
type ReportReason string

// The reasons a report may give.
const (
	ReportGrooming   ReportReason = "grooming"
	ReportHarassment ReportReason = "harassment"
	ReportSpam       ReportReason = "spam"
	ReportSelfHarm   ReportReason = "self_harm"
	ReportOther      ReportReason = "other"
)

// ReportReasons lists every ReportReason, for metric labels and forms.
var ReportReasons = []ReportReason{ReportGrooming, ReportHarassment, ReportSpam, ReportSelfHarm, ReportOther}

// ParseReportReason checks that s is a ReportReason.
func ParseReportReason(s string) (ReportReason, bool) {
	for _, r := range ReportReasons {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// Category is the detection category a report of this reason is about,
// spelled like detectors.Category: grooming, harassment or spam. Self-harm
// maps to harassment, whose rules cover self-harm encouragement. Other has
// none (""): any category of flag matches it.
func (r ReportReason) Category() string {
	switch r {
	case ReportGrooming, ReportHarassment, ReportSpam:
		return string(r)
	case ReportSelfHarm:
		return string(ReportHarassment)
	}
	return ""
}

// Report is one user report on a conversation, as produced onto the
// reports topic. The message text is not part of it: a report points at a
// conversation (and optionally one message), and analysts see the flags'
// evidence or the conversation's metadata.
type Report struct {
	ReportID       string       `json:"report_id"`
	ReporterID     string       `json:"reporter_id"`
	ConversationID string       `json:"conversation_id"`
	MessageID      string       `json:"message_id,omitempty"` // "" when the report names no message
	Reason         ReportReason `json:"reason"`
	Comment        string       `json:"comment,omitempty"` // the reporter's own words, at most MaxCommentBytes
	// ReporterAge is the reporter's declared age in years, when the
	// platform knows it; it tells a report by a minor apart.
	ReporterAge *int      `json:"reporter_age,omitempty"`
	ReportedAt  time.Time `json:"reported_at"`
}

// ByMinor reports whether the reporter declared an age below AdultAge.
func (r *Report) ByMinor() bool { return r.ReporterAge != nil && *r.ReporterAge < AdultAge }

// Urgent reports whether the report goes to the top of the review queue:
// a report by a minor, or about grooming.
func (r *Report) Urgent() bool { return r.ByMinor() || r.Reason == ReportGrooming }

type reportWire struct {
	SchemaVersion  *int    `json:"schema_version"`
	ReportID       *string `json:"report_id"`
	ReporterID     *string `json:"reporter_id"`
	ConversationID *string `json:"conversation_id"`
	MessageID      *string `json:"message_id"`
	Reason         *string `json:"reason"`
	Comment        *string `json:"comment"`
	ReporterAge    *int    `json:"reporter_age"`
	ReportedAt     *string `json:"reported_at"`
}

// DecodeReport parses and validates one report event. Unknown fields are
// ignored and null counts as absent. The returned error is an *Error whose
// Reason is one of Reasons, with the same meaning as for messages; its
// detail never holds the comment.
func DecodeReport(data []byte) (*Report, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, reject(ReasonEmpty, "", "record value is empty")
	}
	if len(data) > MaxReportBytes {
		return nil, reject(ReasonTooLarge, "", "record value is %d bytes, limit %d", len(data), MaxReportBytes)
	}
	if !utf8.Valid(data) {
		return nil, reject(ReasonInvalidUTF8, "", "record value is not valid UTF-8")
	}
	if d := nestingDepth(data); d > MaxNestDepth {
		return nil, reject(ReasonTooDeep, "", "JSON nesting depth exceeds %d", MaxNestDepth)
	}
	var w reportWire
	if err := json.Unmarshal(data, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return nil, reject(ReasonWrongType, "", "event must be a JSON object")
			}
			return nil, reject(ReasonWrongType, te.Field, "must be %s", reportExpected(te.Field))
		}
		return nil, reject(ReasonInvalidJSON, "", "%v", err)
	}
	if w.SchemaVersion != nil && *w.SchemaVersion != SchemaVersion {
		return nil, reject(ReasonUnsupportedVersion, "schema_version", "%d is not supported (this decoder reads version %d)", *w.SchemaVersion, SchemaVersion)
	}
	r := &Report{}
	var err error
	if r.ReportID, err = idField(w.ReportID, "report_id"); err != nil {
		return nil, err
	}
	if r.ReporterID, err = idField(w.ReporterID, "reporter_id"); err != nil {
		return nil, err
	}
	if r.ConversationID, err = idField(w.ConversationID, "conversation_id"); err != nil {
		return nil, err
	}
	if w.MessageID != nil {
		if r.MessageID, err = idField(w.MessageID, "message_id"); err != nil {
			return nil, err
		}
	}
	if w.Reason == nil {
		return nil, reject(ReasonMissingField, "reason", "required")
	}
	reason, ok := ParseReportReason(*w.Reason)
	if !ok {
		return nil, reject(ReasonInvalidValue, "reason", "must be one of grooming, harassment, spam, self_harm, other")
	}
	r.Reason = reason
	if w.Comment != nil {
		if len(*w.Comment) > MaxCommentBytes {
			return nil, reject(ReasonTooLong, "comment", "%d bytes, limit %d", len(*w.Comment), MaxCommentBytes)
		}
		r.Comment = *w.Comment
	}
	if r.ReporterAge, err = ageField(w.ReporterAge, "reporter_age"); err != nil {
		return nil, err
	}
	if r.ReportedAt, err = timeField(w.ReportedAt, "reported_at"); err != nil {
		return nil, err
	}
	if r.ReportedAt.Before(MinSentAt) || !r.ReportedAt.Before(MaxSentAt) {
		return nil, reject(ReasonInvalidValue, "reported_at", "outside [%s, %s)", MinSentAt.Format(time.RFC3339), MaxSentAt.Format(time.RFC3339))
	}
	return r, nil
}

// DecodeReportRecord is DecodeReport for a Kafka record, with the same
// record-level checks as DecodeRecord: a key longer than MaxKeyBytes is
// rejected before parsing, and reported_at may be at most MaxClockSkew
// after the record's own timestamp.
func DecodeReportRecord(key, value []byte, recordTime time.Time) (*Report, error) {
	if len(key) > MaxKeyBytes {
		return nil, reject(ReasonKeyTooLarge, "", "record key is %d bytes, limit %d", len(key), MaxKeyBytes)
	}
	r, err := DecodeReport(value)
	if err != nil {
		return nil, err
	}
	if !recordTime.Before(MinSentAt) && recordTime.Before(MaxSentAt) && r.ReportedAt.After(recordTime.Add(MaxClockSkew)) {
		return nil, reject(ReasonFutureTimestamp, "reported_at", "%s after the record timestamp, limit %s",
			r.ReportedAt.Sub(recordTime).Round(time.Second), MaxClockSkew)
	}
	return r, nil
}

// reportExpected describes the JSON type a report field must have.
func reportExpected(field string) string {
	switch {
	case field == "reporter_age", field == "schema_version":
		return "an integer"
	case strings.HasSuffix(field, "_at"):
		return "an RFC 3339 string"
	}
	return "a string"
}
