package dashboards

// Tests of the Grafana dashboards in grafana/dashboards/:
//
//   - every dashboard loads, has a unique fixed uid and uses only the
//     provisioned data sources, and the provisioning provider reads the
//     directory where docker-compose.yml mounts them;
//   - every ClickHouse query, after expanding the plugin's macros and the
//     dashboard variables the way Grafana and grafana-clickhouse-datasource
//     do, runs on the real ClickHouse against seeded flags and verdicts and
//     returns rows; the analysts' panels give exactly the same results with
//     and without shadow-mode flags in the store;
//   - every PromQL expression of the dashboards, of alerts.yml and of the
//     series in alerts_test.yml names only metrics that the pipeline exports.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/pipeline"
	chsink "github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

const (
	grafanaDashboardsDir = "grafana/dashboards"
	// grafanaDashboardsSource is how docker-compose.yml names that directory.
	grafanaDashboardsSource = "./dashboards/grafana/dashboards"
	clickhousePluginType    = "grafana-clickhouse-datasource"

	// reviewAgeMetric is exported by the triage console (not by the
	// pipeline): the age of the oldest live critical flag without a verdict.
	reviewAgeMetric = "goshawk_review_oldest_unreviewed_critical_seconds"

	// shadowPanelPrefix marks the one kind of panel that may show shadow-mode
	// flags: the explicit shadow-vs-live comparison. Every other ClickHouse
	// panel is for analysts and must not be affected by shadow flags.
	shadowPanelPrefix = "Shadow"
)

// ------------------------------------------------------------ the model

type grafanaDashboard struct {
	File       string
	UID        string         `json:"uid"`
	Title      string         `json:"title"`
	Panels     []grafanaPanel `json:"panels"`
	Templating struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
}

type grafanaPanel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource *grafanaDSRef   `json:"datasource"`
	Targets    []grafanaTarget `json:"targets"`
	Panels     []grafanaPanel  `json:"panels"` // a collapsed row's panels
}

type grafanaTarget struct {
	RefID      string        `json:"refId"`
	Datasource *grafanaDSRef `json:"datasource"`
	// grafana-clickhouse-datasource
	EditorType string `json:"editorType"`
	QueryType  string `json:"queryType"`
	Format     *int   `json:"format"`
	RawSQL     string `json:"rawSql"`
	// prometheus
	Expr string `json:"expr"`
}

// grafanaDSRef is a data source reference: {"type", "uid"} or, in old
// dashboards, a bare name or uid.
type grafanaDSRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func (r *grafanaDSRef) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		r.UID = s
		return nil
	}
	type plain grafanaDSRef
	return json.Unmarshal(b, (*plain)(r))
}

type grafanaVariable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Datasource *grafanaDSRef   `json:"datasource"`
	Query      json.RawMessage `json:"query"`
}

// queryText is a query variable's query: a string, or {"query": "..."}.
func (v grafanaVariable) queryText() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(v.Query, &o) == nil {
		return o.Query
	}
	return ""
}

// allPanels flattens rows.
func (d *grafanaDashboard) allPanels() []grafanaPanel {
	var out []grafanaPanel
	var walk func(ps []grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	return out
}

// dsOf is the data source of a target: its own, else its panel's.
func dsOf(p grafanaPanel, t grafanaTarget) grafanaDSRef {
	if t.Datasource != nil && t.Datasource.UID != "" {
		return *t.Datasource
	}
	if p.Datasource != nil {
		return *p.Datasource
	}
	return grafanaDSRef{}
}

func readGrafanaDashboardFiles(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(grafanaDashboardsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no dashboards in %s", grafanaDashboardsDir)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = data
	}
	return files
}

func loadGrafanaDashboards(t testing.TB) []*grafanaDashboard {
	t.Helper()
	files := readGrafanaDashboardFiles(t)
	var out []*grafanaDashboard
	for _, name := range sortedKeys(files) {
		var d grafanaDashboard
		if err := json.Unmarshal(files[name], &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d.File = name
		out = append(out, &d)
	}
	return out
}

// ------------------------------------------------------ static checks

// checkGrafanaDashboards: fixed unique uids and titles, unique panel ids,
// every panel and target on a provisioned data source of the right type,
// ClickHouse targets as raw SQL with explicit columns and FINAL, and
// Prometheus targets with an expression.
func checkGrafanaDashboards(ds []grafanaDashboard, provisioned []datasource) []error {
	var errs []error
	typeOf := map[string]string{}
	for _, d := range provisioned {
		typeOf[d.UID] = d.Type
	}
	uids, titles := map[string]string{}, map[string]string{}
	for _, d := range ds {
		if d.UID == "" {
			errs = append(errs, fmt.Errorf("%s: no fixed uid", d.File))
		} else if prev, ok := uids[d.UID]; ok {
			errs = append(errs, fmt.Errorf("%s: uid %q is also the uid of %s", d.File, d.UID, prev))
		}
		uids[d.UID] = d.File
		if prev, ok := titles[d.Title]; ok || d.Title == "" {
			errs = append(errs, fmt.Errorf("%s: title %q is empty or also the title of %s", d.File, d.Title, prev))
		}
		titles[d.Title] = d.File
		ids := map[int]bool{}
		panels := d.allPanels()
		if len(panels) == 0 {
			errs = append(errs, fmt.Errorf("%s: no panels", d.File))
		}
		for _, p := range panels {
			where := fmt.Sprintf("%s: panel %d %q", d.File, p.ID, p.Title)
			if ids[p.ID] {
				errs = append(errs, fmt.Errorf("%s: duplicate panel id", where))
			}
			ids[p.ID] = true
			if p.Title == "" {
				errs = append(errs, fmt.Errorf("%s: no title", where))
			}
			if len(p.Targets) == 0 {
				errs = append(errs, fmt.Errorf("%s: no queries", where))
			}
			for _, tg := range p.Targets {
				ref := dsOf(p, tg)
				typ, ok := typeOf[ref.UID]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("%s: query %s uses data source uid %q, which is not provisioned", where, tg.RefID, ref.UID))
					continue
				case ref.Type != "" && ref.Type != typ:
					errs = append(errs, fmt.Errorf("%s: query %s names data source %q with type %q, provisioned as %q", where, tg.RefID, ref.UID, ref.Type, typ))
				}
				switch typ {
				case clickhousePluginType:
					errs = append(errs, checkClickHouseTarget(where+" query "+tg.RefID, tg)...)
				case "prometheus":
					if strings.TrimSpace(tg.Expr) == "" {
						errs = append(errs, fmt.Errorf("%s: query %s has no PromQL expression", where, tg.RefID))
					}
				}
			}
		}
		for _, v := range d.Templating.List {
			if v.Datasource != nil && v.Datasource.UID != "" && typeOf[v.Datasource.UID] == "" {
				errs = append(errs, fmt.Errorf("%s: variable %s uses data source uid %q, which is not provisioned", d.File, v.Name, v.Datasource.UID))
			}
		}
	}
	return errs
}

