// Package sinks defines where flags go. Each store has its own sub-package
// (clickhouse, sqlite, kafka) with integration tests against the real server.
package sinks

import (
	"context"

	"github.com/goshawk-safety/goshawk/detectors"
)

// Writer stores flags durably. Write either stores the whole batch or
// returns an error; it makes one attempt (the pipeline's batcher owns retries
// and backoff). Writing a flag whose FlagID is already stored must not make
// it visible twice to readers.
type Writer interface {
	Write(ctx context.Context, flags []detectors.Flag) error
	Close() error
}
