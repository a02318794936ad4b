package grooming_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/detectortest"
	"github.com/goshawk-safety/goshawk/detectors/grooming"
	"github.com/goshawk-safety/goshawk/event"
)

// Each stage rule on messages of its own (no ages known, so the stage
// findings are reported), in plain words and disguised, and its near
// misses.
func TestStageRules(t *testing.T) {
	for _, tc := range []struct {
		text string
		rule string // "" for none
	}{
		{"you're so pretty", "grooming.stage.compliment"},
		{"ur sooo cute", "grooming.stage.compliment"},
		{"Y O U R E  so pretty", "grooming.stage.compliment"}, // spelled out
		{"you're not so pretty today lol", ""},
		{"you're so mature for your age", "grooming.stage.special_bond"},
		{"@ge is just a numb3r", "grooming.stage.special_bond"},
		{"you're my special friend", "grooming.stage.special_bond"},
		{"how old r u", "grooming.stage.age_question"},
		{"h0w 0ld are y0u??", "grooming.stage.age_question"},
		{"how old is your sister", ""},
		{"what school do you go to", "grooming.stage.personal_info"},
		{"wh@t sch00l do u go to", "grooming.stage.personal_info"},
		{"are you home alone?", "grooming.stage.supervision"},
		{"r u h0me al0ne", "grooming.stage.supervision"},
		{"аrе yоu hоmе аlоnе", "grooming.stage.supervision"}, // Cyrillic look-alikes
		{"are\u200b you\u200b home\u200b alone", "grooming.stage.supervision"},
		{"I'm home alone", ""},
		{"want some r0bux?", "grooming.stage.gifts"},
		{"I can buy you v-bucks", "grooming.stage.gifts"},
		{"robux prices went up", ""},
		{"your parents are too strict", "grooming.stage.isolation"},
		{"nobody understands you like i do", "grooming.stage.isolation"},
		{"my parents are too strict", ""},
		{"don't tell your mom", "grooming.stage.secrecy"},
		{"d.o.n.t tell your mom", "grooming.stage.secrecy"},
		{"DONT TELL UR MOM", "grooming.stage.secrecy"},
		{"our little secret 🤫", "grooming.stage.secrecy"},
		{"don't tell your mom it's a surprise", ""},
		{"she said \"don't tell your mom\" to me", ""},
		{"add me on snap", "grooming.stage.platform_move"},
		{"add me on sn@pchat", "grooming.stage.platform_move"},
		{"call me on +44 7700 900123", "grooming.stage.platform_move"},
		{"write to me at sam@example.com", "grooming.stage.platform_move"},
		{"snap is down again", ""},
		{"send me a pic", "grooming.stage.photo_request"},
		{"s3nd me a p1c", "grooming.stage.photo_request"},
		{"turn ur camera on", "grooming.stage.photo_request"},
		{"send me a pic of the receipt", ""},
		{"send me a private pic", "grooming.stage.sexual"},
		{"have you ever kissed anyone", "grooming.stage.sexual"},
		{"what r u wearing rn", "grooming.stage.sexual"},
		{"what are you wearing to school tomorrow", ""},
		{"we should meet up", "grooming.stage.meeting"},
		{"i'll p1ck u up after school", "grooming.stage.meeting"},
		{"come over when your parents are out", "grooming.stage.meeting"},
		{"never meet up with strangers", ""},
	} {
		msgs := detectortest.Conversation("c", detectortest.Msg{From: "a", Text: tc.text})
		var got []string
		for _, f := range detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), msgs) {
			got = append(got, f.Rule)
			if f.Severity != detectors.Low {
				t.Errorf("%q: %s at %s, want low", tc.text, f.Rule, f.Severity)
			}
		}
		switch {
		case tc.rule == "" && len(got) > 0:
			t.Errorf("%q: %v, want nothing", tc.text, got)
		case tc.rule != "" && !slices.Contains(got, tc.rule):
			// A message may signal more than one stage ("come over when
			// your parents are out" is meeting and supervision).
			t.Errorf("%q: %v, want %s among them", tc.text, got, tc.rule)
		}
	}
}

