package console

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// ProxyAuth trusts an authenticating reverse proxy: a request whose
// connection comes from one of Trusted carries the user's name in
// UserHeader and role (viewer, analyst or admin) in RoleHeader. The headers
// of any other request are ignored, so that a client cannot name itself.
type ProxyAuth struct {
	UserHeader string
	RoleHeader string
	Trusted    []netip.Prefix
}

// trusts reports whether the request's connection comes from the proxy.
func (p *ProxyAuth) trusts(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, pfx := range p.Trusted {
		if pfx.Contains(addr) {
			return true
		}
	}
	return false
}

// principal is the logged-in account of a request.
type principal struct {
	sess session
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal)

// proxySession returns the session of a request authenticated by the
// trusted proxy: the browser's session when it belongs to the same user and
// role, else a new one (its cookie is set on w). handled is true when the
// request was answered (a bad role or name).
func (c *Console) proxySession(w http.ResponseWriter, r *http.Request) (sess session, ok, handled bool) {
	p := c.o.Proxy
	if p == nil {
		return session{}, false, false
	}
	user := r.Header.Get(p.UserHeader)
	if user == "" {
		return session{}, false, false
	}
	if !p.trusts(r) {
		c.log.Warn("console proxy header from an untrusted address ignored", "remote_addr", r.RemoteAddr)
		return session{}, false, false
	}
	role, err := ParseRole(r.Header.Get(p.RoleHeader))
	if err != nil || !validName(user) {
		c.log.Warn("console proxy user refused: bad name or role", "remote_addr", r.RemoteAddr)
		c.fail(w, r, http.StatusForbidden, "The proxy sent no valid user name and role (viewer, analyst or admin).")
		return session{}, false, true
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if s, ok := c.sessions.get(ck.Value); ok && s.account.Name == user && s.account.Role == role && s.viaProxy {
			return s, true, false
		}
	}
	ss := c.sessions.startProxy(Account{Name: user, Role: role})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: ss.id, Path: Prefix,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	c.log.Info("console login", "user", user, "role", role.String(), "via", "proxy", "remote_addr", r.RemoteAddr)
	return *ss, true, false
}

// authed requires a session whose account has at least role min.
func (c *Console) authed(min Role, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok, handled := c.proxySession(w, r)
		if handled {
			return
		}
		if !ok {
			if ck, err := r.Cookie(sessionCookie); err == nil {
				if s, found := c.sessions.get(ck.Value); found && !s.viaProxy {
					sess, ok = s, true
				}
			}
		}
		if !ok {
			if r.Method == http.MethodGet {
				dest := "/console/login"
				if r.URL.Path != Prefix {
					dest += "?next=" + url.QueryEscape(r.URL.Path)
				}
				http.Redirect(w, r, dest, http.StatusSeeOther)
				return
			}
			c.fail(w, r, http.StatusUnauthorized, "Your session has ended: log in again.")
			return
		}
		if info, _ := r.Context().Value(ctxKey{}).(*requestInfo); info != nil {
			info.user = sess.account.Name
		}
		if sess.account.Role < min {
			c.log.Warn("console access refused", "route", r.Pattern, "user", sess.account.Name, "role", sess.account.Role.String())
			c.failAs(w, r, &sess, http.StatusForbidden, fmt.Sprintf("This page needs the %s role; you are a %s.", min, sess.account.Role))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				c.failAs(w, r, &sess, http.StatusBadRequest, "Bad form.")
				return
			}
			if !sameSecret(r.PostForm.Get("csrf"), sess.csrf) {
				c.log.Warn("console CSRF token missing or wrong", "route", r.Pattern, "user", sess.account.Name)
				c.failAs(w, r, &sess, http.StatusForbidden, "The form had expired or did not come from this console. Reload the page and try again.")
				return
			}
		}
		h(w, r, principal{sess: sess})
	}
}

func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	c.renderLogin(w, r, http.StatusOK, "")
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	token := randomID()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: token, Path: "/console/login", MaxAge: 900,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	pg := c.newPage(r, nil, "Log in", "login")
	pg.CSRF, pg.Message = token, msg
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostForm.Get("next")
	}
	if !safeReturn(next) {
		next = ""
	}
	pg.Data = next
	c.render(w, status, "login", pg)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, http.StatusBadRequest, "Bad form.")
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameSecret(r.PostForm.Get("csrf"), ck.Value) {
		c.log.Warn("console login without a valid CSRF token", "remote_addr", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusForbidden, "The login form had expired. Try again.")
		return
	}
	acc, ok := c.o.Accounts.check(r.PostForm.Get("token"))
	if !ok {
		c.log.Warn("console login failed", "remote_addr", r.RemoteAddr)
		c.renderLogin(w, r, http.StatusUnauthorized, "That token is not valid.")
		return
	}
	sess := c.sessions.start(acc)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/console/login", MaxAge: -1,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.id, Path: Prefix,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	c.log.Info("console login", "user", acc.Name, "role", acc.Role.String(), "remote_addr", r.RemoteAddr)
	dest := r.PostForm.Get("next")
	if !safeReturn(dest) {
		dest = Prefix
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, p principal) {
	c.sessions.end(p.sess.id)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
	c.log.Info("console logout", "user", p.sess.account.Name)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}