var (
	selectStar = regexp.MustCompile(`(?i)\bSELECT\s+(DISTINCT\s+)?\*`)
	fromTable  = regexp.MustCompile(`(?i)\b(FROM|JOIN)\s+((?:\w+\.)?(?:flags|verdicts|reports))\b(\s+\w+)?`)
	// A subquery right before JOIN or USING has no alias.
	unaliasedJoin = regexp.MustCompile(`(?i)\)\s*(((ANY|ALL|SEMI|ANTI|ASOF)\s+)?((LEFT|RIGHT|INNER|FULL|CROSS)\s+)?(OUTER\s+)?JOIN|USING)\b`)
)

func checkClickHouseTarget(where string, tg grafanaTarget) []error {
	var errs []error
	if tg.EditorType != "sql" || strings.TrimSpace(tg.RawSQL) == "" {
		errs = append(errs, fmt.Errorf("%s: want editorType sql with rawSql", where))
	}
	// The backend (sqlutil) reads format: 0 time series, 1 table.
	switch {
	case tg.Format == nil:
		errs = append(errs, fmt.Errorf("%s: no format", where))
	case tg.QueryType == "timeseries" && *tg.Format != 0, tg.QueryType == "table" && *tg.Format != 1:
		errs = append(errs, fmt.Errorf("%s: queryType %s with format %d", where, tg.QueryType, *tg.Format))
	case tg.QueryType != "timeseries" && tg.QueryType != "table":
		errs = append(errs, fmt.Errorf("%s: queryType %q, want timeseries or table", where, tg.QueryType))
	}
	if selectStar.MatchString(tg.RawSQL) {
		errs = append(errs, fmt.Errorf("%s: SELECT *; name the columns", where))
	}
	// ClickHouse 18.16 does not mind, but current servers reject a joined
	// subquery without an alias (joined_subquery_requires_alias), and the
	// integration test below only has 18.16 to run on.
	if m := unaliasedJoin.FindString(tg.RawSQL); m != "" {
		errs = append(errs, fmt.Errorf("%s: %q: give joined subqueries an alias, (SELECT …) AS x (current ClickHouse requires it)", where, m))
	}
	for _, m := range fromTable.FindAllStringSubmatch(tg.RawSQL, -1) {
		if !strings.EqualFold(strings.TrimSpace(m[3]), "FINAL") {
			errs = append(errs, fmt.Errorf("%s: %s %s without FINAL (ReplacingMergeTree shows duplicates until parts merge)", where, m[1], m[2]))
		}
	}
	return errs
}

// checkProvisioningPath: the provider's path is where docker-compose.yml
// mounts grafana/dashboards in the grafana service.
func checkProvisioningPath(providerPaths []string, c *composeFile) []error {
	g, ok := c.Services["grafana"]
	if !ok {
		return []error{errors.New("no grafana service")}
	}
	var target string
	for _, m := range g.mounts() {
		if filepath.Clean(m.source) == filepath.Clean(grafanaDashboardsSource) {
			target = m.target
		}
	}
	if target == "" {
		return []error{fmt.Errorf("the grafana service does not mount %s", grafanaDashboardsSource)}
	}
	if !slices.Contains(providerPaths, target) {
		return []error{fmt.Errorf("%s is mounted at %s, but the dashboard providers in %s read %q", grafanaDashboardsSource, target, dashboardsDir, providerPaths)}
	}
	return nil
}

