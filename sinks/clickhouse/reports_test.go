package clickhouse

import (
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/dashboards/console/storetest"
	"github.com/goshawk-safety/goshawk/pipeline"
)

var _ pipeline.ReportWriter = (*Writer)(nil)

// The report part of the console store contract, against the real server.
func TestConsoleReports(t *testing.T) {
	storetest.RunReports(t, func(t *testing.T) storetest.ReportHarness {
		w, _, v := migratedWriter(t)
		prec := time.Second
		if v.HasDateTime64() {
			prec = time.Millisecond
		}
		c := w.Console()
		return storetest.ReportHarness{
			Harness:      storetest.Harness{Store: c, Write: w.Write, Precision: prec},
			WriteReports: w.WriteReports,
			Reports:      c,
		}
	})
}
