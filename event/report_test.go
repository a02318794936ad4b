package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const validReport = `{"report_id":"r-1","reporter_id":"u-2","conversation_id":"c-1","message_id":"m-7",
 "reason":"grooming","comment":"he keeps asking me to keep our chats secret","reporter_age":13,
 "reported_at":"2026-11-25T12:05:00Z"}`

// withReport returns validReport with one field replaced (or removed, when
// value is "").
func withReport(field, value string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(validReport), &m); err != nil {
		panic(err)
	}
	if value == "" {
		delete(m, field)
	} else {
		m[field] = json.RawMessage(value)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// reportCases are shared by the decoder test and the schema agreement test.
var reportCases = []struct {
	name   string
	input  string
	reason Reason // "" means valid
	field  string
}{
	{"valid", validReport, "", ""},
	{"unknown fields ignored", withReport("extra", `{"x":[1,2]}`), "", ""},
	{"only required fields", `{"report_id":"r","reporter_id":"u","conversation_id":"c","reason":"spam","reported_at":"2026-01-01T00:00:00Z"}`, "", ""},
	{"null optional fields", withReport("comment", "null"), "", ""},
	{"null message_id", withReport("message_id", "null"), "", ""},
	{"null reporter_age", withReport("reporter_age", "null"), "", ""},
	{"empty comment", withReport("comment", `""`), "", ""},
	{"1000-byte comment", withReport("comment", `"`+strings.Repeat("é", 500)+`"`), "", ""},
	{"every reason: harassment", withReport("reason", `"harassment"`), "", ""},
	{"every reason: spam", withReport("reason", `"spam"`), "", ""},
	{"every reason: self_harm", withReport("reason", `"self_harm"`), "", ""},
	{"every reason: other", withReport("reason", `"other"`), "", ""},
	{"schema_version 1", withReport("schema_version", "1"), "", ""},
	{"fractional seconds and offset", withReport("reported_at", `"2026-11-25T13:00:00.123+01:00"`), "", ""},

	{"schema_version 2", withReport("schema_version", "2"), ReasonUnsupportedVersion, "schema_version"},
	{"empty record", "", ReasonEmpty, ""},
	{"not JSON", "report!", ReasonInvalidJSON, ""},
	{"truncated JSON", validReport[:30], ReasonInvalidJSON, ""},
	{"array not object", `["r-1"]`, ReasonWrongType, ""},
	{"invalid UTF-8", strings.Replace(validReport, "secret", "sec\xffret", 1), ReasonInvalidUTF8, ""},
	{"deeply nested", withReport("extra", strings.Repeat("[", 40)+strings.Repeat("]", 40)), ReasonTooDeep, ""},
	{"record too large", withReport("extra", `"`+strings.Repeat("a", MaxReportBytes)+`"`), ReasonTooLarge, ""},
	{"missing report_id", withReport("report_id", ""), ReasonMissingField, "report_id"},
	{"null report_id", withReport("report_id", "null"), ReasonMissingField, "report_id"},
	{"numeric report_id", withReport("report_id", "17"), ReasonWrongType, "report_id"},
	{"missing reporter_id", withReport("reporter_id", ""), ReasonMissingField, "reporter_id"},
	{"empty conversation_id", withReport("conversation_id", `""`), ReasonInvalidValue, "conversation_id"},
	{"missing conversation_id", withReport("conversation_id", ""), ReasonMissingField, "conversation_id"},
	{"129-byte conversation_id", withReport("conversation_id", `"`+strings.Repeat("c", 129)+`"`), ReasonTooLong, "conversation_id"},
	{"empty message_id", withReport("message_id", `""`), ReasonInvalidValue, "message_id"},
	{"message_id not string", withReport("message_id", `["m"]`), ReasonWrongType, "message_id"},
	{"missing reason", withReport("reason", ""), ReasonMissingField, "reason"},
	{"unknown reason", withReport("reason", `"rude"`), ReasonInvalidValue, "reason"},
	{"reason in capitals", withReport("reason", `"GROOMING"`), ReasonInvalidValue, "reason"},
	{"numeric reason", withReport("reason", `3`), ReasonWrongType, "reason"},
	{"comment too long", withReport("comment", `"`+strings.Repeat("a", MaxCommentBytes+1)+`"`), ReasonTooLong, "comment"},
	{"comment not string", withReport("comment", `{"text":"x"}`), ReasonWrongType, "comment"},
	{"negative age", withReport("reporter_age", "-3"), ReasonInvalidValue, "reporter_age"},
	{"age 151", withReport("reporter_age", "151"), ReasonInvalidValue, "reporter_age"},
	{"age as string", withReport("reporter_age", `"13"`), ReasonWrongType, "reporter_age"},
	{"fractional age", withReport("reporter_age", "13.5"), ReasonWrongType, "reporter_age"},
	{"missing reported_at", withReport("reported_at", ""), ReasonMissingField, "reported_at"},
	{"bad reported_at", withReport("reported_at", `"just now"`), ReasonInvalidValue, "reported_at"},
	{"numeric reported_at", withReport("reported_at", "1764072000"), ReasonWrongType, "reported_at"},
	{"reported_at before 2000", withReport("reported_at", `"1999-12-31T23:59:59Z"`), ReasonInvalidValue, "reported_at"},
	{"reported_at from 2100", withReport("reported_at", `"2100-01-01T00:00:00Z"`), ReasonInvalidValue, "reported_at"},
}

func TestDecodeReport(t *testing.T) {
	for _, tc := range reportCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeReport([]byte(tc.input))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("DecodeReport: %v", err)
				}
				if r.ReportID == "" || r.ReporterID == "" || r.ConversationID == "" || r.Reason == "" || r.ReportedAt.IsZero() {
					t.Fatalf("incomplete report: %+v", r)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeReport accepted %s", tc.name)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Reason != tc.reason || e.Field != tc.field {
				t.Fatalf("got reason %q field %q (%v), want %q field %q", e.Reason, e.Field, err, tc.reason, tc.field)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error detail holds the comment: %v", err)
			}
		})
	}
}

