package keyword

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

var t0 = time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)

func msg(conv, sender string, at time.Time, text string) *event.Message {
	return &event.Message{
		MessageID:      fmt.Sprintf("%s-%s-%d", conv, sender, at.UnixNano()),
		ConversationID: conv,
		SentAt:         at,
		Sender:         event.Participant{ID: sender},
		Recipients:     []event.Participant{{ID: "someone"}},
		Text:           text,
	}
}

func defaultDetector(t testing.TB) *Detector {
	t.Helper()
	rs, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	return NewDetector(rs)
}

func inspect(d *Detector, text string) []detectors.Finding {
	return d.Inspect(msg("c", "s", t0, text), nil)
}

func withRule(fs []detectors.Finding, rule string) (detectors.Finding, bool) {
	for _, f := range fs {
		if f.Rule == rule {
			return f, true
		}
	}
	return detectors.Finding{}, false
}

// TestRuleExamples runs every example of every rule in rules.yaml through
// the detector: each match example raises its rule, with a span that cuts a
// phrase out of the text; no no_match example raises it.
func TestRuleExamples(t *testing.T) {
	rs, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	rules := rs.Rules()
	if len(rules) < 10 {
		t.Fatalf("only %d rules", len(rules))
	}
	for _, r := range rules {
		t.Run(r.ID, func(t *testing.T) {
			if len(r.Match) == 0 || len(r.NoMatch) == 0 {
				t.Fatal("rule without examples loaded")
			}
			for _, ex := range r.Match {
				f, ok := withRule(inspect(NewDetector(rs), ex), r.ID)
				if !ok {
					t.Errorf("match example %q: no %s finding", ex, r.ID)
					continue
				}
				if f.Category != r.Category || f.Start < 0 || f.End > len(ex) || f.Start >= f.End {
					t.Errorf("match example %q: finding %+v", ex, f)
				}
			}
			for _, ex := range r.NoMatch {
				if f, ok := withRule(inspect(NewDetector(rs), ex), r.ID); ok {
					t.Errorf("no_match example %q raised %s at %q", ex, r.ID, ex[f.Start:f.End])
				}
			}
		})
	}
}

func TestDefaultRulesCoverEveryCategory(t *testing.T) {
	rs, err := DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	actionable := map[detectors.Category]int{}
	for _, r := range rs.Rules() {
		if r.Severity.Rank() >= detectors.Medium.Rank() {
			actionable[r.Category]++
		}
	}
	for _, c := range detectors.Categories {
		if actionable[c] == 0 {
			t.Errorf("no rule of category %s at medium severity or above", c)
		}
	}
	e, ok := rs.Escalation()
	if !ok || e.Messages != 3 || e.Window != 10*time.Minute || e.Severity != detectors.High || e.Category != detectors.Harassment || e.MaxEntries != 100_000 ||
		e.AllowedLateness != 24*time.Hour {
		t.Errorf("escalation = %+v, %v; want 3 harassment messages in 10m → high, 100000 entries", e, ok)
	}
}

