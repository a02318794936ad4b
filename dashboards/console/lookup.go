package console

import (
	"net/http"
	"strings"
)

type lookupView struct {
	Enabled   bool
	Pseudonym string
	Looked    bool
}

// lookup gives an analyst the pseudonym under which a user id is stored,
// to find that user's flags in the queue, Grafana or ClickHouse. The id is
// posted (never in a URL) and neither it nor the pseudonym is logged.
func (c *Console) lookup(w http.ResponseWriter, r *http.Request, p principal) {
	v := lookupView{Enabled: c.o.Pseudonyms != nil}
	if r.Method == http.MethodPost && v.Enabled {
		id := strings.TrimSpace(r.PostForm.Get("user_id"))
		if id == "" || len(id) > 128 {
			c.failAs(w, r, &p.sess, http.StatusBadRequest, "Enter a user id of 1 to 128 bytes.")
			return
		}
		v.Pseudonym, v.Looked = c.o.Pseudonyms.Pseudonym(id), true
		c.log.Info("console pseudonym lookup", "user", p.sess.account.Name)
	}
	pg := c.newPage(r, &p, "Pseudonym lookup", "lookup")
	pg.Data = v
	c.render(w, http.StatusOK, "lookup", pg)
}
