package pipeline_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/pipeline"
)

// promtoolCheck runs `promtool check metrics` over the registry's text
// exposition. promtool is part of the test environment (scripts/test.sh
// installs it): missing, it fails integration runs and skips quick ones.
func promtoolCheck(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if testenv.Enabled() {
			t.Fatal("promtool is not installed (scripts/services.sh installs it)")
		}
		t.Skip("promtool not installed")
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	enc := expfmt.NewEncoder(&text, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = &text
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestMetricsExposition(t *testing.T) {
	reg := prometheus.NewRegistry()
	pipeline.NewMetrics(reg, []string{"keyword"})
	promtoolCheck(t, reg)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range families {
		if !strings.HasPrefix(mf.GetName(), "goshawk_") {
			t.Errorf("metric %s lacks the goshawk_ prefix", mf.GetName())
		}
		names[mf.GetName()] = true
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "reason", "category", "severity", "detector", "mode", "sink", "from", "op", "partition", "result", "version":
				default:
					t.Errorf("metric %s has label %q outside the bounded set", mf.GetName(), l.GetName())
				}
			}
		}
	}
	// Series known up front are exported at zero from the start.
	for _, n := range []string{"goshawk_messages_rejected_total", "goshawk_flags_total", "goshawk_sink_write_errors_total", "goshawk_end_to_end_latency_seconds"} {
		if !names[n] {
			t.Errorf("%s is not exported before the first event", n)
		}
	}
}
