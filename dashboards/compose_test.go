package dashboards

// These tests keep docker-compose.yml, the files it mounts from this
// directory and the goshawk binary in agreement. No Docker engine is needed:
// docker-compose only parses and validates the file, and everything else is
// read with yaml.v3 and checked here. Each check is a function returning the
// problems it found; TestChecksCatchMistakes feeds every check a broken copy
// of the real files to prove that it can fail.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	repoRoot        = ".."
	composePath     = "../docker-compose.yml"
	dockerfilePath  = "../Dockerfile"
	prometheusPath  = "prometheus/prometheus.yml"
	datasourcesDir  = "grafana/provisioning/datasources"
	dashboardsDir   = "grafana/provisioning/dashboards"
	clickhouseInit  = "clickhouse/initdb"
	readOnlyCHUser  = "grafana"
	defaultSubcmd   = "run" // the Dockerfile's CMD
	metricsAddrFlag = "metrics-addr"
)

// goshawkSubcommands are the subcommands a compose service may run.
var goshawkSubcommands = []string{"run", "demo", "replay", "produce", "migrate", "rules", "console"}

// wantDatasourceUIDs are the fixed uids dashboards refer to.
var wantDatasourceUIDs = []string{"clickhouse", "prometheus"}

// ---------------------------------------------------------------- the files

type composeFile struct {
	Services map[string]*service `yaml:"services"`
	Volumes  map[string]any      `yaml:"volumes"`
}

type service struct {
	Image       string         `yaml:"image"`
	Build       any            `yaml:"build"`
	Command     any            `yaml:"command"`
	Entrypoint  any            `yaml:"entrypoint"`
	Environment any            `yaml:"environment"`
	Ports       []any          `yaml:"ports"`
	Volumes     []any          `yaml:"volumes"`
	DependsOn   any            `yaml:"depends_on"`
	Healthcheck map[string]any `yaml:"healthcheck"`
	Restart     string         `yaml:"restart"`
}

func loadCompose(t testing.TB) *composeFile {
	t.Helper()
	data, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", composePath, err)
	}
	if len(c.Services) == 0 {
		t.Fatalf("%s: no services", composePath)
	}
	return &c
}

type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func loadPrometheus(t testing.TB) *promConfig {
	t.Helper()
	data, err := os.ReadFile(prometheusPath)
	if err != nil {
		t.Fatal(err)
	}
	var p promConfig
	if err := yaml.Unmarshal(data, &p); err != nil {
		t.Fatalf("%s: %v", prometheusPath, err)
	}
	return &p
}

type datasource struct {
	File     string         `yaml:"-"`
	Name     string         `yaml:"name"`
	Type     string         `yaml:"type"`
	UID      string         `yaml:"uid"`
	URL      string         `yaml:"url"`
	JSONData map[string]any `yaml:"jsonData"`
}

