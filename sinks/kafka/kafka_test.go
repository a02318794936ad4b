package kafka

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks"
)

func TestEncodeEvidencePolicy(t *testing.T) {
	keys, _ := seal.NewKeyring(seal.Key{ID: "k1", Key: []byte(strings.Repeat("k", 32))})
	ps, _ := seal.NewPseudonymizer([]byte(strings.Repeat("p", 32)))
	f := detectors.Flag{FlagID: "f1", MessageID: "m1", ConversationID: "c1", SenderID: "u-1", RecipientIDs: []string{"u-2"},
		Category: detectors.Harassment, Detector: "keyword", Rule: "r", Severity: detectors.High, Score: 0.9,
		Evidence: "…CANARY-TOPIC text…", SentAt: time.Unix(0, 0).UTC(), DetectedAt: time.Unix(1, 0).UTC()}
	tests := []struct {
		name     string
		o        Options
		wantEv   bool
		wantUser string
	}{
		{"default: no evidence", Options{}, false, "u-1"},
		{"keys without Evidence: still none", Options{Protection: sinks.Protection{Keys: keys}}, false, "u-1"},
		{"sealed, pseudonymised", Options{Protection: sinks.Protection{Keys: keys, Pseudonyms: ps}, Evidence: true}, true, ps.Pseudonym("u-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWith([]string{"127.0.0.1:1"}, "flags", tt.o)
			if err != nil {
				t.Fatal(err)
			}
			v, err := w.Encode(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(v), "CANARY") {
				t.Fatalf("record holds the text: %s", v)
			}
			var rec Record
			if err := json.Unmarshal(v, &rec); err != nil {
				t.Fatal(err)
			}
			if rec.SenderID != tt.wantUser || rec.FlagID != "f1" {
				t.Errorf("sender %s", rec.SenderID)
			}
			if !tt.wantEv {
				if rec.Evidence != "" || rec.EvidenceKeyID != "" {
					t.Errorf("evidence %q key %q", rec.Evidence, rec.EvidenceKeyID)
				}
				return
			}
			got, err := keys.Open(rec.EvidenceKeyID, rec.FlagID, rec.Evidence)
			if err != nil || got != f.Evidence {
				t.Errorf("opens to %q, %v", got, err)
			}
		})
	}
	if _, err := NewWith(nil, "flags", Options{Evidence: true}); err == nil {
		t.Error("evidence without keys accepted")
	}
}
