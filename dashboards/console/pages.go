package console

import (
	"net/http"
	"strings"
)

// page is what every template gets.
type page struct {
	Title   string
	Nav     string
	User    string
	Role    string
	CSRF    string
	Flash   string
	Asset   func(name string) string
	Message string
	Data    any
}

func (c *Console) newPage(r *http.Request, p *principal, title, nav string) *page {
	pg := &page{Title: title, Nav: nav, Asset: c.assetURL}
	if p != nil {
		pg.User, pg.Role, pg.CSRF = p.sess.account.Name, p.sess.account.Role.String(), p.sess.csrf
		pg.Flash = c.sessions.takeFlash(p.sess.id)
	}
	return pg
}

func (c *Console) render(w http.ResponseWriter, status int, name string, pg *page) {
	t := c.pages[name]
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		c.log.Error("console template", "template", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.failAs(w, r, nil, status, msg)
}

func (c *Console) failAs(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	var p *principal
	if s != nil {
		p = &principal{sess: *s}
	}
	pg := c.newPage(r, p, http.StatusText(status), "")
	pg.Message = msg
	c.render(w, status, "error", pg)
}

func (c *Console) storeError(w http.ResponseWriter, r *http.Request, p principal, err error) {
	c.log.Error("console store", "route", r.Pattern, "error", err)
	c.failAs(w, r, &p.sess, http.StatusServiceUnavailable, "The flag store did not answer. Try again in a moment.")
}
