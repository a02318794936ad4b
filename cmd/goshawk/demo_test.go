package main

import (
	"database/sql"

	"regexp"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// The demo is the first command a reader runs: it must process everything
// it produces and flag every category, with every detector wired (the
// durable grooming state, the spam stages and the reports pipeline
// included), and show only live flags as examples.
func TestDemoRunsEveryDetector(t *testing.T) {
	path := t.TempDir() + "/flags.db"
	code, out, errOut := run(t, "demo", "--serve=false", "--count", "3000", "--rate", "0", "--metrics-addr", "127.0.0.1:0",
		"--sqlite-path", path)
	if code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr (last 2000 bytes):\n%s", code, out, errOut[max(0, len(errOut)-2000):])
	}
	m := regexp.MustCompile(`Processed (\d+) of (\d+) produced events`).FindStringSubmatch(out)
	if m == nil || m[1] != m[2] {
		t.Fatalf("demo did not process everything it produced:\n%s", out)
	}
	for _, cat := range []string{"grooming", "harassment", "spam"} {
		c := regexp.MustCompile(`(?m)^  ` + cat + ` +(\d+)$`).FindStringSubmatch(out)
		if c == nil {
			t.Errorf("no %s count in the summary:\n%s", cat, out)
			continue
		}
		if n, _ := strconv.Atoi(c[1]); n == 0 {
			t.Errorf("no %s flags", cat)
		}
	}
	if !strings.Contains(out, "User reports stored: ") {
		t.Errorf("demo output lacks the reports summary:\n%s", out)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, d := range []string{"grooming", "spam", "harassment"} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM flags WHERE detector = ? AND mode = 'live'`, d).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("detector %s raised no live flag in the demo", d)
		}
	}
	if strings.Contains(out, "keyword rule=grooming.") {
		t.Errorf("a shadow rule's flag is shown as an example:\n%s", out)
	}
}
