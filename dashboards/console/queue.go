package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/triage"
)

type queueView struct {
	Filter      triage.QueueFilter
	StatusParam string // unreviewed | confirmed | dismissed | escalated | all
	Page        triage.QueuePage
	Items       []itemView
	ShowFlags   bool
	Severities  []detectors.Severity
	Statuses    []triage.Status
	Decisions   []triage.Status
	Categories  []detectors.Category
	Rules       []string
	NextURL     string
	FirstURL    string
	ThisURL     string
	CountLink   func(st string) string
	PageSize    int
}

type itemView struct {
	triage.Item
	Before, Match, After string
	Highlighted          bool
	Age                  string
	Current              bool
}

func (c *Console) queue(w http.ResponseWriter, r *http.Request, p principal) {
	q := r.URL.Query()
	var f triage.QueueFilter
	var bad []string
	if s := q.Get("category"); s != "" {
		cat, err := detectors.ParseCategory(s)
		if err != nil {
			bad = append(bad, "category")
		}
		f.Category = cat
	}
	if s := q.Get("rule"); s != "" {
		if len(s) > 128 {
			bad = append(bad, "rule")
		}
		f.Rule = s
	}
	statusParam := q.Get("status")
	switch statusParam {
	case "":
		statusParam = string(triage.Unreviewed)
		f.Status = triage.Unreviewed
	case "all":
	default:
		st, err := triage.ParseStatus(statusParam)
		if err != nil {
			bad = append(bad, "status")
		}
		f.Status = st
	}
	after, err := triage.ParseCursor(q.Get("after"))
	if err != nil {
		bad = append(bad, "after")
	}
	f.After = after
	if s := q.Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > triage.MaxPageSize {
			bad = append(bad, "n")
		}
		f.Limit = n
	}
	if len(bad) > 0 {
		c.failAs(w, r, &p.sess, http.StatusBadRequest, "Bad filter: "+strings.Join(bad, ", ")+".")
		return
	}
	showFlags := p.sess.account.Role >= Analyst
	qf := f
	if !showFlags {
		qf.Limit, qf.After = 1, triage.Cursor{} // viewers get the counts only
	}
	pg, err := c.o.Store.Queue(r.Context(), qf)
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	v := &queueView{
		Filter: f, StatusParam: statusParam, Page: pg, ShowFlags: showFlags,
		Severities: slices.Clone(detectors.Severities), Statuses: triage.Statuses, Decisions: triage.Decisions,
		Categories: detectors.Categories, PageSize: f.PageSize(),
	}
	slices.Reverse(v.Severities)
	rules := slices.Clone(c.o.Rules)
	now := c.o.Now()
	if showFlags {
		purpose := "queue " + queueURL(queueParams(f, statusParam))
		texts, err := c.reveal(r.Context(), p, pg.Items, purpose)
		if err == nil {
			// Report items' comments, audited like evidence (reports_ui.go).
			pg.Items, err = c.openReportItems(r.Context(), p, pg.Items, purpose)
		}
		if err != nil {
			c.auditError(w, r, p, err)
			return
		}
		for i, it := range pg.Items {
			iv := c.itemView(it, texts[i], now)
			v.Items = append(v.Items, iv)
			rules = append(rules, it.Flag.Rule)
		}
	}
	slices.Sort(rules)
	v.Rules = slices.Compact(rules)
	base := queueParams(f, statusParam)
	v.FirstURL = queueURL(base)
	v.ThisURL = v.FirstURL
	if !f.After.IsZero() {
		this := cloneValues(base)
		this.Set("after", f.After.String())
		v.ThisURL = queueURL(this)
	}
	if showFlags && !pg.Next.IsZero() {
		next := cloneValues(base)
		next.Set("after", pg.Next.String())
		v.NextURL = queueURL(next)
	}
	v.CountLink = func(st string) string {
		u := cloneValues(base)
		u.Set("status", st)
		if st == string(triage.Unreviewed) {
			u.Del("status")
		}
		return queueURL(u)
	}
	title := "Queue"
	if n := pg.Counts.Status(triage.Unreviewed); n > 0 {
		title = fmt.Sprintf("Queue (%d)", n)
	}
	view := c.newPage(r, &p, title, "queue")
	view.Data = v
	c.render(w, http.StatusOK, "queue", view)
}

// queueParams are the query parameters of a queue filter (no cursor).
func queueParams(f triage.QueueFilter, statusParam string) url.Values {
	base := url.Values{}
	if f.Category != "" {
		base.Set("category", string(f.Category))
	}
	if f.Rule != "" {
		base.Set("rule", f.Rule)
	}
	if statusParam != string(triage.Unreviewed) {
		base.Set("status", statusParam)
	}
	if f.Limit != 0 {
		base.Set("n", strconv.Itoa(f.Limit))
	}
	return base
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func queueURL(v url.Values) string {
	if len(v) == 0 {
		return Prefix
	}
	return Prefix + "?" + v.Encode()
}

// itemView shows it with its evidence opened to text (see reveal).
func (c *Console) itemView(it triage.Item, text string, now time.Time) itemView {
	iv := itemView{Item: it, Age: age(now.Sub(it.Flag.DetectedAt))}
	iv.Item.Flag.Evidence = text
	iv.Before, iv.Match, iv.After, iv.Highlighted = SplitEvidence(text, c.o.EvidenceContext)
	return iv
}

// age formats a duration as the two largest units: 3d 4h, 2h 5m, 40s.
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	days := int(d / (24 * time.Hour))
	h := int(d/time.Hour) % 24
	m := int(d/time.Minute) % 60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}
