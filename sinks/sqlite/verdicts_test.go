package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/dashboards/console/storetest"
	"github.com/goshawk-safety/goshawk/detectors"
)

func TestConsoleStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		w, err := Open(context.Background(), filepath.Join(t.TempDir(), "flags.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		s, err := w.Console(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Harness{Store: s, Write: w.Write, Precision: time.Millisecond}
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
	s, err := w.Console(ctx)
	if err != nil {
		b.Fatal(err)
	}
	benchQueue(b, s)
}

func benchQueue(b *testing.B, s console.Store) {
	ctx := context.Background()
	first, err := s.Queue(ctx, console.QueueFilter{Status: console.Unreviewed})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []console.QueueFilter{
		{Status: console.Unreviewed},
		{Status: console.Unreviewed, After: first.Next},
		{Status: console.Confirmed},
		{Category: detectors.Spam, Rule: "rule.r1"},
	} {
		b.Run(fmt.Sprintf("%s/%s/%v", f.Status, f.Category, !f.After.IsZero()), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Queue(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
