package console

import (
	"net/http"
	"time"

	"github.com/goshawk-safety/goshawk/triage"
)

type adminView struct {
	Accounts []Account
	Sessions []sessionView
	Accesses []triage.Access
	Proxy    bool
}

type sessionView struct {
	Name, Role        string
	Created, LastSeen time.Time
}

func (c *Console) admin(w http.ResponseWriter, r *http.Request, p principal) {
	v := adminView{Accounts: c.o.Accounts.List(), Proxy: c.o.Proxy != nil}
	for _, s := range c.sessions.active() {
		v.Sessions = append(v.Sessions, sessionView{Name: s.account.Name, Role: s.account.Role.String(), Created: s.created, LastSeen: s.lastSeen})
	}
	acc, err := c.o.Store.RecentAccesses(r.Context(), c.o.AccessLogLimit)
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	v.Accesses = acc
	pg := c.newPage(r, &p, "Accounts", "admin")
	pg.Data = v
	c.render(w, http.StatusOK, "admin", pg)
}
