package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/triage"
)

// TestBrowserReportedConversationOnTop drives the console in headless
// Chromium: a minor reports a conversation whose only flag is a medium
// one, far down the queue; after a reload that conversation is at the top,
// marked as reported, and a report no flag matches shows as "reported, not
// detected" above every unreported flag. Opening the top row shows the
// report on the flag's page.
func TestBrowserReportedConversationOnTop(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("GOSHAWK_INTEGRATION") == "1" {
			t.Fatalf("%s is missing and GOSHAWK_INTEGRATION=1 (apt-get install -y chromium): %v", chromiumPath, err)
		}
		t.Skipf("browser test: %s is missing (apt-get install -y chromium)", chromiumPath)
	}
	dir := artifactsDir(t)
	flags := reviewFixture()
	e := newEnv(t, flags)
	// c-5c02 has one live flag, medium: without reports it sorts after
	// every critical and high flag.
	var target string
	for _, f := range flags {
		if f.ConversationID == "c-5c02" {
			target = f.FlagID
		}
	}
	live := sortedLive(flags)
	if live[0].FlagID == target {
		t.Fatal("fixture: the target is on top before any report")
	}

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 768),
	)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v (screenshots in %s)", what, err, dir)
		}
	}
	get := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	attr := func(sel, name string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		if err != nil {
			t.Fatalf("%s[%s]: %v", sel, name, err)
		}
		return v.Value
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name), buf, 0o644)
		})
	}

	do("log in",
		chromedp.Navigate(e.srv.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), e.tokens[console.Analyst]), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("#queue tr.selected")))
	before := attr("#queue tbody tr.row", "id")
	if before != "f-"+live[0].FlagID {
		t.Fatalf("top row before the reports: %s, want %s", before, live[0].FlagID)
	}

	age := 13
	e.writeReports([]event.Report{
		{ReportID: "browser-minor", ReporterID: "u-15120", ConversationID: "c-5c02", Reason: event.ReportHarassment,
			Comment: "they keep telling me everyone laughs at me", ReporterAge: &age, ReportedAt: now.Add(-5 * time.Minute)},
		{ReportID: "browser-unflagged", ReporterID: "u-3003", ConversationID: "c-none", Reason: event.ReportSpam,
			ReportedAt: now.Add(-time.Minute)},
	})
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`sessionStorage.clear()`)); err != nil {
		t.Fatal(err)
	}
	do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#queue tr.selected")), shot("queue-reported.png"))
	top := attr("#queue tbody tr.row", "id")
	topClass := attr("#queue tbody tr.row", "class")
	badge := get("badge", chromedp.Text(chromedp.CSS("#queue tbody tr.row .reported-badge")))
	undetected := attr("#queue tbody tr.row.reported:not(.urgent)", "id")
	undetectedText := get("undetected row", chromedp.Text(chromedp.CSS("#queue tbody tr.row.reported:not(.urgent) .rule")))
	do("o opens the top row", chromedp.KeyEvent("o"), chromedp.WaitVisible(chromedp.ID("reports")), shot("flag-reported.png"))
	reportsText := get("reports section", chromedp.Text(chromedp.ID("reports")))
	// The report no flag matches: its page, and c confirms it.
	do("open the report item", chromedp.Navigate(e.srv.URL+"/console/flags/"+triage.ReportItemID("browser-unflagged")),
		chromedp.WaitVisible(chromedp.ID("decide")), shot("report-item.png"))
	reportPage := get("report page", chromedp.Text(chromedp.CSS("main")))
	do("c confirms the report", chromedp.KeyEvent("c"), chromedp.WaitVisible(chromedp.CSS("#status.st-confirmed")))

	if top != "f-"+target {
		t.Errorf("top row after a minor's report: %s, want the reported conversation's flag %s", top, target)
	}
	if !strings.Contains(topClass, "urgent") || !strings.Contains(badge, "reported") {
		t.Errorf("top row class %q, badge %q: want it marked as reported (urgent)", topClass, badge)
	}
	if undetected != "f-"+triage.ReportItemID("browser-unflagged") || !strings.Contains(undetectedText, "reported, not detected") {
		t.Errorf("the report on an unflagged conversation: row %s %q", undetected, undetectedText)
	}
	if !strings.Contains(reportPage, "No detector flagged this conversation for spam") || !strings.Contains(reportPage, "No live flag in this conversation") {
		t.Errorf("report item page: %q", reportPage)
	}
	if it, err := e.store.Flag(context.Background(), triage.ReportItemID("browser-unflagged")); err != nil || it.Status() != triage.Confirmed {
		t.Errorf("after c on the report item: %+v %v", it.Verdict, err)
	}
	if !strings.Contains(reportsText, "harassment") || !strings.Contains(reportsText, "a minor") ||
		!strings.Contains(reportsText, "everyone laughs at me") {
		t.Errorf("flag page reports section: %q", reportsText)
	}
}
