//go:build !unix

package pipeline_test

import (
	"testing"
	"time"
)

// epoch anchors processCPU where getrusage is missing.
var epoch = time.Now()

// processCPU falls back on the wall clock where getrusage is missing.
func processCPU(testing.TB) time.Duration { return time.Since(epoch) }