// msgs builds a two-person conversation: the adult speaks on even turns
// unless the text starts with "kid:". after is the time between messages.
func twoPerson(adultAge, kidAge int, after time.Duration, texts ...string) []*event.Message {
	var in []detectortest.Msg
	for _, tx := range texts {
		m := detectortest.Msg{From: "adult", Age: adultAge, Text: tx, After: after}
		if k, ok := strings.CutPrefix(tx, "kid:"); ok {
			m = detectortest.Msg{From: "kid", Age: kidAge, Text: strings.TrimSpace(k), After: after}
		}
		in = append(in, m)
	}
	return detectortest.Conversation("c", in...)
}

// highest returns the highest severity of the tier and minor flags, and the
// message number of the first one.
func highest(flags []detectors.Flag) (detectors.Severity, string) {
	var sev detectors.Severity
	first := ""
	for _, f := range flags {
		if f.Severity.Rank() < detectors.Medium.Rank() {
			continue
		}
		if first == "" {
			first = f.MessageID[strings.LastIndex(f.MessageID, "-")+1:]
		}
		if f.Severity.Rank() > sev.Rank() {
			sev = f.Severity
		}
	}
	return sev, first
}

var trajectory = []string{
	"you're so mature for your age",
	"kid: lol thanks",
	"how old are you?",
	"kid: 13",
	"are you home alone right now?",
	"kid: yeah",
	"don't tell your mom we talk ok",
	"add me on snap, it's more private",
	"send me a pic of you",
	"I can pick you up after school",
}

// withAnswer is the trajectory with another answer to the age question.
func withAnswer(a string) []string {
	out := append([]string{}, trajectory...)
	out[3] = a
	return out
}

