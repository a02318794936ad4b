package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage/storetest"
)

func TestConsoleStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		w, err := Open(context.Background(), filepath.Join(t.TempDir(), "flags.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return storetest.Harness{Store: w.Console(), Write: w.Write, Precision: time.Millisecond,
			WriteProtected: func(ctx context.Context, p sinks.Protection, flags []detectors.Flag) error {
				pw := &Writer{db: w.db, path: w.path, protect: p}
				return pw.Write(ctx, flags)
			},
			ExpireEvidence: w.ExpireEvidence,
		}
	})
}

// BenchmarkConsoleQueueMillion measures the console's first page, a deep
// page and the counts with a million flags (go test -bench ConsoleQueue
// -benchtime 20x ./sinks/sqlite; loading takes a minute).
func BenchmarkConsoleQueueMillion(b *testing.B) {
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
	storetest.BenchQueue(b, w.Console())
}
