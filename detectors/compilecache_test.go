package detectors_test

import (
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
)

func TestCompileCache(t *testing.T) {
	calls := 0
	compile := func(rules []*detectors.Rule) (int, error) {
		calls++
		return len(rules), nil
	}
	a := []*detectors.Rule{{ID: "x", Version: "1", Mode: detectors.Live}}
	b := []*detectors.Rule{{ID: "x", Version: "2", Mode: detectors.Live}}
	var c detectors.CompileCache[int]
	steps := []struct {
		rules []*detectors.Rule
		calls int
	}{
		{a, 1}, {a, 1}, // the same rules: compiled once
		{b, 2}, // a new version
		{a, 3}, // only the last form is kept
	}
	for i, s := range steps {
		if _, err := c.Compile(s.rules, compile); err != nil {
			t.Fatal(err)
		}
		if calls != s.calls {
			t.Fatalf("step %d: %d compilations, want %d", i, calls, s.calls)
		}
	}
	var none *detectors.CompileCache[int]
	none.Compile(a, compile)
	none.Compile(a, compile)
	if calls != 5 {
		t.Fatalf("a nil cache compiled %d times in all, want 5", calls)
	}
}
