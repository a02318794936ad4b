package spam

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

func newDetector(t testing.TB) *Detector {
	t.Helper()
	d, err := New(builtinRules(t))
	if err != nil {
		t.Fatal(err)
	}
	return d.(*Detector)
}

func ev(id, conv, from, to string, at time.Duration, text string) *event.Message {
	return msgSpec{id: id, conv: conv, from: from, to: []string{to}, at: t0.Add(at), text: text}.event()
}

func TestFirstAndColdMessages(t *testing.T) {
	d := newDetector(t)
	for _, c := range []struct {
		m           *event.Message
		first, cold bool
	}{
		{ev("1", "c", "a", "b", 0, "hi"), true, true},
		{ev("2", "c", "a", "b", time.Minute, "you there?"), false, true},
		{ev("3", "c", "b", "a", 2*time.Minute, "who is this"), true, false},
		{ev("4", "c", "a", "b", 3*time.Minute, "me"), false, false},
		{ev("1", "c", "a", "b", 0, "hi"), true, true}, // re-delivered: the same answer
		{ev("5", "other", "b", "a", 4*time.Minute, "hi"), true, true},
	} {
		d.Inspect(c.m, nil)
		if d.feat.first != c.first || d.feat.cold != c.cold {
			t.Errorf("message %s from %s: first %v cold %v, want %v %v", c.m.MessageID, c.m.Sender.ID, d.feat.first, d.feat.cold, c.first, c.cold)
		}
	}
}

func TestGroupBeyondTheRememberedSenders(t *testing.T) {
	d := newDetector(t)
	for i := range maxParticipants + 3 {
		from := string(rune('a' + i))
		d.Inspect(ev(from, "g", from, "x", time.Duration(i)*time.Minute, "hello all"), nil)
		want := i < maxParticipants
		if d.feat.first != want || d.feat.cold != (i == 0) {
			t.Errorf("sender %d of a group: first %v cold %v", i, d.feat.first, d.feat.cold)
		}
	}
}

func TestForwards(t *testing.T) {
	d := newDetector(t)
	created := t0.Add(-2 * time.Hour)
	m := ev("m1", "c1", "s1", "r1", 0, "Congratulations Sarah! You have won a $500 gift card, claim your prize at bit.ly/abc before it expires")
	m.Sender.AccountCreatedAt = &created
	if f := d.Inspect(m, nil); len(f) != 0 {
		t.Fatalf("findings %v", f)
	}
	fw := d.TakeForwards(nil)
	if len(fw) != 1+bands {
		t.Fatalf("%d forwards, want 1 + %d", len(fw), bands)
	}
	if fw[0].Stream != StreamSender || fw[0].Key != "s1" {
		t.Fatalf("first forward %s %q", fw[0].Stream, fw[0].Key)
	}
	kind, body, err := recordKind(fw[0].Value)
	var r messageRec[[]byte]
	if err != nil || kind != recMessage || decodeMessage(body, &r) != nil {
		t.Fatalf("message record: %v", err)
	}
	if string(r.msgID) != "m1" || string(r.convID) != "c1" || r.accountAge != 7200 || r.links != 1 ||
		r.flags != flagFirst|flagCold|flagLink|flagShortener|flagPrinted || len(r.recipients) != 1 || string(r.recipients[0]) != "r1" ||
		len(r.hits) != 2 || string(r.hits[0].id) != "spam.scam.prize" || r.hits[0].weight != 3 || r.sentAt != t0.UnixNano() ||
		!strings.HasPrefix(string(r.hits[1].id), "spam.bayes/bayes_") {
		t.Fatalf("message record %+v (want the prize rule and a Bayes band)", r)
	}
	for b, f := range fw[1:] {
		if f.Stream != StreamFingerprint || f.Key != bandKey(r.simhash, b) {
			t.Fatalf("fingerprint forward %d: %s %q", b, f.Stream, f.Key)
		}
	}
	if len(d.TakeForwards(nil)) != 0 {
		t.Fatal("TakeForwards returned the forwards twice")
	}
	// A short text has no fingerprint; forwards not collected are dropped
	// at the next message.
	d.Inspect(ev("m2", "c1", "s1", "r1", time.Minute, "ok thanks"), nil)
	d.Inspect(ev("m3", "c1", "s1", "r1", 2*time.Minute, "lol"), nil)
	if fw := d.TakeForwards(nil); len(fw) != 1 || fw[0].Stream != StreamSender {
		t.Fatalf("forwards of a short text: %v", fw)
	}
	// An event the stages could not key is not forwarded.
	d.Inspect(&event.Message{MessageID: "", ConversationID: "c", SentAt: t0, Sender: event.Participant{ID: "s"}}, nil)
	if fw := d.TakeForwards(nil); len(fw) != 0 {
		t.Fatalf("forwards of an event without an id: %v", fw)
	}
}

