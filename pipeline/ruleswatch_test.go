package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/pipeline"
)

const shadowRule = `detector: keyword
rules:
  - id: spam.urgency
    category: spam
    severity: low
    mode: shadow
    score: 0.3
    description: Pressure to act now.
    owner: safety-spam
    phrases: [limited offer, act now, last chance]
    examples:
      - text: last chance, limited offer
        expect: match
      - text: the last bus home
        expect: no_match
`

func TestRuleWatcher(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	metrics := pipeline.NewMetrics(reg, []string{"keyword"})
	var mu sync.Mutex
	var applied []*detectors.RuleSet
	w := &pipeline.RuleWatcher{Dir: dir, Factories: allDetectors(t), Metrics: metrics, Log: testLogger(t), Interval: 20 * time.Millisecond,
		Apply: func(s *detectors.RuleSet) { mu.Lock(); applied = append(applied, s); mu.Unlock() }}
	initial, err := w.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal, 1)
	go w.Run(ctx, initial, hup)

	count := func() int { mu.Lock(); defer mu.Unlock(); return len(applied) }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// An invalid file (an unknown field) is refused; nothing is applied.
	bad := strings.Replace(shadowRule, "phrases:", "phrasez:", 1)
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the invalid rules to be refused", func() bool {
		return testutil.ToFloat64(metrics.RulesReloads.WithLabelValues("invalid")) == 1
	})
	if count() != 0 {
		t.Fatal("invalid rules were applied")
	}
	// A valid change is applied, and only once.
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(shadowRule), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the valid rules to be applied", func() bool { return count() == 1 })
	mu.Lock()
	got := applied[0]
	mu.Unlock()
	r, ok := got.Lookup("keyword", "spam.urgency")
	if !ok || r.Mode != detectors.Shadow || got.Version() == initial.Version() {
		t.Fatalf("applied set lacks the new shadow rule (%v) or kept the old version", ok)
	}
	// SIGHUP with nothing changed reloads, finds the same version and does
	// not apply it again.
	hup <- os.Interrupt
	time.Sleep(100 * time.Millisecond)
	if count() != 1 || testutil.ToFloat64(metrics.RulesReloads.WithLabelValues("ok")) != 1 {
		t.Errorf("an unchanged reload applied again: %d applications", count())
	}
}

// A reload in the middle of a stream switches every worker between two
// messages: every message is processed exactly once, rules the change does
// not touch give exactly replay's flags, and the new shadow rule's flags
// are a subset of what replay with the new rules gives, marked shadow.
func TestHotReloadUnderLoad(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "messages", "messages.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	factories := allDetectors(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.yaml"), []byte(shadowRule), 0o644); err != nil {
		t.Fatal(err)
	}
	candidate, err := detectors.LoadCheckedRules(factories, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	tr := generate(8000, 5, 0.01)
	before := replayFlags(t, tr)
	after := replayFlagsWith(t, tr, candidate)
	kafkatest.Produce(context.Background(), t, broker, "messages", tr.records)

	store := &recordingSink{}
	h := startPipeline(t, broker, "messages", "goshawk-reload", store, 200)
	for testutil.ToFloat64(h.metrics.Consumed) < 3000 {
		time.Sleep(time.Millisecond)
	}
	h.pipeline.SetRules(candidate)
	h.waitCommitted(t, 60*time.Second)
	h.stop(t)

	if got := testutil.ToFloat64(h.metrics.Consumed); got != float64(len(tr.records)) {
		t.Errorf("consumed %v records, produced %d", got, len(tr.records))
	}
	if store.writes != len(store.flags) {
		t.Errorf("%d flag writes for %d distinct flags: some message was processed twice", store.writes, len(store.flags))
	}
	if v := testutil.ToFloat64(h.metrics.RulesInfo.WithLabelValues(candidate.Version())); v != 1 {
		t.Errorf("goshawk_rules_info for the new version = %v, want 1", v)
	}
	got := store.snapshot()
	shadow := 0
	for id, f := range got {
		if f.Rule == "spam.urgency" {
			shadow++
			want, ok := after[id]
			rule, _ := candidate.Lookup("keyword", "spam.urgency")
			if !ok || f.Mode != detectors.Shadow || f.RuleVersion != rule.Version || want.Mode != detectors.Shadow {
				t.Errorf("shadow flag %+v: in replay with the new rules %v, mode %s", f, ok, f.Mode)
			}
			continue
		}
		if _, ok := before[id]; !ok {
			t.Errorf("flag %s (%s) is not one replay gives", id, f.Rule)
		}
	}
	for id, f := range before {
		if _, ok := got[id]; !ok {
			t.Errorf("flag %s (%s on %s) missing after the reload", id, f.Rule, f.MessageID)
		}
	}
	if shadow == 0 {
		t.Error("the shadow rule raised nothing after the reload")
	}
	t.Logf("%d flags, %d of them from the shadow rule added mid-stream", len(got), shadow)
}
