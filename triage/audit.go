package triage

import (
	"errors"
	"fmt"
	"time"
)

// Access is one read of evidence: who read which flag's evidence, when and
// why. Every time the console shows evidence it first records an Access;
// the audit table is append-only.
type Access struct {
	At             time.Time
	Actor          string // the console account (or the command) that read it
	Role           string // the account's role
	FlagID         string
	ConversationID string
	// Purpose is why: the view that showed the evidence ("queue",
	// "flag", "conversation", "rules score", ...) and, for the console,
	// the queue filter or the flag opened.
	Purpose string
}

// MaxPurposeBytes bounds Access.Purpose.
const MaxPurposeBytes = 512

// Validate checks a before it is stored.
func (a Access) Validate() error {
	switch {
	case a.At.IsZero():
		return errors.New("access: no time")
	case a.Actor == "":
		return errors.New("access: no actor")
	case a.FlagID == "":
		return errors.New("access: no flag id")
	case a.Purpose == "" || len(a.Purpose) > MaxPurposeBytes:
		return fmt.Errorf("access: purpose must be 1-%d bytes", MaxPurposeBytes)
	}
	return nil
}
