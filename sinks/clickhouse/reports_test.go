package clickhouse

import (
	"context"
	"fmt"
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

// BenchmarkConsoleQueueMillionReported is BenchmarkConsoleQueueMillion with
// 1,000 reports (GOSHAWK_INTEGRATION=1 go test -bench
// ConsoleQueueMillionReported -benchtime 10x ./sinks/clickhouse).
func BenchmarkConsoleQueueMillionReported(b *testing.B) {
	w, _, _ := migratedWriter(b)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if err := w.Write(ctx, storetest.Flags(50_000, fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if err := w.WriteReports(ctx, storetest.Reports(500, fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
	}
	storetest.BenchQueue(b, w.Console())
}
