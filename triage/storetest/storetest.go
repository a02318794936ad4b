// Package storetest is the contract every triage.Store implementation must
// meet, written once and run against each store by its own tests
// (sinks/sqlite against a file, sinks/clickhouse against the real server).
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage"
)

// Harness is one empty store under test.
type Harness struct {
	Store triage.Store
	// Write stores flags as the pipeline does.
	Write func(ctx context.Context, flags []detectors.Flag) error
	// Precision is the resolution of stored times: time.Millisecond, or
	// time.Second on ClickHouse before 20.1.
	Precision time.Duration
	// WriteProtected stores flags as a pipeline with protection p does,
	// into the same database as Store.
	WriteProtected func(ctx context.Context, p sinks.Protection, flags []detectors.Flag) error
	// ExpireEvidence is the store's retention: clear the evidence of flags
	// detected before cutoff.
	ExpireEvidence func(ctx context.Context, cutoff time.Time) (int64, error)
}

// Run runs the contract; open returns a new, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"QueueOrderAndPagination", testQueueOrderAndPagination},
		{"QueueFilters", testQueueFilters},
		{"ShadowFlagsNeverShown", testShadowNeverShown},
		{"DuplicateWritesSeenOnce", testDuplicatesSeenOnce},
		{"LatestVerdictWins", testLatestVerdictWins},
		{"FlagRoundTrip", testFlagRoundTrip},
		{"Conversation", testConversation},
		{"RulePrecision", testRulePrecision},
		{"OldestUnreviewedCritical", testOldestUnreviewedCritical},
		{"RejectsBadVerdicts", testRejectsBadVerdicts},
		{"AccessAudit", testAccessAudit},
		{"SealedEvidence", testSealedEvidence},
		{"EvidenceRetention", testEvidenceRetention},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Flags returns n live flags spread over every severity, category and
// three rules, with distinct whole-second detected_at times except for
// groups of three that share one (so that flag_id breaks ties). Every
// seventh flag is a shadow flag.
func Flags(n int, salt string) []detectors.Flag {
	flags := make([]detectors.Flag, n)
	for i := range flags {
		msg := fmt.Sprintf("m-%s-%d", salt, i)
		rule := fmt.Sprintf("rule.r%d", i%3)
		detected := base.Add(time.Duration(n-i/3) * time.Minute) // later flags are older
		mode := detectors.Live
		if i%7 == 6 {
			mode = detectors.Shadow
		}
		flags[i] = detectors.Flag{
			FlagID:         detectors.FlagID(msg, "keyword", rule),
			MessageID:      msg,
			ConversationID: fmt.Sprintf("c-%s-%d", salt, i%5),
			SenderID:       fmt.Sprintf("u-%d", i%4),
			RecipientIDs:   []string{fmt.Sprintf("u-%d", (i+1)%4)},
			Category:       detectors.Categories[i%len(detectors.Categories)],
			Detector:       "keyword",
			Rule:           rule,
			RuleVersion:    fmt.Sprintf("v%04d", i%3),
			Mode:           mode,
			Severity:       detectors.Severities[(i/2)%len(detectors.Severities)],
			Score:          float64(i%10) / 10,
			Evidence:       fmt.Sprintf("…evidence %d: don't tell ur mum 🤫, Ärger, 秘密…", i),
			SentAt:         detected.Add(-2 * time.Second),
			DetectedAt:     detected,
		}
	}
	return flags
}

// Live returns the live flags of flags.
func Live(flags []detectors.Flag) []detectors.Flag {
	return slices.DeleteFunc(slices.Clone(flags), func(f detectors.Flag) bool { return f.Mode == detectors.Shadow })
}

// SortQueue sorts flags in queue order.
func SortQueue(flags []detectors.Flag) {
	slices.SortFunc(flags, func(a, b detectors.Flag) int {
		if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
			return c
		}
		if c := a.DetectedAt.Compare(b.DetectedAt); c != 0 {
			return c
		}
		return strings.Compare(a.FlagID, b.FlagID)
	})
}

func write(t *testing.T, h Harness, flags []detectors.Flag) {
	t.Helper()
	if err := h.Write(context.Background(), flags); err != nil {
		t.Fatal(err)
	}
}

