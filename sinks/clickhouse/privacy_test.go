package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage"
)

// With encryption on, the real server holds no message text: a canary in
// the evidence is found in no column of any table of the database, while
// the console store hands the sealed evidence back and it opens.
func TestSealedEvidenceHasNoPlaintextOnServer(t *testing.T) {
	w, conn, _ := migratedWriter(t)
	ctx := context.Background()
	const canary = "CH-CANARY-7f3a"
	keys, err := seal.NewKeyring(seal.Key{ID: "k-ch", Key: []byte(strings.Repeat("x", seal.KeySize))})
	if err != nil {
		t.Fatal(err)
	}
	pw := &Writer{conn: w.conn, db: w.db, insert: w.insert, protect: sinks.Protection{Keys: keys}}
	var flags []detectors.Flag
	for _, f := range testFlags(20, "canary") {
		f.Evidence = "…before " + canary + " you should just kys after…"
		f.Mode = detectors.Live
		flags = append(flags, f)
	}
	if err := pw.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	// Every String column of every table, searched on the server.
	rows, err := conn.Query(ctx, "SELECT table, name FROM system.columns WHERE database = ? AND type LIKE '%String%'", w.db)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, name string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.name); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 10 {
		t.Fatalf("only %d string columns", len(cols))
	}
	for _, c := range cols {
		expr := "`" + c.name + "`"
		if strings.HasPrefix(c.name, "recipient_ids") {
			expr = "arrayStringConcat(`" + c.name + "`, ' ')"
		}
		var n uint64
		q := "SELECT count() FROM " + table(w.db, c.table) + " WHERE position(toString(" + expr + "), ?) > 0"
		if err := conn.QueryRow(ctx, q, canary).Scan(&n); err != nil {
			t.Fatalf("%s.%s: %v", c.table, c.name, err)
		}
		if n != 0 {
			t.Errorf("%d rows of %s.%s hold the canary in clear", n, c.table, c.name)
		}
	}
	var sealedRows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+table(w.db, "flags")+" WHERE evidence_key_id = 'k-ch' AND evidence != ''").Scan(&sealedRows); err != nil || sealedRows != uint64(len(flags)) {
		t.Errorf("%d sealed rows (%v), want %d", sealedRows, err, len(flags))
	}
	it, err := w.Console().Flag(ctx, flags[0].FlagID)
	if err != nil {
		t.Fatal(err)
	}
	if text, err := keys.Open(it.EvidenceKeyID, it.Flag.FlagID, it.Flag.Evidence); err != nil || !strings.Contains(text, canary) {
		t.Errorf("stored evidence opens to %q, %v", text, err)
	}
	// The audit is a plain MergeTree: two reads are two rows.
	a := triage.Access{At: time.Now(), Actor: "alice", Role: "analyst", FlagID: flags[0].FlagID, ConversationID: flags[0].ConversationID, Purpose: "flag"}
	for range 2 {
		if err := w.Console().RecordAccess(ctx, []triage.Access{a}); err != nil {
			t.Fatal(err)
		}
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+table(w.db, "evidence_access")+" FINAL").Scan(&n); err == nil {
		t.Errorf("evidence_access accepts FINAL: it must not be a collapsing engine (%d rows)", n)
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+table(w.db, "evidence_access")).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d audit rows (%v), want 2", n, err)
	}
}
