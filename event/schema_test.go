package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(SchemaV1))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "message.v1.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return s
}

// The decoder and the published schema must agree on every case that the
// schema can express. Byte limits, UTF-8 validity and nesting depth are
// outside JSON Schema (it counts characters); they are checked against the
// x-goshawk-max-bytes annotations below instead.
func TestDecoderAgreesWithSchema(t *testing.T) {
	schema := compileSchema(t)
	outside := map[Reason]bool{ReasonInvalidUTF8: true, ReasonTooDeep: true, ReasonTooLarge: true, ReasonEmpty: true, ReasonInvalidJSON: true}
	for _, tc := range decodeCases {
		if outside[tc.reason] {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(tc.input))
			if err != nil {
				t.Fatalf("test input is not JSON: %v", err)
			}
			schemaErr := schema.Validate(doc)
			_, decodeErr := Decode([]byte(tc.input))
			// JSON Schema cannot state byte lengths or date bounds; those
			// are in the x-goshawk-* annotations, checked below.
			byteLimit := tc.reason == ReasonTooLong || tc.reason == ReasonInvalidValue && tc.field == "sent_at"
			switch {
			case decodeErr == nil && schemaErr != nil:
				t.Fatalf("decoder accepts what the schema rejects: %v", schemaErr)
			case decodeErr != nil && schemaErr == nil && !byteLimit:
				t.Fatalf("schema accepts what the decoder rejects: %v", decodeErr)
			}
		})
	}
}

func TestSchemaStatesDecoderLimits(t *testing.T) {
	var s struct {
		Properties struct {
			Recipients struct {
				MinItems int `json:"minItems"`
				MaxItems int `json:"maxItems"`
			} `json:"recipients"`
			Text struct {
				MaxBytes int `json:"x-goshawk-max-bytes"`
			} `json:"text"`
			SentAt struct {
				Min string `json:"x-goshawk-min"`
				Max string `json:"x-goshawk-max"`
			} `json:"sent_at"`
		} `json:"properties"`
		Defs struct {
			ID struct {
				MaxBytes int `json:"x-goshawk-max-bytes"`
			} `json:"id"`
			Age struct {
				Maximum int `json:"maximum"`
			} `json:"age"`
		} `json:"$defs"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(SchemaV1)))
	if err := dec.Decode(&s); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name         string
		schema, code int
	}{
		{"recipients maxItems", s.Properties.Recipients.MaxItems, MaxRecipients},
		{"recipients minItems", s.Properties.Recipients.MinItems, 1},
		{"text max bytes", s.Properties.Text.MaxBytes, MaxTextBytes},
		{"id max bytes", s.Defs.ID.MaxBytes, MaxIDBytes},
		{"age maximum", s.Defs.Age.Maximum, MaxDeclaredAge},
	}
	for _, c := range checks {
		if c.schema != c.code {
			t.Errorf("%s: schema says %d, decoder enforces %d", c.name, c.schema, c.code)
		}
	}
	if s.Properties.SentAt.Min != MinSentAt.Format(time.RFC3339) || s.Properties.SentAt.Max != MaxSentAt.Format(time.RFC3339) {
		t.Errorf("sent_at bounds: schema says [%s, %s), decoder enforces [%s, %s)", s.Properties.SentAt.Min, s.Properties.SentAt.Max, MinSentAt, MaxSentAt)
	}
}
