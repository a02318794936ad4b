package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage"
)

// ReportHarness is one empty store that keeps user reports.
type ReportHarness struct {
	Harness
	// WriteReports stores reports as the reports pipeline does.
	WriteReports func(ctx context.Context, reports []event.Report) error
	// Reports is the store's ReportStore (the same value as Store).
	Reports triage.ReportStore
	// WriteReportsProtected stores reports as a reports pipeline with
	// protection p does, into the same database as Store.
	WriteReportsProtected func(ctx context.Context, p sinks.Protection, reports []event.Report) error
	// ExpireReportComments is the store's retention of report comments:
	// clear the comments of reports made before cutoff.
	ExpireReportComments func(ctx context.Context, cutoff time.Time) (int64, error)
}

// RunReports runs the report part of the contract; open returns a new,
// empty store for each subtest.
func RunReports(t *testing.T, open func(t *testing.T) ReportHarness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h ReportHarness)
	}{
		{"ReportRaisesPriority", testReportRaisesPriority},
		{"ReportedNotDetected", testReportedNotDetected},
		{"ReportItemVerdicts", testReportItemVerdicts},
		{"DuplicateReportsSeenOnce", testDuplicateReports},
		{"ConversationReports", testConversationReports},
		{"ReportStats", testReportStats},
		{"SealedReportComments", testSealedReportComments},
		{"ReportCommentRetention", testReportCommentRetention},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// flagAt is a live flag on conversation conv.
func flagAt(conv string, n int, c detectors.Category, sev detectors.Severity, at time.Time) detectors.Flag {
	msg := fmt.Sprintf("%s-m%d", conv, n)
	rule := string(c) + ".rule"
	return detectors.Flag{
		FlagID: detectors.FlagID(msg, "keyword", rule), MessageID: msg, ConversationID: conv, SenderID: "u-" + conv,
		RecipientIDs: []string{"u-9"}, Category: c, Detector: "keyword", Rule: rule, RuleVersion: "0123456789abcdef",
		Mode: detectors.Live, Severity: sev, Score: 0.8, Evidence: "…evidence " + msg + "…", SentAt: at.Add(-time.Second), DetectedAt: at,
	}
}

// reportOn is a report on conv; age < 0 leaves the reporter's age out.
func reportOn(id, conv string, reason event.ReportReason, age int, at time.Time) event.Report {
	r := event.Report{ReportID: id, ReporterID: "reporter-" + id, ConversationID: conv, MessageID: conv + "-m1", Reason: reason,
		Comment: "the reporter's words for " + id + ": ärger 🤫", ReportedAt: at}
	if age >= 0 {
		r.ReporterAge = &age
	}
	return r
}

func writeReports(t *testing.T, h ReportHarness, reports ...event.Report) {
	t.Helper()
	if err := h.WriteReports(context.Background(), reports); err != nil {
		t.Fatal(err)
	}
}

// expectQueue is the queue the contract describes, computed from what was
// written: live flags with their conversations' reports, and the reports
// that no live flag of their conversation and category matches.
func expectQueue(flags []detectors.Flag, reports []event.Report, status map[string]triage.Status, f triage.QueueFilter) []triage.Item {
	reported := map[string]*triage.Reported{}
	for _, r := range reports {
		if reported[r.ConversationID] == nil {
			reported[r.ConversationID] = &triage.Reported{}
		}
		reported[r.ConversationID].Add(triage.ReportFromEvent(r))
	}
	st := func(id string) triage.Status {
		if s, ok := status[id]; ok {
			return s
		}
		return triage.Unreviewed
	}
	keep := func(it triage.Item) bool {
		return (f.Category == "" || it.Flag.Category == f.Category) && (f.Rule == "" || it.Flag.Rule == f.Rule) &&
			(f.Status == "" || st(it.Flag.FlagID) == f.Status)
	}
	var items []triage.Item
	for _, fl := range flags {
		if fl.Mode != detectors.Live {
			continue
		}
		if it := (triage.Item{Flag: fl, Reported: reported[fl.ConversationID]}); keep(it) {
			items = append(items, it)
		}
	}
	for _, r := range reports {
		rep := triage.ReportFromEvent(r)
		matched := slices.ContainsFunc(flags, func(fl detectors.Flag) bool {
			return fl.Mode == detectors.Live && fl.ConversationID == r.ConversationID && (rep.Category() == "" || fl.Category == rep.Category())
		})
		if it := rep.Item(reported[r.ConversationID]); !matched && f.Rule == "" && keep(it) {
			items = append(items, it)
		}
	}
	triage.SortItems(items)
	return items
}

func allReportsQueue(t *testing.T, h ReportHarness, f triage.QueueFilter, n int) []triage.Item {
	t.Helper()
	items, _ := all(t, h.Harness, f, n)
	return items
}

// checkQueue compares the store's queue, paged with several page sizes,
// with the expected items: order, report items and summaries.
func checkQueue(t *testing.T, h ReportHarness, f triage.QueueFilter, want []triage.Item) {
	t.Helper()
	for _, n := range []int{1, 3, 50} {
		got := allReportsQueue(t, h, f, n)
		if !slices.Equal(itemIDs(got), itemIDs(want)) {
			t.Fatalf("page size %d, filter %+v: queue\n got %v\nwant %v", n, f, itemIDs(got), itemIDs(want))
		}
		for i, it := range got {
			w := want[i]
			if it.Tier() != w.Tier() || (it.Report == nil) != (w.Report == nil) {
				t.Errorf("%s: tier %d report %v, want tier %d report %v", it.Flag.FlagID, it.Tier(), it.Report != nil, w.Tier(), w.Report != nil)
			}
			if w.Reported != nil && (it.Reported == nil || it.Reported.Reports != w.Reported.Reports ||
				it.Reported.ByMinor != w.Reported.ByMinor || !slices.Equal(it.Reported.Reasons, w.Reported.Reasons)) {
				t.Errorf("%s: reported %+v, want %+v", it.Flag.FlagID, it.Reported, w.Reported)
			}
			if w.Report != nil {
				r, g := w.Report, it.Report
				if g.ReportID != r.ReportID || g.ReporterID != r.ReporterID || g.Comment != r.Comment || g.Reason != r.Reason ||
					g.MessageID != r.MessageID || (g.ReporterAge == nil) != (r.ReporterAge == nil) || g.ReportedAt.Sub(r.ReportedAt).Abs() >= h.Precision ||
					it.Flag.Severity != w.Flag.Severity || it.Flag.Category != w.Flag.Category {
					t.Errorf("report item %s: %+v / %+v, want %+v / %+v", it.Flag.FlagID, g, it.Flag, r, w.Flag)
				}
			}
		}
	}
}

func testReportRaisesPriority(t *testing.T, h ReportHarness) {
	var flags []detectors.Flag
	for i := range 24 {
		conv := fmt.Sprintf("prio-%d", i%4)
		flags = append(flags, flagAt(conv, i, detectors.Categories[i%3], detectors.Severities[i%4], base.Add(time.Duration(i)*time.Minute)))
	}
	write(t, h.Harness, flags)
	checkQueue(t, h, triage.QueueFilter{}, expectQueue(flags, nil, nil, triage.QueueFilter{}))

	// A harassment report by an adult on prio-3: its flags come first.
	adult := reportOn("r-adult", "prio-3", event.ReportHarassment, 35, base.Add(2*time.Hour))
	writeReports(t, h, adult)
	want := expectQueue(flags, []event.Report{adult}, nil, triage.QueueFilter{})
	checkQueue(t, h, triage.QueueFilter{}, want)
	if want[0].Flag.ConversationID != "prio-3" {
		t.Fatalf("model: first item %s", want[0].Flag.ConversationID)
	}
	// A report by a minor on prio-1 (low flags only would still lead).
	minor := reportOn("r-minor", "prio-1", event.ReportSpam, 14, base.Add(3*time.Hour))
	writeReports(t, h, minor)
	reports := []event.Report{adult, minor}
	want = expectQueue(flags, reports, nil, triage.QueueFilter{})
	checkQueue(t, h, triage.QueueFilter{}, want)
	for i, it := range want {
		wantConv := "prio-1"
		switch {
		case i >= 12:
			wantConv = "" // unreported
		case i >= 6:
			wantConv = "prio-3"
		}
		if wantConv != "" && it.Flag.ConversationID != wantConv || wantConv == "" && it.Reported != nil {
			t.Fatalf("item %d is on %s (tier %d)", i, it.Flag.ConversationID, it.Tier())
		}
	}
	// The order holds under the filters too.
	for _, f := range []triage.QueueFilter{{Category: detectors.Spam}, {Rule: "grooming.rule"}, {Status: triage.Unreviewed}} {
		checkQueue(t, h, f, expectQueue(flags, reports, nil, f))
	}
	// A grooming report by an adult is urgent as well.
	groom := reportOn("r-groom", "prio-0", event.ReportGrooming, -1, base.Add(4*time.Hour))
	writeReports(t, h, groom)
	reports = append(reports, groom)
	want = expectQueue(flags, reports, nil, triage.QueueFilter{})
	checkQueue(t, h, triage.QueueFilter{}, want)
	if want[0].Tier() != triage.TierUrgent || want[12].Tier() != triage.TierReported {
		t.Fatalf("model: tiers %d, %d", want[0].Tier(), want[12].Tier())
	}
}

func testReportedNotDetected(t *testing.T, h ReportHarness) {
	flags := []detectors.Flag{
		flagAt("nd-spam", 1, detectors.Spam, detectors.High, base),
		flagAt("nd-spam", 2, detectors.Spam, detectors.Low, base.Add(time.Minute)),
		flagAt("nd-harass", 1, detectors.Harassment, detectors.Medium, base.Add(2*time.Minute)),
		flagAt("nd-quiet", 1, detectors.Grooming, detectors.Critical, base.Add(3*time.Minute)),
	}
	shadow := flagAt("nd-shadow", 1, detectors.Grooming, detectors.Critical, base)
	shadow.Mode = detectors.Shadow
	flags = append(flags, shadow)
	write(t, h.Harness, flags)
	reports := []event.Report{
		reportOn("nd-1", "nd-none", event.ReportHarassment, 30, base.Add(time.Hour)),      // no flag at all
		reportOn("nd-2", "nd-spam", event.ReportGrooming, 15, base.Add(time.Hour)),        // spam flags only: grooming not detected
		reportOn("nd-3", "nd-spam", event.ReportSpam, 40, base.Add(2*time.Hour)),          // detected
		reportOn("nd-4", "nd-harass", event.ReportSelfHarm, -1, base.Add(time.Hour)),      // self-harm is harassment: detected
		reportOn("nd-5", "nd-harass", event.ReportOther, 22, base.Add(time.Hour)),         // other: any flag matches
		reportOn("nd-6", "nd-none2", event.ReportOther, 22, base.Add(3*time.Hour)),        // other, no flag
		reportOn("nd-7", "nd-shadow", event.ReportGrooming, 16, base.Add(30*time.Minute)), // shadow flags do not count
	}
	writeReports(t, h, reports...)
	want := expectQueue(flags, reports, nil, triage.QueueFilter{})
	var items []string
	for _, it := range want {
		if it.Report != nil {
			items = append(items, it.Report.ReportID)
		}
	}
	slices.Sort(items)
	if !slices.Equal(items, []string{"nd-1", "nd-2", "nd-6", "nd-7"}) {
		t.Fatalf("model: report items %v", items)
	}
	checkQueue(t, h, triage.QueueFilter{}, want)
	for _, f := range []triage.QueueFilter{
		{Category: detectors.Grooming}, {Category: detectors.Harassment}, {Rule: "spam.rule"}, {Status: triage.Unreviewed}, {Status: triage.Confirmed},
	} {
		checkQueue(t, h, f, expectQueue(flags, reports, nil, f))
	}
	page, err := h.Store.Queue(context.Background(), triage.QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Undetected[triage.Unreviewed] != 4 || page.Counts.Total() != 4 {
		t.Errorf("undetected %v (want 4 unreviewed), flag counts %d (want the 4 live flags)", page.Undetected, page.Counts.Total())
	}
	page, err = h.Store.Queue(context.Background(), triage.QueueFilter{Category: detectors.Grooming})
	if err != nil {
		t.Fatal(err)
	}
	if page.Undetected[triage.Unreviewed] != 2 {
		t.Errorf("grooming: undetected %v, want 2 unreviewed", page.Undetected)
	}
	// A flag that comes in later matches the report: the item leaves.
	late := flagAt("nd-none", 1, detectors.Harassment, detectors.Low, base.Add(4*time.Hour))
	flags = append(flags, late)
	write(t, h.Harness, []detectors.Flag{late})
	checkQueue(t, h, triage.QueueFilter{}, expectQueue(flags, reports, nil, triage.QueueFilter{}))
}

func testReportItemVerdicts(t *testing.T, h ReportHarness) {
	ctx := context.Background()
	flags := []detectors.Flag{flagAt("iv-flagged", 1, detectors.Spam, detectors.Medium, base)}
	write(t, h.Harness, flags)
	reports := []event.Report{
		reportOn("iv-1", "iv-a", event.ReportGrooming, 13, base.Add(time.Hour)),
		reportOn("iv-2", "iv-b", event.ReportHarassment, -1, base.Add(2*time.Hour)),
		reportOn("iv-3", "iv-c", event.ReportSpam, 50, base.Add(3*time.Hour)),
	}
	writeReports(t, h, reports...)
	id := triage.ReportItemID("iv-1")
	it, err := h.Store.Flag(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if it.Report == nil || it.Report.ReportID != "iv-1" || it.Report.ConversationID != "iv-a" || it.Status() != triage.Unreviewed ||
		it.Flag.FlagID != id || it.Flag.Severity != detectors.Critical || it.Tier() != triage.TierUrgent {
		t.Fatalf("report item %+v (report %+v)", it, it.Report)
	}
	if _, err := h.Store.Flag(ctx, triage.ReportItemID("no-such-report")); !errors.Is(err, triage.ErrNotFound) {
		t.Fatalf("unknown report item: %v, want ErrNotFound", err)
	}
	record(t, h.Harness, id, triage.Dismissed, base.Add(5*time.Hour))
	record(t, h.Harness, id, triage.Confirmed, base.Add(6*time.Hour))
	record(t, h.Harness, triage.ReportItemID("iv-2"), triage.Escalated, base.Add(5*time.Hour))
	status := map[string]triage.Status{id: triage.Confirmed, triage.ReportItemID("iv-2"): triage.Escalated}
	if it, err = h.Store.Flag(ctx, id); err != nil || it.Status() != triage.Confirmed || it.Verdict.Analyst != "alice" {
		t.Fatalf("after verdicts: %+v %v", it.Verdict, err)
	}
	for _, st := range triage.Statuses {
		f := triage.QueueFilter{Status: st}
		checkQueue(t, h, f, expectQueue(flags, reports, status, f))
	}
	page, err := h.Store.Queue(ctx, triage.QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Undetected[triage.Unreviewed] != 1 || page.Undetected[triage.Confirmed] != 1 || page.Undetected[triage.Escalated] != 1 {
		t.Errorf("undetected counts %v", page.Undetected)
	}
	// Report item verdicts never count as rule precision.
	stats, err := h.Store.RulePrecision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 0 {
		t.Errorf("rule precision from report verdicts: %+v", stats)
	}
}

func testDuplicateReports(t *testing.T, h ReportHarness) {
	r := reportOn("dup-1", "dup-conv", event.ReportSpam, 30, base)
	writeReports(t, h, r)
	writeReports(t, h, r, r)
	got := allReportsQueue(t, h, triage.QueueFilter{}, 10)
	if len(got) != 1 || got[0].Report == nil || got[0].Reported.Reports != 1 {
		t.Fatalf("a report written three times: %d items, %+v", len(got), got)
	}
	reps, err := h.Reports.ConversationReports(context.Background(), "dup-conv", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 {
		t.Fatalf("ConversationReports: %d reports, want 1", len(reps))
	}
}

func testConversationReports(t *testing.T, h ReportHarness) {
	var reports []event.Report
	for i := range 6 {
		reports = append(reports, reportOn(fmt.Sprintf("cr-%d", i), "cr-conv", event.ReportReasons[i%5], 10+i*5, base.Add(time.Duration(i)*time.Hour)))
	}
	reports = append(reports, reportOn("cr-other", "cr-elsewhere", event.ReportSpam, -1, base))
	writeReports(t, h, reports...)
	got, err := h.Reports.ConversationReports(context.Background(), "cr-conv", 4)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ReportID)
	}
	if !slices.Equal(ids, []string{"cr-5", "cr-4", "cr-3", "cr-2"}) {
		t.Fatalf("newest 4 reports: %v", ids)
	}
	r := got[0]
	if r.ItemID != triage.ReportItemID("cr-5") || r.ReporterID != "reporter-cr-5" || r.ReporterAge == nil || *r.ReporterAge != 35 ||
		r.MessageID != "cr-conv-m1" || r.Comment != reports[5].Comment || r.Reason != reports[5].Reason ||
		r.ReportedAt.Sub(reports[5].ReportedAt).Abs() >= h.Precision {
		t.Errorf("round trip: %+v, want %+v", r, reports[5])
	}
	if none, err := h.Reports.ConversationReports(context.Background(), "cr-nothing", 4); err != nil || len(none) != 0 {
		t.Errorf("a conversation without reports: %v %v", none, err)
	}
}

// testReportStats: confirmed reported conversations per category, the
// ones no detector flagged, and the time from each report to the first
// verdict on its conversation.
func testReportStats(t *testing.T, h ReportHarness) {
	ctx := context.Background()
	t0 := base.Add(24 * time.Hour)
	flags := []detectors.Flag{
		flagAt("st-a", 1, detectors.Grooming, detectors.High, t0.Add(-time.Hour)),
		flagAt("st-d", 1, detectors.Spam, detectors.Medium, t0.Add(-time.Hour)),
		flagAt("st-e", 1, detectors.Harassment, detectors.Medium, t0.Add(-time.Hour)),
	}
	write(t, h.Harness, flags)
	writeReports(t, h,
		reportOn("st-1", "st-a", event.ReportGrooming, 14, t0),   // flagged, flag confirmed after 90 s
		reportOn("st-2", "st-b", event.ReportHarassment, 30, t0), // not flagged, report confirmed after 10 min
		reportOn("st-3", "st-c", event.ReportSpam, 30, t0),       // not flagged, report dismissed after 2 h
		reportOn("st-4", "st-d", event.ReportGrooming, -1, t0),   // spam flag only, grooming report escalated after 30 s
		reportOn("st-5", "st-e", event.ReportOther, 20, t0),      // any flag matches; flag confirmed after 1 day
		reportOn("st-6", "st-f", event.ReportOther, 20, t0),      // not flagged, report confirmed; then a second report
		reportOn("st-7", "st-f", event.ReportOther, 20, t0.Add(time.Hour)),
		reportOn("st-8", "st-g", event.ReportHarassment, 20, t0), // never reviewed
	)
	// A verdict before a report is no answer to it.
	record(t, h.Harness, flags[2].FlagID, triage.Dismissed, t0.Add(-30*time.Minute))
	record(t, h.Harness, flags[0].FlagID, triage.Confirmed, t0.Add(90*time.Second))
	record(t, h.Harness, triage.ReportItemID("st-2"), triage.Confirmed, t0.Add(10*time.Minute))
	record(t, h.Harness, triage.ReportItemID("st-3"), triage.Dismissed, t0.Add(2*time.Hour))
	record(t, h.Harness, triage.ReportItemID("st-4"), triage.Escalated, t0.Add(30*time.Second))
	record(t, h.Harness, flags[2].FlagID, triage.Confirmed, t0.Add(24*time.Hour))
	record(t, h.Harness, triage.ReportItemID("st-6"), triage.Confirmed, t0.Add(5*time.Minute))
	record(t, h.Harness, triage.ReportItemID("st-6"), triage.Confirmed, t0.Add(2*time.Hour)) // answers st-7 after 1 h

	stats, err := h.Reports.ReportStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Reports != 8 || stats.Awaiting != 1 {
		t.Errorf("reports %d awaiting %d, want 8 and 1", stats.Reports, stats.Awaiting)
	}
	want := []triage.CategoryMisses{
		{Category: "grooming", Confirmed: 2, Missed: 1},
		{Category: "harassment", Confirmed: 1, Missed: 1},
		{Category: "other", Confirmed: 2, Missed: 1},
	}
	if !slices.Equal(stats.Misses, want) {
		t.Errorf("misses\n got %+v\nwant %+v", stats.Misses, want)
	}
	if r, ok := want[0].MissRate(); !ok || r != 0.5 {
		t.Errorf("miss rate %v %v", r, ok)
	}
	// First verdicts: 90 s, 600 s, 7200 s, 30 s, 86400 s, 300 s, 3600 s.
	times := []float64{90, 600, 7200, 30, 86400, 300, 3600}
	hist := triage.Histogram{Bounds: triage.FirstVerdictBounds}
	for _, v := range times {
		hist.Observe(v)
	}
	got := stats.FirstVerdict
	if got.Count != hist.Count || !slices.Equal(got.Bounds, hist.Bounds) || !slices.Equal(got.Counts, hist.Counts) ||
		got.Sum < hist.Sum-float64(len(times)) || got.Sum > hist.Sum+float64(len(times)) {
		t.Errorf("first verdict histogram\n got %+v\nwant %+v", got, hist)
	}
}

// Reports returns n reports on conversations of Flags(…, salt) (c-salt-0
// to c-salt-4) and on conversations without flags, a third of them urgent.
func Reports(n int, salt string) []event.Report {
	out := make([]event.Report, n)
	for i := range out {
		conv := fmt.Sprintf("c-%s-%d", salt, i%5)
		if i%2 == 1 {
			conv = fmt.Sprintf("c-%s-unflagged-%d", salt, i)
		}
		age := 30
		if i%3 == 0 {
			age = 14
		}
		out[i] = reportOn(fmt.Sprintf("r-%s-%d", salt, i), conv, event.ReportReasons[i%len(event.ReportReasons)], age, base.Add(time.Duration(i)*time.Minute))
	}
	return out
}

// testSealedReportComments: a protected writer stores a report's comment
// sealed with its key id, bound to its report, and the reporter's id as a
// pseudonym; every read (the report item, the conversation's reports)
// hands both back unopened. A report without a comment seals nothing, and
// a plain writer stores plain text with no key id.
func testSealedReportComments(t *testing.T, h ReportHarness) {
	if h.WriteReportsProtected == nil {
		t.Skip("the harness cannot write reports with protection")
	}
	ctx := context.Background()
	keys, err := seal.NewKeyring(seal.Key{ID: "k-test", Key: []byte(strings.Repeat("k", seal.KeySize))})
	if err != nil {
		t.Fatal(err)
	}
	pseudo, err := seal.NewPseudonymizer([]byte(strings.Repeat("p", seal.MinPseudonymKey)))
	if err != nil {
		t.Fatal(err)
	}
	reports := []event.Report{
		reportOn("sc-1", "sc-conv", event.ReportGrooming, 13, base),
		reportOn("sc-2", "sc-conv", event.ReportHarassment, -1, base.Add(time.Minute)),
		reportOn("sc-3", "sc-conv", event.ReportSpam, 30, base.Add(2*time.Minute)),
	}
	for i := range reports[:2] {
		reports[i].Comment = fmt.Sprintf("CANARY-%d-COMMENT he asks me to keep our chats secret", i)
	}
	reports[2].Comment = ""
	if err := h.WriteReportsProtected(ctx, sinks.Protection{Keys: keys, Pseudonyms: pseudo}, reports); err != nil {
		t.Fatal(err)
	}
	byID := map[string]event.Report{}
	for _, r := range reports {
		byID[r.ReportID] = r
	}
	check := func(where string, got triage.Report) {
		t.Helper()
		want := byID[got.ReportID]
		if got.ReporterID != pseudo.Pseudonym(want.ReporterID) {
			t.Errorf("%s: report %s reporter %q, want its pseudonym", where, got.ReportID, got.ReporterID)
		}
		if want.Comment == "" {
			if got.Comment != "" || got.CommentKeyID != "" {
				t.Errorf("%s: report %s without a comment stored %q with key %q", where, got.ReportID, got.Comment, got.CommentKeyID)
			}
			return
		}
		if got.CommentKeyID != "k-test" || strings.Contains(got.Comment, "CANARY") || got.CommentCleared {
			t.Errorf("%s: report %s stored comment %q with key %q", where, got.ReportID, got.Comment, got.CommentKeyID)
		}
		if text, err := keys.Open(got.CommentKeyID, sinks.ReportCommentRow(got.ReportID), got.Comment); err != nil || text != want.Comment {
			t.Errorf("%s: report %s comment opens to %q, %v", where, got.ReportID, text, err)
		}
		for _, other := range []string{sinks.ReportCommentRow("sc-9"), got.ReportID, got.ItemID} {
			if _, err := keys.Open(got.CommentKeyID, other, got.Comment); err == nil {
				t.Errorf("%s: report %s comment opens as row %q", where, got.ReportID, other)
			}
		}
	}
	got, err := h.Reports.ConversationReports(ctx, "sc-conv", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(reports) {
		t.Fatalf("%d reports read back, want %d", len(got), len(reports))
	}
	for _, r := range got {
		check("ConversationReports", r)
	}
	for _, r := range reports {
		it, err := h.Store.Flag(ctx, triage.ReportItemID(r.ReportID))
		if err != nil {
			t.Fatal(err)
		}
		if it.Report == nil {
			t.Fatalf("report %s is not a report item", r.ReportID)
		}
		check("report item", *it.Report)
		// Sealing changes neither the tier nor the rank: by a minor (sc-1)
		// and about grooming are urgent.
		if it.Tier() != triage.TierUrgent || it.Report.Urgent() != r.Urgent() || it.Report.ByMinor() != r.ByMinor() {
			t.Errorf("report item %s: tier %d urgent %v by a minor %v", r.ReportID, it.Tier(), it.Report.Urgent(), it.Report.ByMinor())
		}
	}
	// A plain writer: plain text, no key id.
	plain := reportOn("sc-plain", "sc-other", event.ReportSpam, 30, base)
	writeReports(t, h, plain)
	it, err := h.Store.Flag(ctx, triage.ReportItemID("sc-plain"))
	if err != nil || it.Report == nil || it.Report.Comment != plain.Comment || it.Report.CommentKeyID != "" || it.Report.ReporterID != plain.ReporterID {
		t.Errorf("plain report: %+v %v", it.Report, err)
	}
}

// testReportCommentRetention: the comments of reports made before the
// cutoff are cleared (with their key ids) and marked cleared; the reports
// stay in the queue with their verdicts and figures; newer reports keep
// their comments, reports without one are not counted, and a second run
// clears nothing.
func testReportCommentRetention(t *testing.T, h ReportHarness) {
	if h.ExpireReportComments == nil {
		t.Skip("the harness has no retention of report comments")
	}
	ctx := context.Background()
	cutoff := base.Add(10 * time.Hour)
	var reports []event.Report
	for i := range 8 {
		reports = append(reports, reportOn(fmt.Sprintf("rt-%d", i), fmt.Sprintf("rt-conv-%d", i%3), event.ReportReasons[i%len(event.ReportReasons)], 12+i,
			base.Add(time.Duration(7+i)*time.Hour))) // 7 h to 14 h: 3 before the cutoff
	}
	reports[1].Comment = "" // old, but nothing to clear
	var sealed []event.Report
	if h.WriteReportsProtected != nil { // old and young sealed reports too
		keys, err := seal.NewKeyring(seal.Key{ID: "k-ret", Key: []byte(strings.Repeat("r", seal.KeySize))})
		if err != nil {
			t.Fatal(err)
		}
		sealed = []event.Report{
			reportOn("rt-sealed-old", "rt-conv-0", event.ReportGrooming, 14, base.Add(time.Hour)),
			reportOn("rt-sealed-young", "rt-conv-1", event.ReportGrooming, 14, base.Add(20*time.Hour)),
		}
		if err := h.WriteReportsProtected(ctx, sinks.Protection{Keys: keys}, sealed); err != nil {
			t.Fatal(err)
		}
	}
	writeReports(t, h, reports...)
	all := append(slices.Clone(reports), sealed...)
	var old, young []event.Report
	wantCleared := 0
	for _, r := range all {
		if r.ReportedAt.Before(cutoff) {
			old = append(old, r)
			if r.Comment != "" {
				wantCleared++
			}
		} else {
			young = append(young, r)
		}
	}
	if wantCleared < 2 || len(young) < 2 {
		t.Fatalf("fixture: %d old comments, %d young reports", wantCleared, len(young))
	}
	record(t, h.Harness, triage.ReportItemID(old[0].ReportID), triage.Confirmed, base.Add(24*time.Hour))
	before, err := h.Reports.ReportStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := h.ExpireReportComments(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(wantCleared) {
		t.Errorf("cleared %d comments, want %d", n, wantCleared)
	}
	read := func(r event.Report) triage.Item {
		t.Helper()
		it, err := h.Store.Flag(ctx, triage.ReportItemID(r.ReportID))
		if err != nil || it.Report == nil {
			t.Fatalf("report %s after retention: %+v %v", r.ReportID, it, err)
		}
		return it
	}
	for _, r := range old {
		it := read(r)
		g := it.Report
		if g.Comment != "" || g.CommentKeyID != "" || g.CommentCleared != (r.Comment != "") || g.Reason != r.Reason || g.ConversationID != r.ConversationID {
			t.Errorf("old report %s: %+v", r.ReportID, g)
		}
	}
	if it := read(old[0]); it.Status() != triage.Confirmed {
		t.Errorf("retention lost the verdict: %+v", it.Verdict)
	}
	for _, r := range young {
		g := read(r).Report
		if g.CommentCleared || (g.Comment == "") != (r.Comment == "") || g.CommentKeyID == "" && g.Comment != r.Comment {
			t.Errorf("young report %s lost its comment: %+v", r.ReportID, g)
		}
	}
	got, err := h.Reports.ConversationReports(ctx, "rt-conv-0", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if g.ReportedAt.Before(cutoff) && g.Comment != "" {
			t.Errorf("ConversationReports: report %s keeps its comment", g.ReportID)
		}
	}
	after, err := h.Reports.ReportStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Reports != before.Reports || after.Awaiting != before.Awaiting || after.FirstVerdict.Count != before.FirstVerdict.Count {
		t.Errorf("retention changed the figures: %+v, before %+v", after, before)
	}
	if n, err := h.ExpireReportComments(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second run cleared %d, %v", n, err)
	}
}
