package sinks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks"
)

func TestApplyReport(t *testing.T) {
	keys, err := seal.NewKeyring(seal.Key{ID: "k-rep", Key: []byte(strings.Repeat("r", seal.KeySize))})
	if err != nil {
		t.Fatal(err)
	}
	pseudo, err := seal.NewPseudonymizer([]byte(strings.Repeat("p", seal.MinPseudonymKey)))
	if err != nil {
		t.Fatal(err)
	}
	age := 13
	in := event.Report{ReportID: "rep-1", ReporterID: "user-42", ReporterAge: &age, ConversationID: "c-1", MessageID: "m-1",
		Reason: event.ReportGrooming, Comment: "CANARY he asks me to keep it secret", ReportedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		name         string
		p            sinks.Protection
		comment      string
		wantKey      string
		wantReporter string
	}{
		{"none", sinks.Protection{}, in.Comment, "", "user-42"},
		{"pseudonyms only", sinks.Protection{Pseudonyms: pseudo}, in.Comment, "", pseudo.Pseudonym("user-42")},
		{"keys only", sinks.Protection{Keys: keys}, in.Comment, "k-rep", "user-42"},
		{"both", sinks.Protection{Keys: keys, Pseudonyms: pseudo}, in.Comment, "k-rep", pseudo.Pseudonym("user-42")},
		{"no comment, nothing sealed", sinks.Protection{Keys: keys}, "", "", "user-42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := in
			r.Comment = tt.comment
			got, keyID, err := tt.p.ApplyReport(r)
			if err != nil {
				t.Fatal(err)
			}
			if r.ReporterID != "user-42" || r.Comment != tt.comment {
				t.Fatal("ApplyReport changed its argument")
			}
			if keyID != tt.wantKey || got.ReporterID != tt.wantReporter {
				t.Errorf("key %q reporter %q, want %q %q", keyID, got.ReporterID, tt.wantKey, tt.wantReporter)
			}
			if got.ReportID != r.ReportID || got.ConversationID != r.ConversationID || got.Reason != r.Reason || !got.Urgent() {
				t.Errorf("ApplyReport changed more than the reporter and the comment: %+v", got)
			}
			if keyID == "" {
				if got.Comment != tt.comment {
					t.Errorf("plain comment %q, want %q", got.Comment, tt.comment)
				}
				return
			}
			if strings.Contains(got.Comment, "CANARY") {
				t.Errorf("sealed comment holds the plain text: %q", got.Comment)
			}
			text, err := keys.Open(keyID, sinks.ReportCommentRow(r.ReportID), got.Comment)
			if err != nil || text != tt.comment {
				t.Errorf("opens to %q, %v", text, err)
			}
			// Bound to its report: not another report's, not a flag's.
			for _, row := range []string{sinks.ReportCommentRow("rep-2"), r.ReportID} {
				if _, err := keys.Open(keyID, row, got.Comment); err == nil {
					t.Errorf("the comment opens as row %q", row)
				}
			}
		})
	}
	// A report id equal to a flag id still seals for a different row.
	id := detectors.FlagID("m", "keyword", "r")
	if sinks.ReportCommentRow(id) == id {
		t.Error("a report's row id can equal a flag id")
	}
}
