package grooming_test

import (
	"sync"
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/grooming"
)

// The built-in rules, loaded once for all tests, and one factory per
// options, so that detectors share their compiled rules as the pipeline's
// do.
var (
	builtinRules = sync.OnceValues(func() (*detectors.RuleSet, error) {
		return detectors.LoadRules([]detectors.Factory{grooming.Factory()}, nil)
	})
	factories sync.Map // grooming.Options → detectors.Factory
)

func builtin(t testing.TB) *detectors.RuleSet {
	t.Helper()
	set, err := builtinRules()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func factory(opts grooming.Options) detectors.Factory {
	f, _ := factories.LoadOrStore(opts, grooming.NewFactory(opts))
	return f.(detectors.Factory)
}

// Every built-in rule's examples behave as stated (the same check runs at
// start-up, on reload and in `goshawk rules test`).
func TestBuiltinExamples(t *testing.T) {
	set := builtin(t)
	if err := detectors.CheckExamples([]detectors.Factory{grooming.Factory()}, set); err != nil {
		t.Fatal(err)
	}
}
