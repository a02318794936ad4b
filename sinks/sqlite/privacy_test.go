package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/triage"
)

// The audit table refuses UPDATE and DELETE: rows can only be added.
func TestEvidenceAccessIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	w, err := Open(ctx, filepath.Join(t.TempDir(), "flags.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	a := triage.Access{At: time.Now(), Actor: "alice", Role: "analyst", FlagID: "f1", ConversationID: "c1", Purpose: "flag f1"}
	if err := w.Console().RecordAccess(ctx, []triage.Access{a, a}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE evidence_access SET actor = 'nobody'",
		"DELETE FROM evidence_access",
		"DELETE FROM evidence_access WHERE flag_id = 'f1'",
	} {
		if _, err := w.db.ExecContext(ctx, stmt); err == nil {
			t.Errorf("%s succeeded", stmt)
		}
	}
	got, err := w.Console().RecentAccesses(ctx, 10)
	if err != nil || len(got) != 2 || got[0].Actor != "alice" {
		t.Errorf("after the refused changes: %+v %v", got, err)
	}
}
