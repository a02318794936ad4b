package spam

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

func TestScoreAddsUpAndEachTierFlagsOnce(t *testing.T) {
	rules := builtinRules(t)
	s, _ := traced(t, rules)
	m := rec{id: "m1", conv: "c1", sender: "s1", age: -1, links: 1, flags: flagShortener | flagFirst | flagCold,
		hits: []string{"spam.scam.prize"}, to: []string{"r1"}}
	flags := handle(t, s, m.forward())
	if len(flags) != 1 {
		t.Fatalf("flags %v, want one (medium)", flagKeys(flags))
	}
	f := flags[0]
	var medium *detectors.Rule
	for _, r := range rules {
		if r.ID == "spam.score_medium" {
			medium = r
		}
	}
	want := detectors.Flag{
		FlagID: detectors.FlagID("m1", "spam", "spam.score_medium"), MessageID: "m1", ConversationID: "c1", SenderID: "s1",
		RecipientIDs: []string{"r1"}, Category: detectors.Spam, Detector: "spam", Rule: "spam.score_medium",
		RuleVersion: medium.Version, Mode: detectors.Live, Severity: detectors.Medium, Score: 0.6,
		Evidence: "scam.prize +3.0; link_shortener +1.0; first_contact_link +1.0 = 5.0",
		SentAt:   t0,
	}
	if fmt.Sprintf("%+v", f) != fmt.Sprintf("%+v", want) {
		t.Fatalf("flag\n%+v\nwant\n%+v", f, want)
	}
	// Content fan-out adds 3: high, and medium is not raised again.
	flags = handle(t, s, detectors.Forward{Stream: StreamSender, Key: "s1", Value: contentValue("m1", "s1", 0, 50, 0)})
	if got := flagKeys(flags); !slices.Equal(got, []string{"m1 spam.score_high high"}) {
		t.Fatalf("after content fan-out: %v", got)
	}
	if !strings.HasSuffix(flags[0].Evidence, "content_fanout_50 +3.0 = 8.0") {
		t.Errorf("evidence %q", flags[0].Evidence)
	}
	// Everything again: nothing new.
	if flags := handle(t, s, m.forward(), detectors.Forward{Stream: StreamSender, Key: "s1", Value: contentValue("m1", "s1", 0, 50, 0)}); len(flags) > 0 {
		t.Fatalf("re-delivered records flagged again: %v", flagKeys(flags))
	}
}

func TestFanoutWindow(t *testing.T) {
	s, last := traced(t, builtinRules(t))
	// 20 strangers in 19 minutes, then one more three hours later.
	var fw []detectors.Forward
	for i := range 20 {
		fw = append(fw, rec{id: fmt.Sprintf("m%d", i), conv: fmt.Sprintf("c%d", i), sender: "s", at: time.Duration(i) * time.Minute, age: -1, flags: flagFirst | flagCold}.forward())
	}
	fw = append(fw, rec{id: "late", conv: "c99", sender: "s", at: 3 * time.Hour, age: -1, flags: flagFirst | flagCold}.forward())
	handle(t, s, fw...)
	for _, id := range []string{"m0", "m10", "m19"} {
		if !slices.Contains(last[id], "cold_fanout_20") || !slices.Contains(last[id], "fanout_10") {
			t.Errorf("%s: %v, want cold_fanout_20 and fanout_10 (20 conversations within ±1h)", id, last[id])
		}
	}
	if len(last["late"]) != 0 {
		t.Errorf("late: %v, want nothing (alone in its window)", last["late"])
	}
	// The window is ±1h, inclusive: a message exactly 1h after m0 counts
	// m0's conversation, one a nanosecond later does not.
	s2, last2 := traced(t, builtinRules(t))
	for i := range 4 {
		handle(t, s2, rec{id: fmt.Sprintf("a%d", i), conv: fmt.Sprintf("c%d", i), sender: "s", at: 0, age: -1, flags: flagFirst | flagCold}.forward())
	}
	handle(t, s2, rec{id: "edge", conv: "c9", sender: "s", at: time.Hour, age: -1, flags: flagFirst | flagCold}.forward())
	handle(t, s2, rec{id: "out", conv: "c8", sender: "s", at: time.Hour + 1, age: -1, flags: flagFirst | flagCold}.forward())
	if !slices.Contains(last2["edge"], "cold_fanout_5") {
		t.Errorf("edge: %v, want cold_fanout_5", last2["edge"])
	}
	if slices.Contains(last2["out"], "cold_fanout_5") {
		t.Errorf("out: %v, want no cold_fanout_5", last2["out"])
	}
}