func TestWordBoundaries(t *testing.T) {
	d := defaultDetector(t)
	tests := []struct {
		text  string
		rule  string // "" when nothing at all may be found
		match string // text[Start:End] of the rule's finding
	}{
		{"I live in Scunthorpe", "", ""},
		{"our class assassin game starts Monday", "", ""},
		{"that skill tree is so good", "", ""},
		{"I'm going to kill it at my interview", "", ""},
		{"have you seen my keys?", "", ""},
		{"k.y.s", "", ""}, // a known miss: spelled out
		{"kys123", "", ""},
		{"don't tell your mommy", "", ""},
		{"orbit.lyrics", "", ""},
		{"KYS!!!", "harassment.self_harm_incitement", "KYS"},
		{"Go KILL   yourself.", "harassment.self_harm_incitement", "KILL   yourself"},
		{"ñandú — kys", "harassment.self_harm_incitement", "kys"},
		{"NoBoDy LiKeS yOu", "harassment.degrading", "NoBoDy LiKeS yOu"},
		{"nobody, likes... you", "harassment.degrading", "nobody, likes... you"}, // punctuation between words is ignored
		{"Don’t tell your mom", "grooming.secrecy", "Don’t tell your mom"},
		{"dont tell your mom", "grooming.secrecy", "dont tell your mom"},
		{"ok so... DON'T TELL YOUR PARENTS!", "grooming.secrecy", "DON'T TELL YOUR PARENTS"},
		{"go to bit.ly/3xYz now", "spam.link_shortener", "bit.ly"},
		{"r u home alone", "grooming.isolation_probe", "r u home alone"},
		{"I don't care, kill yourself", "harassment.self_harm_incitement", "kill yourself"},
	}
	for _, tt := range tests {
		fs := inspect(d, tt.text)
		if tt.rule == "" {
			if len(fs) != 0 {
				t.Errorf("%q: found %+v, want nothing", tt.text, fs)
			}
			continue
		}
		f, ok := withRule(fs, tt.rule)
		if !ok {
			t.Errorf("%q: no %s finding in %+v", tt.text, tt.rule, fs)
			continue
		}
		if got := tt.text[f.Start:f.End]; got != tt.match {
			t.Errorf("%q: %s matched %q, want %q", tt.text, tt.rule, got, tt.match)
		}
	}
}

func TestUnlessAfter(t *testing.T) {
	d := defaultDetector(t)
	for _, text := range []string{"don't kill yourself over one exam", "do not kill yourself", "never kys lol", "dont kill yourself studying"} {
		if fs := inspect(d, text); len(fs) != 0 {
			t.Errorf("%q: found %+v, want nothing", text, fs)
		}
	}
	// Only the cancelled occurrence is skipped: a later one still counts.
	fs := inspect(d, "don't kill yourself. jk kill yourself")
	if f, ok := withRule(fs, "harassment.self_harm_incitement"); !ok || f.Start != strings.LastIndex("don't kill yourself. jk kill yourself", "kill") {
		t.Errorf("second occurrence not found: %+v", fs)
	}
}

func TestQuotedMatchesAreLow(t *testing.T) {
	d := defaultDetector(t)
	rs, _ := DefaultRules()
	tests := []struct {
		text, rule string
		severity   detectors.Severity
	}{
		{`my brother said "kys" to me so mum took his phone`, "harassment.self_harm_incitement", detectors.Low},
		{`she said 'nobody likes you' to Sam, so mean`, "harassment.degrading", detectors.Low},
		{`he wrote “I know where you live” under my post`, "harassment.threat", detectors.Low},
		{`'cause nobody likes you`, "harassment.degrading", detectors.Medium}, // unclosed quote: not quoted
		{`"ok" nobody likes you`, "harassment.degrading", detectors.Medium},   // quote closed before the match
		{`the boys' room, nobody likes you`, "harassment.degrading", detectors.Medium},
	}
	for _, tt := range tests {
		f, ok := withRule(inspect(d, tt.text), tt.rule)
		if !ok {
			t.Errorf("%q: no %s finding", tt.text, tt.rule)
			continue
		}
		if f.Severity != tt.severity {
			t.Errorf("%q: severity %s, want %s", tt.text, f.Severity, tt.severity)
		}
		var rule Rule
		for _, r := range rs.Rules() {
			if r.ID == tt.rule {
				rule = r
			}
		}
		if tt.severity == detectors.Low && f.Score != rule.Score/2 {
			t.Errorf("%q: quoted score %g, want half of %g", tt.text, f.Score, rule.Score)
		}
	}
}

