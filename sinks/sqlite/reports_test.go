package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage/storetest"
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
			WriteReportsProtected: func(ctx context.Context, p sinks.Protection, reports []event.Report) error {
				pw := &Writer{db: w.db, path: w.path, protect: p}
				return pw.WriteReports(ctx, reports)
			},
			ExpireReportComments: w.ExpireReportComments,
		}
	})
}

// BenchmarkConsoleQueueMillionReported is BenchmarkConsoleQueueMillion with
// 1,000 reports: on 10 of the flags' 500 conversations (40,000 flags in the
// reported tiers) and on 500 conversations without flags.
func BenchmarkConsoleQueueMillionReported(b *testing.B) {
	ctx := context.Background()
	w, err := Open(ctx, filepath.Join(b.TempDir(), "flags.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	for i := 0; i < 100; i++ {
		if err := w.Write(ctx, storetest.Flags(10_000, fmt.Sprint(i))); err != nil {
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
