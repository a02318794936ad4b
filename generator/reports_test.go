package generator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

// Reports are valid report events about conversations the generator has
// already sent messages of, made by a member of the conversation, mostly
// about harmful ones and with a fitting reason.
func TestReportsAboutSentConversations(t *testing.T) {
	g := generator.New(9, generator.Options{})
	members := map[string]map[string]bool{} // conversation -> user ids seen
	messages := map[string]bool{}
	labels := map[string]generator.Label{}
	reasons := map[event.ReportReason]int{}
	var harmful, byMinor, withMessage, n int
	ids := map[string]bool{}
	for i := range 40000 {
		ev := g.Next()
		var m struct {
			MessageID      string `json:"message_id"`
			ConversationID string `json:"conversation_id"`
			Sender         struct {
				ID string `json:"id"`
			} `json:"sender"`
			Recipients []struct {
				ID string `json:"id"`
			} `json:"recipients"`
		}
		if err := json.Unmarshal(ev.Value, &m); err != nil {
			t.Fatal(err)
		}
		if members[m.ConversationID] == nil {
			members[m.ConversationID] = map[string]bool{}
		}
		members[m.ConversationID][m.Sender.ID] = true
		for _, r := range m.Recipients {
			members[m.ConversationID][r.ID] = true
		}
		messages[m.MessageID] = true
		labels[m.ConversationID] = ev.Label
		if i%40 != 0 {
			continue
		}
		rev := g.Report()
		r, err := event.DecodeReport(rev.Value)
		if err != nil {
			t.Fatalf("report %d rejected: %v\n%s", n, err, rev.Value)
		}
		n++
		if rev.Bad || string(rev.Key) != r.ConversationID || !rev.Time.Equal(r.ReportedAt) {
			t.Fatalf("report event %+v does not describe %+v", rev, r)
		}
		if ids[r.ReportID] {
			t.Fatalf("report id %s twice", r.ReportID)
		}
		ids[r.ReportID] = true
		if members[r.ConversationID] == nil {
			t.Fatalf("report on conversation %s, of which no message was sent", r.ConversationID)
		}
		if !members[r.ConversationID][r.ReporterID] {
			t.Fatalf("reporter %s is not a member of %s", r.ReporterID, r.ConversationID)
		}
		if r.MessageID != "" {
			withMessage++
			if !messages[r.MessageID] {
				t.Fatalf("report names message %s, which was not sent", r.MessageID)
			}
		}
		if rev.Label != labels[r.ConversationID] {
			t.Fatalf("report label %s, conversation label %s", rev.Label, labels[r.ConversationID])
		}
		if rev.Harmful {
			harmful++
			if want := string(rev.Label); r.Reason != event.ReportOther && r.Reason.Category() != want {
				t.Errorf("report on a %s conversation gives reason %s", rev.Label, r.Reason)
			}
		}
		if r.ByMinor() {
			byMinor++
		}
		reasons[r.Reason]++
	}
	t.Logf("%d reports: %d on harmful conversations, %d by minors, %d naming a message; reasons %v", n, harmful, byMinor, withMessage, reasons)
	if harmful < n/2 || harmful == n {
		t.Errorf("%d of %d reports are on harmful conversations, want most but not all", harmful, n)
	}
	for _, r := range event.ReportReasons {
		if reasons[r] == 0 {
			t.Errorf("no report gives reason %s", r)
		}
	}
	if byMinor == 0 || withMessage == 0 {
		t.Errorf("by minors %d, naming a message %d: want some of each", byMinor, withMessage)
	}
}

// Asking for reports does not change the messages, and the same seed and
// calls give the same reports.
func TestReportsDeterministic(t *testing.T) {
	plain := generator.New(4, generator.Options{BadRatio: 0.05})
	a, b := generator.New(4, generator.Options{BadRatio: 0.05}), generator.New(4, generator.Options{BadRatio: 0.05})
	for i := range 3000 {
		p, x, y := plain.Next(), a.Next(), b.Next()
		if !bytes.Equal(p.Value, x.Value) || !bytes.Equal(x.Value, y.Value) {
			t.Fatalf("message %d changed because reports were drawn", i)
		}
		if i%100 == 0 {
			r1, r2 := a.Report(), b.Report()
			if !bytes.Equal(r1.Value, r2.Value) || !r1.Time.Equal(r2.Time) {
				t.Fatalf("report %d differs between two generators with seed 4:\n%s\n%s", i, r1.Value, r2.Value)
			}
		}
	}
}

func TestBadReportsRejected(t *testing.T) {
	g := generator.New(3, generator.Options{BadRatio: 1})
	for range 200 {
		g.Next()
	}
	kinds := map[string]int{}
	for i := range 600 {
		ev := g.Report()
		if !ev.Bad || ev.Label != generator.LabelBad || ev.Reason == "" {
			t.Fatalf("report %d with BadRatio 1 is not marked bad: %+v", i, ev)
		}
		kinds[ev.BadKind]++
		_, err := event.DecodeReport(ev.Value)
		var e *event.Error
		if !errors.As(err, &e) || e.Reason != ev.Reason {
			t.Fatalf("report %d (%s): error %v, want reason %s\n%s", i, ev.BadKind, err, ev.Reason, ev.Value)
		}
		if bytes.ContainsAny(ev.Value, "\n\r") {
			t.Fatalf("report %d contains a newline", i)
		}
	}
	for _, k := range generator.BadReportKinds() {
		if kinds[k] == 0 {
			t.Errorf("bad report kind %s never generated", k)
		}
	}
}
