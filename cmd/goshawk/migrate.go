package main

import (
	"context"
	"fmt"
	"io"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("migrate", "Create or upgrade the flag store's schema (versioned, idempotent; run also at start-up).", stderr)
	var store storeSettings
	store.register(f, "clickhouse")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	store.validate(f)
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	w, err := openStore(ctx, store, newLogger(stderr, "info"))
	if err != nil {
		return err
	}
	defer w.Close()
	fmt.Fprintf(stdout, "%s schema is up to date\n", store.Sink)
	return nil
}