func TestFanoutCountsEachConversationOnce(t *testing.T) {
	s, last := traced(t, builtinRules(t))
	var fw []detectors.Forward
	for i := range 12 { // 12 messages, 4 conversations
		fw = append(fw, rec{id: fmt.Sprintf("m%d", i), conv: fmt.Sprintf("c%d", i%4), sender: "s", at: time.Duration(i) * time.Minute, age: -1, flags: flagCold}.forward())
	}
	handle(t, s, fw...)
	if slices.ContainsFunc(last["m11"], func(n string) bool { return strings.Contains(n, "fanout") }) {
		t.Errorf("4 conversations counted as fan-out: %v", last["m11"])
	}
	st := &s.senders.Get("s").Value
	for _, e := range st.msgs {
		if e.nConv != 4 || e.nCold != 4 {
			t.Fatalf("message at %v: %d conversations, %d cold; want 4, 4", time.Duration(e.at-t0.UnixNano()), e.nConv, e.nCold)
		}
	}
}

func TestBurstScalesWithAccountAge(t *testing.T) {
	for _, c := range []struct {
		age  time.Duration
		n    int
		want bool
	}{
		{-1, 7, false}, {-1, 8, true},
		{2 * time.Hour, 3, false}, {2 * time.Hour, 4, true}, // under a day: half
		{72 * time.Hour, 5, false}, {72 * time.Hour, 6, true}, // under a week: three quarters
		{30 * 24 * time.Hour, 7, false}, {30 * 24 * time.Hour, 8, true},
	} {
		s, last := traced(t, builtinRules(t))
		for i := range c.n {
			handle(t, s, rec{id: fmt.Sprintf("m%d", i), conv: "c", sender: "s", at: time.Duration(i) * 2 * time.Second, age: c.age, runes: 5}.forward())
		}
		if got := slices.Contains(last["m0"], "burst"); got != c.want {
			t.Errorf("account age %v, %d messages in %ds: burst %v, want %v (%v)", c.age, c.n, 2*(c.n-1), got, c.want, last["m0"])
		}
	}
}

func TestTypingSpeed(t *testing.T) {
	for _, c := range []struct {
		n, runes int
		want     bool
	}{{3, 200, true}, {3, 100, false}, {2, 400, false}} {
		s, last := traced(t, builtinRules(t))
		for i := range c.n {
			handle(t, s, rec{id: fmt.Sprintf("m%d", i), conv: "c", sender: "s", at: time.Duration(i) * 5 * time.Second, age: -1, runes: c.runes}.forward())
		}
		if got := slices.Contains(last["m0"], "typing_speed"); got != c.want {
			t.Errorf("%d messages of %d characters in %ds: typing_speed %v, want %v", c.n, c.runes, 5*(c.n-1), got, c.want)
		}
	}
}