func loadDatasources(t testing.TB) []datasource {
	t.Helper()
	var all []datasource
	for _, file := range yamlFiles(t, datasourcesDir) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Datasources []datasource `yaml:"datasources"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, d := range doc.Datasources {
			d.File = file
			all = append(all, d)
		}
	}
	return all
}

func yamlFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	return files
}

// ------------------------------------------------------ service accessors

func (s *service) isGoshawk() bool {
	return s.Build != nil || strings.HasPrefix(s.Image, "goshawk:") || strings.HasSuffix(strings.Split(s.Image, ":")[0], "/goshawk")
}

// words is a compose command or entrypoint as a list (a string is split on
// spaces, as compose does for simple strings).
func words(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, w := range v {
			out = append(out, fmt.Sprint(w))
		}
		return out
	}
	return nil
}

// subcommand is the goshawk subcommand a goshawk service runs.
func (s *service) subcommand() string {
	w := words(s.Command)
	if len(w) == 0 {
		return defaultSubcmd
	}
	return w[0]
}

// env is the service's environment, from the map or the KEY=VALUE list form.
func (s *service) env() map[string]string {
	out := map[string]string{}
	switch e := s.Environment.(type) {
	case map[string]any:
		for k, v := range e {
			if v == nil {
				out[k] = ""
			} else {
				out[k] = fmt.Sprint(v)
			}
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
			out[k] = v
		}
	}
	return out
}

// containerPorts are the container side of the published ports.
func (s *service) containerPorts() []string {
	var out []string
	for _, p := range s.Ports {
		switch p := p.(type) {
		case string:
			parts := strings.Split(p, ":")
			port, _, _ := strings.Cut(parts[len(parts)-1], "/")
			out = append(out, port)
		case int:
			out = append(out, strconv.Itoa(p))
		case map[string]any:
			out = append(out, fmt.Sprint(p["target"]))
		}
	}
	return out
}

type mount struct{ source, target, kind string }

func (s *service) mounts() []mount {
	var out []mount
	for _, v := range s.Volumes {
		switch v := v.(type) {
		case string:
			parts := strings.Split(v, ":")
			m := mount{source: parts[0], kind: "volume"}
			if len(parts) > 1 {
				m.target = parts[1]
			}
			if strings.HasPrefix(m.source, ".") || strings.HasPrefix(m.source, "/") || strings.HasPrefix(m.source, "~") {
				m.kind = "bind"
			}
			out = append(out, m)
		case map[string]any:
			out = append(out, mount{source: fmt.Sprint(v["source"]), target: fmt.Sprint(v["target"]), kind: fmt.Sprint(v["type"])})
		}
	}
	return out
}

// dependsOn maps each dependency to its condition (service_started for the
// short list form).
func (s *service) dependsOn() map[string]string {
	out := map[string]string{}
	switch d := s.DependsOn.(type) {
	case []any:
		for _, name := range d {
			out[fmt.Sprint(name)] = "service_started"
		}
	case map[string]any:
		for name, v := range d {
			cond := "service_started"
			if m, ok := v.(map[string]any); ok && m["condition"] != nil {
				cond = fmt.Sprint(m["condition"])
			}
			out[name] = cond
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ------------------------------------------------------- the binary's help

// flagHelp is what `goshawk <sub> --help` says about the subcommand's flags.
type flagHelp struct {
	byEnv    map[string]string // GOSHAWK_NAME -> name
	defaults map[string]string // name -> default, where the help shows one
	output   string
}

var (
	helpLine    = regexp.MustCompile(`^\s+--([a-z0-9][a-z0-9-]*) \((GOSHAWK_[A-Z0-9_]+)\)\s*$`)
	defaultText = regexp.MustCompile(`default "([^"]*)"\)`)
)

func parseHelp(out string) (flagHelp, error) {
	h := flagHelp{byEnv: map[string]string{}, defaults: map[string]string{}, output: out}
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		m := helpLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name, env := m[1], m[2]
		if want := "GOSHAWK_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")); env != want {
			return h, fmt.Errorf("--%s is documented as %s, want %s", name, env, want)
		}
		h.byEnv[env] = name
		if i+1 < len(lines) && !helpLine.MatchString(lines[i+1]) {
			if d := defaultText.FindAllStringSubmatch(lines[i+1], -1); d != nil {
				h.defaults[name] = d[len(d)-1][1]
			}
		}
	}
	if len(h.byEnv) == 0 {
		return h, errors.New("no '  --name (GOSHAWK_NAME)' lines")
	}
	return h, nil
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	helpMu    sync.Mutex
	helpCache = map[string]flagHelp{}
)

// goshawkBinary builds ../cmd/goshawk once per test run (with -race when this
// test binary has it, so that go test's compiled packages are reused).
func goshawkBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "goshawk-compose-test-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "goshawk")
		args := []string{"build", "-o", binPath}
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "-race" && s.Value == "true" {
					args = append(args, "-race")
				}
			}
		}
		args = append(args, "./cmd/goshawk")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the goshawk binary: %v", buildErr)
	}
	return binPath
}

func help(t testing.TB, sub string) flagHelp {
	t.Helper()
	helpMu.Lock()
	defer helpMu.Unlock()
	if h, ok := helpCache[sub]; ok {
		return h
	}
	bin := goshawkBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, sub, "--help")
	// Only the binary's defaults: no GOSHAWK_* from the test's environment.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOSHAWK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, _ := cmd.CombinedOutput() // the exit code of --help is not the point
	h, err := parseHelp(string(out))
	if err != nil {
		t.Fatalf("goshawk %s --help: %v; it printed:\n%s", sub, err, out)
	}
	helpCache[sub] = h
	return h
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// ------------------------------------------------------------------ checks

