package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/spam"
	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
	"github.com/goshawk-safety/goshawk/triage"
)

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rules learn from labelled messages only: the model it writes counts the
// distinct texts, and a rules directory that points the Bayes rule at it
// loads and runs its examples.
func TestRulesLearnLabelled(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := 0; i < 5; i++ {
		lines = append(lines,
			fmt.Sprintf(`{"spam": true, "text": "claim your free crypto bonus now, verify your wallet %d"}`, i),
			fmt.Sprintf(`{"spam": false, "message": {"text": "see you at practice on saturday, bring the ball %d"}}`, i),
			`{"spam": false, "text": "see you at practice on saturday, bring the ball 0"}`) // a repeat: learnt once
	}
	writeLines(t, filepath.Join(dir, "labelled.jsonl"), lines)
	model := filepath.Join(dir, "model.json")
	code, stdout, stderr := run(t, "rules", "learn", "--verdicts=false", "--labelled", filepath.Join(dir, "labelled.jsonl"), "--out", model)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	m, err := spam.ParseBayesModel(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Spam != 5 || m.Ham != 5 || m.Tokens["wallet"] != [2]int{5, 0} || m.Tokens["practice"] != [2]int{0, 5} {
		t.Errorf("model: %d spam, %d ham, wallet %v, practice %v; want 5, 5, [5 0], [0 5]", m.Spam, m.Ham, m.Tokens["wallet"], m.Tokens["practice"])
	}
	if _, ok := m.Tokens["3"]; ok {
		t.Error("a number was learnt as a word")
	}
	rules := filepath.Join(dir, "rules")
	if err := os.Mkdir(rules, 0o755); err != nil {
		t.Fatal(err)
	}
	writeLines(t, filepath.Join(rules, "bayes.yaml"), []string{
		"detector: spam", "rules:", "  - id: spam.bayes", "    kind: bayes", "    category: spam", "    severity: low",
		"    description: learnt here", "    owner: test", "    model: " + model,
		"    bands: [{at: 0.8, weight: 1.0}, {at: 0.95, weight: 2.0}]", "    examples:",
		`      - text: "claim your free crypto bonus now, verify your wallet"`, "        expect: match",
		`      - text: "see you at practice on saturday, bring the ball"`, "        expect: no_match",
	})
	if code, stdout, stderr := run(t, "rules", "test", rules); code != 0 {
		t.Fatalf("rules test with the learnt model: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestRulesLearnSettings(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rules", "learn", "--verdicts=false", "--labelled", "x.jsonl"}, "--out"},
		{[]string{"rules", "learn", "--out", "m.json"}, "--events"},
		{[]string{"rules", "learn", "--verdicts=false", "--out", "m.json"}, "--labelled"},
		{[]string{"rules", "learn", "--out", "m.json", "--events", "e.jsonl", "--since", "yesterday"}, "--since"},
	} {
		code, _, stderr := run(t, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure naming %s", tc.args, code, stderr, tc.want)
		}
	}
}

// rules learn from verdicts in ClickHouse: confirmed spam flags are spam,
// dismissed ones ham, their texts read from the events file by message id;
// flags of other detectors and texts nobody reviewed are not learnt.
func TestRulesLearnVerdictsClickHouse(t *testing.T) {
	addr := testenv.ClickHouse(t)
	ctx := context.Background()
	db := fmt.Sprintf("goshawk_learn_%d", time.Now().UnixNano())
	cfg := clickhouse.Config{Addr: []string{addr}, Database: db, User: "default"}
	if err := clickhouse.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	w, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := clickhouse.Dial(ctx, cfg)
		if err == nil {
			_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`")
			conn.Close()
		}
		w.Close()
	})
	sent := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	texts := map[string]string{}
	var flags []detectors.Flag
	var events []string
	add := func(id, detector, text string) {
		f := detectors.Flag{MessageID: id, ConversationID: "c-" + id, SenderID: "s", Category: detectors.Spam, Detector: detector,
			Rule: detector + ".x", Mode: detectors.Live, Severity: detectors.Medium, Score: 0.6, SentAt: sent, DetectedAt: sent}
		f.FlagID = detectors.FlagID(id, detector, f.Rule)
		flags = append(flags, f)
		texts[id] = text
		ev, _ := json.Marshal(map[string]any{"message_id": id, "conversation_id": "c-" + id, "sent_at": sent.Format(time.RFC3339),
			"sender": map[string]any{"id": "s"}, "recipients": []map[string]any{{"id": "r"}}, "text": text})
		events = append(events, string(ev))
	}
	for i := 0; i < 4; i++ {
		add(fmt.Sprintf("spam-%d", i), spam.Name, fmt.Sprintf("claim your free crypto bonus, verify wallet now %d", i))
		add(fmt.Sprintf("ham-%d", i), spam.Name, fmt.Sprintf("club newsletter: practice moves to the north field %d", i))
		add(fmt.Sprintf("other-%d", i), "harassment", fmt.Sprintf("harassment words never learnt zebra %d", i))
	}
	add("unreviewed", spam.Name, "unreviewed giraffe giraffe giraffe")
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	for _, f := range flags {
		v := triage.Verdict{FlagID: f.FlagID, Analyst: "ana", DecidedAt: sent.Add(time.Minute)}
		switch {
		case strings.HasPrefix(f.MessageID, "spam-"), strings.HasPrefix(f.MessageID, "other-"):
			v.Verdict = triage.Confirmed
		case strings.HasPrefix(f.MessageID, "ham-"):
			v.Verdict = triage.Dismissed
		default:
			continue
		}
		if err := w.Console().RecordVerdict(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "events.jsonl"), append(events, "not an event"))
	model := filepath.Join(dir, "model.json")
	code, stdout, stderr := run(t, "rules", "learn", "--clickhouse-addr", addr, "--clickhouse-database", db,
		"--events", filepath.Join(dir, "events.jsonl"), "--out", model)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Log(stdout)
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	m, err := spam.ParseBayesModel(data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Spam != 4 || m.Ham != 4 || m.Tokens["wallet"] != [2]int{4, 0} || m.Tokens["newsletter"] != [2]int{0, 4} {
		t.Errorf("model: %d spam, %d ham, wallet %v, newsletter %v; want 4, 4, [4 0], [0 4]", m.Spam, m.Ham, m.Tokens["wallet"], m.Tokens["newsletter"])
	}
	for _, w := range []string{"zebra", "giraffe"} {
		if _, ok := m.Tokens[w]; ok {
			t.Errorf("%q learnt: from another detector's flag or an unreviewed one", w)
		}
	}
	if !strings.Contains(stdout, "4 confirmed, 4 dismissed") {
		t.Errorf("summary %q lacks the counts", stdout)
	}
}