func TestContentHits(t *testing.T) {
	d := newDetector(t)
	for _, c := range []struct {
		text string
		want []string
	}{
		{"add me on telegram, I'll show you how I made my money", []string{"spam.scam.off_platform_money"}},
		{"add me on telegram so we can play later", nil}, // `with` missing
		{"he wrote 'your account will be suspended' lol, deleted", nil},
		{"Y0ur acc0unt will be susp3nded, verify your account", []string{"spam.scam.phishing"}},
		{"You have won! Pay the processing fee of $20 to release the funds", []string{"spam.scam.advance_fee", "spam.scam.prize"}},
	} {
		d.Inspect(ev("m", "c", "a", "b", 0, c.text), nil)
		var got []string
		for _, h := range d.feat.hits {
			if !h.statistical { // the Bayes rule has its own tests (bayes_test.go)
				got = append(got, h.id)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: hits %v, want %v", c.text, got, c.want)
		}
	}
}

func TestDurableState(t *testing.T) {
	d := newDetector(t)
	d.Inspect(ev("1", "c1", "a", "b", 0, "hi"), nil)
	d.Inspect(ev("2", "c1", "b", "a", time.Minute, "hey"), nil)
	d.Inspect(ev("3", "c2", "a", "c", 2*time.Minute, "hi"), nil)
	d.Inspect(ev("4", "c1", "a", "b", 3*time.Minute, "how are you"), nil) // no change
	changed := map[string][]byte{}
	var order []string
	d.TakeChanged(func(k string, s []byte) { changed[k] = s; order = append(order, k) })
	if !slices.Equal(order, []string{"c1", "c2"}) || changed["c1"] == nil {
		t.Fatalf("changed %v", order)
	}
	d.TakeChanged(func(k string, _ []byte) { t.Errorf("%s changed again", k) })

	// A fresh detector restored from the changelog answers the same, for a
	// message already processed too.
	r := newDetector(t)
	for k, s := range changed {
		if err := r.Restore(k, s); err != nil {
			t.Fatal(err)
		}
	}
	r.TakeChanged(func(k string, _ []byte) { t.Errorf("restoring marked %s changed", k) })
	for _, m := range []*event.Message{ev("2", "c1", "b", "a", time.Minute, "hey"), ev("5", "c1", "a", "b", 5*time.Minute, "ok"), ev("3", "c2", "a", "c", 2*time.Minute, "hi")} {
		d.Inspect(m, nil)
		r.Inspect(m, nil)
		if d.feat.first != r.feat.first || d.feat.cold != r.feat.cold {
			t.Errorf("message %s: restored detector says first %v cold %v, the original %v %v", m.MessageID, r.feat.first, r.feat.cold, d.feat.first, d.feat.cold)
		}
	}
	if r.StateEntries() != 2 {
		t.Fatalf("%d conversations restored", r.StateEntries())
	}
	// A tombstone removes the state; garbage is refused and changes nothing.
	if err := r.Restore("c2", nil); err != nil || r.StateEntries() != 1 {
		t.Fatalf("tombstone: %v, %d entries", err, r.StateEntries())
	}
	for _, bad := range [][]byte{{}, {9}, {1, 9}, append(slices.Clone(changed["c1"]), 0), changed["c1"][:len(changed["c1"])-1]} {
		if err := r.Restore("c1", bad); err == nil {
			t.Errorf("Restore accepted %q", bad)
		}
	}
	if r.StateEntries() != 1 {
		t.Fatal("a refused state changed the store")
	}
}

func TestIdleConversationsGoWithTombstones(t *testing.T) {
	d := newDetector(t)
	d.Inspect(ev("1", "old", "a", "b", 0, "hi"), nil)
	d.TakeChanged(func(string, []byte) {})
	idle := d.cfg.behaviour.convIdle
	d.Inspect(ev("2", "new", "a", "b", idle+time.Hour, "hi"), nil)
	got := map[string][]byte{}
	d.TakeChanged(func(k string, s []byte) { got[k] = s })
	if s, ok := got["old"]; !ok || s != nil {
		t.Fatalf("no tombstone for the idle conversation: %v", got)
	}
	if d.StateEntries() != 1 {
		t.Fatalf("%d conversations", d.StateEntries())
	}
}

func TestDetectorReload(t *testing.T) {
	d := newDetector(t)
	d.Inspect(ev("1", "c", "a", "b", 0, "hi"), nil)
	if err := d.Reload(builtinRules(t)); err != nil {
		t.Fatal(err)
	}
	d.Inspect(ev("2", "c", "a", "b", time.Minute, "hi"), nil)
	if d.feat.first || !d.feat.cold || d.StateEntries() != 1 {
		t.Fatal("the conversation state did not survive a reload")
	}
	if err := d.Reload(rulesFrom(t, strings.Replace(capRules, "min_score: 1\n", "min_score: -1\n", 1))); err == nil {
		t.Fatal("Reload accepted an invalid rule")
	}
}

func TestRuleErrorsNameTheField(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"kind: tier\n    min_score: 5\n    score: 0.5", ""},
		{"kind: nope", "field kind: \"nope\" is not a rule kind"},
		{"kind: tier\n    score: 0.5", "field min_score: required"},
		{"kind: tier\n    min_score: 5\n    score: 0.5\n    weight: 2", "field weight: not a field of tier rules"},
		{"kind: content\n    weight: 0\n    phrases: [a b]", "field weight: 0 is not in (0, 100]"},
		{"kind: content\n    weight: 1", "field phrases: required"},
		{"kind: behaviour\n    fanout: [{at: 10, weight: 2}, {at: 5, weight: 3}]", "field fanout: levels must rise"},
		{"kind: behaviour\n    burst: {window: 30s, messages: 8, weight: 1, extra: 2}", "field burst: unknown key extra"},
		{"kind: behaviour\n    content_fanout: {window: 30m, max_distance: 4, conversations: [{at: 10, weight: 1}]}", "max_distance 4 is not in [0, 3]"},
		{"kind: behaviour\n    trust: {account_age: 720h}", "field trust: cap required"},
		{"kind: behaviour\n    new_account: {under: 72h, weight: 1}\n    trust: {account_age: 24h, cap: 4}", "field trust: account_age 24h0m0s is younger than a new account"},
		{"kind: links\n    weights: {lookalike: 2}", "field brands: required with a lookalike weight"},
		{"kind: links\n    weights: {shortener: 1}\n    shorteners: [not a host]", "is not a host name"},
	} {
		yaml := "detector: spam\nrules:\n  - id: spam.r\n    category: spam\n    severity: medium\n    description: t\n    owner: t\n    examples: [{text: x, expect: match}]\n    " + c.yaml + "\n"
		_, err := parseRules(rulesFrom(t, yaml), true)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.yaml, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "spam.yaml:")):
			t.Errorf("%s: error %v, want one naming the file and %q", c.yaml, err, c.want)
		}
	}
}

