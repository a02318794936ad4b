package spam_test

import (
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/spam"
)

// TestBuiltinRules loads the built-in rules and runs every example through
// the detector and its stages.
func TestBuiltinRules(t *testing.T) {
	set, err := detectors.LoadCheckedRules([]detectors.Factory{spam.Factory()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.For(spam.Name)); n < 12 {
		t.Fatalf("%d spam rules", n)
	}
}