func loadProviderPaths(t testing.TB) []string {
	t.Helper()
	var paths []string
	for _, file := range yamlFiles(t, dashboardsDir) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Providers []struct {
				Type    string `yaml:"type"`
				Options struct {
					Path string `yaml:"path"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, p := range doc.Providers {
			paths = append(paths, p.Options.Path)
		}
	}
	return paths
}

func grafanaDashboardValues(ds []*grafanaDashboard) []grafanaDashboard {
	out := make([]grafanaDashboard, len(ds))
	for i, d := range ds {
		out[i] = *d
	}
	return out
}

func TestGrafanaDashboards(t *testing.T) {
	ds := loadGrafanaDashboards(t)
	provisioned := loadDatasources(t)
	report(t, checkGrafanaDashboards(grafanaDashboardValues(ds), provisioned))
	report(t, checkDashboardJSON(readGrafanaDashboardFiles(t), provisioned))
	report(t, checkProvisioningPath(loadProviderPaths(t), loadCompose(t)))

	// The three dashboards of issue 8, by their fixed uids.
	var uids []string
	for _, d := range ds {
		uids = append(uids, d.UID)
	}
	for _, want := range []string{"goshawk-safety-overview", "goshawk-conversation", "goshawk-pipeline"} {
		if !slices.Contains(uids, want) {
			t.Errorf("no dashboard with uid %s (have %q)", want, uids)
		}
	}
	// The analysts' tables link flags to the triage console.
	for name, data := range readGrafanaDashboardFiles(t) {
		if !strings.Contains(string(data), `"uid": "goshawk-safety-overview"`) {
			continue
		}
		if !strings.Contains(string(data), `${console_url}/console/flags/${__value.raw}`) || !strings.Contains(string(data), `"name": "console_url"`) {
			t.Errorf("%s: no flag links to ${console_url}/console/flags/<flag_id> (with a console_url variable)", name)
		}
	}
	// Every ClickHouse query expands (only macros that work on 18.16, only
	// known variables).
	for _, d := range ds {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if dsOf(p, tg).UID != "clickhouse" {
					continue
				}
				if _, err := expandClickHouseSQL(tg.RawSQL, testMacroEnv(d, "x")); err != nil {
					t.Errorf("%s: panel %q: %v", d.File, p.Title, err)
				}
			}
		}
	}
}

func TestGrafanaChecksCatchMistakes(t *testing.T) {
	provisioned := loadDatasources(t)
	format := func(n int) *int { return &n }
	good := func() grafanaDashboard {
		return grafanaDashboard{File: "x.json", UID: "x", Title: "X", Panels: []grafanaPanel{{
			ID: 1, Type: "table", Title: "t",
			Datasource: &grafanaDSRef{Type: clickhousePluginType, UID: "clickhouse"},
			Targets:    []grafanaTarget{{RefID: "A", EditorType: "sql", QueryType: "table", Format: format(1), RawSQL: "SELECT flag_id FROM flags FINAL"}},
		}}}
	}
	if errs := checkGrafanaDashboards([]grafanaDashboard{good()}, provisioned); len(errs) != 0 {
		t.Fatalf("the good dashboard was rejected: %v", errs)
	}
	for _, tc := range []struct {
		name   string
		mutate func(d *grafanaDashboard) []grafanaDashboard
	}{
		{"no uid", func(d *grafanaDashboard) []grafanaDashboard { d.UID = ""; return []grafanaDashboard{*d} }},
		{"duplicate uid", func(d *grafanaDashboard) []grafanaDashboard {
			e := *d
			e.Title, e.File = "Other", "y.json"
			return []grafanaDashboard{*d, e}
		}},
		{"unknown data source uid", func(d *grafanaDashboard) []grafanaDashboard {
			d.Panels[0].Datasource = &grafanaDSRef{Type: clickhousePluginType, UID: "P1809F7CD0C75ACF3"}
			return []grafanaDashboard{*d}
		}},
		{"uid of the wrong type", func(d *grafanaDashboard) []grafanaDashboard {
			d.Panels[0].Datasource = &grafanaDSRef{Type: "prometheus", UID: "clickhouse"}
			return []grafanaDashboard{*d}
		}},
		{"SELECT *", func(d *grafanaDashboard) []grafanaDashboard {
			d.Panels[0].Targets[0].RawSQL = "SELECT * FROM flags FINAL"
			return []grafanaDashboard{*d}
		}},
		{"flags without FINAL", func(d *grafanaDashboard) []grafanaDashboard {
			d.Panels[0].Targets[0].RawSQL = "SELECT flag_id FROM flags WHERE mode = 'live'"
			return []grafanaDashboard{*d}
		}},
		{"reports without FINAL", func(d *grafanaDashboard) []grafanaDashboard {
			d.Panels[0].Targets[0].RawSQL = "SELECT report_id FROM reports WHERE urgent = 1"
			return []grafanaDashboard{*d}
		}},
		{"verdicts without FINAL", func(d *grafanaDashboard) []grafanaDashboard {
			d.Panels[0].Targets[0].RawSQL = "SELECT flag_id FROM flags FINAL ANY LEFT JOIN verdicts USING flag_id"
			return []grafanaDashboard{*d}
		}},
		{"joined subquery without alias", func(d *grafanaDashboard) []grafanaDashboard {
			d.Panels[0].Targets[0].RawSQL = "SELECT flag_id, verdict FROM (SELECT flag_id FROM flags FINAL) AS f\n" +
				"ANY LEFT JOIN (SELECT flag_id, argMax(verdict, decided_at) AS verdict FROM verdicts FINAL GROUP BY flag_id) USING flag_id"
			return []grafanaDashboard{*d}
		}},
		{"time series as table format", func(d *grafanaDashboard) []grafanaDashboard {
			d.Panels[0].Targets[0].QueryType = "timeseries"
			return []grafanaDashboard{*d}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := good()
			if errs := checkGrafanaDashboards(tc.mutate(&d), provisioned); len(errs) == 0 {
				t.Error("the check found nothing wrong")
			} else {
				t.Logf("caught: %v", errs[0])
			}
		})
	}
	t.Run("provider path not mounted", func(t *testing.T) {
		if errs := checkProvisioningPath([]string{"/var/lib/grafana/dashboards"}, loadCompose(t)); len(errs) == 0 {
			t.Error("the check found nothing wrong")
		}
	})
	t.Run("dashboards not mounted", func(t *testing.T) {
		c := loadCompose(t)
		c.Services["grafana"].Volumes = c.Services["grafana"].Volumes[:1]
		if errs := checkProvisioningPath(loadProviderPaths(t), c); len(errs) == 0 {
			t.Error("the check found nothing wrong")
		}
	})
}

// ------------------------------------------- macros and variables

// macroEnv is what Grafana and the plugin substitute into a query.
type macroEnv struct {
	from, to  time.Time
	intervalS int
	vars      map[string]string
}

var (
	macroRef = regexp.MustCompile(`\$__(\w+)(?:\(([^()]*)\))?`)
	varRef   = regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]`)
)

// expandClickHouseSQL expands the grafana-clickhouse-datasource macros that
// the dashboards may use, exactly as the plugin does (pkg/macros/macros.go),
// and the dashboard variables as Grafana does. Only macros whose expansion
// runs on ClickHouse 18.16 are accepted: $__timeInterval expands to
// toStartOfInterval, which 18.16 does not have (bucket with
// toDateTime(intDiv(toUInt32(toDateTime(col)), $__interval_s) * $__interval_s)
// instead).
func expandClickHouseSQL(sql string, env macroEnv) (string, error) {
	var errs []error
	out := macroRef.ReplaceAllStringFunc(sql, func(m string) string {
		sub := macroRef.FindStringSubmatch(m)
		name, args := sub[1], strings.TrimSpace(sub[2])
		hasArgs := strings.Contains(m, "(")
		switch name {
		case "timeFilter":
			if !hasArgs || args == "" || strings.Contains(args, ",") {
				errs = append(errs, fmt.Errorf("%s: want one column", m))
				return m
			}
			return fmt.Sprintf("%s >= toDateTime(%d) AND %s <= toDateTime(%d)", args, env.from.Unix(), args, env.to.Unix())
		case "fromTime", "toTime":
			if hasArgs && args != "" {
				errs = append(errs, fmt.Errorf("%s takes no arguments", m))
				return m
			}
			ts := env.from
			if name == "toTime" {
				ts = env.to
			}
			s := fmt.Sprintf("toDateTime(%d)", ts.Unix())
			if hasArgs {
				s += "" // $__fromTime() is the same as $__fromTime
			}
			return s
		case "interval_s":
			if hasArgs {
				errs = append(errs, fmt.Errorf("%s takes no arguments", m))
				return m
			}
			return strconv.Itoa(max(env.intervalS, 1))
		case "timeInterval", "timeInterval_ms", "timeGroup":
			errs = append(errs, fmt.Errorf("%s expands to toStartOfInterval, which ClickHouse 18.16 does not have; bucket with toDateTime(intDiv(toUInt32(toDateTime(col)), $__interval_s) * $__interval_s)", m))
		default:
			errs = append(errs, fmt.Errorf("macro %s is not one the dashboards may use ($__timeFilter, $__fromTime, $__toTime, $__interval_s)", m))
		}
		return m
	})
	out = varRef.ReplaceAllStringFunc(out, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		name, format := sub[1]+sub[3]+sub[4], sub[2]+sub[5]
		value, ok := env.vars[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no dashboard variable %q", m, name))
			return m
		}
		switch format {
		case "", "raw":
			if name == "conversation_id" || strings.ContainsAny(value, `'\`) {
				errs = append(errs, fmt.Errorf("%s: a text variable spliced raw into SQL can break out of a string literal; use ${%s:percentencode} inside decodeURLComponent('…')", m, name))
			}
			return value
		case "percentencode":
			return percentEncode(value)
		default:
			errs = append(errs, fmt.Errorf("%s: format %q is not handled by this test", m, format))
			return m
		}
	})
	if len(errs) == 0 && strings.Contains(out, "$") {
		errs = append(errs, fmt.Errorf("unexpanded $ left in %q", out))
	}
	return out, errors.Join(errs...)
}

// percentEncode is Grafana's ${var:percentencode}: encodeURIComponent that
// also encodes !'()*. Its output has only letters, digits, -_.~ and %XX, so
// it is safe inside a ClickHouse string literal.
func percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func testMacroEnv(d *grafanaDashboard, conversationID string) macroEnv {
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = "unset"
	}
	vars["conversation_id"] = conversationID
	vars["console_url"] = "http://console.example"
	now := time.Now().UTC()
	return macroEnv{from: now.Add(-time.Hour), to: now, intervalS: 60, vars: vars}
}

func TestExpandClickHouseSQL(t *testing.T) {
	from := time.Unix(1764000000, 0)
	env := macroEnv{from: from, to: from.Add(time.Hour), intervalS: 60, vars: map[string]string{"conversation_id": `c'1\`}}
	for _, tc := range []struct{ in, want, err string }{
		{in: "WHERE $__timeFilter(sent_at)", want: "WHERE sent_at >= toDateTime(1764000000) AND sent_at <= toDateTime(1764003600)"},
		{in: "intDiv(x, $__interval_s) * $__interval_s", want: "intDiv(x, 60) * 60"},
		{in: "$__fromTime AND $__toTime", want: "toDateTime(1764000000) AND toDateTime(1764003600)"},
		{in: "decodeURLComponent('${conversation_id:percentencode}')", want: "decodeURLComponent('c%271%5C')"},
		{in: "$__timeInterval(sent_at)", err: "toStartOfInterval"},
		{in: "$__timeInterval_ms(sent_at)", err: "toStartOfInterval"},
		{in: "$__conditionalAll(a, $b)", err: "not one the dashboards may use"},
		{in: "$__timeFilter()", err: "want one column"},
		{in: "conversation_id = '${conversation_id}'", err: "percentencode"},
		{in: "conversation_id = '$conversation_id'", err: "percentencode"},
		{in: "rule = '${rule}'", err: `no dashboard variable "rule"`},
		{in: "x = ${conversation_id:singlequote}", err: "not handled"},
	} {
		got, err := expandClickHouseSQL(tc.in, env)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("%q expands to %q, want %q", tc.in, got, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one about %q", tc.in, err, tc.err)
		}
	}
}

// ------------------------------------------------------- PromQL

var promKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true, "atan2": true,
}

var promAggregations = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true, "count": true,
	"count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
}

var (
	labelValuesCall = regexp.MustCompile(`^\s*label_values\((.*)\)\s*$`)
	queryResultCall = regexp.MustCompile(`^\s*query_result\((.*)\)\s*$`)
	nameMatcher     = regexp.MustCompile(`__name__\s*=\s*"([^"]*)"`)
)

// grafanaPromQL unwraps Grafana's Prometheus variable-query functions.
func grafanaPromQL(q string) string {
	if m := labelValuesCall.FindStringSubmatch(q); m != nil {
		// label_values(label) or label_values(selector, label).
		args := m[1]
		depth := 0
		for i := len(args) - 1; i >= 0; i-- {
			switch args[i] {
			case ')', '}', ']':
				depth++
			case '(', '{', '[':
				depth--
			case ',':
				if depth == 0 {
					return args[:i]
				}
			}
		}
		return ""
	}
	if m := queryResultCall.FindStringSubmatch(q); m != nil {
		return m[1]
	}
	return q
}

// promMetricNames lists the metric names an expression selects. It is a
// small lexer, not a parser: it skips strings, label matchers (except
// __name__="x"), ranges, durations, numbers, Grafana variables, keywords,
// function and aggregation names and the label lists of by/without/on/
// ignoring/group_left/group_right. What is left are metric names.
func promMetricNames(expr string) ([]string, error) {
	var names []string
	s := expr
	i := 0
	skipSpace := func(j int) int {
		for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
			j++
		}
		return j
	}
	// skipBalanced returns the index after the bracket closing the one at j,
	// skipping strings inside.
	skipBalanced := func(j int) (int, error) {
		open := s[j]
		close := map[byte]byte{'(': ')', '{': '}', '[': ']'}[open]
		depth := 0
		for k := j; k < len(s); k++ {
			switch c := s[k]; c {
			case '"', '\'', '`':
				end := strings.IndexByte(s[k+1:], c)
				for c != '`' && end > 0 && s[k+end] == '\\' { // escaped quote
					next := strings.IndexByte(s[k+end+2:], c)
					if next < 0 {
						end = -1
						break
					}
					end += next + 1
				}
				if end < 0 {
					return 0, fmt.Errorf("unterminated string in %q", expr)
				}
				k += end + 1
			case open:
				depth++
			case close:
				depth--
				if depth == 0 {
					return k + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("unbalanced %c in %q", open, expr)
	}
	prevWord := ""
	depth := 0
	for i < len(s) {
		c := s[i]
		switch {
		case strings.IndexByte(" \t\r\n", c) >= 0:
			i++
		case c == '(' || c == ')':
			if c == '(' {
				depth++
			} else if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced ) in %q", expr)
			}
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string in %q", expr)
			}
			i += end + 2
		case c == '{':
			j, err := skipBalanced(i)
			if err != nil {
				return nil, err
			}
			for _, m := range nameMatcher.FindAllStringSubmatch(s[i:j], -1) {
				names = append(names, m[1])
			}
			i = j
		case c == '[':
			j, err := skipBalanced(i)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '$':
			// Grafana variable: $name or ${...}.
			i++
			if i < len(s) && s[i] == '{' {
				j, err := skipBalanced(i)
				if err != nil {
					return nil, err
				}
				i = j
			}
			for i < len(s) && isPromIdent(s[i], false) {
				i++
			}
		case '0' <= c && c <= '9' || c == '.' && i+1 < len(s) && '0' <= s[i+1] && s[i+1] <= '9':
			// Numbers, durations (5m, 1h30m) and hex.
			for i < len(s) && (isPromIdent(s[i], false) || s[i] == '.') {
				i++
			}
		case isPromIdent(c, true):
			j := i
			for j < len(s) && isPromIdent(s[j], false) {
				j++
			}
			word := s[i:j]
			lower := strings.ToLower(word)
			next := skipSpace(j)
			i = j
			switch {
			case promKeywords[lower]:
				if (lower == "by" || lower == "without" || lower == "on" || lower == "ignoring" || lower == "group_left" || lower == "group_right") &&
					next < len(s) && s[next] == '(' {
					k, err := skipBalanced(next)
					if err != nil {
						return nil, err
					}
					i = k
				}
			case next < len(s) && s[next] == '(':
				// a function or aggregation call
			case promAggregations[lower]:
				// sum by (x) (...): the aggregation before its modifier
			case prevWord == "offset":
			default:
				names = append(names, word)
			}
			prevWord = lower
			continue
		default:
			i++
		}
		prevWord = ""
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced ( in %q", expr)
	}
	return names, nil
}

func isPromIdent(c byte, first bool) bool {
	return c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// exportedMetrics is every metric name Goshawk exposes: the pipeline's
// collectors (histograms as _bucket, _sum and _count), the Go and process
// collectors that `goshawk run` registers, the triage console's review-age
// gauge, and Prometheus's own `up`.
func exportedMetrics(t testing.TB) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := pipeline.NewMetrics(reg, []string{"keyword"})
	touchVectors(t, m)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{reviewAgeMetric: true, "up": true}
	goshawk := 0
	for _, f := range families {
		name := f.GetName()
		if strings.HasPrefix(name, "goshawk_") {
			goshawk++
		}
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name], names[name+"_sum"], names[name+"_count"] = true, true, true
		default:
			names[name] = true
		}
	}
	// Every collector of pipeline.Metrics must have shown up in Gather.
	fields := 0
	rt := reflect.TypeOf(*m)
	collector := reflect.TypeOf((*prometheus.Collector)(nil)).Elem()
	for i := 0; i < rt.NumField(); i++ {
		if rt.Field(i).Type.Implements(collector) {
			fields++
		}
	}
	if goshawk != fields {
		t.Fatalf("pipeline.Metrics has %d collectors but %d goshawk_ metric families were gathered", fields, goshawk)
	}
	return names
}