// checkGoshawkEnv: every goshawk service runs a known subcommand, and every
// GOSHAWK_* variable it sets is a flag of that subcommand. Other services set
// no GOSHAWK_* variables.
func checkGoshawkEnv(c *composeFile, help func(sub string) flagHelp) []error {
	var errs []error
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		env := s.env()
		if !s.isGoshawk() {
			for _, k := range sortedKeys(env) {
				if strings.HasPrefix(k, "GOSHAWK_") {
					errs = append(errs, fmt.Errorf("service %s does not run goshawk but sets %s", name, k))
				}
			}
			continue
		}
		sub := s.subcommand()
		if !slices.Contains(goshawkSubcommands, sub) {
			errs = append(errs, fmt.Errorf("service %s: command %q does not start with a goshawk subcommand (%s)", name, words(s.Command), strings.Join(goshawkSubcommands, ", ")))
			continue
		}
		h := help(sub)
		for _, k := range sortedKeys(env) {
			if !strings.HasPrefix(k, "GOSHAWK_") {
				continue
			}
			if _, ok := h.byEnv[k]; !ok {
				errs = append(errs, fmt.Errorf("service %s sets %s, but `goshawk %s --help` has no such flag", name, k, sub))
			}
		}
		flags := sortedValues(h.byEnv)
		for _, w := range words(s.Command) {
			if !strings.HasPrefix(w, "-") {
				continue
			}
			flagName, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
			if !slices.Contains(flags, flagName) {
				errs = append(errs, fmt.Errorf("service %s passes %s, but `goshawk %s --help` has no such flag", name, w, sub))
			}
		}
	}
	return errs
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// checkMetrics: the service running `goshawk run` publishes the port of its
// metrics address (the flag's default unless GOSHAWK_METRICS_ADDR is set),
// that default is the documented 9464, and Prometheus scrapes service:port.
func checkMetrics(c *composeFile, runHelp flagHelp, prom *promConfig) []error {
	var errs []error
	def, ok := runHelp.defaults[metricsAddrFlag]
	if !ok {
		return []error{fmt.Errorf("`goshawk run --help` shows no default for --%s", metricsAddrFlag)}
	}
	_, defPort, err := net.SplitHostPort(def)
	if err != nil {
		return []error{fmt.Errorf("default of --%s %q: %v", metricsAddrFlag, def, err)}
	}
	if defPort != "9464" {
		errs = append(errs, fmt.Errorf("default of --%s is %q; docker-compose.yml, prometheus.yml and the docs use 9464", metricsAddrFlag, def))
	}
	targets := map[string]bool{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				targets[tg] = true
			}
		}
	}
	runners := 0
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if !s.isGoshawk() || s.subcommand() != "run" {
			continue
		}
		runners++
		port := defPort
		if addr, ok := s.env()["GOSHAWK_METRICS_ADDR"]; ok {
			if _, port, err = net.SplitHostPort(addr); err != nil {
				errs = append(errs, fmt.Errorf("service %s: GOSHAWK_METRICS_ADDR %q: %v", name, addr, err))
				continue
			}
		}
		if !slices.Contains(s.containerPorts(), port) {
			errs = append(errs, fmt.Errorf("service %s serves metrics on port %s but publishes %v", name, port, s.containerPorts()))
		}
		if target := net.JoinHostPort(name, port); !targets[target] {
			errs = append(errs, fmt.Errorf("%s does not scrape %s (targets: %v)", prometheusPath, target, sortedKeys(targets)))
		}
	}
	if runners == 0 {
		errs = append(errs, errors.New("no service runs `goshawk run`"))
	}
	return errs
}