// The tiers: the same trajectory scores by the ages of the pair, who sends
// it, and what is known of the ages.
func TestTiers(t *testing.T) {
	for _, tc := range []struct {
		name           string
		adult, kid     int // declared ages, 0 for none
		texts          []string
		want           detectors.Severity // highest medium+ severity; "" for none
		firstBeforeMsg int                // the first medium+ flag comes before this message (0: no check)
	}{
		{"adult to minor, declared", 35, 13, trajectory, detectors.Critical, 10},
		{"adult to minor, 18 and 16 (close in age)", 18, 16, trajectory, detectors.Medium, 10},
		{"adults", 35, 33, withAnswer("kid: 33"), "", 0},
		{"teenagers of an age", 14, 13, trajectory, "", 0},
		{"no ages at all: the sequence alone, lower confidence", 0, 0, withAnswer("kid: why?"), detectors.Medium, 0},
		{"no declared ages, the kid says im 13", 0, 0, append([]string{"kid: im 13 lol"}, trajectory...), detectors.High, 0},
		{"unknown adult, declared minor", 0, 13, trajectory, detectors.High, 10},
		{"only the first two stages", 35, 13, trajectory[:4], "", 0},
		// Two distinct stages are enough with a large age gap, not between
		// teenagers.
		{"two stages, large age gap", 35, 13, []string{"your parents wouldn't understand us", "kid: ok", "add me on snap"}, detectors.Medium, 0},
		{"two stages, close in age", 17, 15, []string{"your parents wouldn't understand us", "kid: ok", "add me on snap"}, "", 0},
		// An adult who signed up as a minor and admits their age.
		{"declared 15, admits 27", 15, 13, []string{"keep this between us ok", "kid: ok", "send me a pic of you in your pyjamas",
			"kid: no", "ok truth is im 27", "kid: what", "i could pick you up after school"}, detectors.High, 0},
		{"declared 15, never admits", 15, 13, []string{"keep this between us ok", "kid: ok", "send me a pic of you in your pyjamas",
			"kid: no", "kid: what", "i could pick you up after school"}, "", 0},
		// The age comes after the signals: the sender's next message is read
		// against it.
		{"age stated after the signals", 0, 0, []string{"don't tell your mum about me", "kid: ok", "send me a pic of you in your pjs",
			"kid: why", "how old are you anyway", "kid: 12", "u there?"}, detectors.Medium, 8},
		// Family said before the first stage signal still damps.
		{"a parent, family said first", 41, 11, []string{"kid: hi mum", "are you home alone?", "kid: yes", "keep this between us, it's dad's present",
			"send me a pic of you with the cake", "I'll pick you up at 5"}, "", 0},
		{"the same without the family word", 41, 11, []string{"kid: hi", "are you home alone?", "kid: yes", "keep this between us, it's a present",
			"send me a pic of you with the cake", "I'll pick you up at 5"}, detectors.High, 0},
		// Parents in the loop damp; hiding something from them, or hiding
		// the relationship itself, takes the damping away (family still
		// damps secrecy from a parent: relatives plan surprises).
		{"parents in the loop", 30, 12, []string{"I've cleared it with your mum", "kid: ok", "are you home alone?", "kid: yes",
			"send me a pic of you with the cake", "I'll pick you up at 5"}, "", 0},
		{"parents in the loop, then kept from them", 30, 12, []string{"I've cleared it with your mum", "kid: ok", "are you home alone?", "kid: yes",
			"send me a pic of you with the cake", "your mum doesn't need to know", "I'll pick you up at 5"}, detectors.High, 0},
		{"family, then the relationship hidden", 41, 11, []string{"kid: hi uncle", "are you home alone?", "kid: yes",
			"send me a pic of you with the cake", "your mum would get the wrong idea about us", "I'll pick you up at 5"}, detectors.High, 0},
		{"family, a surprise kept from a parent", 41, 11, []string{"kid: hi uncle", "are you home alone?", "kid: yes",
			"send me a pic of you with the cake", "your mum doesn't need to know", "I'll pick you up at 5"}, "", 0},
		// Four or more stages with nothing known of the ages are a
		// trajectory; with a family word first they stay quiet.
		{"no ages, four stages", 0, 0, []string{"you're so mature", "kid: thx", "don't tell your mum we talk", "kid: ok",
			"add me on snap", "kid: ok", "I could pick you up after school"}, detectors.Medium, 0},
		{"no ages, four stages, family", 0, 0, []string{"kid: hi uncle", "you're so mature", "kid: thx", "don't tell your mum about the present",
			"kid: ok", "add me on snap", "kid: ok", "I could pick you up after school"}, "", 0},
		{"the minor sends the signals", 35, 13, []string{
			"kid: you're so pretty", "kid: how old are you?", "13", "kid: are you home alone", "kid: don't tell your mom",
			"kid: add me on snap", "kid: send me a pic", "kid: we should meet up"}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flags := detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), twoPerson(tc.adult, tc.kid, time.Minute, tc.texts...))
			sev, first := highest(flags)
			if sev != tc.want {
				t.Errorf("highest %q, want %q", sev, tc.want)
			}
			if tc.firstBeforeMsg > 0 {
				var n int
				fmt.Sscanf(first, "m%d", &n)
				if n == 0 || n >= tc.firstBeforeMsg {
					t.Errorf("first medium+ flag on %q, want before message %d", first, tc.firstBeforeMsg)
				}
			}
			for _, f := range flags {
				if f.Severity.Rank() >= detectors.Medium.Rank() && f.SenderID != "adult" {
					t.Errorf("%s raised on a message of %s", f.Rule, f.SenderID)
				}
			}
		})
	}
}

// One flag per tier per conversation, and only the highest tier when a
// message crosses several.
func TestOneFlagPerTier(t *testing.T) {
	texts := append(append([]string{}, trajectory...), trajectory...)
	flags := detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), twoPerson(35, 13, time.Minute, texts...))
	count := map[string]int{}
	for _, f := range flags {
		count[f.Rule]++
	}
	for _, r := range []string{"grooming.risk_medium", "grooming.risk_high", "grooming.risk_critical"} {
		if count[r] != 1 {
			t.Errorf("%s raised %d times, want once", r, count[r])
		}
	}
	// Straight to the top: a conversation whose first scored message
	// crosses every tier raises only the highest.
	jump := twoPerson(35, 13, time.Minute,
		"kid: im 13", "hey",
		"you're so mature for your age, how old are you, are you home alone, don't tell your mom, add me on snap, send me a pic, I can pick you up after school")
	flags = detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), jump)
	var tiers []string
	for _, f := range flags {
		if strings.HasPrefix(f.Rule, "grooming.risk_") {
			tiers = append(tiers, f.Rule)
		}
	}
	if len(tiers) != 1 || tiers[0] != "grooming.risk_critical" {
		t.Errorf("one message over every tier raised %v, want only risk_critical", tiers)
	}
}