// touchVectors creates one series in every metric vector of m (the ones
// whose label values are not known up front, such as partitions, have none
// until the pipeline runs, and a vector without series is not gathered).
// The label count is found by trying GetMetricWithLabelValues.
func touchVectors(t testing.TB, m *pipeline.Metrics) {
	t.Helper()
	v := reflect.ValueOf(m).Elem()
	for i := 0; i < v.NumField(); i++ {
		get := v.Field(i).MethodByName("GetMetricWithLabelValues")
		if !get.IsValid() {
			continue
		}
		ok := false
		for n := 0; n <= 8 && !ok; n++ {
			args := make([]reflect.Value, n)
			for j := range args {
				args[j] = reflect.ValueOf("x")
			}
			out := get.Call(args)
			ok = out[1].IsNil()
		}
		if !ok {
			t.Fatalf("pipeline.Metrics.%s: cannot create a series", v.Type().Field(i).Name)
		}
	}
}

// checkPromQLMetrics returns an error for every metric name in exprs (named
// by where they come from) that is not in known.
func checkPromQLMetrics(exprs map[string]string, known map[string]bool) []error {
	var errs []error
	for _, where := range sortedKeys(exprs) {
		names, err := promMetricNames(exprs[where])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", where, err))
			continue
		}
		if len(names) == 0 {
			errs = append(errs, fmt.Errorf("%s: no metric name in %q", where, exprs[where]))
		}
		for _, n := range names {
			if !known[n] {
				errs = append(errs, fmt.Errorf("%s: metric %s is not exported by Goshawk (expression %q)", where, n, exprs[where]))
			}
		}
	}
	return errs
}

