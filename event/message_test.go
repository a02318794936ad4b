package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const valid = `{"message_id":"m-1","conversation_id":"c-1","sent_at":"2026-11-25T12:00:00Z",
 "sender":{"id":"u-1","age":34,"account_created_at":"2026-11-01T00:00:00Z"},
 "recipients":[{"id":"u-2","age":13}],
 "text":"hey"}`

// with returns the valid event with one top-level field replaced (or
// removed, when value is "").
func with(field, value string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(valid), &m); err != nil {
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

func recipients(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `{"id":"r"}`
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// decodeCases are shared by the decoder test and the schema agreement test.
var decodeCases = []struct {
	name   string
	input  string
	reason Reason // "" means valid
	field  string
}{
	{"valid", valid, "", ""},
	{"unknown fields ignored", with("extra", `{"x":[1,2]}`), "", ""},
	{"empty text", with("text", `""`), "", ""},
	{"optional fields absent", with("sender", `{"id":"u-1"}`), "", ""},
	{"null age", with("sender", `{"id":"u-1","age":null}`), "", ""},
	{"fractional seconds and offset", with("sent_at", `"2026-11-25T13:00:00.123+01:00"`), "", ""},
	{"1000 recipients", with("recipients", recipients(1000)), "", ""},
	{"128-byte id", with("message_id", `"`+strings.Repeat("a", 128)+`"`), "", ""},
	{"64 KiB text", with("text", `"`+strings.Repeat("a", MaxTextBytes)+`"`), "", ""},

	{"schema_version 1", with("schema_version", "1"), "", ""},
	{"schema_version null", with("schema_version", "null"), "", ""},
	{"schema_version 2", with("schema_version", "2"), ReasonUnsupportedVersion, "schema_version"},
	{"sent_at before 2000", with("sent_at", `"1999-12-31T23:59:59Z"`), ReasonInvalidValue, "sent_at"},
	{"sent_at from 2100", with("sent_at", `"2100-01-01T00:00:00Z"`), ReasonInvalidValue, "sent_at"},
	{"empty record", "", ReasonEmpty, ""},
	{"whitespace record", "  \n", ReasonEmpty, ""},
	{"not JSON", "hello", ReasonInvalidJSON, ""},
	{"truncated JSON", valid[:40], ReasonInvalidJSON, ""},
	{"array not object", `[1,2]`, ReasonWrongType, ""},
	{"invalid UTF-8", strings.Replace(valid, "hey", "he\xffy", 1), ReasonInvalidUTF8, ""},
	{"deeply nested", with("extra", strings.Repeat("[", 40)+strings.Repeat("]", 40)), ReasonTooDeep, ""},
	{"missing message_id", with("message_id", ""), ReasonMissingField, "message_id"},
	{"null message_id", with("message_id", "null"), ReasonMissingField, "message_id"},
	{"numeric message_id", with("message_id", "7"), ReasonWrongType, "message_id"},
	{"empty conversation_id", with("conversation_id", `""`), ReasonInvalidValue, "conversation_id"},
	{"129-byte id", with("conversation_id", `"`+strings.Repeat("a", 129)+`"`), ReasonTooLong, "conversation_id"},
	{"missing sent_at", with("sent_at", ""), ReasonMissingField, "sent_at"},
	{"bad sent_at", with("sent_at", `"yesterday"`), ReasonInvalidValue, "sent_at"},
	{"numeric sent_at", with("sent_at", `1764072000`), ReasonWrongType, "sent_at"},
	{"missing sender", with("sender", ""), ReasonMissingField, "sender"},
	{"sender not object", with("sender", `"u-1"`), ReasonWrongType, "sender"},
	{"sender without id", with("sender", `{"age":3}`), ReasonMissingField, "sender.id"},
	{"age as string", with("sender", `{"id":"u","age":"13"}`), ReasonWrongType, "sender.age"},
	{"negative age", with("sender", `{"id":"u","age":-1}`), ReasonInvalidValue, "sender.age"},
	{"fractional age", with("sender", `{"id":"u","age":13.5}`), ReasonWrongType, "sender.age"},
	{"bad account_created_at", with("sender", `{"id":"u","account_created_at":"soon"}`), ReasonInvalidValue, "sender.account_created_at"},
	{"missing recipients", with("recipients", ""), ReasonMissingField, "recipients"},
	{"no recipients", with("recipients", `[]`), ReasonInvalidValue, "recipients"},
	{"recipients not array", with("recipients", `{"id":"u"}`), ReasonWrongType, "recipients"},
	{"recipient without id", with("recipients", `[{"age":12}]`), ReasonMissingField, "recipients[0].id"},
	{"too many recipients", with("recipients", recipients(1001)), ReasonTooManyRecipients, "recipients"},
	{"missing text", with("text", ""), ReasonMissingField, "text"},
	{"text not string", with("text", `["hey"]`), ReasonWrongType, "text"},
	{"text too long", with("text", `"`+strings.Repeat("a", MaxTextBytes+1)+`"`), ReasonTooLong, "text"},
	{"record too large", with("extra", `"`+strings.Repeat("a", MaxEventBytes)+`"`), ReasonTooLarge, ""},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode([]byte(tc.input))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if m.MessageID == "" || m.ConversationID == "" || m.Sender.ID == "" || len(m.Recipients) == 0 || m.SentAt.IsZero() {
					t.Fatalf("Decode returned an incomplete message: %+v", m)
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode accepted %s", tc.name)
			}
			var e *Error
			if !asError(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Reason != tc.reason || e.Field != tc.field {
				t.Fatalf("got reason %q field %q (%v), want %q field %q", e.Reason, e.Field, err, tc.reason, tc.field)
			}
			if ReasonOf(err) != tc.reason {
				t.Fatalf("ReasonOf = %q, want %q", ReasonOf(err), tc.reason)
			}
		})
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

func TestDecodeValues(t *testing.T) {
	m, err := Decode([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if !m.SentAt.Equal(want) || m.SentAt.Location() != time.UTC {
		t.Errorf("SentAt = %v, want %v in UTC", m.SentAt, want)
	}
	if m.Sender.Age == nil || *m.Sender.Age != 34 {
		t.Errorf("Sender.Age = %v, want 34", m.Sender.Age)
	}
	if m.Sender.AccountCreatedAt == nil || !m.Sender.AccountCreatedAt.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Sender.AccountCreatedAt = %v", m.Sender.AccountCreatedAt)
	}
	if got := m.RecipientIDs(); len(got) != 1 || got[0] != "u-2" || m.Recipients[0].Age == nil || *m.Recipients[0].Age != 13 {
		t.Errorf("Recipients = %+v", m.Recipients)
	}
	if m.Text != "hey" {
		t.Errorf("Text = %q", m.Text)
	}
}

func TestReasonsAreComplete(t *testing.T) {
	seen := map[Reason]bool{}
	for _, r := range Reasons {
		seen[r] = true
	}
	for _, tc := range decodeCases {
		if tc.reason != "" && !seen[tc.reason] {
			t.Errorf("reason %q is missing from Reasons (no metric series for it)", tc.reason)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		if len(tc.input) < 4096 {
			f.Add([]byte(tc.input))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if m != nil {
				t.Fatal("Decode returned a message and an error")
			}
			if ReasonOf(err) == "" {
				t.Fatal("error without reason")
			}
			return
		}
		// An accepted event survives a round trip unchanged.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Decode(b)
		if err != nil {
			t.Fatalf("re-encoded event rejected: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(m2)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the event:\n%s\n%s", b, b2)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := []byte(valid)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