// Risk decays in event time without new signals: the same trajectory with
// weeks between its steps ends lower than in one evening, and a long pause
// in the middle lowers it further.
func TestDecay(t *testing.T) {
	opts := grooming.Options{IdleExpiry: 365 * 24 * time.Hour, MaxConversations: 100}
	risk := func(after time.Duration, pauseAt int, pause time.Duration) float64 {
		d := newWith(t, opts)
		msgs := twoPerson(35, 13, after, trajectory[:7]...)
		shift := time.Duration(0)
		r := 0.0
		for i, m := range msgs {
			if i == pauseAt {
				shift = pause
			}
			m.SentAt = m.SentAt.Add(shift)
			d.Inspect(m, nil)
			r = d.RiskAt(m)
		}
		return r
	}
	evening := risk(time.Minute, -1, 0)
	weekly := risk(7*24*time.Hour, -1, 0)
	paused := risk(time.Minute, 6, 120*24*time.Hour)
	t.Logf("risk: one evening %.3f, a week between steps %.3f, 120 days of pause before the last %.3f", evening, weekly, paused)
	if !(evening > weekly && weekly > paused) {
		t.Errorf("risk: one evening %.3f, a week between steps %.3f, 120 days of pause before the last %.3f; want decreasing", evening, weekly, paused)
	}
	if paused > 0.3 {
		t.Errorf("after 120 days without signals the risk is %.3f; the early stages should have faded", paused)
	}
}

// The order of the stages counts: the typical progression scores more than
// the same stages backwards.
func TestOrder(t *testing.T) {
	steps := []string{"you're so mature for your age", "how old are you?", "are you home alone right now?", "don't tell your mom we talk ok"}
	risk := func(texts []string) float64 {
		d := newWith(t, grooming.DefaultOptions())
		r := 0.0
		for _, m := range twoPerson(35, 13, time.Minute, texts...) {
			d.Inspect(m, nil)
			r = d.RiskAt(m)
		}
		return r
	}
	forward := risk(steps)
	backward := risk([]string{steps[3], steps[2], steps[1], steps[0]})
	t.Logf("forward %.3f, backward %.3f", forward, backward)
	if forward <= backward {
		t.Errorf("forward %.3f, backward %.3f: want the typical order to score more", forward, backward)
	}
}

// The evidence of a tier flag lists the trajectory and stays within the
// bound, however long the ids and messages.
func TestEvidence(t *testing.T) {
	flags := detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), twoPerson(35, 13, time.Minute, trajectory...))
	var ev, own string
	for _, f := range flags {
		if f.Rule == "grooming.risk_critical" {
			ev, own = f.Evidence, f.MessageID
		}
	}
	// The first signal of each stage up to the flag's own message.
	for _, want := range []string{"risk 0.", "critical", "adult (35) -> kid (13)", "friendship c-m1 03-02 16:00 \"you're so mature for your age\"",
		"supervision c-m5", "secrecy c-m7", "off_platform c-m8", own + " "} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence %q lacks %q", ev, want)
		}
	}
	// Long ids and long messages: cut, within MaxEvidenceBytes, with the
	// flag's own signal always there.
	long := strings.Repeat("x", 120)
	var msgs []*event.Message
	for i, m := range twoPerson(35, 13, time.Minute, trajectory...) {
		m.MessageID = fmt.Sprintf("%s-%02d", long, i+1)
		m.ConversationID = "c-long"
		m.Sender.ID += long
		for j := range m.Recipients {
			m.Recipients[j].ID += long
		}
		m.Text = strings.Repeat("blah ", 30) + m.Text + strings.Repeat(" blah", 30)
		msgs = append(msgs, m)
	}
	flags = detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), msgs)
	n := 0
	for _, f := range flags {
		if f.Severity.Rank() < detectors.Medium.Rank() {
			continue
		}
		n++
		if len(f.Evidence) > detectors.MaxEvidenceBytes || !strings.HasPrefix(f.Evidence, "risk ") {
			t.Errorf("%s: evidence of %d bytes: %q", f.Rule, len(f.Evidence), f.Evidence)
		}
		own := f.MessageID[:24]
		if !strings.Contains(f.Evidence, own) {
			t.Errorf("%s: evidence lacks its own message: %q", f.Rule, f.Evidence)
		}
	}
	if n == 0 {
		t.Fatal("no medium+ flag on the long conversation")
	}
}