func record(t *testing.T, h Harness, id string, st triage.Status, at time.Time) {
	t.Helper()
	err := h.Store.RecordVerdict(context.Background(), triage.Verdict{
		FlagID: id, Verdict: st, Note: "note " + string(st), Analyst: "alice", DecidedAt: at,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// all pages through the queue with page size n.
func all(t *testing.T, h Harness, f triage.QueueFilter, n int) ([]triage.Item, triage.Counts) {
	t.Helper()
	f.Limit = n
	var items []triage.Item
	var counts triage.Counts
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("queue does not end")
		}
		page, err := h.Store.Queue(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) > n {
			t.Fatalf("page of %d items, limit %d", len(page.Items), n)
		}
		if counts == nil {
			counts = page.Counts
		}
		items = append(items, page.Items...)
		if page.Next.IsZero() {
			return items, counts
		}
		if len(page.Items) == 0 {
			t.Fatal("empty page with a next cursor")
		}
		f.After = page.Next
	}
}

func itemIDs(items []triage.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Flag.FlagID
	}
	return out
}

func flagIDs(flags []detectors.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = f.FlagID
	}
	return out
}

func testQueueOrderAndPagination(t *testing.T, h Harness) {
	flags := Flags(60, "order")
	write(t, h, flags)
	want := Live(flags)
	SortQueue(want)
	for _, n := range []int{1, 7, 50, triage.MaxPageSize} {
		got, counts := all(t, h, triage.QueueFilter{}, n)
		if !slices.Equal(itemIDs(got), flagIDs(want)) {
			t.Fatalf("page size %d: queue order\n got %v\nwant %v", n, itemIDs(got), flagIDs(want))
		}
		if counts.Total() != int64(len(want)) || counts.Status(triage.Unreviewed) != int64(len(want)) {
			t.Errorf("counts total %d, unreviewed %d; want %d", counts.Total(), counts.Status(triage.Unreviewed), len(want))
		}
	}
	// A page size out of bounds is bounded.
	page, err := h.Store.Queue(context.Background(), triage.QueueFilter{Limit: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != min(len(want), triage.DefaultPageSize) {
		t.Errorf("default page has %d items", len(page.Items))
	}
	for _, sev := range detectors.Severities {
		var n int64
		for _, f := range want {
			if f.Severity == sev {
				n++
			}
		}
		if got := page.Counts.Get(sev, triage.Unreviewed); got != n {
			t.Errorf("counts[%s][unreviewed] = %d, want %d", sev, got, n)
		}
	}
}

func testQueueFilters(t *testing.T, h Harness) {
	flags := Flags(45, "filter")
	write(t, h, flags)
	live := Live(flags)
	SortQueue(live)
	decided := map[string]triage.Status{}
	at := base.Add(24 * time.Hour)
	for i, f := range live {
		if i%4 == 3 {
			continue
		}
		st := triage.Decisions[i%3]
		record(t, h, f.FlagID, st, at.Add(time.Duration(i)*time.Second))
		decided[f.FlagID] = st
	}
	status := func(f detectors.Flag) triage.Status {
		if st, ok := decided[f.FlagID]; ok {
			return st
		}
		return triage.Unreviewed
	}
	tests := []struct {
		name   string
		filter triage.QueueFilter
		keep   func(detectors.Flag) bool
	}{
		{"category", triage.QueueFilter{Category: detectors.Spam}, func(f detectors.Flag) bool { return f.Category == detectors.Spam }},
		{"rule", triage.QueueFilter{Rule: "rule.r1"}, func(f detectors.Flag) bool { return f.Rule == "rule.r1" }},
		{"unreviewed", triage.QueueFilter{Status: triage.Unreviewed}, func(f detectors.Flag) bool { return status(f) == triage.Unreviewed }},
		{"confirmed", triage.QueueFilter{Status: triage.Confirmed}, func(f detectors.Flag) bool { return status(f) == triage.Confirmed }},
		{"dismissed", triage.QueueFilter{Status: triage.Dismissed}, func(f detectors.Flag) bool { return status(f) == triage.Dismissed }},
		{"escalated+grooming+r2", triage.QueueFilter{Status: triage.Escalated, Category: detectors.Grooming, Rule: "rule.r2"},
			func(f detectors.Flag) bool {
				return status(f) == triage.Escalated && f.Category == detectors.Grooming && f.Rule == "rule.r2"
			}},
		{"unknown rule", triage.QueueFilter{Rule: "nosuch"}, func(detectors.Flag) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []detectors.Flag
			for _, f := range live {
				if tt.keep(f) {
					want = append(want, f)
				}
			}
			got, counts := all(t, h, tt.filter, 4)
			if !slices.Equal(itemIDs(got), flagIDs(want)) {
				t.Errorf("got %v\nwant %v", itemIDs(got), flagIDs(want))
			}
			for _, it := range got {
				if it.Status() != status(it.Flag) {
					t.Errorf("flag %s status %s, want %s", it.Flag.FlagID, it.Status(), status(it.Flag))
				}
			}
			// Counts ignore the status filter, not category and rule.
			wantCounts := triage.Counts{}
			for _, f := range live {
				if (tt.filter.Category == "" || f.Category == tt.filter.Category) && (tt.filter.Rule == "" || f.Rule == tt.filter.Rule) {
					wantCounts.Add(f.Severity, status(f), 1)
				}
			}
			for _, sev := range detectors.Severities {
				for _, st := range triage.Statuses {
					if g, w := counts.Get(sev, st), wantCounts.Get(sev, st); g != w {
						t.Errorf("counts[%s][%s] = %d, want %d", sev, st, g, w)
					}
				}
			}
		})
	}
}

func testShadowNeverShown(t *testing.T, h Harness) {
	ctx := context.Background()
	flags := Flags(14, "shadow")
	for i := range flags {
		flags[i].Severity = detectors.Critical
		flags[i].ConversationID = "c-shadow"
	}
	write(t, h, flags)
	var shadow []detectors.Flag
	for _, f := range flags {
		if f.Mode == detectors.Shadow {
			shadow = append(shadow, f)
		}
	}
	if len(shadow) != 2 {
		t.Fatalf("fixture has %d shadow flags", len(shadow))
	}
	for _, f := range shadow {
		record(t, h, f.FlagID, triage.Confirmed, base.Add(time.Hour))
	}
	items, counts := all(t, h, triage.QueueFilter{}, 50)
	for _, it := range items {
		if it.Flag.Mode != detectors.Live {
			t.Errorf("queue shows %s flag %s", it.Flag.Mode, it.Flag.FlagID)
		}
	}
	if len(items) != 12 || counts.Total() != 12 {
		t.Errorf("queue has %d items, counts %d; want the 12 live flags", len(items), counts.Total())
	}
	for _, st := range triage.Statuses {
		items, _ := all(t, h, triage.QueueFilter{Status: st}, 50)
		for _, it := range items {
			if it.Flag.Mode != detectors.Live {
				t.Errorf("status %s shows shadow flag %s", st, it.Flag.FlagID)
			}
		}
	}
	for _, f := range shadow {
		if _, err := h.Store.Flag(ctx, f.FlagID); !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("Flag(shadow %s) error = %v, want ErrNotFound", f.FlagID, err)
		}
	}
	conv, err := h.Store.Conversation(ctx, "c-shadow", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv) != 12 {
		t.Errorf("conversation has %d flags, want the 12 live ones", len(conv))
	}
	stats, err := h.Store.RulePrecision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 0 {
		t.Errorf("RulePrecision counts verdicts on shadow flags: %+v", stats)
	}
	oldest, ok, err := h.Store.OldestUnreviewedCritical(ctx)
	if err != nil {
		t.Fatal(err)
	}
	live := Live(flags)
	SortQueue(live)
	if !ok || !oldest.Equal(live[0].DetectedAt.Truncate(h.Precision)) {
		t.Errorf("OldestUnreviewedCritical = %v, %v; want %v (the oldest live flag)", oldest, ok, live[0].DetectedAt)
	}
}

