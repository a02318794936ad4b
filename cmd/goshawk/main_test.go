package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/generator"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigurationErrorsNameTheSetting(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // every one must appear in stderr
	}{
		{"bad batch size flag", nil, []string{"run", "--batch-size", "0"}, []string{"--batch-size", "GOSHAWK_BATCH_SIZE"}},
		{"bad batch size env", map[string]string{"GOSHAWK_BATCH_SIZE": "lots"}, []string{"run"}, []string{"--batch-size", "GOSHAWK_BATCH_SIZE", `"lots" is not an integer`}},
		{"bad duration env", map[string]string{"GOSHAWK_BATCH_INTERVAL": "soon"}, []string{"run"}, []string{"GOSHAWK_BATCH_INTERVAL"}},
		{"unknown sink", nil, []string{"run", "--sink", "postgres"}, []string{"--sink", "GOSHAWK_SINK", "postgres"}},
		{"no brokers", nil, []string{"run", "--brokers", ""}, []string{"--brokers", "GOSHAWK_BROKERS"}},
		{"dlq equals topic", nil, []string{"run", "--dlq-topic", "messages"}, []string{"--dlq-topic"}},
		{"bad log level", nil, []string{"run", "--log-level", "loud"}, []string{"--log-level", "GOSHAWK_LOG_LEVEL"}},
		{"two errors at once", nil, []string{"run", "--workers", "0", "--evidence-context", "-1"}, []string{"--workers", "--evidence-context"}},
		{"bad ratio", nil, []string{"produce", "--bad-ratio", "2", "--output", "-"}, []string{"--bad-ratio", "GOSHAWK_BAD_RATIO"}},
		{"replay without files", nil, []string{"replay"}, []string{"at least one file"}},
		{"unknown detector", nil, []string{"replay", "--detectors", "nosuch", "-"}, []string{"--detectors", "nosuch", "known:"}},
		{"unknown flag", nil, []string{"migrate", "--bogus"}, []string{"bogus"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, stderr := run(t, tc.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for name := range commands() {
		code, _, stderr := run(t, name, "--help")
		if code != 0 || !strings.Contains(stderr, "Usage: goshawk "+name) {
			t.Errorf("%s --help: exit %d, output:\n%s", name, code, stderr)
		}
	}
	if code, _, _ := run(t, "nosuch"); code != 2 {
		t.Errorf("unknown command exit code %d, want 2", code)
	}
}

// runFlags returns the flag names of `goshawk run`.
func runFlags(t *testing.T) []string {
	t.Helper()
	f := newFlags("run", "", io.Discard)
	var c runConfig
	c.register(f)
	var names []string
	f.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
	sort.Strings(names)
	return names
}

// The README's configuration table must list exactly the settings of run.
func TestREADMEConfigurationTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "## Configuration")
	if start < 0 {
		t.Fatal("README has no Configuration section")
	}
	section = section[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	row := regexp.MustCompile("(?m)^\\| `--([a-z-]+)` \\| `(GOSHAWK_[A-Z_]+)` \\|")
	var documented []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		if m[2] != envName(m[1]) {
			t.Errorf("README pairs --%s with %s; the binary reads %s", m[1], m[2], envName(m[1]))
		}
		documented = append(documented, m[1])
	}
	sort.Strings(documented)
	if got, want := strings.Join(documented, " "), strings.Join(runFlags(t), " "); got != want {
		t.Errorf("README configuration table lists\n  %s\nbut goshawk run has\n  %s", got, want)
	}
}

// replay prints one JSON flag per line, skips bad lines with their numbers,
// and gives the same output for the same input.
func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "traffic.jsonl")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gen := generator.New(3, generator.Options{})
	if err := gen.WriteJSONLines(file, 3000); err != nil {
		t.Fatal(err)
	}
	// Two bad lines and a blank one, at known line numbers 3001–3003.
	file.WriteString("not json\n\n{\"message_id\":\"x\"}\n")
	file.Close()

	code, out1, stderr := run(t, "replay", path)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	for _, want := range []string{"messages: 3000", "rejected: 2", "traffic.jsonl:3001: invalid_json", "traffic.jsonl:3003: missing_field: conversation_id"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(out1))
	for sc.Scan() {
		var f detectors.Flag
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("line %d is not a flag: %v", n+1, err)
		}
		if f.FlagID != detectors.FlagID(f.MessageID, f.Detector, f.Rule) || !f.DetectedAt.Equal(f.SentAt) {
			t.Fatalf("flag %+v: wrong id or detected_at", f)
		}
		n++
	}
	if n == 0 || !strings.Contains(stderr, "flags: ") {
		t.Fatalf("replay printed %d flags", n)
	}
	_, out2, _ := run(t, "replay", path)
	if out1 != out2 {
		t.Error("replay is not deterministic: two runs differ")
	}
}
