package triage_test

import (
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/triage"
)

var now = time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)

func TestCursorWithTier(t *testing.T) {
	at := time.UnixMilli(1764072000123).UTC()
	for _, c := range []triage.Cursor{
		{Rank: 3, DetectedAt: at, FlagID: "abc"},
		{Tier: triage.TierUrgent, Rank: 4, DetectedAt: at, FlagID: triage.ReportItemID("r")},
		{Tier: triage.TierReported, Rank: 1, DetectedAt: at, FlagID: "0f"},
	} {
		got, err := triage.ParseCursor(c.String())
		if err != nil || got != c {
			t.Errorf("%q parses as %+v, %v; want %+v", c.String(), got, err, c)
		}
	}
	for _, bad := range []string{"3.1.2.x", "-1.3.5.x", "9.2.5.x", "1.2.x.y"} {
		if _, err := triage.ParseCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func TestMergeQueueOrder(t *testing.T) {
	at := now
	flag := func(id string, sev detectors.Severity, ago time.Duration, reported *triage.Reported) triage.Item {
		return triage.Item{Flag: detectors.Flag{FlagID: id, Severity: sev, DetectedAt: at.Add(-ago)}, Reported: reported}
	}
	urgent := &triage.Reported{Reports: 1, Urgent: true}
	plain := &triage.Reported{Reports: 2}
	age := 15
	rep := triage.ReportFromEvent(event.Report{ReportID: "r1", Reason: event.ReportSpam, ReporterAge: &age, ReportedAt: at.Add(-time.Hour)})
	flags := []triage.Item{
		flag("a", detectors.Critical, time.Minute, nil),
		flag("b", detectors.Low, time.Hour, plain),
		flag("c", detectors.Medium, time.Minute, urgent),
		flag("d", detectors.Critical, 2*time.Hour, urgent),
	}
	reports := []triage.Item{rep.Item(urgent)}
	items, next := triage.MergeQueue(4, flags, reports)
	var ids []string
	for _, it := range items {
		ids = append(ids, it.Flag.FlagID)
	}
	want := []string{"d", triage.ReportItemID("r1"), "c", "b"}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("merged %v, want %v", ids, want)
	}
	if next != items[3].Cursor() || next.Tier != triage.TierReported {
		t.Errorf("next cursor %+v", next)
	}
	if _, next := triage.MergeQueue(5, flags, reports); !next.IsZero() {
		t.Errorf("a page with everything has a next cursor %+v", next)
	}
}
