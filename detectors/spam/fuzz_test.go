package spam

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/event"
)

// FuzzSenderHandle: whatever the value, Handle neither panics nor accepts
// what it cannot decode; every flag it raises is whole.
func FuzzSenderHandle(f *testing.F) {
	f.Add("s", rec{id: "m", conv: "c", sender: "s", age: time.Hour, links: 2, flags: flagCold | flagFirst, hits: []string{"spam.scam.prize", "spam.scam.job"}, runes: 40}.value())
	f.Add("s", contentValue("m", "s", 0, 10, 5))
	f.Add("s", []byte{1, 1, 0})
	f.Add("s", []byte{1, 2, 1, 'm', 1, 's', 0x80})
	s, err := newSenderStage(builtinRules(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		flags, err := s.Handle(key, value, nil)
		if err != nil {
			if !errors.Is(err, ErrBadRecord) {
				t.Fatalf("error %v does not wrap ErrBadRecord", err)
			}
			if len(flags) > 0 {
				t.Fatal("flags with an error")
			}
			return
		}
		for _, fl := range flags {
			if fl.MessageID == "" || fl.ConversationID == "" || fl.SenderID != key || fl.Rule == "" || len(fl.Evidence) > 512 || !utf8.ValidString(fl.Evidence) {
				t.Fatalf("flag %+v", fl)
			}
		}
		if s.StateEntries() < 0 {
			t.Fatal("negative state size")
		}
	})
}

// FuzzFingerprintHandle is FuzzSenderHandle for the fingerprint stage, whose
// forwards must decode.
func FuzzFingerprintHandle(f *testing.F) {
	p := printForward("m", "c", "s", 0, 0x1234_5678_9abc_def0, 2)
	f.Add(p.Key, p.Value)
	f.Add("b0:0000", []byte{1, 3})
	s, err := newFingerprintStage(builtinRules(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		if _, err := s.Handle(key, value, nil); err != nil && !errors.Is(err, ErrBadRecord) {
			t.Fatalf("error %v does not wrap ErrBadRecord", err)
		}
		for _, g := range s.TakeForwards(nil) {
			var r contentRec[[]byte]
			kind, body, err := recordKind(g.Value)
			if err != nil || kind != recContent || decodeContent(body, &r) != nil || string(r.senderID) != g.Key {
				t.Fatalf("undecodable signal %q", g.Value)
			}
		}
	})
}

// FuzzInspect: whatever the text and ids, Inspect returns no finding and
// its forwards are accepted by the stages.
func FuzzInspect(f *testing.F) {
	for _, s := range []string{
		"Congratulations! You have won a $500 gift card, claim at bit.ly/x",
		"https://xn--80ak6aa92e.com/login аррӏе.com",
		"ok", "", "\xff\xfe", "add me on telegram for crypto profits",
	} {
		f.Add("m1", "c1", "s1", s)
	}
	d, err := New(builtinRules(f))
	if err != nil {
		f.Fatal(err)
	}
	stages, err := NewStages(builtinRules(f))
	if err != nil {
		f.Fatal(err)
	}
	n := 0
	f.Fuzz(func(t *testing.T, id, conv, sender, text string) {
		n++
		m := &event.Message{MessageID: id, ConversationID: conv, SentAt: t0.Add(time.Duration(n) * time.Second),
			Sender: event.Participant{ID: sender}, Recipients: []event.Participant{{ID: "r"}}, Text: text}
		if got := d.Inspect(m, nil); len(got) > 0 {
			t.Fatalf("findings %v", got)
		}
		fw := d.(*Detector).TakeForwards(nil)
		if _, err := Route(fw, stages); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
	})
}

// FuzzRestore: a changelog value is either refused or restored whole.
func FuzzRestore(f *testing.F) {
	d, err := New(builtinRules(f))
	if err != nil {
		f.Fatal(err)
	}
	det := d.(*Detector)
	det.Inspect(ev("1", "c", "a", "b", 0, "hi"), nil)
	det.Inspect(ev("2", "c", "b", "a", time.Minute, "hi"), nil)
	det.TakeChanged(func(_ string, s []byte) { f.Add(s) })
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		before := det.StateEntries()
		if err := det.Restore("k", b); err != nil {
			if det.StateEntries() != before {
				t.Fatal("a refused state changed the store")
			}
			return
		}
		e := det.convs.Get("k")
		if b != nil && (e == nil || len(e.Value.parts) > maxParticipants) {
			t.Fatalf("restored %v", e)
		}
	})
}
