package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/dashboards/console/storetest"
	"github.com/goshawk-safety/goshawk/pipeline"
)

var _ pipeline.ReportWriter = (*Writer)(nil)

func TestConsoleReports(t *testing.T) {
	storetest.RunReports(t, func(t *testing.T) storetest.ReportHarness {
		w, err := Open(context.Background(), filepath.Join(t.TempDir(), "flags.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		c := w.Console()
		return storetest.ReportHarness{
			Harness:      storetest.Harness{Store: c, Write: w.Write, Precision: time.Millisecond},
			WriteReports: w.WriteReports,
			Reports:      c,
		}
	})
}