func TestOneFindingPerRule(t *testing.T) {
	d := defaultDetector(t)
	text := "kys. kys! KYS, nobody likes you"
	fs := inspect(d, text)
	n := 0
	for _, f := range fs {
		if f.Rule == "harassment.self_harm_incitement" {
			n++
			if f.Start != 0 {
				t.Errorf("first match at %d, want 0", f.Start)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d self-harm findings, want 1: %+v", n, fs)
	}
	if _, ok := withRule(fs, "harassment.degrading"); !ok {
		t.Errorf("second rule not reported: %+v", fs)
	}
	// Inspect appends: earlier findings in out are kept.
	prior := []detectors.Finding{{Rule: "other"}}
	if out := d.Inspect(msg("c2", "s", t0, text), prior); len(out) != len(fs)+1 || out[0].Rule != "other" {
		t.Errorf("Inspect did not append to out: %+v", out)
	}
}

// TestTrickyBenignTexts lists benign texts that share words with harmful
// ones. None may raise a finding of medium severity or above.
func TestTrickyBenignTexts(t *testing.T) {
	d := defaultDetector(t)
	for _, text := range []string{
		"I'm going to kill it at my interview tomorrow",
		"I live in Scunthorpe, it's near Hull",
		"this deadline is killing me",
		"that boss is killing me",
		"I finally killed the boss",
		"I'm gonna destroy you next round",
		"don't tell mum, it's a surprise party for her",
		"can you send me a pic of the homework?",
		"I'm home alone tonight, want to come over and watch a film?",
		"I'll find you at the entrance",
		"how old is your dog now?",
		"oh snap I forgot my charger",
		"watch the back door, the cat keeps escaping",
		"we had a little secret santa at work",
		"keep this between us but I'm handing in my notice",
		"you're such an idiot lol",
		"I spent all my vbucks lol",
		"my aunt got a text saying \"claim your prize\" lol, such an obvious scam",
		"my brother said \"kys\" to me so mum took his phone",
		"don't kill yourself over one exam lol",
		"Essex is lovely this time of year",
		"¿vienes mañana?", "まじで？", "",
	} {
		for _, f := range inspect(d, text) {
			if f.Severity.Rank() >= detectors.Medium.Rank() {
				t.Errorf("%q raised %s %s at %q", text, f.Severity, f.Rule, text[f.Start:f.End])
			}
		}
	}
}

// escalationRules is a small rules file for escalation tests: one medium
// and one low harassment rule, and an escalation with the given cap.
func escalationRules(t testing.TB, maxEntries int) *Ruleset {
	t.Helper()
	src := fmt.Sprintf(`
version: 1
escalation:
  id: harassment.escalation
  category: harassment
  severity: high
  score: 0.9
  description: repeated harassment
  min_severity: medium
  messages: 3
  window: 10m
  allowed_lateness: 5m
  max_entries: %d
rules:
  - id: harassment.degrading
    category: harassment
    severity: medium
    score: 0.6
    description: degrading
    phrases: [nobody likes you, you're worthless]
    examples: {match: [nobody likes you], no_match: [nobody likes mondays]}
  - id: harassment.insult
    category: harassment
    severity: low
    score: 0.3
    description: insult
    phrases: [you idiot]
    examples: {match: [you idiot], no_match: [idiot]}
  - id: spam.prize
    category: spam
    severity: high
    score: 0.8
    description: prize
    phrases: [claim your prize]
    examples: {match: [claim your prize], no_match: [prize]}
`, maxEntries)
	rs, err := Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

const escalationRule = "harassment.escalation"

func TestEscalation(t *testing.T) {
	type m struct {
		conv, sender string
		at           time.Duration // after t0
		text         string
		escalates    bool
	}
	const bad = "nobody likes you"
	tests := []struct {
		name string
		msgs []m
	}{
		{"three in ten minutes", []m{
			{"c", "a", 0, bad, false},
			{"c", "a", 3 * time.Minute, bad, false},
			{"c", "a", 6 * time.Minute, "you're worthless", true},
			{"c", "a", 7 * time.Minute, bad, true}, // still three or more in the window
		}},
		{"spread over an hour", []m{
			{"c", "a", 0, bad, false},
			{"c", "a", 30 * time.Minute, bad, false},
			{"c", "a", 60 * time.Minute, bad, false},
		}},
		{"window edge inclusive", []m{
			{"c", "a", 0, bad, false},
			{"c", "a", 5 * time.Minute, bad, false},
			{"c", "a", 10 * time.Minute, bad, true},
		}},
		{"window edge exceeded", []m{
			{"c", "a", 0, bad, false},
			{"c", "a", 5 * time.Minute, bad, false},
			{"c", "a", 10*time.Minute + time.Millisecond, bad, false},
		}},
		{"benign messages in between do not count", []m{
			{"c", "a", 0, bad, false},
			{"c", "a", time.Minute, "sorry", false},
			{"c", "a", 2 * time.Minute, "hello?", false},
			{"c", "a", 3 * time.Minute, bad, false},
		}},
		{"different senders", []m{
			{"c", "a", 0, bad, false},
			{"c", "b", time.Minute, bad, false},
			{"c", "a", 2 * time.Minute, bad, false},
		}},
		{"different conversations", []m{
			{"c1", "a", 0, bad, false},
			{"c2", "a", time.Minute, bad, false},
			{"c1", "a", 2 * time.Minute, bad, false},
		}},
		{"low severity does not count", []m{
			{"c", "a", 0, "you idiot", false},
			{"c", "a", time.Minute, "you idiot", false},
			{"c", "a", 2 * time.Minute, "you idiot", false},
		}},
		{"quoted does not count", []m{
			{"c", "a", 0, `she said "nobody likes you"`, false},
			{"c", "a", time.Minute, `she said "nobody likes you"`, false},
			{"c", "a", 2 * time.Minute, `she said "nobody likes you"`, false},
		}},
		{"other categories do not count", []m{
			{"c", "a", 0, "claim your prize", false},
			{"c", "a", time.Minute, "claim your prize", false},
			{"c", "a", 2 * time.Minute, "claim your prize", false},
		}},
		{"a burst after a quiet hour starts over", []m{
			{"c", "a", 0, bad, false},
			{"c", "a", time.Minute, bad, false},
			{"c", "a", 70 * time.Minute, bad, false},
			{"c", "a", 71 * time.Minute, bad, false},
			{"c", "a", 72 * time.Minute, bad, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDetector(escalationRules(t, 1000))
			for i, mm := range tt.msgs {
				fs := d.Inspect(msg(mm.conv, mm.sender, t0.Add(mm.at), mm.text), nil)
				f, got := withRule(fs, escalationRule)
				if got != mm.escalates {
					t.Fatalf("message %d (%s from %s at +%s): escalation %v, want %v; findings %+v", i, mm.conv, mm.sender, mm.at, got, mm.escalates, fs)
				}
				if got {
					if f.Severity != detectors.High || f.Category != detectors.Harassment || f.Evidence == "" ||
						mm.text[f.Start:f.End] == "" {
						t.Fatalf("escalation finding %+v", f)
					}
				}
			}
		})
	}
}

func TestEscalationStateBounded(t *testing.T) {
	const capacity = 10
	d := NewDetector(escalationRules(t, capacity))
	for i := range 1000 {
		d.Inspect(msg(fmt.Sprint("c", i), "a", t0.Add(time.Duration(i)*time.Millisecond), "nobody likes you"), nil)
		if n := d.esc.len(); n > capacity {
			t.Fatalf("after %d conversations: %d entries, cap %d", i+1, n, capacity)
		}
	}
	if n := d.esc.len(); n != capacity {
		t.Fatalf("%d entries, want the cap %d", n, capacity)
	}
	// The state still works at the cap: a fresh burst escalates.
	var got bool
	for k := range 3 {
		_, got = withRule(d.Inspect(msg("new", "a", t0.Add(time.Second+time.Duration(k)*time.Second), "nobody likes you"), nil), escalationRule)
	}
	if !got {
		t.Fatal("no escalation for a burst in a full state")
	}
}

func TestEscalationEvictsLeastRecentlyUsed(t *testing.T) {
	d := NewDetector(escalationRules(t, 3))
	send := func(conv string, at time.Duration) []detectors.Finding {
		return d.Inspect(msg(conv, "a", t0.Add(at), "nobody likes you"), nil)
	}
	send("A", 0)
	send("B", time.Second)
	send("C", 2*time.Second)
	send("A", 3*time.Second) // A is now the most recently used; B the least
	send("D", 4*time.Second) // evicts B
	for _, key := range []string{"A\x00a", "C\x00a", "D\x00a"} {
		if d.esc.entries[key] == nil {
			t.Errorf("entry %q evicted", key)
		}
	}
	if d.esc.entries["B\x00a"] != nil {
		t.Error("least recently used entry B kept")
	}
	// A kept its history: its third message escalates.
	if _, ok := withRule(send("A", 5*time.Second), escalationRule); !ok {
		t.Error("A's history was lost")
	}
}

func TestEscalationDropsIdleEntries(t *testing.T) {
	d := NewDetector(escalationRules(t, 1000))
	for i := range 10 {
		d.Inspect(msg(fmt.Sprint("c", i), "a", t0, "nobody likes you"), nil)
	}
	if n := d.esc.len(); n != 10 {
		t.Fatalf("%d entries, want 10", n)
	}
	// Within the window plus the allowed lateness (10m + 5m) nothing is
	// idle.
	d.Inspect(msg("x", "b", t0.Add(15*time.Minute), "hello"), nil)
	if n := d.esc.len(); n != 10 {
		t.Fatalf("%d entries within window and lateness, want 10", n)
	}
	// Later messages, harmful or not, drop idle entries a few at a time,
	// by event time, and never the active one.
	later := t0.Add(15*time.Minute + time.Millisecond)
	d.Inspect(msg("x", "b", later, "nobody likes you"), nil)
	want := 10 - idleEvictionsPerMessage + 1
	if n := d.esc.len(); n != want {
		t.Fatalf("%d entries after one later message, want %d", n, want)
	}
	for range 5 {
		d.Inspect(msg("x", "b", later, "hello"), nil)
	}
	if n := d.esc.len(); n != 1 || d.esc.entries["x\x00b"] == nil {
		t.Fatalf("%d entries, want only the active one", n)
	}
}

func TestEscalationFutureTimestampEvictsLittle(t *testing.T) {
	d := NewDetector(escalationRules(t, 1000))
	for i := range 50 {
		d.Inspect(msg(fmt.Sprint("c", i), "a", t0, "nobody likes you"), nil)
	}
	d.Inspect(msg("x", "b", t0.AddDate(50, 0, 0), "hello"), nil)
	if n := d.esc.len(); n != 50-idleEvictionsPerMessage {
		t.Fatalf("%d entries after one far-future message, want %d", n, 50-idleEvictionsPerMessage)
	}
}

func TestFactory(t *testing.T) {
	f := Factory()
	if f.Name != "keyword" || f.New == nil || f.Description == "" {
		t.Fatalf("Factory() = %+v", f)
	}
	if _, err := detectors.NewRegistry(f); err != nil {
		t.Fatal(err)
	}
	d, err := f.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "keyword" {
		t.Fatalf("Name() = %q", d.Name())
	}
	// Instances do not share escalation state.
	d2, _ := f.New(nil)
	for k := range 3 {
		d.Inspect(msg("c", "a", t0.Add(time.Duration(k)*time.Second), "nobody likes you"), nil)
	}
	if n := d2.(*Detector).esc.len(); n != 0 {
		t.Fatalf("a second instance sees %d entries of the first", n)
	}
}
