// Package sinks defines where flags go. Each store has its own sub-package
// (clickhouse, sqlite, kafka) with integration tests against the real server.
package sinks

import (
	"context"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/seal"
)

// Writer stores flags durably. Write either stores the whole batch or
// returns an error; it makes one attempt (the pipeline's batcher owns retries
// and backoff). Writing a flag whose FlagID is already stored must not make
// it visible twice to readers.
type Writer interface {
	Write(ctx context.Context, flags []detectors.Flag) error
	Close() error
}

// Protection is what a store does to a flag before it leaves the process:
// seal the evidence (Keys) and replace user ids with pseudonyms
// (Pseudonyms). The zero Protection stores flags as they are.
type Protection struct {
	// Keys seals evidence with AES-256-GCM under the active key, bound to
	// the flag id; nil stores evidence in plain text (key id empty).
	Keys *seal.Keyring
	// Pseudonyms replaces sender_id and recipient_ids; nil keeps them.
	Pseudonyms *seal.Pseudonymizer
}

// Apply returns the flag as it is stored and the id of the key that
// sealed its evidence ("" when the evidence is plain or empty). f is not
// modified.
func (p Protection) Apply(f detectors.Flag) (detectors.Flag, string, error) {
	if p.Pseudonyms != nil {
		f.SenderID = p.Pseudonyms.Pseudonym(f.SenderID)
		ids := make([]string, len(f.RecipientIDs))
		for i, id := range f.RecipientIDs {
			ids[i] = p.Pseudonyms.Pseudonym(id)
		}
		f.RecipientIDs = ids
	}
	if p.Keys == nil || f.Evidence == "" {
		return f, "", nil
	}
	keyID, sealed, err := p.Keys.Seal(f.FlagID, f.Evidence)
	if err != nil {
		return f, "", err
	}
	f.Evidence = sealed
	return f, keyID, nil
}
