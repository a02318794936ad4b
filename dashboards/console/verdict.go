package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/goshawk-safety/goshawk/triage"
)

func (c *Console) verdict(w http.ResponseWriter, r *http.Request, p principal) {
	id := r.PathValue("id")
	if !triage.ValidFlagID(id) {
		c.failAs(w, r, &p.sess, http.StatusNotFound, "No such flag.")
		return
	}
	decision, err := triage.ParseDecision(r.PostForm.Get("verdict"))
	if err != nil {
		c.failAs(w, r, &p.sess, http.StatusBadRequest, "Choose confirm, dismiss or escalate.")
		return
	}
	note := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("note"), "\r\n", "\n"))
	if len(note) > triage.MaxNoteBytes {
		c.failAs(w, r, &p.sess, http.StatusBadRequest, fmt.Sprintf("The note is longer than %d bytes.", triage.MaxNoteBytes))
		return
	}
	if _, err := c.o.Store.Flag(r.Context(), id); errors.Is(err, triage.ErrNotFound) {
		c.failAs(w, r, &p.sess, http.StatusNotFound, "No such flag.")
		return
	} else if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	v := triage.Verdict{FlagID: id, Verdict: decision, Note: note, Analyst: p.sess.account.Name, DecidedAt: c.o.Now().UTC()}
	if err := c.o.Store.RecordVerdict(r.Context(), v); err != nil {
		c.storeError(w, r, p, err)
		return
	}
	c.log.Info("verdict recorded", "flag_id", id, "verdict", string(decision), "analyst", v.Analyst, "with_note", note != "")
	c.sessions.setFlash(p.sess.id, fmt.Sprintf("Flag %s: %s.", shortID(id), decision))
	dest := r.PostForm.Get("return")
	if !safeReturn(dest) {
		dest = Prefix + "flags/" + id
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}