func TestNewAccount(t *testing.T) {
	for _, c := range []struct {
		age   time.Duration
		links int
		want  []string
	}{
		{time.Hour, 1, []string{"new_account", "new_account_link"}},
		{time.Hour, 0, []string{"new_account"}},
		{5 * 24 * time.Hour, 1, []string{"new_account_link"}},
		{10 * 24 * time.Hour, 1, nil},
		{-1, 1, nil},
	} {
		s, last := traced(t, builtinRules(t))
		handle(t, s, rec{id: "m", conv: "c", sender: "s", age: c.age, links: c.links}.forward())
		var got []string
		for _, n := range last["m"] {
			if strings.HasPrefix(n, "new_account") {
				got = append(got, n)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("age %v, %d links: %v, want %v", c.age, c.links, got, c.want)
		}
	}
}

func TestLinkSignals(t *testing.T) {
	s, last := traced(t, builtinRules(t))
	handle(t, s,
		rec{id: "a", conv: "c1", sender: "s", age: -1, links: 4, flags: flagPunycode | flagLookalike | flagFirst | flagCold}.forward(),
		rec{id: "b", conv: "c2", sender: "s", at: 3 * time.Hour, age: -1, links: 1, flags: flagCold}.forward(),  // not first
		rec{id: "c", conv: "c3", sender: "s", at: 6 * time.Hour, age: -1, links: 1, flags: flagFirst}.forward(), // someone wrote before
	)
	if want := []string{"link_punycode", "link_lookalike", "many_links", "first_contact_link"}; !slices.Equal(last["a"], want) {
		t.Errorf("a: %v, want %v", last["a"], want)
	}
	if len(last["b"]) != 0 || len(last["c"]) != 0 {
		t.Errorf("b: %v, c: %v; want nothing", last["b"], last["c"])
	}
}

func TestDuplicatesDoNotCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var fw []detectors.Forward
	for i := range 30 {
		fw = append(fw, rec{id: fmt.Sprintf("m%d", i), conv: fmt.Sprintf("c%d", i%25), sender: "s", at: time.Duration(rng.IntN(3600)) * time.Second, age: 2 * time.Hour, links: 1, flags: flagCold | flagFirst, runes: 40}.forward())
	}
	once, _ := traced(t, builtinRules(t))
	flagsOnce := handle(t, once, fw...)
	twice, _ := traced(t, builtinRules(t))
	var fw2 []detectors.Forward
	for _, f := range fw {
		fw2 = append(fw2, f, f)
	}
	fw2 = append(fw2, fw...)
	flagsTwice := handle(t, twice, fw2...)
	if a, b := flagKeys(flagsOnce), flagKeys(flagsTwice); !slices.Equal(a, b) || len(flagsTwice) != len(flagsOnce) {
		t.Fatalf("once: %d flags %v\nthrice: %d flags %v", len(flagsOnce), a, len(flagsTwice), b)
	}
	if len(flagsOnce) == 0 {
		t.Fatal("a new account sending links to 25 strangers raised no flag")
	}
	a, b := once.senders.Get("s").Value.msgs, twice.senders.Get("s").Value.msgs
	if !slices.EqualFunc(a, b, func(x, y msgEntry) bool { return x == y }) || once.StateEntries() != 30 || twice.StateEntries() != 30 {
		t.Fatalf("state differs after duplicates: %d vs %d entries", once.StateEntries(), twice.StateEntries())
	}
}

func TestContentSignalBeforeFeatures(t *testing.T) {
	s, last := traced(t, builtinRules(t))
	sig := detectors.Forward{Stream: StreamSender, Key: "s", Value: contentValue("m", "s", 0, 10, 5)}
	if flags := handle(t, s, sig); len(flags) > 0 || s.StateEntries() != 1 {
		t.Fatalf("a signal alone: flags %v, %d entries", flagKeys(flags), s.StateEntries())
	}
	handle(t, s, rec{id: "m", conv: "c", sender: "s", age: -1}.forward())
	if want := []string{"content_fanout_10", "content_senders_5"}; !slices.Equal(last["m"], want) {
		t.Fatalf("%v, want %v", last["m"], want)
	}
	if s.StateEntries() != 1 {
		t.Fatalf("%d entries for one message", s.StateEntries())
	}
	// A lower level later changes nothing; a higher one does.
	handle(t, s, detectors.Forward{Stream: StreamSender, Key: "s", Value: contentValue("m", "s", 0, 0, 0)})
	if want := []string{"content_fanout_10", "content_senders_5"}; !slices.Equal(last["m"], want) {
		t.Fatalf("after a lower level: %v", last["m"])
	}
}

