package grooming_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/grooming"
	"github.com/goshawk-safety/goshawk/event"
)

// checkFindings fails on a finding with an unknown rule or severity, a score
// out of range, offsets that do not cut whole characters out of text, or
// evidence over the bound.
func checkFindings(t *testing.T, rules map[string]bool, text string, fs []detectors.Finding) {
	t.Helper()
	for _, f := range fs {
		if !rules[f.Rule] || f.Severity.Rank() == 0 || !(f.Score > 0 && f.Score <= 1) {
			t.Fatalf("%q: finding %+v", text, f)
		}
		if f.Start < 0 || f.End > len(text) || f.Start > f.End {
			t.Fatalf("%q: offsets %d..%d", text, f.Start, f.End)
		}
		if utf8.ValidString(text) && !utf8.ValidString(text[f.Start:f.End]) {
			t.Fatalf("%q: offsets %d..%d cut a character", text, f.Start, f.End)
		}
		if len(f.Evidence) > detectors.MaxEvidenceBytes || utf8.ValidString(text) && !utf8.ValidString(f.Evidence) {
			t.Fatalf("%q: evidence %q", text, f.Evidence)
		}
	}
}

func ruleIDs(t testing.TB) map[string]bool {
	ids := map[string]bool{}
	for _, r := range builtin(t).For(grooming.Name) {
		ids[r.ID] = true
	}
	return ids
}

// FuzzInspect: whatever the texts, Inspect does not panic, its findings are
// well formed, and the state it hands out restores.
func FuzzInspect(f *testing.F) {
	for _, c := range readCorpus(f) {
		for i := 0; i+1 < len(c.Messages); i += 7 {
			f.Add(c.Messages[i][2], c.Messages[i+1][2], uint8(i))
		}
	}
	f.Add("im 13 \xff\xfe", "d\u200bo\u200bn\u200bt tell ur mom", uint8(0))
	f.Add("\"are you home alone\" she asked", "13/f", uint8(3))
	rules := ruleIDs(f)
	f.Fuzz(func(t *testing.T, a, b string, ages uint8) {
		d := newWith(t, grooming.Options{IdleExpiry: time.Hour, MaxConversations: 2})
		log := newLog()
		at := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
		adult, kid := 20+int(ages%40), int(ages%18)
		for i, text := range []string{a, b, a + " " + b, b, a} {
			from, to := "x", "y"
			if i%2 == 1 {
				from, to = to, from
			}
			m := &event.Message{MessageID: "m" + string(rune('0'+i)), ConversationID: "c" + string(rune('0'+i%3)),
				SentAt: at.Add(time.Duration(i*i) * 20 * time.Minute), Sender: event.Participant{ID: from}, Recipients: []event.Participant{{ID: to}}, Text: text}
			if ages&1 != 0 {
				m.Sender.Age, m.Recipients[0].Age = &adult, &kid
			}
			checkFindings(t, rules, text, d.Inspect(m, nil))
			log.take(d)
		}
		restoreFrom(t, log, grooming.DefaultOptions()) // fails the test on a state that does not restore
	})
}

// FuzzRestore: Restore never panics. It refuses bytes with an error and
// keeps nothing, or accepts them; an accepted state keeps working, and
// what the detector hands out on top of it restores in turn.
func FuzzRestore(f *testing.F) {
	d := newWith(f, grooming.DefaultOptions())
	for _, c := range readCorpus(f) {
		for _, m := range c.Events {
			d.Inspect(m, nil)
			d.TakeChanged(func(_ string, s []byte) {
				if s != nil {
					f.Add(s)
				}
			})
		}
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0})
	rules := ruleIDs(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d := newWith(t, grooming.DefaultOptions())
		if err := d.Restore("k", data); err != nil {
			if d.StateEntries() != 0 {
				t.Fatal("a refused state was kept")
			}
			return
		}
		var handed []byte
		d.TakeChanged(func(_ string, s []byte) { handed = s })
		if handed != nil {
			t.Fatal("a restored state was handed out again without a change")
		}
		for i, text := range []string{"are you home alone", "im 13", "don't tell your mom", "send me a pic", "we should meet up"} {
			from, to := "a", "b"
			if i%2 == 1 {
				from, to = to, from
			}
			m := &event.Message{MessageID: "n" + string(rune('0'+i)), ConversationID: "k", SentAt: time.Date(2030, 1, 1, 0, i, 0, 0, time.UTC),
				Sender: event.Participant{ID: from}, Recipients: []event.Participant{{ID: to}}, Text: text}
			checkFindings(t, rules, text, d.Inspect(m, nil))
		}
		d.TakeChanged(func(_ string, s []byte) {
			if s == nil {
				return
			}
			if err := newWith(t, grooming.DefaultOptions()).Restore("k", s); err != nil {
				t.Fatalf("a state made on top of a restored one does not restore: %v", err)
			}
		})
	})
}
