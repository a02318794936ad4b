package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/goshawk-safety/goshawk/triage"
)

type flagView struct {
	Item         itemView
	Conversation []itemView
	Timeline     timeline
	Decisions    []triage.Status
	Return       string
	BackURL      string
	MaxNote      int
	ConvLimit    int
	Reports      []triage.Report // user reports on the conversation (reports_ui.go)
}

func (c *Console) flag(w http.ResponseWriter, r *http.Request, p principal) {
	id := r.PathValue("id")
	if !triage.ValidFlagID(id) {
		c.failAs(w, r, &p.sess, http.StatusNotFound, "No such flag.")
		return
	}
	it, err := c.o.Store.Flag(r.Context(), id)
	if errors.Is(err, triage.ErrNotFound) {
		c.failAs(w, r, &p.sess, http.StatusNotFound, "No such flag (or it is a shadow flag, which analysts do not review).")
		return
	}
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	if it.Report != nil { // a report no flag matches (reports_ui.go)
		c.reportItemPage(w, r, p, it)
		return
	}
	conv, err := c.o.Store.Conversation(r.Context(), it.Flag.ConversationID, c.o.ConversationLimit)
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	now := c.o.Now()
	// One audit write for the flag and the conversation's other flags.
	shown := []triage.Item{it}
	for _, ci := range conv {
		if ci.Flag.FlagID != id {
			shown = append(shown, ci)
		}
	}
	purposes := []string{"flag " + id}
	texts, err := c.reveal(r.Context(), p, shown[:1], purposes[0])
	if err == nil && len(shown) > 1 {
		var more []string
		more, err = c.reveal(r.Context(), p, shown[1:], "conversation of flag "+id)
		texts = append(texts, more...)
	}
	if err != nil {
		c.auditError(w, r, p, err)
		return
	}
	text := map[string]string{}
	for i, s := range shown {
		text[s.Flag.FlagID] = texts[i]
	}
	v := &flagView{Item: c.itemView(it, text[id], now), Decisions: triage.Decisions, MaxNote: triage.MaxNoteBytes, ConvLimit: c.o.ConversationLimit,
		Return: r.URL.Path, BackURL: Prefix}
	if from := r.URL.Query().Get("from"); safeReturn(from) {
		v.BackURL = from
		v.Return = r.URL.Path + "?from=" + url.QueryEscape(from)
	}
	for _, ci := range conv {
		iv := c.itemView(ci, text[ci.Flag.FlagID], now)
		iv.Current = ci.Flag.FlagID == id
		v.Conversation = append(v.Conversation, iv)
	}
	v.Timeline = buildTimeline(conv, id)
	reports, err := c.conversationReports(r.Context(), it.Flag.ConversationID)
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	// The reports' comments, audited like evidence (reports_ui.go).
	if v.Reports, err = c.revealComments(r.Context(), p, reports, "conversation of flag "+id); err != nil {
		c.auditError(w, r, p, err)
		return
	}
	pg := c.newPage(r, &p, "Flag "+shortID(id), "queue")
	pg.Data = v
	c.render(w, http.StatusOK, "flag", pg)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
