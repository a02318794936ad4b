package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage"
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
func (c *Console) reportStore() (triage.ReportStore, bool) {
	rs, ok := c.o.Store.(triage.ReportStore)
	return rs, ok
}

// conversationReports returns the reports on a conversation (none when
// the store keeps no reports).
func (c *Console) conversationReports(ctx context.Context, conversationID string) ([]triage.Report, error) {
	rs, ok := c.reportStore()
	if !ok {
		return nil, nil
	}
	return rs.ConversationReports(ctx, conversationID, maxConversationReports)
}

type reportView struct {
	Item         itemView
	Report       triage.Report
	Reports      []triage.Report // every report on the conversation, newest first
	Conversation []itemView      // the conversation's live flags, with their evidence
	Decisions    []triage.Status
	Return       string
	BackURL      string
	MaxNote      int
	ConvLimit    int
}

// reportItemPage shows a report that no flag matches: the report, the
// conversation's other reports, and the evidence the store holds for the
// conversation (flags of other categories), else its metadata only. A
// report holds no message text, and none is fetched for it. The flags'
// evidence and the reports' comments are audited before they are opened.
func (c *Console) reportItemPage(w http.ResponseWriter, r *http.Request, p principal, it triage.Item) {
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
	id := it.Flag.FlagID
	texts, err := c.reveal(ctx, p, conv, "conversation of report "+id)
	var opened []triage.Report
	if err == nil {
		// The item's own report first; it is also among the conversation's.
		opened, err = c.revealComments(ctx, p, append([]triage.Report{*it.Report}, reports...), "report "+id)
	}
	if err != nil {
		c.auditError(w, r, p, err)
		return
	}
	now := c.o.Now()
	v := &reportView{Item: c.itemView(it, "", now), Report: opened[0], Reports: opened[1:], Decisions: triage.Decisions,
		MaxNote: triage.MaxNoteBytes, ConvLimit: c.o.ConversationLimit, Return: r.URL.Path, BackURL: Prefix}
	if from := r.URL.Query().Get("from"); safeReturn(from) {
		v.BackURL = from
		v.Return = r.URL.Path + "?from=" + url.QueryEscape(from)
	}
	for i, ci := range conv {
		v.Conversation = append(v.Conversation, c.itemView(ci, texts[i], now))
	}
	pg := c.newPage(r, &p, "Report "+shortID(strings.TrimPrefix(it.Flag.FlagID, triage.ReportItemPrefix)), "queue")
	pg.Data = v
	c.render(w, http.StatusOK, "report", pg)
}

// Texts shown in place of a comment that cannot be opened.
const commentUnavailable = "(comment sealed with a key this console does not have)"

// revealComments records that p reads the comments of reports, for
// purpose, and then opens them: the reports as they are shown, in order,
// each with Comment in plain text (or a notice) and no key id. The audit
// has one Access per report with a comment (its item id as the flag id,
// "report: " and purpose as the purpose), written before anything is
// opened: when it fails, nothing is. Reports without a comment (none
// written, or cleared by retention) are not recorded.
func (c *Console) revealComments(ctx context.Context, p principal, reports []triage.Report, purpose string) ([]triage.Report, error) {
	purpose = clipPurpose("report: " + purpose)
	at := c.o.Now().UTC()
	var accesses []triage.Access
	seen := map[string]bool{}
	for _, rep := range reports {
		if rep.Comment != "" && !seen[rep.ItemID] {
			seen[rep.ItemID] = true
			accesses = append(accesses, triage.Access{At: at, Actor: p.sess.account.Name, Role: p.sess.account.Role.String(),
				FlagID: rep.ItemID, ConversationID: rep.ConversationID, Purpose: purpose})
		}
	}
	if len(accesses) > 0 {
		if err := c.o.Store.RecordAccess(ctx, accesses); err != nil {
			return nil, err
		}
	}
	out := make([]triage.Report, len(reports))
	for i, rep := range reports {
		switch {
		case rep.Comment == "" || rep.CommentKeyID == "":
		case c.o.Keys == nil:
			rep.Comment = commentUnavailable
		default:
			text, err := c.o.Keys.Open(rep.CommentKeyID, sinks.ReportCommentRow(rep.ReportID), rep.Comment)
			if err != nil {
				c.log.Warn("console report comment does not open", "item_id", rep.ItemID, "key_id", rep.CommentKeyID, "error", err)
				text = commentUnavailable
			}
			rep.Comment = text
		}
		rep.CommentKeyID = ""
		out[i] = rep
	}
	return out, nil
}

// openReportItems returns items with the comments of their report items
// opened by revealComments (one audit write for the page).
func (c *Console) openReportItems(ctx context.Context, p principal, items []triage.Item, purpose string) ([]triage.Item, error) {
	var reports []triage.Report
	for _, it := range items {
		if it.Report != nil {
			reports = append(reports, *it.Report)
		}
	}
	if len(reports) == 0 {
		return items, nil
	}
	opened, err := c.revealComments(ctx, p, reports, purpose)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(items)
	for i := range out {
		if out[i].Report != nil {
			rep := opened[0]
			opened = opened[1:]
			out[i].Report = &rep
		}
	}
	return out, nil
}

type missView struct {
	triage.CategoryMisses
	Rate    float64
	HasRate bool
}

type reportsView struct {
	Stats     triage.ReportStats
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