func TestEvictionAndLateness(t *testing.T) {
	rules := builtinRules(t)
	s, last := traced(t, rules)
	b := s.cfg.behaviour
	horizon := time.Duration(b.senderHorizon())
	for i := range 5 {
		handle(t, s, rec{id: fmt.Sprintf("m%d", i), conv: fmt.Sprintf("c%d", i), sender: "s", at: time.Duration(i) * time.Minute, age: -1, flags: flagCold}.forward())
	}
	if !slices.Contains(last["m0"], "cold_fanout_5") {
		t.Fatalf("m0: %v", last["m0"])
	}
	// A record within the allowed lateness behind the sender's latest
	// still counts.
	handle(t, s, rec{id: "late", conv: "c9", sender: "s", at: 4*time.Minute - b.lateness, age: -1, flags: flagCold}.forward())
	if !slices.Contains(last["late"], "cold_fanout_5") {
		t.Fatalf("late record: %v", last["late"])
	}
	// Time moves on: the messages fall behind the horizon and go.
	handle(t, s, rec{id: "far", conv: "c1", sender: "s", at: horizon + 10*time.Minute, age: -1}.forward())
	if got := s.StateEntries(); got != 1 {
		t.Fatalf("%d entries after the horizon moved past them, want 1", got)
	}
	// A record behind the horizon is dropped: it neither counts nor flags.
	delete(last, "m0")
	handle(t, s, rec{id: "m0", conv: "c0", sender: "s", age: -1, flags: flagCold}.forward())
	if _, ok := last["m0"]; ok || s.StateEntries() != 1 {
		t.Fatalf("a record older than the horizon was scored (%d entries)", s.StateEntries())
	}
}

func TestIdleSendersGo(t *testing.T) {
	s, _ := traced(t, builtinRules(t))
	handle(t, s, rec{id: "a", conv: "c", sender: "idle", age: -1}.forward())
	// The stage's clock moves at most a minute per record: walk it forward.
	idle := time.Duration(s.cfg.behaviour.senderHorizon() + int64(s.cfg.behaviour.lateness))
	for i := range int(idle/time.Minute) + 10 {
		handle(t, s, rec{id: fmt.Sprintf("b%d", i), conv: "c", sender: "busy", at: time.Duration(i+1) * time.Minute, age: -1}.forward())
	}
	if s.senders.Get("idle") != nil {
		t.Fatal("an idle sender is still held")
	}
	if s.Senders() != 1 {
		t.Fatalf("%d senders", s.Senders())
	}
}

