package dashboards

// A picture of each Grafana dashboard's layout, for the README.
//
// No Grafana server runs here, so the test draws the layout itself: an HTML
// page per dashboard with Grafana's 24-column grid (rows 30 px high, 8 px
// gaps), each panel a box at its gridPos with its title, type, data source
// and a one-line summary of its query, and the dashboard's title and
// variables at the top. Headless Chromium renders the page, the test checks
// that every panel is in the DOM where its gridPos puts it, and screenshots
// it to PNG.
//
// The page and the PNG always go to $GOSHAWK_ARTIFACTS or a temporary
// directory. With GOSHAWK_UPDATE_DOCS=1 the PNG is also written to
// docs/dashboard-<uid>.png, which the README shows:
//
//	GOSHAWK_UPDATE_DOCS=1 go test ./dashboards -run Layout -count=1
//
// The browser part skips when Chromium is missing, unless
// GOSHAWK_INTEGRATION=1 (then it fails), like the console's browser test.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"image/png"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	layoutChromium = "/usr/bin/chromium"
	layoutDocsDir  = "../docs"

	// Grafana's grid: 24 columns, 30 px rows, 8 px between cells.
	layoutColumns = 24
	layoutRowPx   = 30
	layoutGapPx   = 8

	layoutViewportWidth = 1400
	layoutMinPNGBytes   = 10 << 10
	layoutMaxDocsBytes  = 200 << 10
)

// ------------------------------------------------------------ the model