func TestRouteUnknownStream(t *testing.T) {
	stages, err := NewStages(builtinRules(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Route([]detectors.Forward{{Stream: "nope", Key: "k"}}, stages); err == nil {
		t.Fatal("Route accepted a stream without a stage")
	}
	if _, err := Route([]detectors.Forward{{Stream: StreamSender, Key: "k", Value: []byte{1}}}, stages); err == nil {
		t.Fatal("Route hid a stage's error")
	}
}

// TestRedeliveredMessageForwardsTheSame: a message processed again (after
// a crash, a rebalance) forwards the same records, byte for byte, so the
// stages see a duplicate and nothing else.
func TestRedeliveredMessageForwardsTheSame(t *testing.T) {
	d := newDetector(t)
	created := t0.Add(-time.Hour)
	msgs := []*event.Message{
		ev("1", "c", "a", "b", 0, "Congratulations! You have won a $500 gift card, claim your prize at bit.ly/abc before it expires"),
		ev("2", "c", "b", "a", time.Minute, "who is this?"),
		ev("3", "c", "a", "b", 2*time.Minute, "claim it now, only today, the gift card expires tonight"),
	}
	for _, m := range msgs {
		m.Sender.AccountCreatedAt = &created
	}
	first := map[string][]detectors.Forward{}
	for _, m := range msgs {
		d.Inspect(m, nil)
		first[m.MessageID] = d.TakeForwards(nil)
	}
	for _, m := range []*event.Message{msgs[0], msgs[2], msgs[1], msgs[0]} {
		d.Inspect(m, nil)
		again := d.TakeForwards(nil)
		if fmt.Sprint(again) != fmt.Sprint(first[m.MessageID]) {
			t.Fatalf("message %s forwards\n%v\nthe first time\n%v", m.MessageID, again, first[m.MessageID])
		}
	}
}

// TestContentReadsThroughDisguises: every matching example of every
// content rule still hits its rule when the text is disguised as spammers
// do: Cyrillic and Greek look-alike letters, dots inside words, and
// letters spaced out (words three spaces apart). The
// content rules read the shared text layer's normal form, so no rule
// lists a disguise.
func TestContentReadsThroughDisguises(t *testing.T) {
	lookalike := strings.NewReplacer("a", "а", "e", "е", "o", "ο", "p", "р", "c", "с", "i", "і", "y", "у", "x", "х")
	dotted := func(s string) string { // "free bitcoin" -> "f.r.e.e b.i.t.c.o.i.n" for words of 4 to 8 letters
		words := strings.Fields(s)
		for i, w := range words {
			if len(w) >= 4 && len(w) <= 8 && strings.IndexFunc(w, func(r rune) bool { return r < 'a' || r > 'z' }) < 0 {
				words[i] = strings.Join(strings.Split(w, ""), ".")
			}
		}
		return strings.Join(words, " ")
	}
	spaced := func(s string) string { // "free bitcoin" -> "f r e e   b i t c o i n"
		words := strings.Fields(s)
		for i, w := range words {
			words[i] = strings.Join(strings.Split(w, ""), " ")
		}
		return strings.Join(words, "   ")
	}
	d := newDetector(t)
	n := 0
	for _, r := range builtinRules(t) {
		if _, ok := d.cfg.contentByID[r.ID]; !ok {
			continue
		}
		for _, ex := range r.Examples {
			if !ex.Match || len(ex.Messages) != 1 {
				continue
			}
			plain := strings.ToLower(ex.Messages[0].Text)
			for _, v := range []struct{ how, text string }{{"look-alike letters", lookalike.Replace(plain)}, {"dotted words", dotted(plain)}, {"spaced letters", spaced(plain)}} {
				d.Inspect(ev("m", "c", "a", "b", 0, v.text), nil)
				n++
				if !slices.ContainsFunc(d.feat.hits, func(h *contentRule) bool { return h.id == r.ID }) {
					t.Errorf("%s, %s: %q does not hit the rule", r.ID, v.how, v.text)
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d disguised examples", n)
	}
}
