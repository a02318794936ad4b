package harassment_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// FuzzInspect: whatever the text, Inspect does not panic, and every finding
// has a known rule and severity and offsets that cut whole characters out of
// the text.
func FuzzInspect(f *testing.F) {
	for _, e := range readCorpus(f) {
		f.Add(e.Text)
	}
	f.Add("you're a l o s e r\n\n\u200b")
	f.Add("\xff\xfe you \xffidiot")
	d := newDetector(f)
	rules := map[string]bool{}
	for _, r := range builtin(f).For("harassment") {
		rules[r.ID] = true
	}
	at := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	n := 0
	f.Fuzz(func(t *testing.T, text string) {
		n++
		m := &event.Message{MessageID: "m", ConversationID: "c", SentAt: at.Add(time.Duration(n) * time.Second),
			Sender: event.Participant{ID: "a"}, Recipients: []event.Participant{{ID: "b"}}, Text: text}
		for _, fd := range d.Inspect(m, nil) {
			if !rules[fd.Rule] || fd.Severity.Rank() == 0 || fd.Score <= 0 || fd.Score > 1 {
				t.Fatalf("%q: finding %+v", text, fd)
			}
			if fd.Start < 0 || fd.End > len(text) || fd.Start > fd.End {
				t.Fatalf("%q: offsets %d..%d", text, fd.Start, fd.End)
			}
			if utf8.ValidString(text) && !utf8.ValidString(text[fd.Start:fd.End]) {
				t.Fatalf("%q: offsets %d..%d cut a character", text, fd.Start, fd.End)
			}
			_ = detectors.Excerpt(text, fd.Start, fd.End, 40)
		}
	})
}