// allPromQL gathers every PromQL expression: dashboard targets and
// Prometheus query variables, alert rule expressions, and the series of the
// rule unit tests.
func allPromQL(t testing.TB) map[string]string {
	t.Helper()
	exprs := map[string]string{}
	for _, d := range loadGrafanaDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if dsOf(p, tg).UID == "prometheus" {
					exprs[fmt.Sprintf("%s: panel %q query %s", d.File, p.Title, tg.RefID)] = tg.Expr
				}
			}
		}
		for _, v := range d.Templating.List {
			if v.Type == "query" && v.Datasource != nil && v.Datasource.UID == "prometheus" {
				exprs[fmt.Sprintf("%s: variable %s", d.File, v.Name)] = grafanaPromQL(v.queryText())
			}
		}
	}
	for _, r := range loadAlertRules(t) {
		exprs[fmt.Sprintf("%s: alert %s", alertsPath, r.Alert)] = r.Expr
	}
	for i, s := range loadAlertTests(t).inputSeries() {
		exprs[fmt.Sprintf("%s: input series %d", alertsTestPath, i)] = s
	}
	return exprs
}

func TestPromQLMetricsExported(t *testing.T) {
	exprs := allPromQL(t)
	if len(exprs) < 20 {
		t.Fatalf("only %d PromQL expressions found", len(exprs))
	}
	report(t, checkPromQLMetrics(exprs, exportedMetrics(t)))
}

func TestPromMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`goshawk_messages_consumed_total`, []string{"goshawk_messages_consumed_total"}},
		{`sum(rate(goshawk_messages_consumed_total{job="goshawk", instance=~"$instance"}[$__rate_interval]))`, []string{"goshawk_messages_consumed_total"}},
		{`sum by (reason) (rate(goshawk_messages_rejected_total{reason!="by (x)"}[5m]))`, []string{"goshawk_messages_rejected_total"}},
		{`histogram_quantile(0.99, sum by (le, detector) (rate(goshawk_detector_duration_seconds_bucket[5m])))`, []string{"goshawk_detector_duration_seconds_bucket"}},
		{`a - b offset 10m > 0 and on (sink) c unless ignoring (x) d`, []string{"a", "b", "c", "d"}},
		{`sum without (instance) (x) / ignoring (le) group_left (sink) y`, []string{"x", "y"}},
		{`max(foo) > 1e3 or absent(up{job="goshawk"})`, []string{"foo", "up"}},
		{`{__name__="goshawk_dead_letters_total", job="goshawk"}`, []string{"goshawk_dead_letters_total"}},
		{`deriv(sum(x)[10m:1m]) > 0 # comment naming not_a_metric`, []string{"x"}},
		{grafanaPromQL(`label_values(goshawk_messages_consumed_total{job="goshawk"}, instance)`), []string{"goshawk_messages_consumed_total"}},
		{grafanaPromQL(`label_values(instance)`), nil},
	} {
		got, err := promMetricNames(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: metric names %q, want %q", tc.expr, got, tc.want)
		}
	}
	for _, bad := range []string{`rate(x{a="b}[5m])`, `sum(rate(x[5m])`} {
		if _, err := promMetricNames(bad); err == nil {
			t.Errorf("%q: malformed expression accepted", bad)
		}
	}
}

func TestPromQLCheckRejectsUnknownMetrics(t *testing.T) {
	known := exportedMetrics(t)
	for _, tc := range []struct {
		expr string
		ok   bool
	}{
		{`sum(rate(goshawk_messages_consumed_total[5m]))`, true},
		{`histogram_quantile(0.99, sum by (le) (rate(goshawk_end_to_end_latency_seconds_bucket[5m])))`, true},
		{`goshawk_sink_write_duration_seconds_count`, true},
		{`max(` + reviewAgeMetric + `)`, true},
		{`process_resident_memory_bytes + go_goroutines`, true},
		{`sum(rate(goshawk_messages_eaten_total[5m]))`, false},                          // made up
		{`goshawk_consumer_lag`, false},                                                 // wrong name
		{`goshawk_end_to_end_latency_seconds`, false},                                   // a histogram's bare name
		{`histogram_quantile(0.9, rate(goshawk_messages_in_flight_bucket[5m]))`, false}, // not a histogram
		{`sum(goshawk_flags_total) / sum(goshawk_flagz_total)`, false},
	} {
		errs := checkPromQLMetrics(map[string]string{"test": tc.expr}, known)
		if tc.ok && len(errs) > 0 {
			t.Errorf("%q rejected: %v", tc.expr, errs)
		}
		if !tc.ok && len(errs) == 0 {
			t.Errorf("%q accepted, but it names a metric Goshawk does not export", tc.expr)
		}
	}
}

// --------------------------------------------- queries on ClickHouse

// seed is what the integration test writes to its databases.
type seed struct {
	live, shadow  []detectors.Flag
	verdicts      []verdictRow // on live flags
	shadowVerdict []verdictRow // on shadow flags (must never count)
	shadowRule    string       // unique rule id of every shadow flag
	shadowSender  string
	oddConv       string // a conversation id with quotes and backslashes
}

type verdictRow struct {
	flagID, verdict string
	at              time.Time
}