// checkMounts: every file or directory mounted from the repository exists,
// no mount reaches outside it, and named volumes are declared.
func checkMounts(c *composeFile, root string) []error {
	var errs []error
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return []error{err}
	}
	for _, name := range sortedKeys(c.Services) {
		for _, m := range c.Services[name].mounts() {
			switch m.kind {
			case "bind":
				if filepath.IsAbs(m.source) || strings.HasPrefix(m.source, "~") {
					errs = append(errs, fmt.Errorf("service %s mounts %s from outside the repository", name, m.source))
					continue
				}
				p := filepath.Join(absRoot, m.source)
				if rel, err := filepath.Rel(absRoot, p); err != nil || strings.HasPrefix(rel, "..") {
					errs = append(errs, fmt.Errorf("service %s mounts %s from outside the repository", name, m.source))
					continue
				}
				if _, err := os.Stat(p); err != nil {
					errs = append(errs, fmt.Errorf("service %s mounts %s, which does not exist: %v", name, m.source, err))
				}
			case "volume":
				if _, ok := c.Volumes[m.source]; !ok {
					errs = append(errs, fmt.Errorf("service %s uses volume %s, not declared under top-level volumes", name, m.source))
				}
			}
		}
	}
	return errs
}

// pinned reports whether an image reference has an explicit tag (not
// latest) or a digest.
func pinned(ref string) bool {
	if strings.Contains(ref, "@sha256:") {
		return true
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	return ok && tag != "" && tag != "latest"
}

// checkImages: every image in the compose file and every FROM of the
// Dockerfile has an explicit tag.
func checkImages(c *composeFile, dockerfile string) []error {
	var errs []error
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if s.Image == "" {
			if s.Build == nil {
				errs = append(errs, fmt.Errorf("service %s has neither image nor build", name))
			}
			continue
		}
		if !pinned(s.Image) {
			errs = append(errs, fmt.Errorf("service %s: image %q has no explicit tag (or uses latest)", name, s.Image))
		}
	}
	stages := map[string]bool{}
	froms := 0
	for _, line := range strings.Split(dockerfile, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.EqualFold(f[0], "FROM") {
			continue
		}
		froms++
		ref := f[1]
		for _, w := range f[1:] {
			if !strings.HasPrefix(w, "--") { // skip --platform=...
				ref = w
				break
			}
		}
		if !stages[strings.ToLower(ref)] && ref != "scratch" && !pinned(ref) {
			errs = append(errs, fmt.Errorf("Dockerfile: FROM %s has no explicit tag (or uses latest)", ref))
		}
		if i := slices.IndexFunc(f, func(w string) bool { return strings.EqualFold(w, "AS") }); i > 0 && i+1 < len(f) {
			stages[strings.ToLower(f[i+1])] = true
		}
	}
	if froms == 0 {
		errs = append(errs, errors.New("Dockerfile has no FROM line"))
	}
	return errs
}

