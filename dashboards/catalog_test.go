package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGrafanaQueryCatalog expands every ClickHouse query of the Grafana
// dashboards (macros and variables, as the plugin and Grafana do) and,
// with GOSHAWK_SQL_CATALOG=dir, writes them to dir/grafana.jsonl for
// scripts/chcompat to run on a current ClickHouse engine (chDB). The
// queries name tables without a database: the catalog runner sets the
// database the sink's migrations created.
func TestGrafanaQueryCatalog(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	type entry struct {
		Source string `json:"source"`
		Kind   string `json:"kind"`
		SQL    string `json:"sql"`
	}
	var entries []entry
	for _, d := range loadGrafanaDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if dsOf(p, tg).UID != "clickhouse" {
					continue
				}
				env := macroEnv{from: base.Add(-24 * time.Hour), to: base, intervalS: 60,
					vars: map[string]string{"conversation_id": "conv-a", "console_url": "http://console.example"}}
				sql, err := expandClickHouseSQL(tg.RawSQL, env)
				if err != nil {
					t.Errorf("%s/%s/%s: %v", d.UID, p.Title, tg.RefID, err)
					continue
				}
				if strings.Contains(sql, "$") {
					t.Errorf("%s/%s/%s: unexpanded $ left in %s", d.UID, p.Title, tg.RefID, sql)
				}
				entries = append(entries, entry{Source: fmt.Sprintf("grafana %s / %s / %s", d.UID, p.Title, tg.RefID), Kind: "query", SQL: sql})
			}
		}
	}
	if len(entries) < 5 {
		t.Fatalf("only %d ClickHouse queries in the dashboards", len(entries))
	}
	dir := os.Getenv("GOSHAWK_SQL_CATALOG")
	if dir == "" || t.Failed() {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "grafana.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
