package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage"
)

// Report comments are as sensitive as message text: the console opens one
// only after recording the read in the evidence audit, like evidence.

// commentReads returns the audit rows of report comments (purpose
// "report: ...").
func commentReads(t *testing.T, e *env) []triage.Access {
	t.Helper()
	var out []triage.Access
	for _, a := range accesses(t, e) {
		if strings.HasPrefix(a.Purpose, "report: ") {
			out = append(out, a)
		}
	}
	return out
}

// Every page that shows a report's comment leaves one audit row per report
// shown, with the report's item id, its conversation and the view; a
// viewer's pages show none and leave none.
func TestEveryReportCommentReadIsAudited(t *testing.T) {
	e := newEnv(t, fixture())
	e.writeReports(reportsFixture())
	quiet, minor := triage.ReportItemID("rep-quiet"), triage.ReportItemID("rep-minor")

	v, _ := e.login(console.Viewer)
	e.get(v, "/console/")
	e.get(v, "/console/reports")
	if a := commentReads(t, e); len(a) != 0 {
		t.Fatalf("a viewer's pages left comment reads: %+v", a)
	}

	// The queue: one report item (rep-quiet); rep-minor's conversation has
	// matching flags, so its comment is not on the queue.
	c, _ := e.login(console.Analyst)
	rows := commentReads(t, e)
	if len(rows) != 1 || rows[0].FlagID != quiet || rows[0].ConversationID != "conv-quiet" || rows[0].Purpose != "report: queue /console/" ||
		rows[0].Actor != "alice" || rows[0].Role != "analyst" || !rows[0].At.Equal(now) {
		t.Fatalf("queue comment reads %+v", rows)
	}

	// A flag page lists its conversation's reports, with their comments.
	var f string
	for _, fl := range sortedLive(e.flags) {
		if fl.ConversationID == "conv-2" {
			f = fl.FlagID
			break
		}
	}
	if r := e.get(c, "/console/flags/"+f); r.status != 200 || !strings.Contains(html.UnescapeString(r.body), "COMMENT-A") {
		t.Fatalf("flag page: %d, comment shown: %v", r.status, strings.Contains(r.body, "COMMENT-A"))
	}
	rows = commentReads(t, e)
	if len(rows) != 2 || rows[0].FlagID != minor || rows[0].ConversationID != "conv-2" || rows[0].Purpose != "report: conversation of flag "+f {
		t.Fatalf("flag page comment reads %+v", rows)
	}

	// The report's page shows its comment twice (the report, the list):
	// one read.
	if r := e.get(c, "/console/flags/"+quiet); r.status != 200 || strings.Count(r.body, "COMMENT-B") != 2 {
		t.Fatalf("report page: %d, %d comments", r.status, strings.Count(r.body, "COMMENT-B"))
	}
	rows = commentReads(t, e)
	if len(rows) != 3 || rows[0].FlagID != quiet || rows[0].Purpose != "report: report "+quiet {
		t.Fatalf("report page comment reads %+v", rows)
	}
	// The admin sees them in the audit.
	adm, _ := e.login(console.Admin)
	if r := e.get(adm, "/console/admin"); !strings.Contains(r.body, "report: report "+quiet) {
		t.Error("the admin page does not show the comment reads")
	}
}

// No audit, no comment: when the audit write fails, no page shows one.
func TestNoReportCommentWithoutAudit(t *testing.T) {
	e := newEnvWith(t, fixture(), sinks.Protection{}, func(o *console.Options) { o.Store = failingAudit{o.Store} })
	e.writeReports(reportsFixture())
	c := e.client()
	page := e.get(c, "/console/login")
	e.post(c, "/console/login", url.Values{"csrf": {csrf(t, page.body)}, "token": {e.tokens[console.Analyst]}})
	var conv2 string
	for _, fl := range sortedLive(e.flags) {
		if fl.ConversationID == "conv-2" {
			conv2 = fl.FlagID
		}
	}
	for _, p := range []string{"/console/", "/console/flags/" + triage.ReportItemID("rep-quiet"), "/console/flags/" + conv2} {
		r := e.get(c, p)
		if r.status != http.StatusServiceUnavailable || strings.Contains(r.body, "COMMENT-") {
			t.Errorf("%s: %d, comment shown: %v", p, r.status, strings.Contains(r.body, "COMMENT-"))
		}
	}
	if r := e.get(c, "/console/reports"); r.status != 200 {
		t.Errorf("the reports' figures (no comment) failed too: %d", r.status)
	}
}