// TestCapKeepsFlagsSound: past max_messages a sender's oldest messages go,
// and later records can be missed, but a flag is never raised that the
// whole set of records would not raise.
func TestCapKeepsFlagsSound(t *testing.T) {
	rules := rulesFrom(t, capRules)
	rng := rand.New(rand.NewPCG(3, 4))
	var fw []timedForward
	for i := range 200 {
		r := rec{id: fmt.Sprintf("m%d", i), conv: fmt.Sprintf("c%d", rng.IntN(12)), sender: "s", at: time.Duration(rng.IntN(7200)) * time.Second, age: -1}
		if rng.IntN(2) == 0 {
			r.flags |= flagCold
		}
		fw = append(fw, timedForward{t0.Add(r.at).UnixNano(), r.forward()})
	}
	want, entries := referenceEntries(t, rules, fw)
	if len(want) == 0 {
		t.Fatal("the reference raises no flag")
	}
	s, err := newSenderStage(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fw {
		handle(t, s, f.f)
	}
	if st := s.senders.Get("s").Value; len(st.msgs) > 8 || st.floor < t0.UnixNano() {
		t.Fatalf("the cap did not act: %d messages, floor %d", len(st.msgs), st.floor)
	}
	missed := 0
	for seed := range 20 {
		flags, stages := shuffledStages(t, rules, fw, rand.New(rand.NewPCG(uint64(seed), 9)), 10*time.Minute, 0.3)
		got := flagKeys(flags)
		missed += len(want) - len(got)
		// Every count is a count over a subset of the records: never more
		// than the whole set's.
		for id, e := range heldEntries(stages[StreamSender].(*SenderStage)) {
			g, w := countsOf(e), countsOf(entries[id])
			if g.nBurst > w.nBurst || g.nConv > w.nConv || g.nCold > w.nCold || g.nColdLink > w.nColdLink || g.nColdWord > w.nColdWord || g.chars > w.chars {
				t.Fatalf("seed %d: message %s counts %+v, more than the whole set's %+v", seed, id, g, w)
			}
		}
		for _, k := range got {
			if _, ok := slices.BinarySearch(want, k); !ok {
				t.Fatalf("seed %d: flag %s that the whole set does not raise", seed, k)
			}
		}
	}
	t.Logf("%d flags in the whole set; over 20 orders the capped stage missed %d in all", len(want), missed)
}

const capRules = `
detector: spam
rules:
  - id: spam.score_low
    kind: tier
    category: spam
    severity: low
    description: t
    owner: t
    min_score: 1
    score: 0.3
    examples: [{text: x, expect: match}]
  - id: spam.score_medium
    kind: tier
    category: spam
    severity: medium
    description: t
    owner: t
    min_score: 3
    score: 0.6
    examples: [{text: x, expect: match}]
  - id: spam.behaviour
    kind: behaviour
    category: spam
    severity: low
    description: t
    owner: t
    window: 10m
    allowed_lateness: 10m
    max_messages: 8
    fanout: [{at: 3, weight: 1}, {at: 6, weight: 2}]
    cold_fanout: [{at: 3, weight: 1}]
    burst: {window: 1m, messages: 3, weight: 1}
    examples: [{text: x, expect: match}]
`

func TestHandleRejectsBadRecords(t *testing.T) {
	s, _ := traced(t, builtinRules(t))
	good := rec{id: "m", conv: "c", sender: "s", age: -1}.value()
	for name, c := range map[string]struct {
		key   string
		value []byte
	}{
		"empty":          {"s", nil},
		"version":        {"s", append([]byte{2}, good[1:]...)},
		"kind":           {"s", append([]byte{1, 9}, good[2:]...)},
		"print kind":     {"s", appendPrint(nil, &printRec[string]{msgID: "m", convID: "c", senderID: "s", sentAt: t0.UnixNano()})},
		"truncated":      {"s", good[:len(good)-1]},
		"trailing":       {"s", append(slices.Clone(good), 0)},
		"key":            {"other", good},
		"content key":    {"other", contentValue("m", "s", 0, 10, 0)},
		"unknown flag":   {"s", rec{id: "m", conv: "c", sender: "s", age: -1, flags: 1 << 12}.value()},
		"sent_at":        {"s", appendMessage(nil, &messageRec[string]{msgID: "m", convID: "c", senderID: "s", sentAt: 1, accountAge: -1})},
		"empty id":       {"s", appendMessage(nil, &messageRec[string]{msgID: "", convID: "c", senderID: "s", sentAt: t0.UnixNano(), accountAge: -1})},
		"account age":    {"s", appendMessage(nil, &messageRec[string]{msgID: "m", convID: "c", senderID: "s", sentAt: t0.UnixNano(), accountAge: -2})},
		"invalid utf-8":  {"s\xff", appendMessage(nil, &messageRec[string]{msgID: "m", convID: "c", senderID: "s\xff", sentAt: t0.UnixNano(), accountAge: -1})},
		"many hits":      {"s", appendMessage(nil, &messageRec[string]{msgID: "m", convID: "c", senderID: "s", sentAt: t0.UnixNano(), accountAge: -1, hits: make([]hitRec[string], maxHits+1)})},
		"too many recip": {"s", appendMessage(nil, &messageRec[string]{msgID: "m", convID: "c", senderID: "s", sentAt: t0.UnixNano(), accountAge: -1, recipients: slices.Repeat([]string{"r"}, maxRecipients+1)})},
	} {
		if _, err := s.Handle(c.key, c.value, nil); !errors.Is(err, ErrBadRecord) {
			t.Errorf("%s: error %v, want ErrBadRecord", name, err)
		}
	}
	if s.StateEntries() != 0 {
		t.Fatalf("bad records left %d entries", s.StateEntries())
	}
}

func TestSenderReloadKeepsMessages(t *testing.T) {
	rules := builtinRules(t)
	s, _ := traced(t, rules)
	var fw []detectors.Forward
	for i := range 6 {
		fw = append(fw, rec{id: fmt.Sprintf("m%d", i), conv: fmt.Sprintf("c%d", i), sender: "s", at: time.Duration(i) * time.Minute, age: time.Hour, links: 1, flags: flagCold | flagFirst, hits: []string{"spam.scam.prize"}}.forward())
	}
	first := handle(t, s, fw...)
	if len(first) == 0 {
		t.Fatal("no flags")
	}
	if err := s.Reload(rules); err != nil {
		t.Fatal(err)
	}
	if s.StateEntries() != 6 {
		t.Fatalf("%d entries after reload", s.StateEntries())
	}
	// The same records again raise nothing: the tiers remember by rule id.
	if again := handle(t, s, fw...); len(again) > 0 {
		t.Fatalf("after reload: %v", flagKeys(again))
	}
	// A rule set with a wider window counts again, and a new message still
	// flags.
	wider := strings.Replace(capRules, "window: 10m", "window: 2h", 1)
	if err := s.Reload(rulesFrom(t, wider)); err != nil {
		t.Fatal(err)
	}
	if got := s.senders.Get("s").Value.msgs[0].nConv; got != 6 {
		t.Fatalf("after reload with a wider window: %d conversations", got)
	}
	if err := s.Reload(rulesFrom(t, "detector: spam\nrules:\n  - id: spam.x\n    kind: tier\n    category: spam\n    severity: medium\n    description: t\n    owner: t\n    score: 2\n    min_score: 1\n    examples: [{text: x, expect: match}]\n")); err == nil {
		t.Fatal("Reload accepted an invalid rule set")
	}
}

func TestEvidenceIsBounded(t *testing.T) {
	src := &source{id: "spam.x", name: "x"}
	var c []contrib
	for i := range 60 {
		c = append(c, contrib{src, fmt.Sprintf("a_rather_long_rule_name_number_%02d", i), 1500})
	}
	e := evidence(c, false, 90000)
	if len(e) > detectors.MaxEvidenceBytes || !strings.HasSuffix(e, "; … = 90.0") || !strings.HasPrefix(e, "a_rather_long_rule_name_number_00 +1.5; ") {
		t.Fatalf("%d bytes: %q", len(e), e)
	}
	if got := evidence(c[:2], false, 3000); got != "a_rather_long_rule_name_number_00 +1.5; a_rather_long_rule_name_number_01 +1.5 = 3.0" {
		t.Fatalf("%q", got)
	}
	shadow := &source{id: "spam.y", name: "y", shadow: true}
	c2 := []contrib{{src, "a", 1000}, {shadow, "b", 250}}
	if got := evidence(c2, false, 1000); got != "a +1.0 = 1.0" {
		t.Errorf("live tier: %q", got)
	}
	if got := evidence(c2, true, 1250); got != "a +1.0; b +0.25 (shadow) = 1.25" {
		t.Errorf("shadow tier: %q", got)
	}
}

// TestTrustCapsBehaviour: fan-out to 40 conversations in a burst scores
// past medium from an account of unknown age, and stays below it from an
// established account or to known contacts, unless the messages carry
// scam wording or a suspicious link.
func TestTrustCapsBehaviour(t *testing.T) {
	for _, tc := range []struct {
		name   string
		age    time.Duration
		flags  uint16
		hits   []string
		links  int
		want   bool // flagged at medium or above
		capped bool // the trusted_sender term is in the score
	}{
		{name: "unknown age, strangers", age: -1, flags: flagFirst | flagCold, want: true},
		{name: "new account, strangers", age: 2 * time.Hour, flags: flagFirst | flagCold, want: true},
		{name: "established account, strangers", age: 90 * 24 * time.Hour, flags: flagFirst | flagCold, capped: true},
		{name: "unknown age, known contacts", age: -1, flags: flagFirst, capped: true},
		{name: "new account, known contacts", age: 2 * time.Hour, flags: flagFirst, want: true},
		{name: "established account, scam wording", age: 90 * 24 * time.Hour, flags: flagFirst | flagCold, hits: []string{"spam.scam.prize"}, want: true},
		{name: "established account, shortened link", age: 90 * 24 * time.Hour, flags: flagFirst | flagCold | flagShortener, links: 1, want: true},
		// The Bayes model's guess is not scam wording: it adds within the cap.
		{name: "established account, Bayes band", age: 90 * 24 * time.Hour, flags: flagFirst | flagCold, hits: []string{"spam.bayes/bayes_99"}, capped: true},
		{name: "new account, Bayes band", age: 2 * time.Hour, flags: flagFirst | flagCold, hits: []string{"spam.bayes/bayes_99"}, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, last := traced(t, builtinRules(t))
			var fw []detectors.Forward
			for i := range 40 {
				fw = append(fw, rec{id: fmt.Sprintf("m%d", i), conv: fmt.Sprintf("c%d", i), sender: "s", at: time.Duration(i) * time.Second,
					age: tc.age, flags: tc.flags, hits: tc.hits, links: tc.links, runes: 200}.forward())
			}
			flags := handle(t, s, fw...)
			for i := range 40 {
				fw := []detectors.Forward{{Stream: StreamSender, Key: "s", Value: contentValue(fmt.Sprintf("m%d", i), "s", time.Duration(i)*time.Second, 50, 1)}}
				flags = append(flags, handle(t, s, fw...)...)
			}
			if got := len(flags) > 0; got != tc.want {
				t.Errorf("flagged %v (%v), want %v; last terms %v", got, flagKeys(flags), tc.want, last["m39"])
			}
			if got := slices.Contains(last["m39"], "trusted_sender"); got != tc.capped {
				t.Errorf("trusted_sender in the score: %v, want %v (%v)", got, tc.capped, last["m39"])
			}
		})
	}
}

