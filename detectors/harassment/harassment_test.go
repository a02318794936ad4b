package harassment_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/detectortest"
	"github.com/goshawk-safety/goshawk/detectors/harassment"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

var (
	builtinOnce sync.Once
	builtinSet  *detectors.RuleSet
	builtinErr  error
)

// builtin returns the built-in rules, loaded and checked (every example
// run) once for the whole test binary.
func builtin(t testing.TB) *detectors.RuleSet {
	t.Helper()
	builtinOnce.Do(func() {
		builtinSet, builtinErr = detectors.LoadCheckedRules([]detectors.Factory{harassment.Factory()}, nil)
	})
	if builtinErr != nil {
		t.Fatalf("built-in rules: %v", builtinErr)
	}
	return builtinSet
}

func newDetector(t testing.TB) *harassment.Detector {
	t.Helper()
	d, err := harassment.New(builtin(t).For(harassment.Name))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var t0 = detectors.ExampleStart

// one returns a message from a to b alone in its own conversation.
func one(text string) *event.Message {
	return &event.Message{MessageID: "m", ConversationID: "c-" + text, SentAt: t0, Sender: event.Participant{ID: "a"},
		Recipients: []event.Participant{{ID: "b"}}, Text: text}
}

// TestBuiltinRules checks the built-in rules as the pipeline loads them
// (every example of every rule behaves as stated), and what the rest of
// Goshawk relies on: every rule live, owned by a safety team, versioned;
// every area of the issue covered at its severity.
func TestBuiltinRules(t *testing.T) {
	set := builtin(t)
	want := map[string]detectors.Severity{
		"harassment.self_harm":      detectors.Critical,
		"harassment.sextortion":     detectors.Critical,
		"harassment.threat":         detectors.High,
		"harassment.slur":           detectors.High,
		"harassment.hate":           detectors.High,
		"harassment.sexual_demand":  detectors.High,
		"harassment.doxxing":        detectors.High,
		"harassment.exposure":       detectors.High,
		"harassment.threat_knows":   detectors.High,
		"harassment.escalation":     detectors.High,
		"harassment.insult":         detectors.Medium,
		"harassment.degrading":      detectors.Medium,
		"harassment.sexual_comment": detectors.Medium,
		"harassment.profanity":      detectors.Low,
	}
	rules := set.For(harassment.Name)
	got := map[string]detectors.Severity{}
	for _, r := range rules {
		got[r.ID] = r.Severity
		if r.Mode != detectors.Live || r.Owner != "safety-harassment" || r.Version == "" || r.Category != detectors.Harassment {
			t.Errorf("rule %s: mode %s, owner %q, version %q, category %s", r.ID, r.Mode, r.Owner, r.Version, r.Category)
		}
		if !slices.ContainsFunc(r.Examples, func(e detectors.Example) bool { return !e.Match }) {
			t.Errorf("rule %s has no no_match example", r.ID)
		}
	}
	for id, sev := range want {
		if got[id] != sev {
			t.Errorf("rule %s: severity %q, want %s", id, got[id], sev)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rules %v, want %v", got, want)
	}
}

// TestExampleSpans runs every one-message match example of the built-in
// rules: the finding's offsets must cut what matched out of the original
// text (CheckExamples checks only that the rule fires).
func TestExampleSpans(t *testing.T) {
	for _, r := range builtin(t).For(harassment.Name) {
		for _, ex := range r.Examples {
			if !ex.Match || len(ex.Messages) != 1 {
				continue
			}
			text := ex.Messages[0].Text
			var found *detectors.Finding
			for _, f := range newDetector(t).Inspect(one(text), nil) {
				if f.Rule == r.ID {
					found = &f
				}
			}
			if found == nil {
				t.Errorf("%s: %q: no finding", ex.Source, text)
				continue
			}
			if found.Start < 0 || found.End > len(text) || found.Start >= found.End {
				t.Errorf("%s: %q: offsets %d..%d", ex.Source, text, found.Start, found.End)
			}
		}
	}
}

// find returns the finding of rule in fs.
func find(fs []detectors.Finding, rule string) (detectors.Finding, bool) {
	for _, f := range fs {
		if f.Rule == rule {
			return f, true
		}
	}
	return detectors.Finding{}, false
}

// TestTargeting: an insult counts when it is aimed at the reader, and the
// finding shows the frame that aims it, as the sender typed it.
func TestTargeting(t *testing.T) {
	d := newDetector(t)
	tests := []struct {
		text     string
		severity detectors.Severity // "" for no insult finding
		span     string
	}{
		{"you're such a loser", detectors.Medium, "you're such a loser"},
		{"You Are A Fucking Idiot!!", detectors.Medium, "You Are A Fucking Idiot"},
		{"u r a loser", detectors.Medium, "u r a loser"},
		{"you're a l o s e r", detectors.Medium, "you're a l o s e r"}, // the article joined to the spelled-out word
		{"ur so dumb", detectors.Medium, "ur so dumb"},
		{"ur dumb", detectors.Medium, "ur dumb"},
		{"ur dumb idea lol", "", ""}, // "ur" is "your" here
		{"shut up, loser", detectors.Medium, "shut up, loser"},
		{"bye loser", detectors.Medium, "bye loser"},
		{"ok stupid question", "", ""},
		{"your mom is a cow", detectors.Medium, "your mom is a cow"},
		{"losers like you", detectors.Medium, "losers like you"},
		{"stop being such an idiot", detectors.Medium, "stop being such an idiot"},
		{"you stupid fat pig", detectors.Medium, "you stupid fat pig"},
		{"ugly bitch.", detectors.Medium, "ugly bitch"}, // a sentence of insults only
		{"pathetic", "", ""}, // one word alone is as often about something else
		{"you're not stupid", "", ""},
		{"I don't think you're an idiot", "", ""},
		{"I'm so stupid", "", ""},
		{"he's such an idiot", "", ""},
		{"you know that idiot from class?", "", ""},
		{"Are you ok? Idiot driver almost hit me", "", ""}, // another sentence
		{"see you\nidiot driver almost hit me", "", ""},    // another line
		{"you're such an idiot lol", detectors.Low, "you're such an idiot"},
		{"you idiot 😂", detectors.Low, "you idiot"},
		{"you stupid fat pig lol", detectors.Medium, "you stupid fat pig"},   // piling on is not banter
		{"lol ur so ugly, nobody likes you", detectors.Medium, "ur so ugly"}, // nor is insult plus exclusion
		{"you idiot lol. seriously, you idiot", detectors.Low, "you idiot"},  // the same joke twice is still a joke
		{`he said "you're worthless" to me`, detectors.Low, "you're worthless"},
		{"you're trash at this game", detectors.Low, "you're trash"},
		{"y\u200bo\u200bu're a l0\u200bser", detectors.Medium, "y\u200bo\u200bu're a l0\u200bser"},
		{"уоu'rе а lоsеr", detectors.Medium, "уоu'rе а lоsеr"},
	}
	for _, tt := range tests {
		f, ok := find(d.Inspect(one(tt.text), nil), "harassment.insult")
		switch {
		case tt.severity == "" && ok:
			t.Errorf("%q: insult %s at %q, want none", tt.text, f.Severity, tt.text[f.Start:f.End])
		case tt.severity == "":
		case !ok:
			t.Errorf("%q: no insult finding, want %s", tt.text, tt.severity)
		case f.Severity != tt.severity || tt.text[f.Start:f.End] != tt.span:
			t.Errorf("%q: %s at %q, want %s at %q", tt.text, f.Severity, tt.text[f.Start:f.End], tt.severity, tt.span)
		}
	}
}

// TestHardNegatives lists texts that share words with harassment and that
// must not be flagged at medium or above. Each kind the issue names is
// here; the corpus has more.
func TestHardNegatives(t *testing.T) {
	d := newDetector(t)
	for _, text := range []string{
		// idioms
		"I'm going to kill it at my interview tomorrow", "killing it today", "I'd die for pizza", "this slaps",
		"you're killing me 😂", "my mum is going to kill me", "you'll kill yourself laughing", "I could murder a burger",
		// gaming and sports
		"kill him, he's one shot", "I'm going to destroy you in ranked", "I'll kill you in fortnite", "we destroyed them 5-0",
		"the ref is an idiot", "I'm gonna kill you next round", "you're trash at this game",
		// self-deprecation
		"I'm so stupid", "I'm such a loser lol", "I hate myself for that", "am I ugly?",
		// banter
		"you're such an idiot lol", "shut up loser 😂", "omg you're so dumb hahaha", "you weirdo lmao", "I hate you lol",
		// counter-speech
		"calling people idiots isn't ok", "telling someone to kys is never ok", "you're not worthless, ignore them",
		"nobody thinks you're a loser", "don't kill yourself over one exam", "never send nudes to strangers",
		// reported speech, a victim asking for help
		`he said "kys" to me, what do I do`, "she keeps calling me a loser", `someone wrote “I know where you live” under my post`,
		"he told me to kys and everyone laughed", "this guy keeps asking me to send nudes, what should I do",
		// names and words with offensive substrings
		"I live in Scunthorpe", "our class assassin game", "Dick Van Dyke was brilliant", "the cocktail bar",
		"niggardly is an old word", "the therapist is great", "Penistone Road", "shiitake", "Sussex and Middlesex",
		// everyday
		"my address is 42 Elm Street, come round at 6", "I'll find you at the entrance", "stop I can't breathe 😂",
		"you're a legend", "take your coat off", "send me the pics from the party", "thanks for your kind words",
	} {
		for _, f := range d.Inspect(one(text), nil) {
			if f.Severity.Rank() >= detectors.Medium.Rank() {
				t.Errorf("%q: %s %s at %q", text, f.Rule, f.Severity, text[f.Start:f.End])
			}
		}
	}
}

// TestEvidenceShowsOriginal: replay and the stream cut evidence from the
// original text, so it shows the sender's characters (zero-width spaces,
// look-alike letters, leetspeak), not the normal form.
func TestEvidenceShowsOriginal(t *testing.T) {
	for _, tt := range []struct{ text, rule, want string }{
		{"ok so K\u200bY\u200bS", "harassment.self_harm", "K\u200bY\u200bS"},
		{"lol kуs", "harassment.self_harm", "kуs"}, // Cyrillic у
		{"just k . y . s", "harassment.self_harm", "k . y . s"},
		{"ｋｉｌｌ ｙｏｕｒｓｅｌｆ", "harassment.self_harm", "ｋｉｌｌ ｙｏｕｒｓｅｌｆ"},
		{"i kn0w wh3re u l1ve", "harassment.threat_knows", "i kn0w wh3re u l1ve"},
		{"ur a f*cking l00000ser", "harassment.insult", "ur a f*cking l00000ser"},
	} {
		flags := detectortest.Run(t, harassment.Factory(), builtin(t), detectortest.Conversation("c", detectortest.Msg{From: "a", Text: tt.text}))
		var got *detectors.Flag
		for _, f := range flags {
			if f.Rule == tt.rule {
				got = &f
			}
		}
		if got == nil {
			t.Errorf("%q: no %s flag in %+v", tt.text, tt.rule, flags)
			continue
		}
		if !strings.Contains(got.Evidence, tt.want) || got.Detector != harassment.Name {
			t.Errorf("%q: evidence %q does not show %q", tt.text, got.Evidence, tt.want)
		}
	}
}

// TestDoxxing: an address or a phone number with an intent to expose or
// threaten; either alone is not enough.
func TestDoxxing(t *testing.T) {
	d := newDetector(t)
	for _, tt := range []struct {
		text string
		want bool
	}{
		{"I know where you live. 42 Elm Street", true},
		{"found your address: 9 Mill Lane, pay you a visit", true},
		{"dox time: 221B Baker Street", true},
		{"everyone knows where you live now: SW1A 1AA", true},
		{"spam this number 07700 900123", true},
		{"spam this number", false},
		{"the party is at 42 Elm Street", false},
		{"call me on +44 7700 900123", false},
		{"spam this number 12.03.2026", false}, // a date is not a phone number
	} {
		_, got := find(d.Inspect(one(tt.text), nil), "harassment.doxxing")
		if got != tt.want {
			t.Errorf("%q: doxxing %v, want %v", tt.text, got, tt.want)
		}
	}
}

// TestOneFindingPerRule: a rule reports its highest-graded match once.
func TestOneFindingPerRule(t *testing.T) {
	d := newDetector(t)
	text := `"you're an idiot", he said. Well you're an idiot too, idiot`
	var insults []detectors.Finding
	for _, f := range d.Inspect(one(text), nil) {
		if f.Rule == "harassment.insult" {
			insults = append(insults, f)
		}
	}
	if len(insults) != 1 || insults[0].Severity != detectors.Medium || text[insults[0].Start:insults[0].End] != "you're an idiot" || insults[0].Start < 20 {
		t.Errorf("insult findings %+v, want one, medium, on the unquoted one", insults)
	}
	prior := []detectors.Finding{{Rule: "other"}}
	if out := d.Inspect(one("kys"), prior); len(out) != 2 || out[0].Rule != "other" {
		t.Errorf("Inspect did not append to out: %+v", out)
	}
}

func msg(from string, text string, after time.Duration) detectortest.Msg {
	return detectortest.Msg{From: from, Text: text, After: after}
}

// TestEscalation runs conversations through the engine as the pipeline
// does, and checks which message raises the escalation.
func TestEscalation(t *testing.T) {
	const esc = "harassment.escalation"
	tests := []struct {
		name string
		msgs []detectortest.Msg
		at   []int // messages (1-based) that raise it
	}{
		{"three insults in the hour", []detectortest.Msg{
			msg("a", "you're a loser", 0), msg("a", "nobody likes you", 20*time.Minute), msg("a", "ur pathetic", 20*time.Minute), msg("a", "freak", time.Minute),
		}, []int{3}},
		{"window edge inclusive", []detectortest.Msg{
			msg("a", "you're a loser", 0), msg("a", "you're a loser", 30*time.Minute), msg("a", "you're a loser", 30*time.Minute),
		}, []int{3}},
		{"window edge exceeded", []detectortest.Msg{
			msg("a", "you're a loser", 0), msg("a", "you're a loser", 30*time.Minute), msg("a", "you're a loser", 30*time.Minute+time.Second),
		}, nil},
		{"low findings do not count", []detectortest.Msg{
			msg("a", "you idiot lol", 0), msg("a", "fuck this", time.Minute), msg("a", `he said "kys"`, time.Minute),
		}, nil},
		{"each sender on their own", []detectortest.Msg{
			msg("a", "you're a loser", 0), msg("b", "you're a loser", time.Minute), msg("a", "you're a loser", time.Minute), msg("b", "you're a loser", time.Minute),
		}, nil},
		{"kept messaging after stop", []detectortest.Msg{
			msg("a", "hey", 0), msg("b", "please stop messaging me", time.Minute),
			msg("a", "why", time.Minute), msg("a", "answer me", time.Minute), msg("a", "hello?", time.Minute), msg("a", "ok", time.Hour),
		}, []int{5}},
		{"a whole-message stop", []detectortest.Msg{
			msg("a", "you're a loser", 0), msg("b", "just stop.", time.Minute), msg("a", "make me", time.Minute), msg("a", "lol", time.Minute),
		}, []int{4}},
		{"stop in a longer message is not a stop request", []detectortest.Msg{
			msg("a", "look at this", 0), msg("b", "stop sending memes at work haha", time.Minute),
			msg("a", "one more", time.Minute), msg("a", "last one", time.Minute), msg("a", "promise", time.Minute),
		}, nil},
		{"stop request expires", []detectortest.Msg{
			msg("a", "hey", 0), msg("b", "leave me alone", time.Minute),
			msg("a", "hi again", 25*time.Hour), msg("a", "how are you", time.Minute), msg("a", "miss you", time.Minute),
		}, nil},
		{"unanswered run", append(repeat("a", "hello?", 11, time.Minute), msg("a", "answer me", time.Minute)), []int{12}},
		{"an answer resets the run", append(append(repeat("a", "hello?", 9, time.Minute), msg("b", "busy, later", time.Minute)), repeat("a", "ok", 9, time.Minute)...), nil},
		{"unanswered but slow", repeat("a", "hello?", 14, 10*time.Minute), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := detectortest.Run(t, harassment.Factory(), builtin(t), detectortest.Conversation("c", tt.msgs...))
			var at []int
			for _, f := range flags {
				if f.Rule == esc {
					var n int
					fmt.Sscanf(f.MessageID[strings.LastIndex(f.MessageID, "-m")+2:], "%d", &n)
					at = append(at, n)
					if f.Severity != detectors.High || !strings.Contains(f.Evidence, "at least 3 messages") {
						t.Errorf("escalation flag %+v", f)
					}
				}
			}
			if len(at) == 0 || len(tt.at) == 0 {
				if len(at) != len(tt.at) {
					t.Errorf("escalation on messages %v, want %v", at, tt.at)
				}
				return
			}
			if at[0] != tt.at[0] {
				t.Errorf("escalation on messages %v, want from %v", at, tt.at)
			}
		})
	}
}

func repeat(from, text string, n int, gap time.Duration) []detectortest.Msg {
	out := make([]detectortest.Msg, n)
	for i := range out {
		out[i] = msg(from, text, gap)
	}
	return out
}

// escalationOnly is a rules file of the escalation rule with a small state
// cap and the given window, over one insult rule.
func escalationOnly(window string, maxEntries int) string {
	return fmt.Sprintf(`detector: harassment
rules:
  - id: harassment.insult
    category: harassment
    severity: medium
    score: 0.6
    target: second_person
    description: insults
    owner: test
    terms: [loser]
    examples: [{text: "you loser", expect: match}, {text: "the loser pays", expect: no_match}]
  - id: harassment.escalation
    kind: escalation
    category: harassment
    severity: high
    score: 0.9
    description: repeated
    owner: test
    min_severity: medium
    messages: 3
    window: %s
    stop_messages: [stop]
    stop_window: 1h
    unanswered: 5
    allowed_lateness: 1h
    max_entries: %d
    examples:
      - conversation: [{from: a, text: you loser}, {from: a, text: you loser}, {from: a, text: you loser}]
        expect: match
      - {text: you loser, expect: no_match}
`, window, maxEntries)
}

func loadOnly(t testing.TB, src string) *detectors.RuleSet {
	t.Helper()
	f := harassment.Factory()
	f.Rules = nil
	return detectortest.Rules(t, f, map[string]string{"test.yaml": src})
}

// TestReloadKeepsState: the engine switches rules between two messages, and
// the escalation counts survive under the new configuration; the flag
// carries the new version of the rule.
func TestReloadKeepsState(t *testing.T) {
	f := harassment.Factory()
	f.Rules = nil
	set1, set2 := loadOnly(t, escalationOnly("10m", 100)), loadOnly(t, escalationOnly("15m", 100))
	e, err := detectors.NewEngine([]detectors.Factory{f}, set1, detectors.EngineOptions{Clock: detectors.EventTime})
	if err != nil {
		t.Fatal(err)
	}
	msgs := detectortest.Conversation("c", msg("a", "you loser", 0), msg("a", "you loser", 6*time.Minute), msg("a", "you loser", 6*time.Minute))
	e.Inspect(msgs[0], nil, nil)
	e.Inspect(msgs[1], nil, nil)
	if err := e.Reload(set2); err != nil {
		t.Fatal(err)
	}
	var esc *detectors.Flag
	for _, fl := range e.Inspect(msgs[2], nil, nil) {
		if fl.Rule == "harassment.escalation" {
			esc = &fl
		}
	}
	r2, _ := set2.Lookup(harassment.Name, "harassment.escalation")
	switch {
	case esc == nil:
		t.Fatal("no escalation after the reload: the counts were lost (or the new 15m window was not applied)")
	case esc.RuleVersion != r2.Version:
		t.Errorf("escalation flag version %q, want %q", esc.RuleVersion, r2.Version)
	}
	// A reload to an invalid set changes nothing.
	d, err := harassment.New(set1.For(harassment.Name))
	if err != nil {
		t.Fatal(err)
	}
	bad := set1.For(harassment.Name)[:1] // the insult rule
	if err := d.Reload(append(bad, &detectors.Rule{Detector: "keyword", ID: "x"})); err == nil {
		t.Error("Reload accepted a rule of another detector")
	}
}

// TestStateBounded: the state never holds more than max_entries pairs, and
// pairs idle for longer than the windows plus the lateness are dropped.
func TestStateBounded(t *testing.T) {
	f := harassment.Factory()
	f.Rules = nil
	set := loadOnly(t, escalationOnly("10m", 50))
	d, err := f.New(set.For(harassment.Name))
	if err != nil {
		t.Fatal(err)
	}
	h := d.(*harassment.Detector)
	for i := range 1000 {
		m := &event.Message{MessageID: fmt.Sprint(i), ConversationID: fmt.Sprint("c", i), SentAt: t0.Add(time.Duration(i) * time.Second),
			Sender: event.Participant{ID: "a"}, Recipients: []event.Participant{{ID: "b"}}, Text: "hello"}
		h.Inspect(m, nil)
		if n := h.StateEntries(); n > 50 {
			t.Fatalf("%d entries after %d messages, cap 50", n, i+1)
		}
	}
	// Much later: idle entries go, a few per message.
	for i := range 20 {
		m := &event.Message{MessageID: "late", ConversationID: "late", SentAt: t0.Add(48*time.Hour + time.Duration(i)*time.Second),
			Sender: event.Participant{ID: "z"}, Recipients: []event.Participant{{ID: "y"}}, Text: "hi"}
		h.Inspect(m, nil)
	}
	if n := h.StateEntries(); n > 2 {
		t.Errorf("%d entries left after two idle days", n)
	}
}

// generated returns n valid messages of generated traffic.
func generated(t testing.TB, seed int64, n int) []*event.Message {
	t.Helper()
	g := generator.New(seed, generator.Options{})
	msgs := make([]*event.Message, n)
	for i := range msgs {
		m, err := event.Decode(g.Next().Value)
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = m
	}
	return msgs
}

type key struct{ msg, rule string }

func run(t testing.TB, msgs []*event.Message) map[key]detectors.Finding {
	d := newDetector(t)
	out := map[key]detectors.Finding{}
	var fs []detectors.Finding
	for _, m := range msgs {
		fs = d.Inspect(m, fs[:0])
		for _, f := range fs {
			out[key{m.MessageID, f.Rule}] = f
		}
	}
	return out
}

// TestStreamEqualsReplay: the pipeline shards conversations over workers,
// each with its own instance; the findings must be those of one instance
// that sees everything in order.
func TestStreamEqualsReplay(t *testing.T) {
	msgs := generated(t, 5, 6000)
	want := run(t, msgs)
	shards := make([][]*event.Message, 4)
	for _, m := range msgs {
		h := 0
		for _, c := range []byte(m.ConversationID) {
			h = h*31 + int(c)
		}
		shards[(h%4+4)%4] = append(shards[(h%4+4)%4], m)
	}
	got := map[key]detectors.Finding{}
	for _, s := range shards {
		for k, f := range run(t, s) {
			got[k] = f
		}
	}
	if len(got) != len(want) {
		t.Errorf("sharded: %d findings, in order: %d", len(got), len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%v: sharded %+v, in order %+v", k, g, w)
		}
	}
}

// TestRestartOnlyMisses: state is in memory, so a restart starts afresh.
// What a fresh instance finds from any point on must be what an instance
// that saw everything finds, except that conversation-level flags may be
// missing, never added or changed. The pipeline's restart tests rely on
// it (README, Known limits).
func TestRestartOnlyMisses(t *testing.T) {
	msgs := generated(t, 9, 4000)
	full := run(t, msgs)
	escalations := 0
	for k := range full {
		if k.rule == "harassment.escalation" {
			escalations++
		}
	}
	if escalations == 0 {
		t.Fatal("no escalation in the traffic: the test checks nothing")
	}
	for _, cut := range []int{1, 333, 500, 1234, 2000, 3001} {
		after := run(t, msgs[cut:])
		for k, f := range after {
			w, ok := full[k]
			if !ok || w != f {
				t.Errorf("cut at %d: %v: %+v after the restart, %+v without", cut, k, f, w)
			}
		}
		seen := map[string]bool{}
		for _, m := range msgs[cut:] {
			seen[m.MessageID] = true
		}
		for k, w := range full {
			if seen[k.msg] && k.rule != "harassment.escalation" {
				if _, ok := after[k]; !ok {
					t.Errorf("cut at %d: %v (%s) missing after the restart", cut, k, w.Severity)
				}
			}
		}
	}
}
