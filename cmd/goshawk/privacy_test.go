package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks/sqlite"
	"github.com/goshawk-safety/goshawk/triage"
)

func TestRunRefusesWithoutEvidenceKeys(t *testing.T) {
	code, _, stderr := run(t, "run", "--sink", "sqlite", "--sqlite-path", filepath.Join(t.TempDir(), "x.db"))
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, w := range []string{"--evidence-keys-file", "GOSHAWK_EVIDENCE_KEYS", "--evidence-encryption=off", "goshawk keygen"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
}

// Secrets given through the environment, the command line or files never
// appear in error messages or in --help, and the errors name the setting.
func TestSecretsNeverInErrorsOrHelp(t *testing.T) {
	const canary = "Zq9CANARYsecret"
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(canary+"\n"), 0o600)
	badKeys := filepath.Join(dir, "keys")
	os.WriteFile(badKeys, []byte("k1:"+canary+"\n"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"sasl password without mechanism", map[string]string{"GOSHAWK_KAFKA_SASL_PASSWORD": canary}, []string{"run", "--evidence-encryption=off"},
			[]string{"--kafka-sasl-mechanism"}},
		{"sasl password twice", map[string]string{"GOSHAWK_KAFKA_SASL_PASSWORD": canary}, []string{"run", "--evidence-encryption=off",
			"--kafka-sasl-mechanism", "scram-sha-512", "--kafka-sasl-user", "u", "--kafka-sasl-password-file", pwFile}, []string{"--kafka-sasl-password-file"}},
		{"unknown mechanism, password on the command line", nil, []string{"produce", "--kafka-sasl-mechanism", "kerberos", "--kafka-sasl-user", "u", "--kafka-sasl-password", canary},
			[]string{"--kafka-sasl-mechanism", "kerberos"}},
		{"bad evidence keys in the environment", map[string]string{"GOSHAWK_EVIDENCE_KEYS": "k1:" + canary}, []string{"run"},
			[]string{"--evidence-keys", "line 1"}},
		{"bad evidence key file", nil, []string{"run", "--evidence-keys-file", badKeys}, []string{"--evidence-keys-file", "line 1", "32 bytes"}},
		{"short pseudonym key", map[string]string{"GOSHAWK_PSEUDONYM_KEY": canary}, []string{"run", "--evidence-encryption=off"}, []string{"--pseudonym-key"}},
		{"clickhouse password twice", map[string]string{"GOSHAWK_CLICKHOUSE_PASSWORD": canary}, []string{"migrate", "--clickhouse-password-file", pwFile},
			[]string{"--clickhouse-password-file"}},
		{"clickhouse refuses the password", map[string]string{"GOSHAWK_CLICKHOUSE_PASSWORD": canary}, []string{"migrate", "--clickhouse-addr", "127.0.0.1:1"}, nil},
		{"help with secrets in the environment", map[string]string{"GOSHAWK_CLICKHOUSE_PASSWORD": canary, "GOSHAWK_KAFKA_SASL_PASSWORD": canary,
			"GOSHAWK_EVIDENCE_KEYS": canary, "GOSHAWK_PSEUDONYM_KEY": canary}, []string{"run", "--help"}, []string{"--kafka-sasl-password", "--evidence-keys"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := run(t, tt.args...)
			if strings.Contains(stdout+stderr, canary) {
				t.Errorf("output holds the secret (exit %d):\n%s%s", code, stdout, stderr)
			}
			if tt.args[len(tt.args)-1] != "--help" && code == 0 {
				t.Errorf("exit 0")
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// lockedBuffer collects the logs of a running command.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The whole path with encryption on, at log level debug: messages carrying
// a canary go through `goshawk run` (embedded broker, SQLite store, the
// console on the metrics address); flagged ones, benign ones and invalid
// ones, and a user report whose comment carries it too. The canary reaches
// the console's analyst (opened evidence and comment, each read audited),
// and never the logs or the stored rows.
func TestRunKeepsMessageTextOutOfLogsAndStore(t *testing.T) {
	const canary = "QX7CANARY"
	texts := []string{
		"nobody at school would notice " + canary + " honestly you should just kys and do everyone a favour",
		"say that again " + canary + " and i swear i will find you after class and hurt you",
		"ok but " + canary + " this stays between us, dont tell your mum about our chats",
		"you are so worthless " + canary + ", nobody wants you here, loser",
		"see you at practice tomorrow " + canary + ", bring the ball",
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "messages", "messages.dlq", "flags", "reports", "reports.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	dir := t.TempDir()
	token := console.NewToken()
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("analyst:"+console.HashToken(token)+":alice\n"), 0o600)
	key, _ := seal.NewKey("k-test")
	keys := filepath.Join(dir, "keys")
	os.WriteFile(keys, []byte(seal.FormatKey(key)+"\n"), 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dbPath := filepath.Join(dir, "flags.db")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"run", "--brokers", brokers, "--sink", "sqlite", "--sqlite-path", dbPath,
			"--evidence-keys-file", keys, "--console-tokens-file", tokens, "--metrics-addr", addr,
			"--log-level", "debug", "--batch-interval", "50ms", "--flags-topic", "flags", "--flags-topic-evidence", "sealed"}, io.Discard, logs)
	}()

	w := &kafka.Writer{Addr: kafka.TCP(cluster.ListenAddrs()...), Topic: "messages", Balancer: &kafka.Hash{}, AllowAutoTopicCreation: true}
	var msgs []kafka.Message
	for i, text := range texts {
		ev := map[string]any{"message_id": fmt.Sprintf("m-%d", i), "conversation_id": "c-canary", "sent_at": "2026-11-25T12:00:0" + fmt.Sprint(i) + "Z",
			"sender": map[string]any{"id": "u-1", "age": 30}, "recipients": []any{map[string]any{"id": "u-2", "age": 14}}, "text": text}
		b, _ := json.Marshal(ev)
		msgs = append(msgs, kafka.Message{Key: []byte("c-canary"), Value: b})
	}
	// Invalid events whose text holds the canary: dead-lettered, never logged.
	msgs = append(msgs,
		kafka.Message{Key: []byte("c-bad"), Value: []byte(`{"message_id":"m-bad","text":"` + canary + `"}`)},
		kafka.Message{Key: []byte("c-bad"), Value: []byte(`{not json ` + canary)})
	// What the stream must store: replay gives the same flags.
	var lines []byte
	for _, m := range msgs[:len(texts)] {
		lines = append(append(lines, m.Value...), '\n')
	}
	events := filepath.Join(dir, "events.jsonl")
	os.WriteFile(events, lines, 0o600)
	var replayOut bytes.Buffer
	if code := runMain(ctx, []string{"replay", events}, &replayOut, io.Discard); code != 0 {
		t.Fatalf("replay exit %d", code)
	}
	want := strings.Count(replayOut.String(), "\n")
	if want < 2 {
		t.Fatalf("the fixture raises %d flags, want at least 2", want)
	}
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := w.WriteMessages(wctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// A report with the canary in its comment, on a conversation no flag
	// matches: a report item in the queue.
	const reportWords = "REPORTWORDS"
	rw := &kafka.Writer{Addr: kafka.TCP(cluster.ListenAddrs()...), Topic: "reports", Balancer: &kafka.Hash{}}
	rep, _ := json.Marshal(map[string]any{"report_id": "rep-canary", "reporter_id": "u-3", "reporter_age": 14, "conversation_id": "c-reported",
		"reason": "grooming", "comment": "he says " + canary + " " + reportWords + " our chats are a secret", "reported_at": "2026-11-25T12:01:00Z"})
	if err := rw.WriteMessages(wctx, kafka.Message{Key: []byte("c-reported"), Value: rep}); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	reportItem := triage.ReportItemID("rep-canary")

	reader, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var stored []sqlite.Stored
	deadline := time.Now().Add(2 * time.Minute) // `run` starts slowly under CI load with -race
	for time.Now().Before(deadline) {
		if stored, err = reader.StoredFlags(ctx, 100); err == nil && len(stored) >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(stored) != want {
		t.Fatalf("%d flags stored, want %d (%v); logs:\n%s", len(stored), want, err, logs.String())
	}
	var report triage.Item
	for time.Now().Before(deadline) {
		if report, err = reader.Console().Flag(ctx, reportItem); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || report.Report == nil || report.Report.CommentKeyID != "k-test" || strings.Contains(report.Report.Comment, canary) {
		t.Fatalf("report stored %+v (%v); logs:\n%s", report.Report, err, logs.String())
	}
	for _, s := range stored {
		if s.EvidenceKeyID != "k-test" {
			t.Errorf("flag %s stored with key %q", s.Flag.FlagID, s.EvidenceKeyID)
		}
	}
	// No table of the file holds the canary in clear.
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM flags WHERE evidence LIKE ? OR sender_id LIKE ?", "%"+canary+"%", "%"+canary+"%").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows hold the canary in clear (%v)", n, err)
	}
	if err := db.QueryRow("SELECT count(*) FROM reports WHERE comment LIKE ?", "%"+canary+"%").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d reports hold the canary in clear (%v)", n, err)
	}

	// An analyst sees the evidence in clear in the console, each read audited.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	base := "http://" + addr
	res, err := c.Get(base + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatal("no login form")
	}
	res, err = c.PostForm(base+"/console/login", url.Values{"csrf": {string(m[1])}, "token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), canary) {
		t.Errorf("the analyst's queue does not show the opened evidence:\n%s", body)
	}
	res, err = c.Get(base + "/console/flags/" + stored[0].Flag.FlagID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), canary) {
		t.Errorf("flag page: %d", res.StatusCode)
	}
	res, err = c.Get(base + "/console/flags/" + reportItem)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), reportWords) {
		t.Errorf("report page: %d, comment shown: %v", res.StatusCode, strings.Contains(string(body), reportWords))
	}
	acc, err := reader.Console().RecentAccesses(ctx, 100)
	if err != nil || len(acc) < len(stored)+1 {
		t.Errorf("%d audit rows for %d flags shown twice (%v)", len(acc), len(stored), err)
	}
	var commentReads int
	for _, a := range acc {
		if a.FlagID == reportItem && strings.HasPrefix(a.Purpose, "report: ") && a.Actor == "alice" {
			commentReads++
		}
	}
	if commentReads != 2 { // the queue, then the report's page
		t.Errorf("%d audited reads of the report's comment, want 2", commentReads)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("run exited %d", code)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("run did not stop")
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"DEBUG"`) || !strings.Contains(out, "console request") {
		t.Fatalf("the test saw no debug logs:\n%s", out)
	}
	if strings.Contains(out, canary) {
		t.Errorf("the logs hold message text:\n%s", out)
	}
	for _, frag := range []string{"kys", "hurt you", "practice tomorrow"} {
		if strings.Contains(out, frag) {
			t.Errorf("the logs hold message text %q", frag)
		}
	}
}

// keygen prints a key line that a key file accepts; two runs differ.
func TestKeygen(t *testing.T) {
	code, out1, _ := run(t, "keygen", "--id", "k-2027")
	_, out2, _ := run(t, "keygen", "--id", "k-2027")
	if code != 0 || out1 == out2 || !strings.HasPrefix(out1, "k-2027:") {
		t.Fatalf("keygen: exit %d, %q %q", code, out1, out2)
	}
	if ring, err := seal.ParseKeyring(strings.NewReader(out1)); err != nil || ring.Active() != "k-2027" {
		t.Fatalf("keygen line refused: %v", err)
	}
	// A rotation must use a new id: the same id twice is refused.
	if _, err := seal.ParseKeyring(strings.NewReader(out1 + out2)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("two keys with one id: %v", err)
	}
	if code, _, stderr := run(t, "keygen", "--id", "bad id"); code != 2 || !strings.Contains(stderr, "--id") {
		t.Errorf("bad id: exit %d %s", code, stderr)
	}
}

// goshawk retention clears old evidence once and keeps the flags.
func TestRetentionCommand(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flags.db")
	w, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var flags []detectors.Flag
	for i, age := range []time.Duration{200 * 24 * time.Hour, 100 * 24 * time.Hour, 24 * time.Hour} {
		flags = append(flags, detectors.Flag{FlagID: fmt.Sprintf("f%d", i), MessageID: "m", ConversationID: "c", SenderID: "u",
			Category: detectors.Spam, Detector: "keyword", Rule: "r", Severity: detectors.High, Score: 1,
			Evidence: fmt.Sprintf("evidence %d", i), SentAt: now.Add(-age), DetectedAt: now.Add(-age)})
	}
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	w.Close()
	code, stdout, stderr := run(t, "retention", "--sink", "sqlite", "--sqlite-path", path, "--evidence-retention-days", "90")
	if code != 0 || !strings.Contains(stdout, "cleared the evidence of 2 flags") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	w, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got, err := w.Flags(ctx, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("%d flags left (%v)", len(got), err)
	}
	for _, f := range got {
		if want := f.FlagID == "f2"; (f.Evidence != "") != want {
			t.Errorf("flag %s evidence %q", f.FlagID, f.Evidence)
		}
	}
}