func testDuplicatesSeenOnce(t *testing.T, h Harness) {
	flags := Flags(20, "dup")
	write(t, h, flags)
	write(t, h, flags)
	write(t, h, flags[:5])
	items, counts := all(t, h, triage.QueueFilter{}, 6)
	if want := len(Live(flags)); len(items) != want || counts.Total() != int64(want) {
		t.Errorf("queue has %d items, counts %d; want %d", len(items), counts.Total(), want)
	}
}

func testLatestVerdictWins(t *testing.T, h Harness) {
	ctx := context.Background()
	flags := Live(Flags(6, "latest"))
	write(t, h, flags)
	id := flags[0].FlagID
	t0 := base.Add(48 * time.Hour)
	record(t, h, id, triage.Confirmed, t0)
	record(t, h, id, triage.Escalated, t0.Add(2*time.Second))
	it, err := h.Store.Flag(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if it.Status() != triage.Escalated || !it.Verdict.DecidedAt.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("after confirm then escalate: %+v", it.Verdict)
	}
	// A later decision back to an earlier value wins too.
	record(t, h, id, triage.Dismissed, t0.Add(4*time.Second))
	record(t, h, id, triage.Confirmed, t0.Add(6*time.Second))
	if it, _ = h.Store.Flag(ctx, id); it.Status() != triage.Confirmed {
		t.Fatalf("latest is %s, want confirmed", it.Status())
	}
	// Within the stores' time resolution, the one recorded last wins.
	record(t, h, id, triage.Dismissed, t0.Add(8*time.Second))
	if it, _ = h.Store.Flag(ctx, id); it.Status() != triage.Dismissed {
		t.Fatalf("latest is %s, want dismissed", it.Status())
	}
	record(t, h, id, triage.Escalated, t0.Add(8*time.Second))
	if it, _ = h.Store.Flag(ctx, id); it.Status() != triage.Escalated {
		t.Errorf("of two decisions at the same instant, %s won; want the later recorded (escalated)", it.Status())
	}
	for _, st := range triage.Statuses {
		items, counts := all(t, h, triage.QueueFilter{Status: st}, 10)
		var n int
		for _, it := range items {
			if it.Flag.FlagID == id {
				n++
			}
		}
		if want := map[bool]int{true: 1}[st == triage.Escalated]; n != want {
			t.Errorf("status %s lists the flag %d times, want %d", st, n, want)
		}
		if counts.Status(triage.Escalated) != 1 || counts.Status(triage.Confirmed) != 0 || counts.Total() != int64(len(flags)) {
			t.Errorf("counts count old verdicts: %v", counts)
		}
	}
	stats, err := h.Store.RulePrecision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 || stats[0].Reviewed() != 1 || stats[0].Escalated != 1 {
		t.Errorf("RulePrecision counts old verdicts: %+v", stats)
	}
}

func testFlagRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	f := Flags(1, "rt")[0]
	f.RecipientIDs = []string{"u-a", "u-b"}
	f.Evidence = "zero\u200bwidth, e\u0301, RTL \u202eabc\u202c, <b>not bold</b> & 'quotes' \"double\""
	f.SentAt = f.SentAt.Add(123 * time.Millisecond)
	f.DetectedAt = f.DetectedAt.Add(456 * time.Millisecond)
	write(t, h, []detectors.Flag{f})
	it, err := h.Store.Flag(ctx, f.FlagID)
	if err != nil {
		t.Fatal(err)
	}
	want := f
	want.SentAt = f.SentAt.Truncate(h.Precision)
	want.DetectedAt = f.DetectedAt.Truncate(h.Precision)
	got := it.Flag
	if !got.SentAt.Equal(want.SentAt) || !got.DetectedAt.Equal(want.DetectedAt) {
		t.Errorf("times %v, %v; want %v, %v", got.SentAt, got.DetectedAt, want.SentAt, want.DetectedAt)
	}
	got.SentAt, got.DetectedAt = want.SentAt, want.DetectedAt
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("flag read back\n got %+v\nwant %+v", got, want)
	}
	if it.Verdict != nil || it.Status() != triage.Unreviewed {
		t.Errorf("new flag has verdict %+v", it.Verdict)
	}
	at := time.Date(2026, 3, 2, 9, 30, 15, 250_000_000, time.UTC)
	note := "écrit à la main — \"quoted\" 'single' <tag> 🤫\nsecond line"
	if err := h.Store.RecordVerdict(ctx, triage.Verdict{FlagID: f.FlagID, Verdict: triage.Escalated, Note: note, Analyst: "bob.smith", DecidedAt: at}); err != nil {
		t.Fatal(err)
	}
	it, err = h.Store.Flag(ctx, f.FlagID)
	if err != nil {
		t.Fatal(err)
	}
	v := it.Verdict
	if v == nil || v.FlagID != f.FlagID || v.Verdict != triage.Escalated || v.Note != note || v.Analyst != "bob.smith" || !v.DecidedAt.Equal(at.Truncate(h.Precision)) {
		t.Errorf("verdict read back %+v", v)
	}
	if _, err := h.Store.Flag(ctx, "00000000000000000000000000000000"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("Flag(unknown) error = %v, want ErrNotFound", err)
	}
}