// A campaign whose pitch one content rule reads in one message and the
// rest paraphrase: the sender's other cold messages within the window count
// the conversations with wording, and the message with wording does not
// count its own. The Bayes model's guess is not wording, and a message to a
// known contact is not cold.
func TestColdWordingFanout(t *testing.T) {
	s, last := traced(t, builtinRules(t))
	fw := []detectors.Forward{
		rec{id: "pitch", conv: "c0", sender: "s", at: 0, age: -1, flags: flagFirst | flagCold, hits: []string{"spam.scam.prize"}}.forward(),
		rec{id: "para1", conv: "c1", sender: "s", at: time.Minute, age: -1, flags: flagFirst | flagCold}.forward(),
		rec{id: "para2", conv: "c2", sender: "s", at: 2 * time.Minute, age: -1, flags: flagFirst | flagCold}.forward(),
		rec{id: "known", conv: "c3", sender: "s", at: 3 * time.Minute, age: -1, flags: flagFirst}.forward(),
		rec{id: "other", conv: "c5", sender: "t", at: time.Minute, age: -1, flags: flagFirst | flagCold}.forward(),
	}
	handle(t, s, fw...)
	has := func(id, name string) bool { return slices.Contains(last[id], name) }
	for _, id := range []string{"para1", "para2", "known"} {
		if !has(id, "cold_wording_fanout_1") {
			t.Errorf("%s: %v, want cold_wording_fanout_1", id, last[id])
		}
	}
	if slices.ContainsFunc(last["pitch"], func(n string) bool { return strings.HasPrefix(n, "cold_wording_fanout") }) {
		t.Errorf("pitch: %v, want no cold_wording_fanout (only its own conversation has wording)", last["pitch"])
	}
	// Three more conversations with wording reach the next level.
	for i := range 3 {
		handle(t, s, rec{id: fmt.Sprintf("w%d", i), conv: fmt.Sprintf("w%d", i), sender: "s", at: time.Duration(10+i) * time.Minute, age: -1,
			flags: flagFirst | flagCold, hits: []string{"spam.scam.prize"}}.forward())
	}
	if !has("para1", "cold_wording_fanout_3") {
		t.Errorf("para1: %v, want cold_wording_fanout_3", last["para1"])
	}
	handle(t, s, rec{id: "late", conv: "c4", sender: "s", at: 5 * time.Hour, age: -1, flags: flagFirst | flagCold}.forward())
	for _, id := range []string{"late", "other"} {
		if slices.ContainsFunc(last[id], func(n string) bool { return strings.HasPrefix(n, "cold_wording_fanout") }) {
			t.Errorf("%s: %v, want no cold_wording_fanout (outside the window, another sender)", id, last[id])
		}
	}
}