func makeSeed(base time.Time, unique string) seed {
	s := seed{
		shadowRule:   "shadow_probe." + unique,
		shadowSender: "shadow-sender-" + unique,
		oddConv:      `conv 'odd' \ name % ü`,
	}
	n := 0
	flag := func(conv, sender, rule string, c detectors.Category, sev detectors.Severity, mode detectors.Mode) detectors.Flag {
		n++
		msg := fmt.Sprintf("msg-%d", n)
		at := base.Add(time.Duration(n) * 37 * time.Second)
		return detectors.Flag{
			FlagID:         detectors.FlagID(msg, "keyword", rule),
			MessageID:      msg,
			ConversationID: conv,
			SenderID:       sender,
			RecipientIDs:   []string{"recipient-1", "recipient-2"},
			Category:       c,
			Detector:       "keyword",
			Rule:           rule,
			RuleVersion:    "0123456789abcdef",
			Mode:           mode,
			Severity:       sev,
			Score:          0.5 + float64(n%5)/10,
			Evidence:       "…matched words…",
			SentAt:         at,
			DetectedAt:     at.Add(time.Second),
		}
	}
	for _, c := range detectors.Categories {
		for _, sev := range detectors.Severities {
			for k := 0; k < 3; k++ {
				conv := []string{"conv-a", "conv-b", "conv-c"}[k]
				sender := fmt.Sprintf("sender-%d", (n%4)+1)
				s.live = append(s.live, flag(conv, sender, fmt.Sprintf("%s.rule_%d", c, k%2), c, sev, detectors.Live))
			}
			s.shadow = append(s.shadow, flag("conv-a", s.shadowSender, s.shadowRule, c, sev, detectors.Shadow))
		}
	}
	s.live = append(s.live, flag(s.oddConv, "sender-1", "grooming.rule_0", detectors.Grooming, detectors.Critical, detectors.Live))
	s.shadow = append(s.shadow, flag(s.oddConv, s.shadowSender, s.shadowRule, detectors.Grooming, detectors.Critical, detectors.Shadow))

	// Verdicts on three quarters of the live flags; the rest stay
	// unreviewed. Some flags change their verdict: the later one counts.
	kinds := []string{"confirmed", "dismissed", "escalated"}
	for i, f := range s.live {
		if i%4 == 3 {
			continue
		}
		at := f.DetectedAt.Add(10 * time.Minute)
		s.verdicts = append(s.verdicts, verdictRow{f.FlagID, kinds[i%len(kinds)], at})
		if i%4 == 0 {
			s.verdicts = append(s.verdicts, verdictRow{f.FlagID, "confirmed", at.Add(time.Hour)})
		}
	}
	for _, f := range s.shadow {
		s.shadowVerdict = append(s.shadowVerdict, verdictRow{f.FlagID, "dismissed", f.DetectedAt.Add(5 * time.Minute)})
	}
	return s
}

// seedDatabase migrates db and writes flags and verdicts to it, with the
// project's own migration and writer. It returns a connection whose default
// database is db, as the Grafana data source's defaultDatabase is goshawk.
func seedDatabase(t *testing.T, addr, db string, flags []detectors.Flag, verdicts []verdictRow) driver.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := chsink.Config{Addr: []string{addr}, Database: db}
	if err := chsink.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol: clickhouse.Native,
		Addr:     []string{addr},
		Auth:     clickhouse.Auth{Database: db},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
			t.Errorf("drop test database %s: %v", db, err)
		}
		conn.Close()
	})
	w, err := chsink.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO verdicts (flag_id, verdict, note, analyst, decided_at)")
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	for _, v := range verdicts {
		if err := batch.Append(v.flagID, v.verdict, "", "analyst@example.org", v.at); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	return conn
}

// queryRows runs sql and returns its rows as strings (times in UTC RFC 3339).
func queryRows(ctx context.Context, conn driver.Conn, sql string) ([][]string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts := rows.ColumnTypes()
	var out [][]string
	for rows.Next() {
		dest := make([]any, len(cts))
		for i, ct := range cts {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]string, len(dest))
		for i, d := range dest {
			row[i] = cellString(reflect.ValueOf(d).Elem())
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func cellString(v reflect.Value) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case float64:
		return strconv.FormatFloat(x, 'g', 12, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', 7, 32)
	default:
		return fmt.Sprint(x)
	}
}

func sortedRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "\x1f")
	}
	sort.Strings(out)
	return out
}