// checkDependsOn: dependencies exist; service_healthy waits for a service
// with a health check, service_completed_successfully for a one-shot.
func checkDependsOn(c *composeFile) []error {
	var errs []error
	for _, name := range sortedKeys(c.Services) {
		deps := c.Services[name].dependsOn()
		for _, dep := range sortedKeys(deps) {
			target, ok := c.Services[dep]
			if !ok {
				errs = append(errs, fmt.Errorf("service %s depends on %s, which does not exist", name, dep))
				continue
			}
			switch cond := deps[dep]; cond {
			case "service_healthy":
				if target.Healthcheck == nil {
					errs = append(errs, fmt.Errorf("service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep))
				}
			case "service_completed_successfully":
				if target.Restart != "" && target.Restart != "no" {
					errs = append(errs, fmt.Errorf("service %s waits for %s to complete, but %s restarts (%s)", name, dep, dep, target.Restart))
				}
			case "service_started":
			default:
				errs = append(errs, fmt.Errorf("service %s: unknown depends_on condition %q", name, cond))
			}
		}
	}
	return errs
}

// checkTopics: the topics the goshawk services use are created by the
// one-shot service that runs kafka-topics.sh.
func checkTopics(c *composeFile, help func(sub string) flagHelp) []error {
	var errs []error
	var creator string
	var script string
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		text := strings.Join(append(words(s.Entrypoint), words(s.Command)...), " ")
		if strings.Contains(text, "kafka-topics.sh") && strings.Contains(text, "--create") {
			creator, script = name, text
		}
	}
	if creator == "" {
		return []error{errors.New("no service creates the Kafka topics (kafka-topics.sh --create)")}
	}
	created := map[string]bool{}
	for _, m := range regexp.MustCompile(`--topic[ =]+"?([A-Za-z0-9._-]+)`).FindAllStringSubmatch(script, -1) {
		created[m[1]] = true
	}
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if !s.isGoshawk() {
			continue
		}
		sub := s.subcommand()
		if sub != "run" && sub != "produce" {
			continue
		}
		env := s.env()
		h := help(sub)
		topic := env["GOSHAWK_TOPIC"]
		if topic == "" {
			topic = h.defaults["topic"]
		}
		used := []string{topic}
		if sub == "run" {
			dlq := env["GOSHAWK_DLQ_TOPIC"]
			if dlq == "" {
				dlq = topic + ".dlq"
			}
			used = append(used, dlq)
			if f := env["GOSHAWK_FLAGS_TOPIC"]; f != "" {
				used = append(used, f)
			}
		}
		for _, tp := range used {
			if tp == "" {
				errs = append(errs, fmt.Errorf("service %s: cannot tell which topic it uses", name))
			} else if !created[tp] {
				errs = append(errs, fmt.Errorf("service %s uses topic %s, which %s does not create (creates %v)", name, tp, creator, sortedKeys(created)))
			}
		}
	}
	return errs
}

// checkDatasources: the uids are exactly the fixed ones; ClickHouse is
// reached as the read-only user that the init script creates; the hosts are
// compose services; plugins that are not built in are installed.
func checkDatasources(ds []datasource, c *composeFile, initScripts string) []error {
	var errs []error
	var uids []string
	for _, d := range ds {
		uids = append(uids, d.UID)
	}
	sort.Strings(uids)
	if !slices.Equal(uids, wantDatasourceUIDs) {
		errs = append(errs, fmt.Errorf("Grafana data source uids are %q, want %q", uids, wantDatasourceUIDs))
	}
	grafana, ok := c.Services["grafana"]
	if !ok {
		return append(errs, errors.New("no grafana service"))
	}
	genv := grafana.env()
	var plugins []string
	for _, k := range []string{"GF_PLUGINS_PREINSTALL_SYNC", "GF_PLUGINS_PREINSTALL", "GF_INSTALL_PLUGINS"} {
		// Entries are "id", "id@version" or (GF_INSTALL_PLUGINS) "id version".
		for _, entry := range strings.Split(genv[k], ",") {
			if f := strings.Fields(entry); len(f) > 0 {
				id, _, _ := strings.Cut(f[0], "@")
				plugins = append(plugins, id)
			}
		}
	}
	for _, d := range ds {
		switch d.Type {
		case "prometheus":
			host := strings.TrimPrefix(strings.TrimPrefix(d.URL, "http://"), "https://")
			host, _, _ = strings.Cut(host, "/")
			h, _, err := net.SplitHostPort(host)
			if err != nil || c.Services[h] == nil {
				errs = append(errs, fmt.Errorf("%s: data source %s: url %q does not name a compose service", d.File, d.UID, d.URL))
			}
		case "grafana-clickhouse-datasource":
			host := fmt.Sprint(d.JSONData["host"])
			if c.Services[host] == nil {
				errs = append(errs, fmt.Errorf("%s: data source %s: host %q is not a compose service", d.File, d.UID, host))
			}
			if user := fmt.Sprint(d.JSONData["username"]); user != readOnlyCHUser {
				errs = append(errs, fmt.Errorf("%s: data source %s connects as %q, want the read-only user %q", d.File, d.UID, user, readOnlyCHUser))
			}
			if !regexp.MustCompile(`(?i)CREATE USER (IF NOT EXISTS )?` + readOnlyCHUser + `\b`).MatchString(initScripts) {
				errs = append(errs, fmt.Errorf("no script in dashboards/%s creates the ClickHouse user %q", clickhouseInit, readOnlyCHUser))
			}
			if regexp.MustCompile(`(?i)GRANT\s+(ALL|INSERT|ALTER|CREATE|DROP|TRUNCATE)`).MatchString(initScripts) {
				errs = append(errs, fmt.Errorf("dashboards/%s grants %q more than SELECT", clickhouseInit, readOnlyCHUser))
			}
			if !slices.Contains(plugins, d.Type) {
				errs = append(errs, fmt.Errorf("grafana service does not install plugin %s (GF_PLUGINS_PREINSTALL_SYNC: %q)", d.Type, genv["GF_PLUGINS_PREINSTALL_SYNC"]))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: data source %s has unexpected type %q", d.File, d.UID, d.Type))
		}
	}
	return errs
}

// checkDashboardJSON: each dashboard file is JSON and refers only to the
// provisioned data sources (by uid or name), or to template variables.
func checkDashboardJSON(files map[string][]byte, ds []datasource) []error {
	known := map[string]bool{"-- Grafana --": true, "grafana": true, "-- Mixed --": true, "-- Dashboard --": true}
	for _, d := range ds {
		known[d.UID], known[d.Name] = true, true
	}
	var errs []error
	for _, file := range sortedKeys(files) {
		var doc any
		if err := json.Unmarshal(files[file], &doc); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", file, err))
			continue
		}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, child := range v {
					if k == "datasource" {
						ref := ""
						switch d := child.(type) {
						case string:
							ref = d
						case map[string]any:
							if u, ok := d["uid"].(string); ok {
								ref = u
							}
						}
						if ref != "" && !strings.HasPrefix(ref, "$") && !known[ref] {
							errs = append(errs, fmt.Errorf("%s refers to data source %q; provisioned: %v", file, ref, wantDatasourceUIDs))
						}
					}
					walk(child)
				}
			case []any:
				for _, child := range v {
					walk(child)
				}
			}
		}
		walk(doc)
	}
	return errs
}

