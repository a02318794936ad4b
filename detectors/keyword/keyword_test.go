package keyword

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
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

// loadSet loads rule files (name → YAML) as the only keyword rules, without
// the built-in ones, through the generic loader. Examples are not run.
func loadSet(files map[string]string) (*detectors.RuleSet, error) {
	f := Factory()
	f.Rules = nil
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return detectors.LoadRules([]detectors.Factory{f}, fsys)
}

// loadRules is loadSet of one file named test.yaml, returning the rules
// that run; it fails the test on an error.
func loadRules(t testing.TB, src string) []*detectors.Rule {
	t.Helper()
	set, err := loadSet(map[string]string{"test.yaml": src})
	if err != nil {
		t.Fatal(err)
	}
	return set.For(Name)
}

// builtinRules returns the built-in keyword rules.
func builtinRules(t testing.TB) []*detectors.Rule {
	t.Helper()
	set, err := detectors.LoadRules([]detectors.Factory{Factory()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set.For(Name)
}

func newDetector(t testing.TB, rules []*detectors.Rule) *Detector {
	t.Helper()
	d, err := New(rules)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func defaultDetector(t testing.TB) *Detector {
	t.Helper()
	return newDetector(t, builtinRules(t))
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

// TestBuiltinRules checks the built-in rules as the pipeline loads them:
// every example of every rule behaves as stated (detectors.CheckExamples),
// and the rule set has what the rest of Goshawk relies on.
func TestBuiltinRules(t *testing.T) {
	set, err := detectors.LoadCheckedRules([]detectors.Factory{Factory()}, nil)
	if err != nil {
		t.Fatalf("built-in rules: %v", err)
	}
	rules := set.For(Name)
	d := newDetector(t, rules)
	if len(d.rs.rules) < 10 {
		t.Fatalf("only %d phrase rules", len(d.rs.rules))
	}
	for _, r := range rules {
		// The grooming phrases are superseded by the conversation-level
		// grooming detector and kept in shadow for comparison.
		want := detectors.Live
		if r.Category == detectors.Grooming {
			want = detectors.Shadow
		}
		if r.Mode != want || !strings.HasPrefix(r.Owner, "safety-") || r.Version == "" {
			t.Errorf("rule %s: mode %s, owner %q, version %q; want %s, a safety team, a version", r.ID, r.Mode, r.Owner, r.Version, want)
		}
	}
	actionable := map[detectors.Category]int{}
	for _, r := range d.rs.rules {
		if r.Severity.Rank() >= detectors.Medium.Rank() {
			actionable[r.Category]++
		}
	}
	// Harassment belongs to the harassment detector (detectors/harassment),
	// which supersedes the lexicon's harassment rules and its escalation.
	for _, c := range []detectors.Category{detectors.Grooming, detectors.Spam} {
		if actionable[c] == 0 {
			t.Errorf("no rule of category %s at medium severity or above", c)
		}
	}
	if actionable[detectors.Harassment] != 0 || len(d.rs.escalations) != 0 {
		t.Errorf("%d harassment rules and escalations %+v in the built-in keyword rules; the harassment detector owns them",
			actionable[detectors.Harassment], d.rs.escalations)
	}
}

// TestMatchExampleSpans runs every single-text match example of the
// built-in phrase rules: the finding's span must cut a phrase out of the
// text, in the rule's category (CheckExamples checks only that it fires).
func TestMatchExampleSpans(t *testing.T) {
	rules := builtinRules(t)
	for _, r := range rules {
		for _, ex := range r.Examples {
			if !ex.Match || len(ex.Messages) != 1 {
				continue
			}
			text := ex.Messages[0].Text
			f, ok := withRule(inspect(newDetector(t, rules), text), r.ID)
			if !ok {
				t.Errorf("%s: example %q: no finding", ex.Source, text)
				continue
			}
			if f.Category != r.Category || f.Start < 0 || f.End > len(text) || f.Start >= f.End {
				t.Errorf("%s: example %q: finding %+v", ex.Source, text, f)
			}
		}
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
		{"c.l.a.i.m your prize", "", ""}, // a known miss: spelled out (the text layer reads it)
		{"claimyourprize123", "", ""},
		{"don't tell your mommy", "", ""},
		{"orbit.lyrics", "", ""},
		{"CLAIM YOUR PRIZE!!!", "spam.prize", "CLAIM YOUR PRIZE"},
		{"Go CLAIM   your prize.", "spam.prize", "CLAIM   your prize"},
		{"ñandú — claim now", "spam.prize", "claim now"},
		{"ArE yOu HoMe AlOnE", "grooming.isolation_probe", "ArE yOu HoMe AlOnE"},
		{"are, you... home alone", "grooming.isolation_probe", "are, you... home alone"}, // punctuation between words is ignored
		{"Don’t tell your mom", "grooming.secrecy", "Don’t tell your mom"},
		{"dont tell your mom", "grooming.secrecy", "dont tell your mom"},
		{"ok so... DON'T TELL YOUR PARENTS!", "grooming.secrecy", "DON'T TELL YOUR PARENTS"},
		{"go to bit.ly/3xYz now", "spam.link_shortener", "bit.ly"},
		{"r u home alone", "grooming.isolation_probe", "r u home alone"},
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
	d := newDetector(t, loadRules(t, `detector: keyword
rules:
  - id: spam.money
    category: spam
    severity: high
    score: 0.8
    description: asking for money
    owner: test
    phrases: [send money, wire the money]
    unless_after: [don't, do not, never]
    examples: [{text: send money now, expect: match}, {text: never send money, expect: no_match}]
`))
	for _, text := range []string{"don't send money to strangers", "do not send money", "never send money lol", "dont send money yet", "I don't care, never wire the money"} {
		if fs := inspect(d, text); len(fs) != 0 {
			t.Errorf("%q: found %+v, want nothing", text, fs)
		}
	}
	// Only the cancelled occurrence is skipped: a later one still counts.
	const text = "don't send money. jk send money"
	fs := inspect(d, text)
	if f, ok := withRule(fs, "spam.money"); !ok || f.Start != strings.LastIndex(text, "send") {
		t.Errorf("second occurrence not found: %+v", fs)
	}
	// The cue must come right before the phrase.
	if _, ok := withRule(inspect(d, "I don't care, send money"), "spam.money"); !ok {
		t.Error("a cue two words before the phrase cancelled it")
	}
}

func TestQuotedMatchesAreLow(t *testing.T) {
	d := defaultDetector(t)
	tests := []struct {
		text, rule string
		severity   detectors.Severity
	}{
		{`my aunt got a text saying "claim your prize" lol`, "spam.prize", detectors.Low},
		{`she said 'this is our little secret' to Sam, so weird`, "grooming.secrecy", detectors.Low},
		{`he wrote “don't tell your parents” under my post`, "grooming.secrecy", detectors.Low},
		{`'cause claim your prize`, "spam.prize", detectors.High}, // unclosed quote: not quoted
		{`"ok" claim your prize`, "spam.prize", detectors.High},   // quote closed before the match
		{`the boys' room, claim your prize`, "spam.prize", detectors.High},
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
		var rule phraseRule
		for _, r := range d.rs.rules {
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
	text := "claim now. claim now! CLAIM NOW, are you home alone"
	fs := inspect(d, text)
	n := 0
	for _, f := range fs {
		if f.Rule == "spam.prize" {
			n++
			if f.Start != 0 {
				t.Errorf("first match at %d, want 0", f.Start)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d prize findings, want 1: %+v", n, fs)
	}
	if _, ok := withRule(fs, "grooming.isolation_probe"); !ok {
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

// escalationSrc is a small rules file for escalation tests: a medium and a
// low harassment rule, a spam rule, and an escalation with the given
// number of messages, window and cap.
func escalationSrc(messages int, window string, maxEntries int) string {
	return fmt.Sprintf(`detector: keyword
rules:
  - id: harassment.escalation
    kind: escalation
    category: harassment
    severity: high
    score: 0.9
    description: repeated harassment
    owner: test
    min_severity: medium
    messages: %d
    window: %s
    allowed_lateness: 5m
    max_entries: %d
    examples:
      - conversation: [{from: a, text: nobody likes you}, {from: a, text: nobody likes you}, {from: a, text: nobody likes you}]
        expect: match
      - {text: nobody likes you, expect: no_match}
`, messages, window, maxEntries) + phraseRulesSrc
}

// phraseRulesSrc are the phrase rules of escalationSrc.
const phraseRulesSrc = `  - id: harassment.degrading
    category: harassment
    severity: medium
    score: 0.6
    description: degrading
    owner: test
    phrases: [nobody likes you, you're worthless]
    examples: [{text: nobody likes you, expect: match}, {text: nobody likes mondays, expect: no_match}]
  - id: harassment.insult
    category: harassment
    severity: low
    score: 0.3
    description: insult
    owner: test
    phrases: [you idiot]
    examples: [{text: you idiot, expect: match}, {text: idiot, expect: no_match}]
  - id: spam.prize
    category: spam
    severity: high
    score: 0.8
    description: prize
    owner: test
    phrases: [claim your prize]
    examples: [{text: claim your prize, expect: match}, {text: prize, expect: no_match}]
`

// escalationRules returns the rules of escalationSrc with three messages in
// ten minutes and the given cap.
func escalationRules(t testing.TB, maxEntries int) []*detectors.Rule {
	t.Helper()
	return loadRules(t, escalationSrc(3, "10m", maxEntries))
}

// TestEscalationFixture checks that the test rules themselves hold: their
// examples pass.
func TestEscalationFixture(t *testing.T) {
	f := Factory()
	f.Rules = nil
	set, err := detectors.LoadCheckedRules([]detectors.Factory{f}, fstest.MapFS{"test.yaml": {Data: []byte(escalationSrc(3, "10m", 1000))}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.For(Name)); n != 4 {
		t.Fatalf("%d rules, want 4", n)
	}
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
			d := newDetector(t, escalationRules(t, 1000))
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
	d := newDetector(t, escalationRules(t, capacity))
	for i := range 1000 {
		d.Inspect(msg(fmt.Sprint("c", i), "a", t0.Add(time.Duration(i)*time.Millisecond), "nobody likes you"), nil)
		if n := d.esc[0].len(); n > capacity {
			t.Fatalf("after %d conversations: %d entries, cap %d", i+1, n, capacity)
		}
	}
	if n := d.esc[0].len(); n != capacity {
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
	d := newDetector(t, escalationRules(t, 3))
	send := func(conv string, at time.Duration) []detectors.Finding {
		return d.Inspect(msg(conv, "a", t0.Add(at), "nobody likes you"), nil)
	}
	send("A", 0)
	send("B", time.Second)
	send("C", 2*time.Second)
	send("A", 3*time.Second) // A is now the most recently used; B the least
	send("D", 4*time.Second) // evicts B
	for _, key := range []string{"A\x00a", "C\x00a", "D\x00a"} {
		if d.esc[0].entries.Get(key) == nil {
			t.Errorf("entry %q evicted", key)
		}
	}
	if d.esc[0].entries.Get("B\x00a") != nil {
		t.Error("least recently used entry B kept")
	}
	// A kept its history: its third message escalates.
	if _, ok := withRule(send("A", 5*time.Second), escalationRule); !ok {
		t.Error("A's history was lost")
	}
}

func TestEscalationDropsIdleEntries(t *testing.T) {
	d := newDetector(t, escalationRules(t, 1000))
	for i := range 10 {
		d.Inspect(msg(fmt.Sprint("c", i), "a", t0, "nobody likes you"), nil)
	}
	if n := d.esc[0].len(); n != 10 {
		t.Fatalf("%d entries, want 10", n)
	}
	// Within the window plus the allowed lateness (10m + 5m) nothing is
	// idle.
	d.Inspect(msg("x", "b", t0.Add(15*time.Minute), "hello"), nil)
	if n := d.esc[0].len(); n != 10 {
		t.Fatalf("%d entries within window and lateness, want 10", n)
	}
	// Later messages, harmful or not, drop idle entries a few at a time,
	// by event time, and never the active one.
	later := t0.Add(15*time.Minute + time.Millisecond)
	d.Inspect(msg("x", "b", later, "nobody likes you"), nil)
	want := 10 - idleEvictionsPerMessage + 1
	if n := d.esc[0].len(); n != want {
		t.Fatalf("%d entries after one later message, want %d", n, want)
	}
	for range 5 {
		d.Inspect(msg("x", "b", later, "hello"), nil)
	}
	if n := d.esc[0].len(); n != 1 || d.esc[0].entries.Get("x\x00b") == nil {
		t.Fatalf("%d entries, want only the active one", n)
	}
}

func TestEscalationFutureTimestampEvictsLittle(t *testing.T) {
	d := newDetector(t, escalationRules(t, 1000))
	for i := range 50 {
		d.Inspect(msg(fmt.Sprint("c", i), "a", t0, "nobody likes you"), nil)
	}
	d.Inspect(msg("x", "b", t0.AddDate(50, 0, 0), "hello"), nil)
	if n := d.esc[0].len(); n != 50-idleEvictionsPerMessage {
		t.Fatalf("%d entries after one far-future message, want %d", n, 50-idleEvictionsPerMessage)
	}
}

// TestReloadKeepsEscalationState sends insults before and after a Reload:
// the escalation state survives, under the reloaded configuration.
func TestReloadKeepsEscalationState(t *testing.T) {
	const bad = "nobody likes you"
	type send struct {
		conv      string
		at        time.Duration // after t0
		escalates bool
	}
	tests := []struct {
		name   string
		before []send
		reload string // the rules file reloaded between before and after
		after  []send
	}{
		{"same rules", []send{{"c", 0, false}, {"c", time.Minute, false}},
			escalationSrc(3, "10m", 1000),
			[]send{{"c", 2 * time.Minute, true}}},
		{"another rule edited", []send{{"c", 0, false}, {"c", time.Minute, false}},
			strings.Replace(escalationSrc(3, "10m", 1000), "[you idiot]", "[you idiot, you muppet]", 1),
			[]send{{"c", 2 * time.Minute, true}}},
		{"longer window keeps the entries", []send{{"c", 0, false}, {"c", time.Minute, false}},
			escalationSrc(3, "1h", 1000),
			[]send{{"c", 30 * time.Minute, true}}}, // 30m: a fresh state or the old 10m window would not escalate
		{"shorter window applies at once", []send{{"c", 0, false}, {"c", time.Minute, false}},
			escalationSrc(3, "90s", 1000),
			[]send{{"c", 2 * time.Minute, false}, {"c", 2*time.Minute + 30*time.Second, true}}}, // 1m, 2m, 2m30s within 90s
		{"fewer messages", []send{{"c", 0, false}},
			escalationSrc(2, "10m", 1000),
			[]send{{"c", time.Minute, true}}},
		{"more messages keep the history", []send{{"c", 0, false}, {"c", time.Minute, false}},
			escalationSrc(4, "10m", 1000),
			[]send{{"c", 2 * time.Minute, false}, {"c", 3 * time.Minute, true}}},
		{"smaller cap keeps the most recently used", []send{{"A", 0, false}, {"A", time.Second, false}, {"B", 2 * time.Second, false}, {"B", 3 * time.Second, false}},
			escalationSrc(3, "10m", 1),
			[]send{{"B", 4 * time.Second, true}, {"A", 5 * time.Second, false}}}, // B kept, A dropped
		{"renamed escalation starts afresh", []send{{"c", 0, false}, {"c", time.Minute, false}},
			strings.Replace(escalationSrc(3, "10m", 1000), "id: harassment.escalation", "id: harassment.escalation_v2", 1),
			[]send{{"c", 2 * time.Minute, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDetector(t, escalationRules(t, 1000))
			check := func(phase string, s send) {
				t.Helper()
				found := d.Inspect(msg(s.conv, "a", t0.Add(s.at), bad), nil)
				got := slices.ContainsFunc(found, func(f detectors.Finding) bool { return strings.HasPrefix(f.Rule, escalationRule) })
				if got != s.escalates {
					t.Fatalf("%s: message in %s at +%s: escalation %v, want %v; findings %+v", phase, s.conv, s.at, got, s.escalates, found)
				}
			}
			for _, s := range tt.before {
				check("before reload", s)
			}
			if err := d.Reload(loadRules(t, tt.reload)); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.after {
				check("after reload", s)
			}
		})
	}
}

// TestReloadRemovesEscalation drops the state of an escalation rule that is
// no longer there: when it comes back it starts afresh.
func TestReloadRemovesEscalation(t *testing.T) {
	d := newDetector(t, escalationRules(t, 1000))
	for k := range 2 {
		d.Inspect(msg("c", "a", t0.Add(time.Duration(k)*time.Minute), "nobody likes you"), nil)
	}
	if err := d.Reload(loadRules(t, "detector: keyword\nrules:\n"+phraseRulesSrc)); err != nil {
		t.Fatal(err)
	}
	if len(d.esc) != 0 {
		t.Fatalf("%d escalation states without an escalation rule", len(d.esc))
	}
	if err := d.Reload(escalationRules(t, 1000)); err != nil {
		t.Fatal(err)
	}
	if _, ok := withRule(d.Inspect(msg("c", "a", t0.Add(2*time.Minute), "nobody likes you"), nil), escalationRule); ok {
		t.Fatal("escalated on state from before the rule was removed")
	}
}

// TestReloadFailureChangesNothing reloads invalid rules: the error names
// the field, and the old rules and state stay.
func TestReloadFailureChangesNothing(t *testing.T) {
	d := newDetector(t, escalationRules(t, 1000))
	for k := range 2 {
		d.Inspect(msg("c", "a", t0.Add(time.Duration(k)*time.Minute), "nobody likes you"), nil)
	}
	broken := strings.Replace(escalationSrc(3, "10m", 1), "score: 0.8", "score: 8", 1) // and a cap of 1
	err := d.Reload(loadRules(t, broken))
	if err == nil || !strings.Contains(err.Error(), "test.yaml:") || !strings.Contains(err.Error(), "field score") {
		t.Fatalf("Reload error %v, want one naming test.yaml and the score field", err)
	}
	if d.esc[0].cfg.MaxEntries != 1000 {
		t.Fatalf("a failed reload applied its cap %d", d.esc[0].cfg.MaxEntries)
	}
	if _, ok := withRule(d.Inspect(msg("c", "a", t0.Add(2*time.Minute), "nobody likes you"), nil), escalationRule); !ok {
		t.Fatal("state lost by a failed reload")
	}
}

// TestEngineReloadKeepsEscalationState is the reload through the engine, as
// the pipeline does it: the third insult after a reload still escalates,
// and its flag carries the new rule set's version of the rule.
func TestEngineReloadKeepsEscalationState(t *testing.T) {
	f := Factory()
	f.Rules = nil
	set1, err := loadSet(map[string]string{"test.yaml": escalationSrc(3, "10m", 1000)})
	if err != nil {
		t.Fatal(err)
	}
	set2, err := loadSet(map[string]string{"test.yaml": escalationSrc(3, "15m", 1000)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.NewEngine([]detectors.Factory{f}, set1, detectors.EngineOptions{Clock: detectors.EventTime})
	if err != nil {
		t.Fatal(err)
	}
	for k := range 2 {
		e.Inspect(msg("c", "a", t0.Add(time.Duration(k)*time.Minute), "nobody likes you"), nil, nil)
	}
	if err := e.Reload(set2); err != nil {
		t.Fatal(err)
	}
	var esc *detectors.Flag
	for _, fl := range e.Inspect(msg("c", "a", t0.Add(2*time.Minute), "nobody likes you"), nil, nil) {
		if fl.Rule == escalationRule {
			esc = &fl
		}
	}
	r2, _ := set2.Lookup(Name, escalationRule)
	r1, _ := set1.Lookup(Name, escalationRule)
	switch {
	case esc == nil:
		t.Fatal("no escalation after the engine reloaded")
	case r1.Version == r2.Version:
		t.Fatal("test bug: the escalation rule has the same version in both sets")
	case esc.RuleVersion != r2.Version || esc.Mode != detectors.Live:
		t.Errorf("escalation flag version %q mode %q, want %q live", esc.RuleVersion, esc.Mode, r2.Version)
	}
}

// TestShadowRules: a shadow rule finds exactly what it would live (the
// engine marks its flags), but a live escalation does not count it.
func TestShadowRules(t *testing.T) {
	live := escalationSrc(3, "10m", 1000)
	shadowDegrading := strings.Replace(live, "description: degrading\n", "description: degrading\n    mode: shadow\n", 1)
	shadowBoth := strings.Replace(shadowDegrading, "description: repeated harassment\n", "description: repeated harassment\n    mode: shadow\n", 1)
	if shadowDegrading == live || shadowBoth == shadowDegrading {
		t.Fatal("test bug: mode not inserted")
	}
	f := Factory()
	f.Rules = nil
	run := func(src string) (findings []detectors.Finding, flags []detectors.Flag) {
		t.Helper()
		set, err := loadSet(map[string]string{"test.yaml": src})
		if err != nil {
			t.Fatal(err)
		}
		d := newDetector(t, set.For(Name))
		e, err := detectors.NewEngine([]detectors.Factory{f}, set, detectors.EngineOptions{Clock: detectors.EventTime})
		if err != nil {
			t.Fatal(err)
		}
		for k := range 3 {
			m := msg("c", "a", t0.Add(time.Duration(k)*time.Minute), "nobody likes you")
			findings = d.Inspect(m, findings)
			flags = e.Inspect(m, flags, nil)
		}
		return findings, flags
	}
	mode := func(flags []detectors.Flag, rule string) (modes []detectors.Mode) {
		for _, fl := range flags {
			if fl.Rule == rule {
				modes = append(modes, fl.Mode)
			}
		}
		return modes
	}
	liveFindings, _ := run(live)
	shadowFindings, shadowFlags := run(shadowDegrading)
	// The degrading findings are the same; only the escalation differs.
	var liveDegrading, shadowDegradingFindings []detectors.Finding
	for _, fd := range liveFindings {
		if fd.Rule == "harassment.degrading" {
			liveDegrading = append(liveDegrading, fd)
		}
	}
	for _, fd := range shadowFindings {
		if fd.Rule == "harassment.degrading" {
			shadowDegradingFindings = append(shadowDegradingFindings, fd)
		}
	}
	if len(liveDegrading) != 3 || !slices.Equal(liveDegrading, shadowDegradingFindings) {
		t.Errorf("shadow findings %+v differ from live %+v", shadowDegradingFindings, liveDegrading)
	}
	if got := mode(shadowFlags, "harassment.degrading"); !slices.Equal(got, []detectors.Mode{detectors.Shadow, detectors.Shadow, detectors.Shadow}) {
		t.Errorf("shadow rule flags have modes %v", got)
	}
	if _, ok := withRule(liveFindings, escalationRule); !ok {
		t.Error("live escalation over a live rule did not fire")
	}
	if _, ok := withRule(shadowFindings, escalationRule); ok {
		t.Error("a live escalation counted a shadow rule's matches")
	}
	// A shadow escalation counts shadow rules, and its flag is shadow.
	_, flags := run(shadowBoth)
	if got := mode(flags, escalationRule); !slices.Equal(got, []detectors.Mode{detectors.Shadow}) {
		t.Errorf("shadow escalation over a shadow rule: flags with modes %v, want one shadow", got)
	}
}

// TestLiveAndShadowEscalations runs two escalation rules side by side, each
// with its own configuration and state.
func TestLiveAndShadowEscalations(t *testing.T) {
	src := escalationSrc(3, "10m", 1000) + `  - id: harassment.escalation_v2
    kind: escalation
    category: harassment
    severity: high
    score: 0.9
    description: repeated harassment, within a minute
    owner: test
    mode: shadow
    replaces: harassment.escalation
    min_severity: medium
    messages: 3
    window: 1m
    allowed_lateness: 5m
    max_entries: 10
    examples:
      - conversation: [{from: a, text: nobody likes you, after: 1s}, {from: a, text: nobody likes you, after: 1s}, {from: a, text: nobody likes you, after: 1s}]
        expect: match
      - {text: nobody likes you, expect: no_match}
`
	d := newDetector(t, loadRules(t, src))
	if len(d.esc) != 2 {
		t.Fatalf("%d escalation states, want 2", len(d.esc))
	}
	var found []detectors.Finding
	for _, at := range []time.Duration{0, 3 * time.Minute, 6 * time.Minute} {
		found = d.Inspect(msg("c", "a", t0.Add(at), "nobody likes you"), nil)
	}
	if _, ok := withRule(found, escalationRule); !ok {
		t.Error("the 10m escalation did not fire on three messages in 6m")
	}
	if _, ok := withRule(found, "harassment.escalation_v2"); ok {
		t.Error("the 1m escalation fired on three messages in 6m")
	}
}
