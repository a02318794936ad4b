package dashboards

// Tests of the Prometheus alert rules in prometheus/alerts.yml: promtool
// checks them and runs their unit tests (prometheus/alerts_test.yml), and
// the checks below hold every alert to the project's conventions: a
// severity label, summary and description annotations, a for: duration,
// and unit tests in which it both fires and stays silent.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/internal/testenv"
)

const (
	alertsPath     = "prometheus/alerts.yml"
	alertsTestPath = "prometheus/alerts_test.yml"
)

// wantAlerts are the alerts issue 8 asks for (and GoshawkDown, without which
// the others go silent when the pipeline's metrics vanish).
var wantAlerts = []string{
	"GoshawkDown",
	"GoshawkConsumerLagGrowing",
	"GoshawkNothingConsumed",
	"GoshawkDeadLetterSpike",
	"GoshawkSinkFailing",
	"GoshawkEndToEndLatencyHigh",
	"GoshawkCriticalFlagUnreviewed",
}

var alertSeverities = []string{"critical", "warning"}

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadAlertRules(t testing.TB) []alertRule {
	t.Helper()
	data, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", alertsPath, err)
	}
	var rules []alertRule
	for _, g := range doc.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s: no rules", alertsPath)
	}
	return rules
}

type alertTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name        string `yaml:"name"`
		InputSeries []struct {
			Series string `yaml:"series"`
			Values string `yaml:"values"`
		} `yaml:"input_series"`
		AlertRuleTest []alertCase `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

type alertCase struct {
	EvalTime  string `yaml:"eval_time"`
	Alertname string `yaml:"alertname"`
	ExpAlerts []any  `yaml:"exp_alerts"`
}

func loadAlertTests(t testing.TB) *alertTestFile {
	t.Helper()
	data, err := os.ReadFile(alertsTestPath)
	if err != nil {
		t.Fatal(err)
	}
	var f alertTestFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", alertsTestPath, err)
	}
	return &f
}

// inputSeries are the series selectors of every test's input.
func (f *alertTestFile) inputSeries() []string {
	var out []string
	for _, tc := range f.Tests {
		for _, s := range tc.InputSeries {
			out = append(out, s.Series)
		}
	}
	return out
}

func (f *alertTestFile) cases() []alertCase {
	var out []alertCase
	for _, tc := range f.Tests {
		out = append(out, tc.AlertRuleTest...)
	}
	return out
}

// checkAlertRules: every alert has a known severity label, summary and
// description annotations and a positive for: duration; the wanted alerts
// exist.
func checkAlertRules(rules []alertRule) []error {
	var errs []error
	var names []string
	for _, r := range rules {
		if r.Alert == "" {
			continue // a recording rule
		}
		names = append(names, r.Alert)
		if sev := r.Labels["severity"]; !slices.Contains(alertSeverities, sev) {
			errs = append(errs, fmt.Errorf("alert %s: severity label %q, want one of %q", r.Alert, sev, alertSeverities))
		}
		for _, a := range []string{"summary", "description"} {
			if r.Annotations[a] == "" {
				errs = append(errs, fmt.Errorf("alert %s: no %s annotation", r.Alert, a))
			}
		}
		if d, err := model.ParseDuration(r.For); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("alert %s: for: %q, want a positive duration", r.Alert, r.For))
		}
	}
	for _, want := range wantAlerts {
		if !slices.Contains(names, want) {
			errs = append(errs, fmt.Errorf("no alert %s", want))
		}
	}
	return errs
}

// checkAlertCoverage: every alert has a unit test case where it fires and
// one where it does not, and no case names an alert that does not exist.
func checkAlertCoverage(rules []alertRule, cases []alertCase) []error {
	var errs []error
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, c := range cases {
		if len(c.ExpAlerts) > 0 {
			fires[c.Alertname] = true
		} else {
			silent[c.Alertname] = true
		}
	}
	var names []string
	for _, r := range rules {
		if r.Alert == "" {
			continue
		}
		names = append(names, r.Alert)
		if !fires[r.Alert] {
			errs = append(errs, fmt.Errorf("alert %s: no test case in %s where it fires", r.Alert, alertsTestPath))
		}
		if !silent[r.Alert] {
			errs = append(errs, fmt.Errorf("alert %s: no test case in %s where it stays silent", r.Alert, alertsTestPath))
		}
	}
	for _, c := range cases {
		if !slices.Contains(names, c.Alertname) {
			errs = append(errs, fmt.Errorf("%s tests alert %q, which %s does not define", alertsTestPath, c.Alertname, alertsPath))
		}
	}
	return errs
}

// checkRuleFilesLoaded: prometheus.yml loads alerts.yml, and does not load
// the unit-test file as rules.
func checkRuleFilesLoaded(p *promConfig) []error {
	matches := func(file string) bool {
		for _, pattern := range p.RuleFiles {
			if ok, _ := filepath.Match(pattern, file); ok {
				return true
			}
		}
		return false
	}
	var errs []error
	if !matches(filepath.Base(alertsPath)) {
		errs = append(errs, fmt.Errorf("%s: rule_files %q do not load %s", prometheusPath, p.RuleFiles, filepath.Base(alertsPath)))
	}
	if matches(filepath.Base(alertsTestPath)) {
		errs = append(errs, fmt.Errorf("%s: rule_files %q load the unit-test file %s as rules", prometheusPath, p.RuleFiles, filepath.Base(alertsTestPath)))
	}
	return errs
}

func TestAlertRules(t *testing.T) {
	rules := loadAlertRules(t)
	report(t, checkAlertRules(rules))
	report(t, checkAlertCoverage(rules, loadAlertTests(t).cases()))
	report(t, checkRuleFilesLoaded(loadPrometheus(t)))
}

func TestAlertChecksCatchMistakes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(rules []alertRule, cases []alertCase) []error
	}{
		{"no severity", func(rules []alertRule, _ []alertCase) []error {
			delete(rules[0].Labels, "severity")
			return checkAlertRules(rules)
		}},
		{"unknown severity", func(rules []alertRule, _ []alertCase) []error {
			rules[0].Labels["severity"] = "page-everyone"
			return checkAlertRules(rules)
		}},
		{"no description", func(rules []alertRule, _ []alertCase) []error {
			delete(rules[0].Annotations, "description")
			return checkAlertRules(rules)
		}},
		{"no for", func(rules []alertRule, _ []alertCase) []error {
			rules[0].For = ""
			return checkAlertRules(rules)
		}},
		{"alert missing", func(rules []alertRule, _ []alertCase) []error {
			return checkAlertRules(rules[1:])
		}},
		{"never tested firing", func(rules []alertRule, cases []alertCase) []error {
			var keep []alertCase
			for _, c := range cases {
				if c.Alertname != rules[0].Alert || len(c.ExpAlerts) == 0 {
					keep = append(keep, c)
				}
			}
			return checkAlertCoverage(rules, keep)
		}},
		{"never tested silent", func(rules []alertRule, cases []alertCase) []error {
			var keep []alertCase
			for _, c := range cases {
				if c.Alertname != rules[0].Alert || len(c.ExpAlerts) > 0 {
					keep = append(keep, c)
				}
			}
			return checkAlertCoverage(rules, keep)
		}},
		{"test of a renamed alert", func(rules []alertRule, cases []alertCase) []error {
			rules[0].Alert = "GoshawkRenamed"
			return checkAlertCoverage(rules, cases)
		}},
		{"rules not loaded", func([]alertRule, []alertCase) []error {
			return checkRuleFilesLoaded(&promConfig{RuleFiles: []string{"*rules*.yml"}})
		}},
		{"test file loaded as rules", func([]alertRule, []alertCase) []error {
			return checkRuleFilesLoaded(&promConfig{RuleFiles: []string{"*.yml"}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if errs := tc.check(loadAlertRules(t), loadAlertTests(t).cases()); len(errs) == 0 {
				t.Error("the check found nothing wrong")
			} else {
				t.Logf("caught: %v", errs[0])
			}
		})
	}
}

// promtool returns the path of promtool, skipping the test without it unless
// integration tests are on (scripts/test.sh installs it with Debian's
// prometheus package).
func promtool(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if testenv.Enabled() {
			t.Fatal("promtool is not installed and GOSHAWK_INTEGRATION=1 (Debian's prometheus package has it)")
		}
		t.Skip("promtool not installed (Debian's prometheus package has it)")
	}
	return bin
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool(t), args...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Errorf("promtool %q failed (%v):\n%s", args, err, out)
	case err != nil:
		t.Fatalf("promtool %q: %v", args, err)
	default:
		t.Logf("promtool %q:\n%s", args, out)
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, "check", "rules", alertsPath)
}

func TestPromtoolTestRules(t *testing.T) {
	runPromtool(t, "test", "rules", alertsTestPath)
}

func TestPromtoolCheckConfig(t *testing.T) {
	// Also checks every rule file prometheus.yml loads.
	runPromtool(t, "check", "config", prometheusPath)
}
