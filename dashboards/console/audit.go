package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/goshawk-safety/goshawk/triage"
)

// Texts shown in place of evidence that is not there to show.
const (
	evidenceExpired     = "(evidence cleared under the retention policy)"
	evidenceUnavailable = "(evidence sealed with a key this console does not have)"
)

// reveal records that p reads the evidence of items, for purpose, and
// then opens it: the texts to show, one per item. Nothing is opened unless
// the audit write succeeded. Items without evidence (cleared by retention,
// and report items, which hold none) are not recorded.
func (c *Console) reveal(ctx context.Context, p principal, items []triage.Item, purpose string) ([]string, error) {
	purpose = clipPurpose(purpose)
	at := c.o.Now().UTC()
	var accesses []triage.Access
	for _, it := range items {
		if it.Flag.Evidence != "" {
			accesses = append(accesses, triage.Access{At: at, Actor: p.sess.account.Name, Role: p.sess.account.Role.String(),
				FlagID: it.Flag.FlagID, ConversationID: it.Flag.ConversationID, Purpose: purpose})
		}
	}
	if err := c.o.Store.RecordAccess(ctx, accesses); err != nil {
		return nil, err
	}
	texts := make([]string, len(items))
	for i, it := range items {
		switch {
		case it.Flag.Evidence == "":
			texts[i] = evidenceExpired
		case it.EvidenceKeyID == "":
			texts[i] = it.Flag.Evidence
		case c.o.Keys == nil:
			texts[i] = evidenceUnavailable
		default:
			t, err := c.o.Keys.Open(it.EvidenceKeyID, it.Flag.FlagID, it.Flag.Evidence)
			if err != nil {
				c.log.Warn("console evidence does not open", "flag_id", it.Flag.FlagID, "key_id", it.EvidenceKeyID, "error", err)
				t = evidenceUnavailable
			}
			texts[i] = t
		}
	}
	return texts, nil
}

// clipPurpose cuts an audit purpose to MaxPurposeBytes.
func clipPurpose(purpose string) string {
	if len(purpose) > triage.MaxPurposeBytes {
		purpose = strings.ToValidUTF8(purpose[:triage.MaxPurposeBytes], "")
	}
	return purpose
}

// auditError answers a request whose evidence could not be audited: the
// console shows no evidence it cannot account for.
func (c *Console) auditError(w http.ResponseWriter, r *http.Request, p principal, err error) {
	c.log.Error("console evidence audit", "route", r.Pattern, "error", err)
	c.failAs(w, r, &p.sess, http.StatusServiceUnavailable, "The evidence audit could not be written, so no evidence is shown. Try again in a moment.")
}