func readDashboards(t testing.TB) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(grafanaDashboardsDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		files[path] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func readInitScripts(t testing.TB) string {
	t.Helper()
	var all bytes.Buffer
	entries, err := os.ReadDir(clickhouseInit)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(clickhouseInit, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all.Write(data)
		all.WriteByte('\n')
	}
	return all.String()
}

func report(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		t.Error(err)
	}
}

// ------------------------------------------------------------------- tests

func TestComposeConfigValid(t *testing.T) {
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("GOSHAWK_INTEGRATION") == "1" {
			t.Fatal("docker-compose is not installed and GOSHAWK_INTEGRATION=1 (scripts/services.sh installs it)")
		}
		t.Skip("docker-compose not installed (scripts/services.sh installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-f", composePath, "config", "-q")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose -f %s config: %v\n%s", composePath, err, out)
	}
}

func TestCompose(t *testing.T) {
	c := loadCompose(t)
	dockerfile, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		check func(t *testing.T) []error
	}{
		{"GoshawkEnvAreFlags", func(t *testing.T) []error { return checkGoshawkEnv(c, helpFunc(t)) }},
		{"MetricsPort", func(t *testing.T) []error { return checkMetrics(c, help(t, "run"), loadPrometheus(t)) }},
		{"MountsExist", func(t *testing.T) []error { return checkMounts(c, repoRoot) }},
		{"ImagesPinned", func(t *testing.T) []error { return checkImages(c, string(dockerfile)) }},
		{"DependsOn", func(t *testing.T) []error { return checkDependsOn(c) }},
		{"TopicsCreated", func(t *testing.T) []error { return checkTopics(c, helpFunc(t)) }},
		{"GrafanaDatasources", func(t *testing.T) []error { return checkDatasources(loadDatasources(t), c, readInitScripts(t)) }},
		{"GrafanaDashboards", func(t *testing.T) []error { return checkDashboardJSON(readDashboards(t), loadDatasources(t)) }},
	} {
		t.Run(tc.name, func(t *testing.T) { report(t, tc.check(t)) })
	}
}

// helpFunc is help bound to t, for the checks.
func helpFunc(t *testing.T) func(sub string) flagHelp {
	return func(sub string) flagHelp { return help(t, sub) }
}