func TestClickHouseDashboardQueries(t *testing.T) {
	addr := testenv.ClickHouse(t)
	unique := fmt.Sprintf("%d_%d", os.Getpid(), time.Now().UnixNano())
	base := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Hour)
	s := makeSeed(base, unique)

	// withShadow holds everything; liveOnly the same without the shadow flags
	// and their verdicts. An analysts' panel must not tell them apart.
	withShadow := seedDatabase(t, addr, "goshawk_dash_"+unique,
		append(slices.Clone(s.live), s.shadow...), append(slices.Clone(s.verdicts), s.shadowVerdict...))
	liveOnly := seedDatabase(t, addr, "goshawk_dash_live_"+unique, s.live, s.verdicts)
	reports := makeReportSeed(base, s)
	seedReports(t, withShadow, "goshawk_dash_"+unique, reports)
	seedReports(t, liveOnly, "goshawk_dash_live_"+unique, reports)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	shadowMarkers := []string{s.shadowRule, s.shadowSender}
	for _, f := range s.shadow {
		shadowMarkers = append(shadowMarkers, f.FlagID)
	}
	liveInConv := func(conv string) int {
		n := 0
		for _, f := range s.live {
			if f.ConversationID == conv {
				n++
			}
		}
		return n
	}

	queries, shadowPanels := 0, 0
	for _, d := range loadGrafanaDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				if dsOf(p, tg).UID != "clickhouse" {
					continue
				}
				queries++
				isShadowPanel := strings.HasPrefix(p.Title, shadowPanelPrefix)
				if isShadowPanel {
					shadowPanels++
				}
				convs := []string{"conv-a"}
				if strings.Contains(tg.RawSQL, "conversation_id}") || strings.Contains(tg.RawSQL, "conversation_id:") {
					convs = append(convs, s.oddConv) // a drill-down query: also a hard id
				}
				for _, conv := range convs {
					name := fmt.Sprintf("%s/%s/%s/conversation=%q", d.UID, p.Title, tg.RefID, conv)
					t.Run(name, func(t *testing.T) {
						env := macroEnv{
							from: base.Add(-time.Hour), to: base.Add(4 * time.Hour), intervalS: 60,
							vars: map[string]string{"conversation_id": conv, "console_url": "http://console.example"},
						}
						sql, err := expandClickHouseSQL(tg.RawSQL, env)
						if err != nil {
							t.Fatal(err)
						}
						got, err := queryRows(ctx, withShadow, sql)
						if err != nil {
							t.Fatalf("query fails on ClickHouse: %v\n%s", err, sql)
						}
						if len(got) == 0 {
							t.Fatalf("no rows from the seeded flags:\n%s", sql)
						}
						switch p.Title {
						case "Flags of this conversation":
							if want := liveInConv(conv); len(got) != want {
								t.Errorf("%d rows, want the %d live flags of conversation %q", len(got), want, conv)
							}
						case "Precision per rule":
							checkPrecisionRows(t, got, s)
						case "Verdicts over time":
							checkVerdictTotals(t, got, s)
						case reportMissesPanel, reportFirstVerdictPanel: // reports_grafana_test.go
							checkReportPanel(ctx, t, p.Title, got, withShadow, "goshawk_dash_"+unique, reports)
						}
						mentionsShadow := false
						for _, row := range got {
							for _, cell := range row {
								if slices.Contains(shadowMarkers, cell) {
									mentionsShadow = true
								}
							}
						}
						ref, err := queryRows(ctx, liveOnly, sql)
						if err != nil {
							t.Fatalf("query fails on ClickHouse: %v\n%s", err, sql)
						}
						same := slices.Equal(sortedRows(got), sortedRows(ref))
						if isShadowPanel {
							if !mentionsShadow || same {
								t.Errorf("the shadow panel does not show the shadow rule %s", s.shadowRule)
							}
							return
						}
						if mentionsShadow {
							t.Errorf("an analysts' panel shows a shadow-mode flag (rule %s):\n%q", s.shadowRule, got)
						}
						if !same {
							t.Errorf("shadow-mode flags change this analysts' panel:\nwith them:    %q\nwithout them: %q\n%s", got, ref, sql)
						}
					})
				}
			}
		}
	}
	if queries < 10 {
		t.Errorf("only %d ClickHouse queries found", queries)
	}
	if shadowPanels == 0 {
		t.Errorf("no %q… panel compares shadow and live flags", shadowPanelPrefix)
	}
}

// latestVerdicts is each live flag's latest verdict.
func latestVerdicts(s seed) map[string]string {
	at := map[string]time.Time{}
	out := map[string]string{}
	for _, v := range s.verdicts {
		if prev, ok := at[v.flagID]; !ok || v.at.After(prev) {
			at[v.flagID], out[v.flagID] = v.at, v.verdict
		}
	}
	return out
}

// checkPrecisionRows: columns detector, rule, confirmed, dismissed,
// escalated, precision, from the latest verdict of every live flag.
func checkPrecisionRows(t *testing.T, rows [][]string, s seed) {
	t.Helper()
	latest := latestVerdicts(s)
	type counts struct{ confirmed, dismissed, escalated int }
	want := map[string]*counts{}
	for _, f := range s.live {
		v, ok := latest[f.FlagID]
		if !ok {
			continue
		}
		key := f.Detector + "/" + f.Rule
		if want[key] == nil {
			want[key] = &counts{}
		}
		switch v {
		case "confirmed":
			want[key].confirmed++
		case "dismissed":
			want[key].dismissed++
		case "escalated":
			want[key].escalated++
		}
	}
	for key, c := range want {
		if c.confirmed+c.dismissed == 0 {
			delete(want, key)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("%d rules with precision, want %d: %q", len(rows), len(want), rows)
	}
	for _, r := range rows {
		if len(r) != 6 {
			t.Fatalf("precision row %q: want detector, rule, confirmed, dismissed, escalated, precision", r)
		}
		c := want[r[0]+"/"+r[1]]
		if c == nil {
			t.Errorf("precision row for unexpected rule %q", r)
			continue
		}
		wantPrecision := float64(c.confirmed) / float64(c.confirmed+c.dismissed)
		got := fmt.Sprintf("%s %s %s %s", r[2], r[3], r[4], r[5])
		if w := fmt.Sprintf("%d %d %d %s", c.confirmed, c.dismissed, c.escalated, strconv.FormatFloat(wantPrecision, 'g', 12, 64)); got != w {
			t.Errorf("rule %s: confirmed dismissed escalated precision = %s, want %s", r[1], got, w)
		}
	}
}

// checkVerdictTotals: each live flag with a verdict counts once, under its
// latest verdict.
func checkVerdictTotals(t *testing.T, rows [][]string, s seed) {
	t.Helper()
	want := map[string]int{}
	for _, v := range latestVerdicts(s) {
		want[v]++
	}
	got := map[string]int{}
	for _, r := range rows {
		if len(r) != 4 {
			t.Fatalf("verdict row %q: want time, confirmed, dismissed, escalated", r)
		}
		for i, name := range []string{"confirmed", "dismissed", "escalated"} {
			n, err := strconv.Atoi(r[i+1])
			if err != nil {
				t.Fatalf("verdict row %q: %v", r, err)
			}
			got[name] += n
		}
	}
	for _, name := range []string{"confirmed", "dismissed", "escalated"} {
		if got[name] != want[name] {
			t.Errorf("%s verdicts over the range: %d, want %d (the latest verdict of each live flag)", name, got[name], want[name])
		}
	}
}
