package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/event"
)

// The console's pages for user reports: a report item ("reported, not
// detected") at /console/flags/{id}, the reports on a flag's conversation
// on the flag page, and /console/reports with the detectors' miss rate and
// the time from a report to the first verdict.

// maxConversationReports bounds the reports listed with a conversation.
const maxConversationReports = 50

// reportFuncs are the template functions of the report pages.
var reportFuncs = map[string]any{
	"reason": func(r event.ReportReason) string { return strings.ReplaceAll(string(r), "_", " ") },
	"clip": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "…"
	},
	"deref": func(p *int) int { return *p },
}

// reportStore returns the store's report view, if it keeps reports.
func (c *Console) reportStore() (ReportStore, bool) {
	rs, ok := c.o.Store.(ReportStore)
	return rs, ok
}

// conversationReports returns the reports on a conversation (none when
// the store keeps no reports).
func (c *Console) conversationReports(ctx context.Context, conversationID string) ([]Report, error) {
	rs, ok := c.reportStore()
	if !ok {
		return nil, nil
	}
	return rs.ConversationReports(ctx, conversationID, maxConversationReports)
}

type reportView struct {
	Item         itemView
	Report       Report
	Reports      []Report   // every report on the conversation, newest first
	Conversation []itemView // the conversation's live flags, with their evidence
	Decisions    []Status
	Return       string
	BackURL      string
	MaxNote      int
	ConvLimit    int
}

// reportItemPage shows a report that no flag matches: the report, the
// conversation's other reports, and the evidence the store holds for the
// conversation (flags of other categories), else its metadata only. A
// report holds no message text, and none is fetched for it. The flags'
// evidence is audited before it is opened, as on a flag's page.
func (c *Console) reportItemPage(w http.ResponseWriter, r *http.Request, p principal, it Item) {
	ctx := r.Context()
	conv, err := c.o.Store.Conversation(ctx, it.Flag.ConversationID, c.o.ConversationLimit)
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	reports, err := c.conversationReports(ctx, it.Flag.ConversationID)
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	texts, err := c.reveal(ctx, p, conv, "conversation of report "+it.Flag.FlagID)
	if err != nil {
		c.auditError(w, r, p, err)
		return
	}
	now := c.o.Now()
	v := &reportView{Item: c.itemView(it, "", now), Report: *it.Report, Reports: reports, Decisions: Decisions,
		MaxNote: MaxNoteBytes, ConvLimit: c.o.ConversationLimit, Return: r.URL.Path, BackURL: Prefix}
	if from := r.URL.Query().Get("from"); safeReturn(from) {
		v.BackURL = from
		v.Return = r.URL.Path + "?from=" + url.QueryEscape(from)
	}
	for i, ci := range conv {
		v.Conversation = append(v.Conversation, c.itemView(ci, texts[i], now))
	}
	pg := c.newPage(r, &p, "Report "+shortID(strings.TrimPrefix(it.Flag.FlagID, ReportItemPrefix)), "queue")
	pg.Data = v
	c.render(w, http.StatusOK, "report", pg)
}

type missView struct {
	CategoryMisses
	Rate    float64
	HasRate bool
}

type reportsView struct {
	Stats     ReportStats
	Misses    []missView
	Answered  []bucketView
	Available bool
}

type bucketView struct {
	Within string
	Count  uint64
	Share  float64
}

// reportsPage shows the reports' figures (viewers may see them: they hold
// no evidence).
func (c *Console) reportsPage(w http.ResponseWriter, r *http.Request, p principal) {
	v := &reportsView{}
	if rs, ok := c.reportStore(); ok {
		st, err := rs.ReportStats(r.Context())
		if err != nil {
			c.storeError(w, r, p, err)
			return
		}
		v.Available, v.Stats = true, st
		for _, m := range st.Misses {
			rate, ok := m.MissRate()
			v.Misses = append(v.Misses, missView{CategoryMisses: m, Rate: rate, HasRate: ok})
		}
		h := st.FirstVerdict
		for i, b := range h.Bounds {
			if i >= len(h.Counts) {
				break
			}
			bv := bucketView{Within: humanSeconds(b), Count: h.Counts[i]}
			if h.Count > 0 {
				bv.Share = float64(h.Counts[i]) / float64(h.Count)
			}
			v.Answered = append(v.Answered, bv)
		}
	}
	pg := c.newPage(r, &p, "Reports", "reports")
	pg.Data = v
	c.render(w, http.StatusOK, "reports", pg)
}

// humanSeconds writes a bucket bound: 5 min, 4 h, 3 days.
func humanSeconds(s float64) string {
	switch {
	case s >= 86400 && int(s)%86400 == 0:
		if s == 86400 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", int(s)/86400)
	case s >= 3600 && int(s)%3600 == 0:
		return fmt.Sprintf("%d h", int(s)/3600)
	case s >= 60 && int(s)%60 == 0:
		return fmt.Sprintf("%d min", int(s)/60)
	}
	return fmt.Sprintf("%g s", s)
}