// A message delivered again (after a rebalance or a failed commit) to an
// instance that kept its state changes nothing and raises nothing.
func TestRedeliveryIgnored(t *testing.T) {
	msgs := twoPerson(35, 13, time.Minute, trajectory...)
	once := detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), msgs)
	var twice []*event.Message
	for i, m := range msgs {
		twice = append(twice, m)
		if i > 0 {
			twice = append(twice, msgs[i-1]) // the previous one again
		}
	}
	again := detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), append(twice, msgs...))
	key := func(f detectors.Flag) string { return f.FlagID + "/" + f.Evidence + fmt.Sprint(f.Score) }
	got := map[string]int{}
	for _, f := range again {
		got[key(f)]++
	}
	for _, f := range once {
		if got[key(f)] == 0 {
			t.Errorf("missing after redelivery: %s on %s", f.Rule, f.MessageID)
		}
	}
	for k, n := range got {
		if n > 1 && !strings.Contains(k, "grooming.stage.") {
			t.Errorf("flag %s raised %d times", k, n)
		}
	}
	if len(again) != len(once) {
		t.Errorf("%d flags with redeliveries, %d without", len(again), len(once))
	}
}

// A rules reload keeps every conversation's state: the flags after it are
// those of a detector that ran the new rules throughout, when the change
// does not touch the rules that fired; an invalid set is refused and the old
// rules keep running.
func TestReloadKeepsState(t *testing.T) {
	msgs := twoPerson(35, 13, time.Minute, trajectory...)
	want := detectortest.Run(t, factory(grooming.DefaultOptions()), builtin(t), msgs)

	extra := fstest.MapFS{"extra.yaml": &fstest.MapFile{Data: []byte(`
detector: grooming
rules:
  - id: grooming.stage.pet_names
    stage: friendship
    category: grooming
    severity: low
    score: 0.4
    description: Pet names.
    owner: test
    mode: shadow
    phrases: [sweetie pie]
    examples:
      - {text: "hi sweetie pie", expect: match}
      - {text: "apple pie recipe", expect: no_match}
`)}}
	next, err := detectors.LoadCheckedRules([]detectors.Factory{factory(grooming.DefaultOptions())}, extra)
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.NewEngine([]detectors.Factory{factory(grooming.DefaultOptions())}, builtin(t), detectors.EngineOptions{Clock: detectors.EventTime})
	if err != nil {
		t.Fatal(err)
	}
	var got []detectors.Flag
	for i, m := range msgs {
		if i == 5 {
			if err := e.Reload(next); err != nil {
				t.Fatal(err)
			}
		}
		got = e.Inspect(m, got, nil)
	}
	if len(got) != len(want) {
		t.Fatalf("%d flags across a reload, %d without", len(got), len(want))
	}
	for i := range want {
		if got[i].FlagID != want[i].FlagID || got[i].Evidence != want[i].Evidence {
			t.Errorf("flag %d: %s %q, want %s %q", i, got[i].Rule, got[i].Evidence, want[i].Rule, want[i].Evidence)
		}
	}
	// An invalid set (a tier without a threshold) is refused; the state
	// and the old rules stay.
	d := newWith(t, grooming.DefaultOptions())
	for _, m := range msgs[:5] {
		d.Inspect(m, nil)
	}
	bad := builtin(t).For(grooming.Name)
	badSet, err := detectors.LoadRules([]detectors.Factory{factory(grooming.DefaultOptions())}, fstest.MapFS{"bad.yaml": &fstest.MapFile{Data: []byte(`
detector: grooming
rules:
  - id: grooming.risk_medium
    kind: tier
    category: grooming
    severity: medium
    description: broken
    owner: test
    examples: [{text: "x", expect: match}, {text: "y", expect: no_match}]
`)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(badSet.For(grooming.Name)); err == nil {
		t.Fatal("a tier without a threshold was accepted")
	}
	_ = bad
	if d.StateEntries() != 1 {
		t.Fatalf("%d conversations after a refused reload, want 1", d.StateEntries())
	}
	var rest []detectors.Finding
	for _, m := range msgs[5:] {
		rest = append(rest, d.Inspect(m, nil)...)
	}
	found := false
	for _, f := range rest {
		found = found || f.Rule == "grooming.risk_critical"
	}
	if !found {
		t.Error("after a refused reload the conversation did not reach critical")
	}
}

// Rule fields are checked, naming the field.
func TestRuleFieldErrors(t *testing.T) {
	for _, tc := range []struct{ rule, field string }{
		{"kind: stage\n    stage: lunch\n    score: 0.5\n    phrases: [a b]", "field stage"},
		{"kind: stage\n    stage: secrecy\n    score: 1.5\n    phrases: [a b]", "field score"},
		{"kind: stage\n    stage: secrecy\n    score: 0.5", "field phrases"},
		{"kind: stage\n    stage: secrecy\n    score: 0.5\n    phrases: [a b]\n    threshold: 0.5", "field threshold"},
		{"kind: context\n    context: family\n    score: 0.5\n    phrases: [a b]", "field factor"},
		{"kind: context\n    context: adult_life\n    score: 0.5\n    factor: 0.5\n    phrases: [a b]", "field factor"},
		{"kind: context\n    context: school\n    score: 0.5\n    phrases: [a b]", "field context"},
		{"kind: tier\n    threshold: 1.5", "field threshold"},
		{"kind: tier\n    threshold: 0.5\n    phrases: [a b]", "field phrases"},
		{"kind: minor\n    score: 0.9\n    stages: [lunch]", "field stages"},
		{"kind: minor\n    score: 0.9", "field stages"},
		{"kind: weird", "field kind"},
		{"kind: stage\n    stage: secrecy\n    score: 0.5\n    phrases: [a b]\n    contacts: [fax]", "field contacts"},
		{"kind: stage\n    stage: secrecy\n    score: 0.5\n    phrases: [a b]\n    unless_frames: [\"a ~9 b\"]", "field unless_frames"},
		{"kind: tier\n    threshold: 0.5\n    unless_frames: [\"a b\"]", "field unless_frames"},
	} {
		yaml := "detector: grooming\nrules:\n  - id: grooming.test\n    category: grooming\n    severity: low\n    description: d\n    owner: o\n    " +
			tc.rule + "\n    examples: [{text: \"a b\", expect: match}, {text: \"c\", expect: no_match}]\n"
		set, err := detectors.LoadRules([]detectors.Factory{factory(grooming.DefaultOptions())}, fstest.MapFS{"r.yaml": &fstest.MapFile{Data: []byte(yaml)}})
		if err == nil {
			_, err = grooming.New(set.For(grooming.Name))
		}
		if err == nil || !strings.Contains(err.Error(), tc.field) || !strings.Contains(err.Error(), "r.yaml:") {
			t.Errorf("%s: error %v, want one naming r.yaml and %s", strings.ReplaceAll(tc.rule, "\n   ", ""), err, tc.field)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	for _, o := range []grooming.Options{{IdleExpiry: 0, MaxConversations: 10}, {IdleExpiry: time.Hour, MaxConversations: 0}} {
		if _, err := grooming.NewFactory(o).New(builtin(t).For(grooming.Name)); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}