func TestDecodeReportValues(t *testing.T) {
	r, err := DecodeReport([]byte(validReport))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC)
	if !r.ReportedAt.Equal(want) || r.ReportedAt.Location() != time.UTC {
		t.Errorf("ReportedAt = %v, want %v in UTC", r.ReportedAt, want)
	}
	if r.ReportID != "r-1" || r.ReporterID != "u-2" || r.ConversationID != "c-1" || r.MessageID != "m-7" || r.Reason != ReportGrooming {
		t.Errorf("ids or reason: %+v", r)
	}
	if r.ReporterAge == nil || *r.ReporterAge != 13 || !r.ByMinor() || !r.Urgent() {
		t.Errorf("reporter age %v, by minor %v, urgent %v", r.ReporterAge, r.ByMinor(), r.Urgent())
	}
	if r.Comment != "he keeps asking me to keep our chats secret" {
		t.Errorf("Comment = %q", r.Comment)
	}
}

func TestReportUrgency(t *testing.T) {
	age := func(n int) *int { return &n }
	for _, tc := range []struct {
		reason  ReportReason
		age     *int
		byMinor bool
		urgent  bool
	}{
		{ReportGrooming, nil, false, true},
		{ReportGrooming, age(40), false, true},
		{ReportHarassment, age(17), true, true},
		{ReportSpam, age(0), true, true},
		{ReportHarassment, age(18), false, false},
		{ReportSelfHarm, nil, false, false},
		{ReportOther, age(30), false, false},
	} {
		r := Report{Reason: tc.reason, ReporterAge: tc.age}
		if r.ByMinor() != tc.byMinor || r.Urgent() != tc.urgent {
			t.Errorf("%s by age %v: by minor %v urgent %v, want %v %v", tc.reason, tc.age, r.ByMinor(), r.Urgent(), tc.byMinor, tc.urgent)
		}
	}
}

func TestReportReasonCategory(t *testing.T) {
	want := map[ReportReason]string{
		ReportGrooming: "grooming", ReportHarassment: "harassment", ReportSpam: "spam",
		ReportSelfHarm: "harassment", ReportOther: "",
	}
	if len(want) != len(ReportReasons) {
		t.Fatalf("%d reasons, %d mapped", len(ReportReasons), len(want))
	}
	for _, r := range ReportReasons {
		if got := r.Category(); got != want[r] {
			t.Errorf("%s.Category() = %q, want %q", r, got, want[r])
		}
		if p, ok := ParseReportReason(string(r)); !ok || p != r {
			t.Errorf("ParseReportReason(%q) = %q, %v", r, p, ok)
		}
	}
	if _, ok := ParseReportReason("Grooming"); ok {
		t.Error("ParseReportReason accepted a capitalised reason")
	}
}

func TestDecodeReportRecord(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		key        []byte
		recordTime time.Time
		reason     Reason
	}{
		{"ordinary", []byte("c-1"), at.Add(time.Second), ""},
		{"no record time", nil, time.Time{}, ""},
		{"report a day ahead of the record", []byte("c-1"), at.Add(-MaxClockSkew), ""},
		{"report more than a day ahead", []byte("c-1"), at.Add(-MaxClockSkew - time.Second), ReasonFutureTimestamp},
		{"key too large", bytes.Repeat([]byte("k"), MaxKeyBytes+1), at, ReasonKeyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeReportRecord(tc.key, []byte(validReport), tc.recordTime)
			if got := Reason(""); err != nil {
				got = ReasonOf(err)
				if got != tc.reason {
					t.Fatalf("reason %q (%v), want %q", got, err, tc.reason)
				}
			} else if tc.reason != "" {
				t.Fatalf("accepted, want %q", tc.reason)
			}
		})
	}
}

func compileReportSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(ReportSchemaV1))
	if err != nil {
		t.Fatalf("report schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "report.v1.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("report schema does not compile: %v", err)
	}
	return s
}

// The decoder and the published report schema agree on every case the
// schema can express (byte limits, UTF-8, nesting and record size are
// checked against the x-goshawk-* annotations instead).
func TestReportDecoderAgreesWithSchema(t *testing.T) {
	schema := compileReportSchema(t)
	outside := map[Reason]bool{ReasonInvalidUTF8: true, ReasonTooDeep: true, ReasonTooLarge: true, ReasonEmpty: true, ReasonInvalidJSON: true}
	for _, tc := range reportCases {
		if outside[tc.reason] {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.input))
			if err != nil {
				t.Fatalf("test input is not JSON: %v", err)
			}
			schemaErr := schema.Validate(doc)
			_, decodeErr := DecodeReport([]byte(tc.input))
			byteLimit := tc.reason == ReasonTooLong || tc.reason == ReasonInvalidValue && tc.field == "reported_at"
			switch {
			case decodeErr == nil && schemaErr != nil:
				t.Fatalf("decoder accepts what the schema rejects: %v", schemaErr)
			case decodeErr != nil && schemaErr == nil && !byteLimit:
				t.Fatalf("schema accepts what the decoder rejects: %v", decodeErr)
			}
		})
	}
}

func TestReportSchemaStatesDecoderLimits(t *testing.T) {
	var s struct {
		MaxRecord  int `json:"x-goshawk-max-record-bytes"`
		Properties struct {
			Comment struct {
				MaxBytes int `json:"x-goshawk-max-bytes"`
			} `json:"comment"`
			Reason struct {
				Enum []string `json:"enum"`
			} `json:"reason"`
			ReporterAge struct {
				Maximum int `json:"maximum"`
				Adult   int `json:"x-goshawk-adult-age"`
			} `json:"reporter_age"`
			ReportedAt struct {
				Min string `json:"x-goshawk-min"`
				Max string `json:"x-goshawk-max"`
			} `json:"reported_at"`
		} `json:"properties"`
		Defs struct {
			ID struct {
				MaxBytes int `json:"x-goshawk-max-bytes"`
			} `json:"id"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(ReportSchemaV1), &s); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name         string
		schema, code int
	}{
		{"record max bytes", s.MaxRecord, MaxReportBytes},
		{"comment max bytes", s.Properties.Comment.MaxBytes, MaxCommentBytes},
		{"id max bytes", s.Defs.ID.MaxBytes, MaxIDBytes},
		{"reporter_age maximum", s.Properties.ReporterAge.Maximum, MaxDeclaredAge},
		{"adult age", s.Properties.ReporterAge.Adult, AdultAge},
	} {
		if c.schema != c.code {
			t.Errorf("%s: schema says %d, decoder enforces %d", c.name, c.schema, c.code)
		}
	}
	var reasons []string
	for _, r := range ReportReasons {
		reasons = append(reasons, string(r))
	}
	if strings.Join(s.Properties.Reason.Enum, ",") != strings.Join(reasons, ",") {
		t.Errorf("reason enum %q, decoder accepts %q", s.Properties.Reason.Enum, reasons)
	}
	if s.Properties.ReportedAt.Min != MinSentAt.Format(time.RFC3339) || s.Properties.ReportedAt.Max != MaxSentAt.Format(time.RFC3339) {
		t.Errorf("reported_at bounds: schema [%s, %s)", s.Properties.ReportedAt.Min, s.Properties.ReportedAt.Max)
	}
}

func TestReportReasonsAreKnown(t *testing.T) {
	known := map[Reason]bool{}
	for _, r := range Reasons {
		known[r] = true
	}
	for _, tc := range reportCases {
		if tc.reason != "" && !known[tc.reason] {
			t.Errorf("reason %q is missing from Reasons", tc.reason)
		}
	}
}

func FuzzDecodeReport(f *testing.F) {
	for _, tc := range reportCases {
		if len(tc.input) < 4096 {
			f.Add([]byte(tc.input))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeReport(data)
		if err != nil {
			if r != nil {
				t.Fatal("DecodeReport returned a report and an error")
			}
			if ReasonOf(err) == "" {
				t.Fatal("error without reason")
			}
			return
		}
		if len(r.Comment) > MaxCommentBytes || r.Reason.Category() == "" && r.Reason != ReportOther {
			t.Fatalf("accepted report breaks the contract: %+v", r)
		}
		// An accepted report survives a round trip unchanged.
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := DecodeReport(b)
		if err != nil {
			t.Fatalf("re-encoded report rejected: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(r2)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the report:\n%s\n%s", b, b2)
		}
	})
}

func BenchmarkDecodeReport(b *testing.B) {
	data := []byte(validReport)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeReport(data); err != nil {
			b.Fatal(err)
		}
	}
}