func TestPrometheusScrapesGoshawkJob(t *testing.T) {
	p := loadPrometheus(t)
	for _, sc := range p.ScrapeConfigs {
		if sc.JobName == "goshawk" {
			return
		}
	}
	t.Errorf("%s has no scrape job named goshawk (dashboards select job=\"goshawk\")", prometheusPath)
}

// TestChecksCatchMistakes breaks a copy of the real configuration in one way
// at a time and expects the matching check to complain.
func TestChecksCatchMistakes(t *testing.T) {
	dockerfile, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	goshawkRunner := func(t *testing.T, c *composeFile) *service {
		for _, name := range sortedKeys(c.Services) {
			if s := c.Services[name]; s.isGoshawk() && s.subcommand() == "run" {
				return s
			}
		}
		t.Fatal("no service runs goshawk run")
		return nil
	}
	setEnv := func(s *service, k, v string) {
		env := map[string]any{}
		for key, val := range s.env() {
			env[key] = val
		}
		env[k] = v
		s.Environment = env
	}
	for _, tc := range []struct {
		name  string
		check func(t *testing.T, c *composeFile) []error
	}{
		{"unknown GOSHAWK variable", func(t *testing.T, c *composeFile) []error {
			setEnv(goshawkRunner(t, c), "GOSHAWK_NO_SUCH_FLAG", "1")
			return checkGoshawkEnv(c, helpFunc(t))
		}},
		{"produce flag on migrate", func(t *testing.T, c *composeFile) []error {
			setEnv(c.Services["migrate"], "GOSHAWK_RATE", "1")
			return checkGoshawkEnv(c, helpFunc(t))
		}},
		{"unknown subcommand", func(t *testing.T, c *composeFile) []error {
			goshawkRunner(t, c).Command = []any{"serve"}
			return checkGoshawkEnv(c, helpFunc(t))
		}},
		{"GOSHAWK variable on another image", func(t *testing.T, c *composeFile) []error {
			setEnv(c.Services["kafka"], "GOSHAWK_TOPIC", "x")
			return checkGoshawkEnv(c, helpFunc(t))
		}},
		{"metrics port not published", func(t *testing.T, c *composeFile) []error {
			goshawkRunner(t, c).Ports = []any{"127.0.0.1:9999:9999"}
			return checkMetrics(c, help(t, "run"), loadPrometheus(t))
		}},
		{"metrics address moved", func(t *testing.T, c *composeFile) []error {
			setEnv(goshawkRunner(t, c), "GOSHAWK_METRICS_ADDR", ":9100")
			return checkMetrics(c, help(t, "run"), loadPrometheus(t))
		}},
		{"scrape target wrong", func(t *testing.T, c *composeFile) []error {
			p := loadPrometheus(t)
			for i := range p.ScrapeConfigs {
				for j := range p.ScrapeConfigs[i].StaticConfigs {
					p.ScrapeConfigs[i].StaticConfigs[j].Targets = []string{"localhost:9464"}
				}
			}
			return checkMetrics(c, help(t, "run"), p)
		}},
		{"missing mount source", func(t *testing.T, c *composeFile) []error {
			c.Services["grafana"].Volumes = append(c.Services["grafana"].Volumes, "./dashboards/no-such-dir:/x:ro")
			return checkMounts(c, repoRoot)
		}},
		{"mount outside the repo", func(t *testing.T, c *composeFile) []error {
			c.Services["grafana"].Volumes = append(c.Services["grafana"].Volumes, "/etc/passwd:/x:ro")
			return checkMounts(c, repoRoot)
		}},
		{"undeclared volume", func(t *testing.T, c *composeFile) []error {
			c.Services["grafana"].Volumes = append(c.Services["grafana"].Volumes, "nowhere:/x")
			return checkMounts(c, repoRoot)
		}},
		{"latest image", func(t *testing.T, c *composeFile) []error {
			c.Services["grafana"].Image = "grafana/grafana:latest"
			return checkImages(c, string(dockerfile))
		}},
		{"untagged image", func(t *testing.T, c *composeFile) []error {
			c.Services["kafka"].Image = "registry.local:5000/apache/kafka"
			return checkImages(c, string(dockerfile))
		}},
		{"untagged Dockerfile base", func(t *testing.T, c *composeFile) []error {
			return checkImages(c, string(dockerfile)+"\nFROM alpine\n")
		}},
		{"healthy without healthcheck", func(t *testing.T, c *composeFile) []error {
			c.Services["clickhouse"].Healthcheck = nil
			return checkDependsOn(c)
		}},
		{"dependency missing", func(t *testing.T, c *composeFile) []error {
			goshawkRunner(t, c).DependsOn = []any{"zookeeper"}
			return checkDependsOn(c)
		}},
		{"topic not created", func(t *testing.T, c *composeFile) []error {
			setEnv(goshawkRunner(t, c), "GOSHAWK_FLAGS_TOPIC", "flags.v2")
			return checkTopics(c, helpFunc(t))
		}},
		{"datasource uid changed", func(t *testing.T, c *composeFile) []error {
			ds := loadDatasources(t)
			ds[0].UID = "P1809F7CD0C75ACF3"
			return checkDatasources(ds, c, readInitScripts(t))
		}},
		{"ClickHouse datasource as admin", func(t *testing.T, c *composeFile) []error {
			ds := loadDatasources(t)
			for i := range ds {
				if ds[i].UID == "clickhouse" {
					ds[i].JSONData["username"] = "goshawk"
				}
			}
			return checkDatasources(ds, c, readInitScripts(t))
		}},
		{"read-only user not created", func(t *testing.T, c *composeFile) []error {
			return checkDatasources(loadDatasources(t), c, "-- nothing here\n")
		}},
		{"plugin not installed", func(t *testing.T, c *composeFile) []error {
			g := c.Services["grafana"]
			env := map[string]any{}
			for k, v := range g.env() {
				if !strings.Contains(k, "PLUGINS") {
					env[k] = v
				}
			}
			g.Environment = env
			return checkDatasources(loadDatasources(t), c, readInitScripts(t))
		}},
		{"dashboard with unknown datasource", func(t *testing.T, c *composeFile) []error {
			files := map[string][]byte{"x.json": []byte(`{"panels":[{"datasource":{"type":"prometheus","uid":"abc123"}}]}`)}
			return checkDashboardJSON(files, loadDatasources(t))
		}},
		{"dashboard not JSON", func(t *testing.T, c *composeFile) []error {
			return checkDashboardJSON(map[string][]byte{"x.json": []byte(`{`)}, loadDatasources(t))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if errs := tc.check(t, loadCompose(t)); len(errs) == 0 {
				t.Error("the check found nothing wrong")
			} else {
				t.Logf("caught: %v", errs[0])
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	out := "Usage: goshawk run\n\nFlags (each also read from the environment variable shown):\n" +
		"  --brokers (GOSHAWK_BROKERS)\n\tKafka bootstrap brokers (comma-separated; default \"localhost:9092\")\n" +
		"  --metrics-addr (GOSHAWK_METRICS_ADDR)\n\taddress of /metrics (default \":9464\")\n" +
		"  --workers (GOSHAWK_WORKERS)\n\tdetection workers (default \"2\")\n"
	h, err := parseHelp(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ env, name, def string }{
		{"GOSHAWK_BROKERS", "brokers", "localhost:9092"},
		{"GOSHAWK_METRICS_ADDR", "metrics-addr", ":9464"},
		{"GOSHAWK_WORKERS", "workers", "2"},
	} {
		if h.byEnv[tc.env] != tc.name {
			t.Errorf("%s -> %q, want %q", tc.env, h.byEnv[tc.env], tc.name)
		}
		if h.defaults[tc.name] != tc.def {
			t.Errorf("default of %s = %q, want %q", tc.name, h.defaults[tc.name], tc.def)
		}
	}
	if _, err := parseHelp("  --sink (GOSHAWK_STORE)\n"); err == nil {
		t.Error("a flag documented with the wrong variable was accepted")
	}
	if _, err := parseHelp("no flags at all\n"); err == nil {
		t.Error("help without flags was accepted")
	}
}