func testConversation(t *testing.T, h Harness) {
	ctx := context.Background()
	flags := Flags(40, "conv")
	write(t, h, flags)
	var want []detectors.Flag
	for _, f := range flags {
		if f.ConversationID == "c-conv-2" && f.Mode == detectors.Live {
			want = append(want, f)
		}
	}
	slices.SortFunc(want, func(a, b detectors.Flag) int {
		return cmp.Or(a.SentAt.Compare(b.SentAt), strings.Compare(a.FlagID, b.FlagID))
	})
	record(t, h, want[0].FlagID, triage.Dismissed, base.Add(time.Hour))
	got, err := h.Store.Conversation(ctx, "c-conv-2", 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(itemIDs(got), flagIDs(want)) {
		t.Errorf("conversation\n got %v\nwant %v", itemIDs(got), flagIDs(want))
	}
	if len(got) > 0 && got[0].Status() != triage.Dismissed {
		t.Errorf("first flag status %s, want dismissed", got[0].Status())
	}
	got, err = h.Store.Conversation(ctx, "c-conv-2", 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(itemIDs(got), flagIDs(want[len(want)-3:])) {
		t.Errorf("limit 3 gives %v, want the newest three %v oldest first", itemIDs(got), flagIDs(want[len(want)-3:]))
	}
	if got, err := h.Store.Conversation(ctx, "nosuch", 10); err != nil || len(got) != 0 {
		t.Errorf("unknown conversation: %v, %v", got, err)
	}
}

func testRulePrecision(t *testing.T, h Harness) {
	ctx := context.Background()
	flags := Live(Flags(30, "prec"))
	write(t, h, flags)
	want := map[string]*triage.RuleStats{}
	at := base.Add(72 * time.Hour)
	for i, f := range flags {
		if f.Rule == "rule.r2" {
			continue // no verdicts: absent
		}
		st := []triage.Status{triage.Confirmed, triage.Dismissed, triage.Confirmed, triage.Escalated, triage.Dismissed}[i%5]
		if i%6 == 0 {
			// Changed mind: only the latest counts.
			record(t, h, f.FlagID, triage.Escalated, at)
		}
		record(t, h, f.FlagID, st, at.Add(time.Duration(i+1)*time.Second))
		s := want[f.Rule]
		if s == nil {
			s = &triage.RuleStats{Rule: f.Rule}
			want[f.Rule] = s
		}
		switch st {
		case triage.Confirmed:
			s.Confirmed++
		case triage.Dismissed:
			s.Dismissed++
		case triage.Escalated:
			s.Escalated++
		}
	}
	got, err := h.Store.RulePrecision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Rule != "rule.r0" || got[1].Rule != "rule.r1" {
		t.Fatalf("RulePrecision = %+v, want rule.r0 and rule.r1", got)
	}
	for _, g := range got {
		if w := want[g.Rule]; g != *w {
			t.Errorf("%s: %+v, want %+v", g.Rule, g, *w)
		}
	}
}

func testOldestUnreviewedCritical(t *testing.T, h Harness) {
	ctx := context.Background()
	if _, ok, err := h.Store.OldestUnreviewedCritical(ctx); err != nil || ok {
		t.Fatalf("empty store: ok %v, err %v", ok, err)
	}
	flags := Flags(24, "oldest")
	write(t, h, flags)
	var crit []detectors.Flag
	for _, f := range Live(flags) {
		if f.Severity == detectors.Critical {
			crit = append(crit, f)
		}
	}
	SortQueue(crit)
	if len(crit) < 3 {
		t.Fatalf("fixture has %d live critical flags", len(crit))
	}
	check := func(want time.Time, wantOK bool) {
		t.Helper()
		got, ok, err := h.Store.OldestUnreviewedCritical(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantOK || (ok && !got.Equal(want.Truncate(h.Precision))) {
			t.Errorf("OldestUnreviewedCritical = %v, %v; want %v, %v", got, ok, want, wantOK)
		}
	}
	check(crit[0].DetectedAt, true)
	record(t, h, crit[0].FlagID, triage.Dismissed, base.Add(time.Hour))
	check(crit[1].DetectedAt, true)
	for _, f := range crit[1:] {
		record(t, h, f.FlagID, triage.Escalated, base.Add(time.Hour))
	}
	check(time.Time{}, false)
}

func testRejectsBadVerdicts(t *testing.T, h Harness) {
	ctx := context.Background()
	f := Live(Flags(1, "bad"))[0]
	write(t, h, []detectors.Flag{f})
	good := triage.Verdict{FlagID: f.FlagID, Verdict: triage.Confirmed, Analyst: "a", DecidedAt: base}
	for name, mut := range map[string]func(*triage.Verdict){
		"status unreviewed": func(v *triage.Verdict) { v.Verdict = triage.Unreviewed },
		"unknown verdict":   func(v *triage.Verdict) { v.Verdict = "maybe" },
		"no analyst":        func(v *triage.Verdict) { v.Analyst = "" },
		"no flag":           func(v *triage.Verdict) { v.FlagID = "" },
		"no time":           func(v *triage.Verdict) { v.DecidedAt = time.Time{} },
		"long note":         func(v *triage.Verdict) { v.Note = strings.Repeat("x", triage.MaxNoteBytes+1) },
	} {
		v := good
		mut(&v)
		if err := h.Store.RecordVerdict(ctx, v); err == nil {
			t.Errorf("%s: RecordVerdict accepted %+v", name, v)
		}
	}
	if it, err := h.Store.Flag(ctx, f.FlagID); err != nil || it.Verdict != nil {
		t.Errorf("a rejected verdict was stored: %+v, %v", it.Verdict, err)
	}
}

// BenchQueue times the queue pages analysts open most on a store already
// filled (first page, next page, a status filter, a category and rule
// filter).
func BenchQueue(b *testing.B, s triage.Store) {
	ctx := context.Background()
	first, err := s.Queue(ctx, triage.QueueFilter{Status: triage.Unreviewed})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []triage.QueueFilter{
		{Status: triage.Unreviewed},
		{Status: triage.Unreviewed, After: first.Next},
		{Status: triage.Confirmed},
		{Category: detectors.Spam, Rule: "rule.r1"},
	} {
		b.Run(fmt.Sprintf("%s/%s/%v", f.Status, f.Category, !f.After.IsZero()), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Queue(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// testAccessAudit: every recorded read comes back, newest first, with all
// its fields; an invalid one is refused and nothing of its batch stored.
func testAccessAudit(t *testing.T, h Harness) {
	ctx := context.Background()
	if got, err := h.Store.RecentAccesses(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty audit: %v %v", got, err)
	}
	var want []triage.Access
	for i := range 3 {
		want = append(want, triage.Access{
			At: base.Add(time.Duration(i) * time.Minute), Actor: fmt.Sprintf("analyst-%d", i), Role: "analyst",
			FlagID: fmt.Sprintf("flag-%d", i), ConversationID: "c-audit", Purpose: "flag: opened from the queue",
		})
	}
	if err := h.Store.RecordAccess(ctx, want[:2]); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.RecordAccess(ctx, want[2:]); err != nil {
		t.Fatal(err)
	}
	bad := []triage.Access{want[0], {At: base, Actor: "", FlagID: "x", Purpose: "p"}}
	if err := h.Store.RecordAccess(ctx, bad); err == nil {
		t.Error("an access without an actor was stored")
	}
	got, err := h.Store.RecentAccesses(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(want)
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("audit read back\n got %+v\nwant %+v", got, want)
	}
	if got, _ := h.Store.RecentAccesses(ctx, 1); len(got) != 1 || got[0].FlagID != "flag-2" {
		t.Errorf("limit 1: %+v", got)
	}
}

// testSealedEvidence: a protected writer stores sealed evidence with its
// key id and pseudonymised user ids; the store hands both back unopened,
// and the evidence opens with the key for that flag only.
func testSealedEvidence(t *testing.T, h Harness) {
	if h.WriteProtected == nil {
		t.Skip("the harness cannot write with protection")
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
	flags := Live(Flags(3, "sealed"))
	for i := range flags {
		flags[i].Evidence = fmt.Sprintf("…before CANARY-%d-SEALED after…", i)
	}
	if err := h.WriteProtected(ctx, sinks.Protection{Keys: keys, Pseudonyms: pseudo}, flags); err != nil {
		t.Fatal(err)
	}
	for i, f := range flags {
		it, err := h.Store.Flag(ctx, f.FlagID)
		if err != nil {
			t.Fatal(err)
		}
		if it.EvidenceKeyID != "k-test" || strings.Contains(it.Flag.Evidence, "CANARY") {
			t.Errorf("flag %d stored evidence %q with key %q", i, it.Flag.Evidence, it.EvidenceKeyID)
		}
		if got, err := keys.Open(it.EvidenceKeyID, f.FlagID, it.Flag.Evidence); err != nil || got != f.Evidence {
			t.Errorf("flag %d opens to %q, %v", i, got, err)
		}
		other := flags[(i+1)%len(flags)].FlagID
		if _, err := keys.Open(it.EvidenceKeyID, other, it.Flag.Evidence); err == nil {
			t.Errorf("flag %d's evidence opens as flag %s's", i, other)
		}
		if it.Flag.SenderID != pseudo.Pseudonym(f.SenderID) || it.Flag.RecipientIDs[0] != pseudo.Pseudonym(f.RecipientIDs[0]) {
			t.Errorf("flag %d user ids %s %v, want pseudonyms", i, it.Flag.SenderID, it.Flag.RecipientIDs)
		}
	}
	// Plain rows (no key) come back with an empty key id.
	plain := Live(Flags(1, "plain"))[0]
	write(t, h, []detectors.Flag{plain})
	if it, err := h.Store.Flag(ctx, plain.FlagID); err != nil || it.EvidenceKeyID != "" || it.Flag.Evidence != plain.Evidence {
		t.Errorf("plain flag: %q %q %v", it.Flag.Evidence, it.EvidenceKeyID, err)
	}
}

// testEvidenceRetention: evidence of flags detected before the cutoff is
// cleared, the rest of those rows and their verdicts stay, newer flags keep
// their evidence, and a second run clears nothing.
func testEvidenceRetention(t *testing.T, h Harness) {
	if h.ExpireEvidence == nil {
		t.Skip("the harness has no retention")
	}
	ctx := context.Background()
	flags := Live(Flags(12, "ret"))
	cutoff := base.Add(11 * time.Minute) // detected_at runs from base+12m down to base+9m
	var old, young []detectors.Flag
	for _, f := range flags {
		if f.DetectedAt.Before(cutoff) {
			old = append(old, f)
		} else {
			young = append(young, f)
		}
	}
	if len(old) == 0 || len(young) == 0 {
		t.Fatalf("fixture: %d old, %d young", len(old), len(young))
	}
	write(t, h, flags)
	record(t, h, old[0].FlagID, triage.Confirmed, base.Add(time.Hour))
	n, err := h.ExpireEvidence(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(old)) {
		t.Errorf("cleared %d, want %d", n, len(old))
	}
	for _, f := range old {
		it, err := h.Store.Flag(ctx, f.FlagID)
		if err != nil {
			t.Fatal(err)
		}
		if it.Flag.Evidence != "" || it.EvidenceKeyID != "" || it.Flag.Rule != f.Rule || it.Flag.Severity != f.Severity {
			t.Errorf("expired flag %s: %+v", f.FlagID, it)
		}
	}
	if it, _ := h.Store.Flag(ctx, old[0].FlagID); it.Status() != triage.Confirmed {
		t.Errorf("retention lost the verdict: %+v", it.Verdict)
	}
	for _, f := range young {
		if it, err := h.Store.Flag(ctx, f.FlagID); err != nil || it.Flag.Evidence != f.Evidence {
			t.Errorf("young flag %s lost its evidence: %q %v", f.FlagID, it.Flag.Evidence, err)
		}
	}
	if n, err := h.ExpireEvidence(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second run cleared %d, %v", n, err)
	}
}
