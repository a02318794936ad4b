package dashboards

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// grafanaSQL returns every SQL text (rawSql, query) of a dashboard file.
func grafanaSQL(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "rawSql" || k == "query") && regexp.MustCompile(`(?i)\bselect\b`).MatchString(s) {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return out
}

// Grafana reads metadata and counts, never message text: no dashboard
// query names the evidence, its key id, verdict notes or the audit table,
// or selects every column; and the Grafana user's grants leave them out.
func TestGrafanaReadsNoEvidence(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(grafanaDashboardsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	forbidden := regexp.MustCompile(`(?i)\bevidence\b|\bevidence_key_id\b|\bnote\b|\bevidence_access\b|select\s+\*|\*\s+from|\bCOLUMNS\s*\(`)
	n := 0
	for _, f := range files {
		for _, q := range grafanaSQL(t, f) {
			n++
			if m := forbidden.FindString(q); m != "" {
				t.Errorf("%s: a query reads %q:\n%s", filepath.Base(f), m, q)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d ClickHouse queries", n)
	}
	script := readInitScripts(t)
	if strings.Contains(script, "ON ${CLICKHOUSE_DB:-goshawk}.* TO") || regexp.MustCompile(`(?i)GRANT\s+SELECT\s+ON`).MatchString(script) {
		t.Error("the Grafana user is granted whole tables or the whole database")
	}
	for _, m := range regexp.MustCompile(`(?is)GRANT\s+SELECT\s*\(([^)]*)\)\s+ON\s+\S+\.(\w+)`).FindAllStringSubmatch(script, -1) {
		for _, col := range strings.Split(m[1], ",") {
			col = strings.TrimSpace(col)
			if col == "evidence" || col == "evidence_key_id" || col == "note" || m[2] == "evidence_access" {
				t.Errorf("the Grafana user may read %s.%s", m[2], col)
			}
		}
	}
}