// failingCommentAudit fails only the audit of report comments: the
// evidence audit of the same page went through, yet no comment is shown.
type failingCommentAudit struct{ triage.Store }

func (f failingCommentAudit) RecordAccess(ctx context.Context, a []triage.Access) error {
	for _, x := range a {
		if strings.HasPrefix(x.Purpose, "report: ") {
			return context.DeadlineExceeded
		}
	}
	return f.Store.RecordAccess(ctx, a)
}

func TestNoReportCommentWithoutItsOwnAudit(t *testing.T) {
	e := newEnvWith(t, fixture(), sinks.Protection{}, func(o *console.Options) { o.Store = failingCommentAudit{o.Store} })
	e.writeReports(reportsFixture())
	c := e.client()
	page := e.get(c, "/console/login")
	e.post(c, "/console/login", url.Values{"csrf": {csrf(t, page.body)}, "token": {e.tokens[console.Analyst]}})
	for _, p := range []string{"/console/", "/console/flags/" + triage.ReportItemID("rep-quiet")} {
		r := e.get(c, p)
		if r.status != http.StatusServiceUnavailable || strings.Contains(r.body, "COMMENT-") || strings.Contains(r.body, "SECRET") {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}

// Sealed comments and pseudonymised reporters: stored sealed, shown in
// clear only by a console with the key, as unavailable by one without it;
// the reporter appears as a pseudonym.
func TestSealedReportCommentsInConsole(t *testing.T) {
	keys := testKeys(t)
	ps, err := seal.NewPseudonymizer([]byte(strings.Repeat("p", seal.MinPseudonymKey)))
	if err != nil {
		t.Fatal(err)
	}
	for _, withKeys := range []bool{true, false} {
		e := newEnvWith(t, fixture(), sinks.Protection{Keys: keys, Pseudonyms: ps}, func(o *console.Options) {
			if withKeys {
				o.Keys = keys
			}
		})
		e.writeReports(reportsFixture())
		stored, err := e.store.ConversationReports(context.Background(), "conv-quiet", 10)
		if err != nil || len(stored) != 1 || stored[0].CommentKeyID != "k-console" || strings.Contains(stored[0].Comment, "COMMENT-") ||
			stored[0].ReporterID != ps.Pseudonym("user-7") {
			t.Fatalf("stored %+v (%v)", stored, err)
		}
		c, _ := e.login(console.Analyst)
		r := e.get(c, "/console/flags/"+triage.ReportItemID("rep-quiet"))
		q := e.get(c, "/console/")
		body := html.UnescapeString(r.body + q.body)
		if strings.Contains(body, "user-7") || !strings.Contains(body, ps.Pseudonym("user-7")) {
			t.Error("the report page shows the reporter's real id")
		}
		if withKeys {
			if strings.Count(body, "COMMENT-B an adult asks me") != 3 { // report, list, queue
				t.Errorf("a console with the key shows the comment %d times, want 3", strings.Count(body, "COMMENT-B an adult asks me"))
			}
		} else if strings.Contains(body, "COMMENT-") || !strings.Contains(body, "sealed with a key this console does not have") {
			t.Error("a console without the key shows the comment, or no notice")
		}
		if n := len(commentReads(t, e)); n != 3 { // the login's queue, the report's page, the queue
			t.Errorf("%d comment reads, want 3", n)
		}
	}
}

// A comment cleared by retention is said to be so, not "no comment", and
// its reads leave no audit row (nothing is shown).
func TestClearedReportComment(t *testing.T) {
	e := newEnv(t, fixture())
	e.writeReports(reportsFixture())
	if n, err := e.w.ExpireReportComments(context.Background(), now); err != nil || n != 2 {
		t.Fatalf("cleared %d, %v", n, err)
	}
	c, _ := e.login(console.Analyst)
	r := e.get(c, "/console/flags/"+triage.ReportItemID("rep-quiet"))
	q := e.get(c, "/console/")
	if r.status != 200 || !strings.Contains(html.UnescapeString(r.body), "comment was cleared under the retention policy") ||
		strings.Contains(r.body, "wrote no comment") || !strings.Contains(q.body, "comment cleared (retention)") {
		t.Errorf("report page %d / queue do not say the comment was cleared", r.status)
	}
	if a := commentReads(t, e); len(a) != 0 {
		t.Errorf("cleared comments left audit rows: %+v", a)
	}
}
