package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage"
	"github.com/goshawk-safety/goshawk/triage/storetest"
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
			WriteReportsProtected: func(ctx context.Context, p sinks.Protection, reports []event.Report) error {
				pw := &Writer{conn: w.conn, db: w.db, insert: w.insert, protect: p}
				return pw.WriteReports(ctx, reports)
			},
			ExpireReportComments: w.ExpireReportComments,
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

// With encryption and pseudonyms on, the real server holds neither a
// report's comment nor its reporter's id in clear: canaries in both are
// found in no column of any table of the database, while the console store
// hands the sealed comment back and it opens.
func TestSealedReportCommentHasNoPlaintextOnServer(t *testing.T) {
	w, conn, _ := migratedWriter(t)
	ctx := context.Background()
	const canary, reporter = "CH-REPORT-CANARY-51c9", "REPORTER-CANARY-0e2d"
	keys, err := seal.NewKeyring(seal.Key{ID: "k-ch", Key: []byte(strings.Repeat("x", seal.KeySize))})
	if err != nil {
		t.Fatal(err)
	}
	pseudo, err := seal.NewPseudonymizer([]byte(strings.Repeat("y", seal.MinPseudonymKey)))
	if err != nil {
		t.Fatal(err)
	}
	pw := &Writer{conn: w.conn, db: w.db, insert: w.insert, protect: sinks.Protection{Keys: keys, Pseudonyms: pseudo}}
	age := 13
	var reports []event.Report
	for i := range 10 {
		reports = append(reports, event.Report{ReportID: fmt.Sprintf("rep-canary-%d", i), ReporterID: fmt.Sprintf("%s-%d", reporter, i),
			ReporterAge: &age, ConversationID: fmt.Sprintf("c-canary-%d", i%3), Reason: event.ReportGrooming,
			Comment: "he said " + canary + " keep this secret from your mum", ReportedAt: time.Now().UTC().Add(-time.Hour)})
	}
	if err := pw.WriteReports(ctx, reports); err != nil {
		t.Fatal(err)
	}
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
	var reportCols int
	for _, c := range cols {
		if c.table == "reports" {
			reportCols++
		}
		expr := "`" + c.name + "`"
		if strings.HasPrefix(c.name, "recipient_ids") {
			expr = "arrayStringConcat(`" + c.name + "`, ' ')"
		}
		for _, secret := range []string{canary, reporter} {
			var n uint64
			q := "SELECT count() FROM " + table(w.db, c.table) + " WHERE position(toString(" + expr + "), ?) > 0"
			if err := conn.QueryRow(ctx, q, secret).Scan(&n); err != nil {
				t.Fatalf("%s.%s: %v", c.table, c.name, err)
			}
			if n != 0 {
				t.Errorf("%d rows of %s.%s hold %s in clear", n, c.table, c.name, secret)
			}
		}
	}
	if reportCols < 8 {
		t.Fatalf("only %d string columns in reports", reportCols)
	}
	var sealedRows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+table(w.db, "reports")+" FINAL WHERE comment_key_id = 'k-ch' AND comment != ''").Scan(&sealedRows); err != nil || sealedRows != uint64(len(reports)) {
		t.Errorf("%d sealed reports (%v), want %d", sealedRows, err, len(reports))
	}
	it, err := w.Console().Flag(ctx, triage.ReportItemID(reports[0].ReportID))
	if err != nil || it.Report == nil {
		t.Fatalf("report item: %+v %v", it, err)
	}
	if it.Report.ReporterID != pseudo.Pseudonym(reports[0].ReporterID) {
		t.Errorf("reporter %q, want its pseudonym", it.Report.ReporterID)
	}
	if text, err := keys.Open(it.Report.CommentKeyID, sinks.ReportCommentRow(it.Report.ReportID), it.Report.Comment); err != nil || text != reports[0].Comment {
		t.Errorf("stored comment opens to %q, %v", text, err)
	}
	// Retention clears the sealed comments with a mutation, and their key ids.
	n, err := w.ExpireReportComments(ctx, time.Now().UTC())
	if err != nil || n != int64(len(reports)) {
		t.Fatalf("retention cleared %d (%v), want %d", n, err, len(reports))
	}
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+table(w.db, "reports")+" WHERE comment != '' OR comment_key_id != '' OR comment_cleared != 1").Scan(&sealedRows); err != nil || sealedRows != 0 {
		t.Errorf("%d reports keep a comment after retention (%v)", sealedRows, err)
	}
}