// layoutDashboard is what the picture needs of a dashboard; grafanaDashboard
// (grafana_test.go) has no geometry.
type layoutDashboard struct {
	File        string
	UID         string        `json:"uid"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Tags        []string      `json:"tags"`
	Refresh     string        `json:"refresh"`
	Panels      []layoutPanel `json:"panels"`
	Time        struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Templating struct {
		List []layoutVariable `json:"list"`
	} `json:"templating"`
}

type layoutVariable struct {
	grafanaVariable
	Label string `json:"label"`
	Hide  int    `json:"hide"`
}

type layoutPanel struct {
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource *grafanaDSRef   `json:"datasource"`
	Targets    []grafanaTarget `json:"targets"`
	GridPos    gridPos         `json:"gridPos"`
	Collapsed  bool            `json:"collapsed"`
	Panels     []layoutPanel   `json:"panels"` // a collapsed row's panels
	Options    struct {
		GraphMode string `json:"graphMode"` // stat: "none" or "area"
	} `json:"options"`
	FieldConfig struct {
		Defaults struct {
			Custom struct {
				DrawStyle string `json:"drawStyle"` // timeseries: "line", "bars", "points"
			} `json:"custom"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type gridPos struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

func (g gridPos) String() string { return fmt.Sprintf("%d,%d,%d,%d", g.X, g.Y, g.W, g.H) }

func (g gridPos) overlaps(o gridPos) bool {
	return g.X < o.X+o.W && o.X < g.X+g.W && g.Y < o.Y+o.H && o.Y < g.Y+g.H
}

func loadLayoutDashboards(t testing.TB) []*layoutDashboard {
	t.Helper()
	files := readGrafanaDashboardFiles(t)
	var out []*layoutDashboard
	for _, name := range sortedKeys(files) {
		var d layoutDashboard
		if err := json.Unmarshal(files[name], &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d.File = name
		out = append(out, &d)
	}
	return out
}

// titles are the titles of every panel and row, collapsed ones included.
func (d *layoutDashboard) titles() []string {
	var out []string
	var walk func(ps []layoutPanel)
	walk = func(ps []layoutPanel) {
		for _, p := range ps {
			if p.Title != "" {
				out = append(out, p.Title)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// checkLayoutGrid: every panel fits the 24 columns, rows are full-width
// headings one unit high, and no two visible panels overlap (Grafana would
// move one of them, so the JSON would not say what the dashboard shows).
func checkLayoutGrid(d *layoutDashboard) []error {
	var errs []error
	check := func(where string, p layoutPanel) {
		g := p.GridPos
		if g.X < 0 || g.Y < 0 || g.W < 1 || g.H < 1 || g.X+g.W > layoutColumns {
			errs = append(errs, fmt.Errorf("%s: panel %q: gridPos %v is outside the %d columns", where, p.Title, g, layoutColumns))
		}
		if p.Type == "row" && (g.X != 0 || g.W != layoutColumns || g.H != 1) {
			errs = append(errs, fmt.Errorf("%s: row %q: gridPos %v, want x=0, w=%d, h=1", where, p.Title, g, layoutColumns))
		}
	}
	for i, p := range d.Panels {
		check(d.File, p)
		if p.Type == "row" && !p.Collapsed && len(p.Panels) > 0 {
			errs = append(errs, fmt.Errorf("%s: row %q is open but holds %d panels (only collapsed rows hold their panels)", d.File, p.Title, len(p.Panels)))
		}
		for _, c := range p.Panels {
			check(d.File+": row "+p.Title, c)
		}
		for _, q := range d.Panels[:i] {
			if p.GridPos.overlaps(q.GridPos) {
				errs = append(errs, fmt.Errorf("%s: panels %q (%v) and %q (%v) overlap", d.File, q.Title, q.GridPos, p.Title, p.GridPos))
			}
		}
	}
	return errs
}

// ------------------------------------------------------- query summaries

var (
	sqlTableRef  = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_.]*)`)
	sqlKeyword   = regexp.MustCompile(`(?i)^(GROUP\s+BY|ORDER\s+BY|HAVING|LIMIT|SETTINGS|UNION|FORMAT|WITH\s+(?:TOTALS|ROLLUP|CUBE))\b`)
	promGrouping = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// sqlSummary is "FROM t1, t2 · GROUP BY x, y": the tables a query reads
// and its outermost GROUP BY.
func sqlSummary(sql string) string {
	var tables []string
	for _, m := range sqlTableRef.FindAllStringSubmatch(sql, -1) {
		if !slices.Contains(tables, m[1]) {
			tables = append(tables, m[1])
		}
	}
	var parts []string
	if len(tables) > 0 {
		parts = append(parts, "FROM "+strings.Join(tables, ", "))
	}
	if g := outerGroupBy(sql); g != "" {
		parts = append(parts, "GROUP BY "+g)
	}
	return strings.Join(parts, " · ")
}

// outerGroupBy is the GROUP BY list outside every parenthesis, with its
// white space collapsed, or "".
func outerGroupBy(sql string) string {
	depth, start := 0, -1
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'' || c == '"' || c == '`':
			for i++; i < len(sql) && sql[i] != c; i++ {
				if sql[i] == '\\' {
					i++
				}
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && (i == 0 || !isSQLWordByte(sql[i-1])):
			m := sqlKeyword.FindStringSubmatch(sql[i:])
			if m == nil {
				continue
			}
			if start >= 0 {
				return strings.Join(strings.Fields(sql[start:i]), " ")
			}
			if strings.HasPrefix(strings.ToUpper(m[1]), "GROUP") {
				start = i + len(m[0])
			}
			i += len(m[0]) - 1
		}
	}
	if start >= 0 {
		return strings.Join(strings.Fields(sql[start:]), " ")
	}
	return ""
}

func isSQLWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// promSummary is "metric_a, metric_b · by label": the metrics the
// expressions select and the labels they keep (without le).
func promSummary(exprs []string) (string, error) {
	var metrics, labels []string
	for _, e := range exprs {
		names, err := promMetricNames(e)
		if err != nil {
			return "", err
		}
		for _, n := range names {
			if !slices.Contains(metrics, n) {
				metrics = append(metrics, n)
			}
		}
		for _, m := range promGrouping.FindAllStringSubmatch(e, -1) {
			for l := range strings.SplitSeq(m[1], ",") {
				if l = strings.TrimSpace(l); l != "" && l != "le" && !slices.Contains(labels, l) {
					labels = append(labels, l)
				}
			}
		}
	}
	s := strings.Join(metrics, ", ")
	if len(labels) > 0 {
		s += " · by " + strings.Join(labels, ", ")
	}
	return s, nil
}

// dataSourceName is how the picture names a data source.
func dataSourceName(r grafanaDSRef) string {
	switch {
	case r.Type == clickhousePluginType || strings.EqualFold(r.UID, "clickhouse"):
		return "ClickHouse"
	case r.Type == "prometheus" || strings.EqualFold(r.UID, "prometheus"):
		return "Prometheus"
	case r.UID != "":
		return r.UID
	}
	return r.Type
}

// panelSources and panelSummary: a panel's data sources, and one line on
// its queries (per data source kind).
func panelSources(p layoutPanel) []string {
	var out []string
	add := func(r grafanaDSRef) {
		if n := dataSourceName(r); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, tg := range p.Targets {
		add(dsOf(grafanaPanel{Datasource: p.Datasource}, tg))
	}
	if len(p.Targets) == 0 && p.Datasource != nil {
		add(*p.Datasource)
	}
	return out
}

func panelSummary(p layoutPanel) (string, error) {
	var sqls, proms []string
	for _, tg := range p.Targets {
		switch {
		case tg.RawSQL != "":
			sqls = append(sqls, tg.RawSQL)
		case tg.Expr != "":
			proms = append(proms, tg.Expr)
		}
	}
	var parts []string
	for _, q := range sqls {
		if s := sqlSummary(q); s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	if len(proms) > 0 {
		s, err := promSummary(proms)
		if err != nil {
			return "", fmt.Errorf("panel %q: %v", p.Title, err)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; "), nil
}

// ------------------------------------------------------------- the page

type layoutView struct {
	Title, UID, File, Description, Time, Refresh string
	Tags, Sources                                []string // Sources: the data sources in use, for the legend
	Vars                                         []layoutVarView
	Items                                        []layoutItem
}

type layoutVarView struct{ Name, Label, Type, Value string }

type layoutItem struct {
	Row                 bool
	Title, Type         string
	Sources             []string
	Summary             []string // cut where it may wrap
	Grid                gridPos
	Collapsed           bool
	Hidden              []string // a collapsed row's panel titles
	ColStart, RowStart  int      // 1-based CSS grid lines
	ColSpan, RowSpan    int
	SourceClass, Sketch string
}

func variableValue(v layoutVariable) string {
	switch v.Type {
	case "textbox", "constant":
		return fmt.Sprintf("%q", v.queryText())
	case "query", "custom", "interval":
		return v.queryText()
	}
	return ""
}

// panelSketch is the faint drawing in a panel's box that hints at its
// visualization: "lines", "bars", "table", "spark" (a stat with a graph)
// or "" (nothing).
func panelSketch(p layoutPanel) string {
	switch p.Type {
	case "timeseries", "graph", "trend":
		if p.FieldConfig.Defaults.Custom.DrawStyle == "bars" {
			return "bars"
		}
		return "lines"
	case "barchart", "histogram":
		return "bars"
	case "table", "logs":
		return "table"
	case "stat":
		if p.Options.GraphMode == "area" {
			return "spark"
		}
	}
	return ""
}

// wrapPoints cuts s after each "_", so that the page can wrap long metric
// names there (with <wbr>) rather than anywhere.
func wrapPoints(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '_')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

func newLayoutView(d *layoutDashboard) (*layoutView, error) {
	v := &layoutView{
		Title: d.Title, UID: d.UID, File: filepath.ToSlash(filepath.Join("dashboards", d.File)),
		Description: d.Description, Tags: d.Tags, Refresh: d.Refresh,
	}
	if d.Time.From != "" {
		v.Time = d.Time.From + " to " + d.Time.To
	}
	for _, x := range d.Templating.List {
		if x.Hide == 2 { // hidden variable
			continue
		}
		v.Vars = append(v.Vars, layoutVarView{Name: x.Name, Label: x.Label, Type: x.Type, Value: variableValue(x)})
	}
	panels := slices.Clone(d.Panels)
	sort.SliceStable(panels, func(i, j int) bool {
		a, b := panels[i].GridPos, panels[j].GridPos
		return a.Y < b.Y || a.Y == b.Y && a.X < b.X
	})
	for _, p := range panels {
		it := layoutItem{
			Row: p.Type == "row", Title: p.Title, Type: p.Type, Grid: p.GridPos, Collapsed: p.Collapsed,
			ColStart: p.GridPos.X + 1, RowStart: p.GridPos.Y + 1, ColSpan: max(p.GridPos.W, 1), RowSpan: max(p.GridPos.H, 1),
		}
		for _, c := range p.Panels {
			it.Hidden = append(it.Hidden, c.Title)
		}
		if !it.Row {
			it.Sources = panelSources(p)
			for _, src := range it.Sources {
				if !slices.Contains(v.Sources, src) {
					v.Sources = append(v.Sources, src)
				}
			}
			s, err := panelSummary(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", d.File, err)
			}
			it.Summary = wrapPoints(s)
			if len(it.Sources) == 1 {
				it.SourceClass = "ds-" + strings.ToLower(it.Sources[0])
			}
			it.Sketch = panelSketch(p)
		}
		v.Items = append(v.Items, it)
	}
	return v, nil
}

var layoutPage = template.Must(template.New("layout").Funcs(template.FuncMap{"lower": strings.ToLower}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
* { box-sizing: border-box; }
html, body { margin: 0; background: #f4f5f8; color: #24292e; }
body { font: 13px/1.35 "Inter", "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; padding: 16px 16px 20px; }
header { margin-bottom: 14px; }
h1 { font-size: 22px; margin: 0 0 2px; font-weight: 600; }
.desc { margin: 0 0 6px; color: #555d66; }
.meta { color: #7a828b; font-size: 12px; margin-bottom: 8px; }
.meta b { color: #555d66; font-weight: 600; }
.vars { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.var { background: #fff; border: 1px solid #d5d9de; border-radius: 4px; padding: 3px 8px; font-size: 12px; }
.var .name { font-weight: 600; }
.var .label, .var .vtype { color: #7a828b; }
.var code { font: 11.5px "DejaVu Sans Mono", "Liberation Mono", monospace; color: #4a525a; }
.legend { margin-left: auto; color: #7a828b; font-size: 12px; display: flex; gap: 12px; align-items: center; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.legend .l-clickhouse::before { background: #e0b400; }
.legend .l-prometheus::before { background: #e6522c; }
#grid { display: grid; grid-template-columns: repeat(24, minmax(0, 1fr)); grid-auto-rows: 30px; gap: 8px; }
.panel { position: relative; overflow: hidden; background: #fff; border: 1px solid #d5d9de; border-top: 3px solid #9aa3ad; border-radius: 4px; padding: 6px 9px; }
.panel.ds-clickhouse { border-top-color: #e0b400; }
.panel.ds-prometheus { border-top-color: #e6522c; }
.panel .title { position: relative; font-weight: 600; font-size: 14px; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; }
.panel .badges { position: relative; margin: 4px 0 3px; white-space: nowrap; }
.badge { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 9px; background: #eef0f3; color: #4a525a; margin-right: 4px; }
.badge.ds-clickhouse { background: #fff6cc; color: #6b5600; }
.badge.ds-prometheus { background: #fde4dc; color: #9a2f12; }
.panel .summary { position: relative; font: 11px/1.4 "DejaVu Sans Mono", "Liberation Mono", monospace; color: #8d949c; overflow-wrap: anywhere;
  display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 3; overflow: hidden; }
.sketch { position: absolute; left: 10px; right: 10px; bottom: 10px; height: 40%; }
.sketch svg { width: 100%; height: 100%; display: block; }
.sketch.table { height: 48%; background: repeating-linear-gradient(to bottom, #eceef1 0 1px, transparent 1px 20px); }
.sketch.spark { height: 22%; }
.row { display: flex; align-items: center; gap: 8px; border-bottom: 1px solid #c8cdd3; padding: 0 2px; }
.row .title { font-weight: 600; font-size: 15px; white-space: nowrap; }
.row .chev { color: #7a828b; font-size: 11px; }
.row .hidden { color: #9aa1a9; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.row .hidden .title { font-weight: normal; font-size: 12px; }
</style></head>
<body>
<header>
<h1>{{.Title}}</h1>
{{with .Description}}<p class="desc">{{.}}</p>{{end}}
<div class="meta"><b>uid</b> {{.UID}} · {{.File}}{{with .Time}} · <b>time</b> {{.}}{{end}}{{with .Refresh}} · <b>refresh</b> {{.}}{{end}}{{with .Tags}} · <b>tags</b> {{range $i, $t := .}}{{if $i}}, {{end}}{{$t}}{{end}}{{end}} · layout only, no data</div>
<div class="vars">
{{range .Vars}}<span class="var"><span class="name">${{.Name}}</span>{{with .Label}} <span class="label">{{.}}</span>{{end}} <span class="vtype">{{.Type}}</span>{{with .Value}} <code>{{.}}</code>{{end}}</span>
{{else}}<span class="var"><span class="vtype">no variables</span></span>
{{end}}<span class="legend">{{range .Sources}}<span class="l-{{lower .}}">{{.}}</span>{{end}}</span>
</div>
</header>
<main id="grid">
{{range .Items}}{{if .Row}}<section class="row" data-grid="{{.Grid}}" style="grid-column: {{.ColStart}} / span {{.ColSpan}}; grid-row: {{.RowStart}} / span {{.RowSpan}}">
<span class="chev">{{if .Collapsed}}▶{{else}}▼{{end}}</span><span class="title">{{.Title}}</span>{{if .Collapsed}}<span class="hidden">collapsed: {{range $i, $h := .Hidden}}{{if $i}}, {{end}}<span class="title">{{$h}}</span>{{end}}</span>{{end}}
</section>
{{else}}<section class="panel {{.SourceClass}}" data-grid="{{.Grid}}" style="grid-column: {{.ColStart}} / span {{.ColSpan}}; grid-row: {{.RowStart}} / span {{.RowSpan}}">
{{if eq .Sketch "lines" "spark"}}<div class="sketch {{.Sketch}}"><svg viewBox="0 0 100 40" preserveAspectRatio="none" fill="none" stroke-width="1.5" shape-rendering="crispEdges"><polyline stroke="#d3d7dc" vector-effect="non-scaling-stroke" points="0,30 8,30 8,27 16,27 16,29 24,29 24,21 32,21 32,24 40,24 40,15 48,15 48,19 56,19 56,12 64,12 64,17 72,17 72,9 80,9 80,13 88,13 88,6 100,6"/>{{if eq .Sketch "lines"}}<polyline stroke="#e6e8eb" vector-effect="non-scaling-stroke" points="0,37 10,37 10,35 20,35 20,36 30,36 30,31 40,31 40,33 50,33 50,28 60,28 60,31 70,31 70,26 80,26 80,29 90,29 90,24 100,24"/>{{end}}</svg></div>
{{else if eq .Sketch "bars"}}<div class="sketch"><svg viewBox="0 0 100 40" preserveAspectRatio="none" fill="#eceef1" shape-rendering="crispEdges"><rect x="2" y="22" width="8" height="18"/><rect x="14" y="12" width="8" height="28"/><rect x="26" y="26" width="8" height="14"/><rect x="38" y="8" width="8" height="32"/><rect x="50" y="18" width="8" height="22"/><rect x="62" y="28" width="8" height="12"/><rect x="74" y="14" width="8" height="26"/><rect x="86" y="20" width="8" height="20"/></svg></div>
{{else if .Sketch}}<div class="sketch {{.Sketch}}"></div>
{{end}}<div class="title">{{.Title}}</div>
<div class="badges"><span class="badge">{{.Type}}</span>{{range .Sources}}<span class="badge ds-{{lower .}}">{{.}}</span>{{end}}</div>
{{with .Summary}}<div class="summary">{{range $i, $s := .}}{{if $i}}<wbr>{{end}}{{$s}}{{end}}</div>{{end}}
</section>
{{end}}{{end}}</main>
</body></html>
`))

func renderLayoutHTML(d *layoutDashboard) ([]byte, error) {
	v, err := newLayoutView(d)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := layoutPage.Execute(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ------------------------------------------------------------------ tests

// layoutArtifactsDir is $GOSHAWK_ARTIFACTS, or a temporary directory.
func layoutArtifactsDir(t *testing.T) string {
	dir := os.Getenv("GOSHAWK_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// renderedBox is a grid item as the browser laid it out.
type renderedBox struct {
	Grid   string  `json:"grid"`
	Title  string  `json:"title"`
	Left   float64 `json:"left"`
	Top    float64 `json:"top"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

type renderedPage struct {
	Titles []string      `json:"titles"`
	Grid   renderedBox   `json:"grid"`
	Boxes  []renderedBox `json:"boxes"`
	Height int64         `json:"height"`
}

const layoutInspectJS = `(() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; };
  const grid = document.getElementById('grid');
  return {
    titles: Array.from(document.querySelectorAll('.title'), (e) => e.textContent),
    grid: box(grid),
    boxes: Array.from(grid.querySelectorAll('[data-grid]'), (e) => Object.assign(box(e), {grid: e.dataset.grid, title: e.querySelector('.title').textContent})),
    height: Math.ceil(document.documentElement.scrollHeight),
  };
})()`

// checkRenderedLayout: every title is in the DOM, and every panel and row
// is where Grafana's grid puts its gridPos.
func checkRenderedLayout(d *layoutDashboard, page renderedPage) []error {
	var errs []error
	for _, title := range d.titles() {
		if !slices.Contains(page.Titles, title) {
			errs = append(errs, fmt.Errorf("%s: title %q is not in the page", d.File, title))
		}
	}
	colW := (page.Grid.Width - (layoutColumns-1)*layoutGapPx) / layoutColumns
	if len(page.Boxes) != len(d.Panels) {
		errs = append(errs, fmt.Errorf("%s: %d grid items in the page, want %d", d.File, len(page.Boxes), len(d.Panels)))
	}
	for _, b := range page.Boxes {
		var g gridPos
		if _, err := fmt.Sscanf(b.Grid, "%d,%d,%d,%d", &g.X, &g.Y, &g.W, &g.H); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: data-grid %q: %v", d.File, b.Title, b.Grid, err))
			continue
		}
		want := renderedBox{
			Left:   page.Grid.Left + float64(g.X)*(colW+layoutGapPx),
			Top:    page.Grid.Top + float64(g.Y)*(layoutRowPx+layoutGapPx),
			Width:  float64(g.W)*(colW+layoutGapPx) - layoutGapPx,
			Height: float64(g.H)*(layoutRowPx+layoutGapPx) - layoutGapPx,
		}
		const tol = 1.5
		if math.Abs(b.Left-want.Left) > tol || math.Abs(b.Top-want.Top) > tol ||
			math.Abs(b.Width-want.Width) > tol || math.Abs(b.Height-want.Height) > tol {
			errs = append(errs, fmt.Errorf("%s: %q (gridPos %v) is drawn at %.0f,%.0f %.0fx%.0f px, want %.0f,%.0f %.0fx%.0f",
				d.File, b.Title, g, b.Left, b.Top, b.Width, b.Height, want.Left, want.Top, want.Width, want.Height))
		}
	}
	return errs
}

// checkLayoutPNG: a real picture of the whole page.
func checkLayoutPNG(buf []byte, height int64) error {
	if len(buf) <= layoutMinPNGBytes {
		return fmt.Errorf("PNG is %d bytes, want more than %d", len(buf), layoutMinPNGBytes)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		return fmt.Errorf("decode PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != layoutViewportWidth || int64(b.Dy()) != height {
		return fmt.Errorf("PNG is %dx%d, want %dx%d", b.Dx(), b.Dy(), layoutViewportWidth, height)
	}
	return nil
}

// TestDashboardLayout draws every dashboard's layout and screenshots it in
// headless Chromium.
func TestDashboardLayout(t *testing.T) {
	start := time.Now()
	ds := loadLayoutDashboards(t)
	pages := map[string][]byte{}
	for _, d := range ds {
		report(t, checkLayoutGrid(d))
		page, err := renderLayoutHTML(d)
		if err != nil {
			t.Fatal(err)
		}
		pages[d.UID] = page
	}
	if t.Failed() {
		return
	}

	if _, err := os.Stat(layoutChromium); err != nil {
		if os.Getenv("GOSHAWK_INTEGRATION") == "1" {
			t.Fatalf("%s is missing and GOSHAWK_INTEGRATION=1 (apt-get install -y chromium): %v", layoutChromium, err)
		}
		t.Skipf("layout pictures: %s is missing (apt-get install -y chromium)", layoutChromium)
	}
	updateDocs := os.Getenv("GOSHAWK_UPDATE_DOCS") == "1"
	if updateDocs {
		if _, err := os.Stat(layoutDocsDir); err != nil {
			t.Fatal(err)
		}
	}
	dir := layoutArtifactsDir(t)

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(layoutChromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(layoutViewportWidth, 900),
	)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil { // starts the browser; no timeout on this first call
		t.Fatalf("start %s: %v", layoutChromium, err)
	}
	t.Logf("browser started after %v", time.Since(start).Round(time.Millisecond))

	for _, d := range ds {
		t.Run(d.UID, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(browser, 60*time.Second)
			defer cancel()
			htmlPath, err := filepath.Abs(filepath.Join(dir, "dashboard-"+d.UID+".html"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(htmlPath, pages[d.UID], 0o644); err != nil {
				t.Fatal(err)
			}
			u := url.URL{Scheme: "file", Path: filepath.ToSlash(htmlPath)}
			if err := chromedp.Do(ctx,
				chromedp.EmulateViewport(layoutViewportWidth, 900),
				chromedp.Navigate(u.String()),
				chromedp.WaitVisible(chromedp.ID("grid")),
			); err != nil {
				t.Fatalf("open %s: %v", u.String(), err)
			}
			// Full page: make the viewport as tall as the page (until the
			// height no longer changes), then inspect and capture it.
			var page renderedPage
			for height := int64(900); ; {
				page, err = chromedp.Run(ctx, chromedp.Evaluate[renderedPage](layoutInspectJS))
				if err != nil {
					t.Fatalf("inspect the page: %v", err)
				}
				if page.Height == height {
					break
				}
				height = page.Height
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(layoutViewportWidth, height)); err != nil {
					t.Fatal(err)
				}
			}
			report(t, checkRenderedLayout(d, page))
			buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			pngPath := filepath.Join(dir, "dashboard-"+d.UID+".png")
			if err := os.WriteFile(pngPath, buf, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := checkLayoutPNG(buf, page.Height); err != nil {
				t.Fatalf("%s: %v", pngPath, err)
			}
			t.Logf("%s: %dx%d, %d bytes", pngPath, layoutViewportWidth, page.Height, len(buf))

			if updateDocs {
				if len(buf) > layoutMaxDocsBytes {
					t.Fatalf("%s is %d bytes, more than the %d allowed in docs/", pngPath, len(buf), layoutMaxDocsBytes)
				}
				docs := filepath.Join(layoutDocsDir, "dashboard-"+d.UID+".png")
				if err := os.WriteFile(docs, buf, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", docs)
			}
		})
	}
	t.Logf("%d dashboards drawn in %v", len(ds), time.Since(start).Round(time.Millisecond))
}

// TestLayoutQuerySummaries: the one-line summaries of SQL and PromQL.
func TestLayoutQuerySummaries(t *testing.T) {
	sqlCases := []struct{ sql, want string }{
		{"SELECT count() AS n FROM flags FINAL WHERE mode = 'live'", "FROM flags"},
		{"SELECT time, rule, count() FROM flags FINAL\nWHERE x = ')'\nGROUP BY time,\n  rule\nORDER BY time", "FROM flags · GROUP BY time, rule"},
		{"SELECT a FROM (SELECT a FROM flags GROUP BY a) AS f ANY LEFT JOIN (SELECT flag_id FROM verdicts FINAL GROUP BY flag_id) AS v USING flag_id ORDER BY a",
			"FROM flags, verdicts"},
		{"SELECT d, r FROM (SELECT 1) ALL INNER JOIN verdicts USING id GROUP BY d, r HAVING c > 0 ORDER BY r", "FROM verdicts · GROUP BY d, r"},
		{"select x from t group by x with totals", "FROM t · GROUP BY x"},
	}
	for _, c := range sqlCases {
		if got := sqlSummary(c.sql); got != c.want {
			t.Errorf("sqlSummary(%q) = %q, want %q", c.sql, got, c.want)
		}
	}
	got, err := promSummary([]string{
		`histogram_quantile(0.99, sum by (le, sink) (rate(goshawk_sink_write_duration_seconds_bucket{job="goshawk"}[$__rate_interval])))`,
		`sum by (sink) (rate(goshawk_sink_write_errors_total[5m])) / sum by (sink) (rate(goshawk_sink_write_attempts_total[5m]))`,
	})
	want := "goshawk_sink_write_duration_seconds_bucket, goshawk_sink_write_errors_total, goshawk_sink_write_attempts_total · by sink"
	if err != nil || got != want {
		t.Errorf("promSummary = %q, %v; want %q", got, err, want)
	}
	// Every panel of the real dashboards has a summary.
	for _, d := range loadLayoutDashboards(t) {
		for _, p := range d.Panels {
			if p.Type == "row" {
				continue
			}
			if s, err := panelSummary(p); err != nil || s == "" {
				t.Errorf("%s: panel %q: summary %q, %v", d.File, p.Title, s, err)
			}
		}
	}
}

// TestLayoutChecksCatchMistakes: the grid check rejects overlapping and
// out-of-grid panels, and the page shows a collapsed row's panels and
// escapes titles.
func TestLayoutChecksCatchMistakes(t *testing.T) {
	ch := &grafanaDSRef{Type: clickhousePluginType, UID: "clickhouse"}
	d := &layoutDashboard{File: "test.json", UID: "t", Title: "T <b>", Panels: []layoutPanel{
		{Type: "stat", Title: "A", Datasource: ch, GridPos: gridPos{0, 0, 12, 4}, Targets: []grafanaTarget{{RawSQL: "SELECT 1 FROM flags"}}},
		{Type: "row", Title: "Later", Collapsed: true, GridPos: gridPos{0, 4, 24, 1}, Panels: []layoutPanel{
			{Type: "table", Title: "Hidden <script>", Datasource: ch, GridPos: gridPos{0, 5, 24, 8}},
		}},
	}}
	if errs := checkLayoutGrid(d); len(errs) != 0 {
		t.Errorf("valid layout: %v", errs)
	}
	page, err := renderLayoutHTML(d)
	if err != nil {
		t.Fatal(err)
	}
	page = bytes.ReplaceAll(page, []byte("<wbr>"), nil)
	for _, s := range []string{"Hidden &lt;script&gt;", "T &lt;b&gt;", "FROM flags", "collapsed:", `data-grid="0,4,24,1"`} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("page lacks %q", s)
		}
	}

	bad := &layoutDashboard{File: "bad.json", Panels: []layoutPanel{
		{Type: "stat", Title: "A", GridPos: gridPos{0, 0, 12, 4}},
		{Type: "stat", Title: "B", GridPos: gridPos{8, 2, 8, 4}},  // overlaps A
		{Type: "stat", Title: "C", GridPos: gridPos{20, 6, 8, 4}}, // past column 24
		{Type: "row", Title: "R", GridPos: gridPos{0, 10, 12, 1}}, // half a row
		{Type: "stat", Title: "D", GridPos: gridPos{0, 11, 0, 4}}, // no width
		{Type: "row", Title: "Open", GridPos: gridPos{0, 15, 24, 1}, Panels: []layoutPanel{{Title: "E", GridPos: gridPos{0, 16, 4, 4}}}},
	}}
	errs := checkLayoutGrid(bad)
	for _, want := range []string{`"A" (0,0,12,4) and "B" (8,2,8,4) overlap`, `"C": gridPos 20,6,8,4 is outside`, `row "R"`, `"D": gridPos 0,11,0,4`, `row "Open" is open but holds 1 panels`} {
		found := false
		for _, e := range errs {
			found = found || strings.Contains(e.Error(), want)
		}
		if !found {
			t.Errorf("checkLayoutGrid missed %s; got %v", want, errs)
		}
	}

	// A page whose boxes are off the grid, or lack a title, is caught.
	rendered := renderedPage{
		Titles: []string{"A", "Later"},
		Grid:   renderedBox{Left: 16, Top: 100, Width: 1368},
		Boxes: []renderedBox{
			{Grid: "0,0,12,4", Title: "A", Left: 16, Top: 100, Width: 680, Height: 144},
			{Grid: "0,4,24,1", Title: "Later", Left: 16, Top: 260, Width: 1368, Height: 30},
		},
	}
	errs = checkRenderedLayout(d, rendered)
	for _, want := range []string{`title "Hidden <script>" is not in the page`, `"Later" (gridPos 0,4,24,1) is drawn at 16,260`} {
		found := false
		for _, e := range errs {
			found = found || strings.Contains(e.Error(), want)
		}
		if !found {
			t.Errorf("checkRenderedLayout missed %s; got %v", want, errs)
		}
	}
	if len(errs) != 2 {
		t.Errorf("checkRenderedLayout: %d errors, want 2: %v", len(errs), errs)
	}
}
