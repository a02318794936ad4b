// Package console is the analysts' triage console: a server-rendered web
// page (html/template, embedded assets, a little vanilla JavaScript for
// keyboard shortcuts) over a Store of flags and verdicts.
//
// Routes, all under Prefix:
//
//	GET  /console/                     the queue: live flags by severity then age, counts, filters
//	GET  /console/flags/{id}           one flag, its conversation's flags and their timeline
//	POST /console/flags/{id}/verdict   record confirmed | dismissed | escalated, with a note
//	GET  /console/rules                per-rule precision from the latest verdicts
//	GET  /console/admin                accounts, active sessions and the evidence audit
//	GET  /console/lookup, POST         the pseudonym of a user id (analysts)
//	GET  /console/login, POST /console/login, POST /console/logout
//	GET  /console/static/{name}        CSS and JavaScript
//
// Access: static tokens, stored as SHA-256 hashes (see LoadAccounts), are
// exchanged at the login form for a session cookie (HttpOnly,
// SameSite=Strict, Secure over HTTPS); or, when Options.Proxy is set, an
// authenticating reverse proxy names the user and role in request headers,
// which are believed only from the proxy's own addresses. Viewers see
// counts and precision; analysts also see flags with their evidence and
// record verdicts; admins also see accounts, sessions and the evidence
// audit.
//
// Evidence: the store hands evidence over as stored, sealed with a key of
// Options.Keys (or plain text where encryption was off). Before a page shows
// any evidence, the console records one Access per flag shown (who, which
// flag and conversation, when, and the view as the purpose) with
// Store.RecordAccess, and only then opens it; when the audit write fails,
// the page shows no evidence at all. Every POST carries a CSRF token and is
// checked by net/http's cross-origin protection. Responses carry a strict
// Content-Security-Policy and no-store caching. Evidence and notes never
// appear in URLs or log lines: URLs carry flag ids, filters and keyset
// cursors only, and requests are logged by route pattern.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/seal"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

const (
	sessionCookie = "goshawk_console"
	loginCookie   = "goshawk_login"
	maxFormBytes  = 16 << 10
)

//go:embed templates/*.html static/*
var assets embed.FS

// Options configure a Console.
type Options struct {
	Store    Store
	Accounts *Accounts
	Log      *slog.Logger // nil: discard
	// EvidenceContext is the pipeline's --evidence-context: the characters
	// kept each side of a match, used to find the match in an excerpt.
	// 0 means detectors.DefaultEvidenceContext.
	EvidenceContext int
	// ConversationLimit bounds the flags shown with a conversation
	// (default 200).
	ConversationLimit int
	// Rules are suggested in the queue's rule filter (optional).
	Rules []string
	Now   func() time.Time // nil: time.Now
	// Keys open sealed evidence. Without them sealed evidence is shown as
	// unavailable (plain evidence, stored with encryption off, still shows).
	Keys *seal.Keyring
	// Pseudonyms, when user ids are stored as pseudonyms, lets analysts
	// look up the pseudonym of a user id on /console/lookup.
	Pseudonyms *seal.Pseudonymizer
	// Proxy, when not nil, accepts users authenticated by a reverse proxy.
	Proxy *ProxyAuth
	// AccessLogLimit is how many audit rows the admin page shows (default 100).
	AccessLogLimit int
}

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

// Console serves the triage console. Create it with New.
type Console struct {
	o        Options
	log      *slog.Logger
	pages    map[string]*template.Template
	sessions *sessions
	handler  http.Handler
	static   map[string]staticFile
}

type staticFile struct {
	body        []byte
	etag        string
	contentType string
}

// New returns a console over o.Store.
func New(o Options) (*Console, error) {
	if o.Store == nil || o.Accounts == nil && o.Proxy == nil {
		return nil, errors.New("console: a store and accounts (or a trusted proxy) are required")
	}
	if o.Accounts == nil {
		o.Accounts = &Accounts{} // proxy users only: no token logs in
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.EvidenceContext <= 0 {
		o.EvidenceContext = detectors.DefaultEvidenceContext
	}
	if o.ConversationLimit <= 0 {
		o.ConversationLimit = 200
	}
	if o.AccessLogLimit <= 0 {
		o.AccessLogLimit = 100
	}
	if o.Proxy != nil && (o.Proxy.UserHeader == "" || o.Proxy.RoleHeader == "" || len(o.Proxy.Trusted) == 0) {
		return nil, errors.New("console: proxy authentication needs a user header, a role header and trusted addresses")
	}
	c := &Console{o: o, log: o.Log, sessions: newSessions(o.Now)}
	if err := c.loadAssets(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/{$}", c.authed(Viewer, c.queue))
	mux.HandleFunc("GET /console/flags/{id}", c.authed(Analyst, c.flag))
	mux.HandleFunc("POST /console/flags/{id}/verdict", c.authed(Analyst, c.verdict))
	mux.HandleFunc("GET /console/rules", c.authed(Viewer, c.rules))
	mux.HandleFunc("GET /console/admin", c.authed(Admin, c.admin))
	mux.HandleFunc("GET /console/lookup", c.authed(Analyst, c.lookup))
	mux.HandleFunc("POST /console/lookup", c.authed(Analyst, c.lookup))
	mux.HandleFunc("GET /console/login", c.loginForm)
	mux.HandleFunc("POST /console/login", c.login)
	mux.HandleFunc("POST /console/logout", c.authed(Viewer, c.logout))
	mux.HandleFunc("GET /console/static/{name}", c.serveStatic)
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "No such page.")
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.log.Warn("console cross-origin request refused", "method", r.Method, "remote_addr", r.RemoteAddr)
		c.fail(w, r, http.StatusForbidden, "Cross-origin request refused.")
	}))
	c.handler = secureHeaders(c.logRequests(cop.Handler(mux)))
	return c, nil
}

// ServeHTTP serves the console's routes (mount it at Prefix).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// secureHeaders sets the headers every console response carries.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

type ctxKey struct{}

// requestInfo is filled in by the handlers for the request log.
type requestInfo struct{ user string }

// logRequests logs each request by its route pattern (never the URL, whose
// path holds flag ids and whose query holds filters), with the account.
func (c *Console) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, info))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if strings.HasPrefix(r.Pattern, "GET /console/static/") {
			return
		}
		route := r.Pattern
		if route == "" || route == "/console/" {
			route = "unmatched"
		}
		c.log.Debug("console request", "route", route, "status", sw.status, "user", info.user,
			"duration_ms", time.Since(start).Milliseconds())
	})
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

// ---------------------------------------------------------------- pages

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

// ---------------------------------------------------------------- queue

type queueView struct {
	Filter      QueueFilter
	StatusParam string // unreviewed | confirmed | dismissed | escalated | all
	Page        QueuePage
	Items       []itemView
	ShowFlags   bool
	Severities  []detectors.Severity
	Statuses    []Status
	Decisions   []Status
	Categories  []detectors.Category
	Rules       []string
	NextURL     string
	FirstURL    string
	ThisURL     string
	CountLink   func(st string) string
	PageSize    int
}

type itemView struct {
	Item
	Before, Match, After string
	Highlighted          bool
	Age                  string
	Current              bool
}

func (c *Console) queue(w http.ResponseWriter, r *http.Request, p principal) {
	q := r.URL.Query()
	var f QueueFilter
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
		statusParam = string(Unreviewed)
		f.Status = Unreviewed
	case "all":
	default:
		st, err := ParseStatus(statusParam)
		if err != nil {
			bad = append(bad, "status")
		}
		f.Status = st
	}
	after, err := ParseCursor(q.Get("after"))
	if err != nil {
		bad = append(bad, "after")
	}
	f.After = after
	if s := q.Get("n"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
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
		qf.Limit, qf.After = 1, Cursor{} // viewers get the counts only
	}
	pg, err := c.o.Store.Queue(r.Context(), qf)
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	v := &queueView{
		Filter: f, StatusParam: statusParam, Page: pg, ShowFlags: showFlags,
		Severities: slices.Clone(detectors.Severities), Statuses: Statuses, Decisions: Decisions,
		Categories: detectors.Categories, PageSize: f.PageSize(),
	}
	slices.Reverse(v.Severities)
	rules := slices.Clone(c.o.Rules)
	now := c.o.Now()
	if showFlags {
		texts, err := c.reveal(r.Context(), p, pg.Items, "queue "+queueURL(queueParams(f, statusParam)))
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
		if st == string(Unreviewed) {
			u.Del("status")
		}
		return queueURL(u)
	}
	title := "Queue"
	if n := pg.Counts.Status(Unreviewed); n > 0 {
		title = fmt.Sprintf("Queue (%d)", n)
	}
	view := c.newPage(r, &p, title, "queue")
	view.Data = v
	c.render(w, http.StatusOK, "queue", view)
}

// queueParams are the query parameters of a queue filter (no cursor).
func queueParams(f QueueFilter, statusParam string) url.Values {
	base := url.Values{}
	if f.Category != "" {
		base.Set("category", string(f.Category))
	}
	if f.Rule != "" {
		base.Set("rule", f.Rule)
	}
	if statusParam != string(Unreviewed) {
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
func (c *Console) itemView(it Item, text string, now time.Time) itemView {
	iv := itemView{Item: it, Age: age(now.Sub(it.Flag.DetectedAt))}
	iv.Item.Flag.Evidence = text
	iv.Before, iv.Match, iv.After, iv.Highlighted = SplitEvidence(text, c.o.EvidenceContext)
	return iv
}

// Texts shown in place of evidence that is not there to show.
const (
	evidenceExpired     = "(evidence cleared under the retention policy)"
	evidenceUnavailable = "(evidence sealed with a key this console does not have)"
)

// reveal records that p reads the evidence of items, for purpose, and
// then opens it: the texts to show, one per item. Nothing is opened unless
// the audit write succeeded. Items without evidence (cleared by retention)
// are not recorded.
func (c *Console) reveal(ctx context.Context, p principal, items []Item, purpose string) ([]string, error) {
	if len(purpose) > MaxPurposeBytes {
		purpose = strings.ToValidUTF8(purpose[:MaxPurposeBytes], "")
	}
	at := c.o.Now().UTC()
	var accesses []Access
	for _, it := range items {
		if it.Flag.Evidence != "" {
			accesses = append(accesses, Access{At: at, Actor: p.sess.account.Name, Role: p.sess.account.Role.String(),
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

// auditError answers a request whose evidence could not be audited: the
// console shows no evidence it cannot account for.
func (c *Console) auditError(w http.ResponseWriter, r *http.Request, p principal, err error) {
	c.log.Error("console evidence audit", "route", r.Pattern, "error", err)
	c.failAs(w, r, &p.sess, http.StatusServiceUnavailable, "The evidence audit could not be written, so no evidence is shown. Try again in a moment.")
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

// ---------------------------------------------------------------- flag

type flagView struct {
	Item         itemView
	Conversation []itemView
	Timeline     timeline
	Decisions    []Status
	Return       string
	BackURL      string
	MaxNote      int
	ConvLimit    int
}

func (c *Console) flag(w http.ResponseWriter, r *http.Request, p principal) {
	id := r.PathValue("id")
	if !validFlagID(id) {
		c.failAs(w, r, &p.sess, http.StatusNotFound, "No such flag.")
		return
	}
	it, err := c.o.Store.Flag(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		c.failAs(w, r, &p.sess, http.StatusNotFound, "No such flag (or it is a shadow flag, which analysts do not review).")
		return
	}
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	conv, err := c.o.Store.Conversation(r.Context(), it.Flag.ConversationID, c.o.ConversationLimit)
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	now := c.o.Now()
	// One audit write for the flag and the conversation's other flags.
	shown := []Item{it}
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
	v := &flagView{Item: c.itemView(it, text[id], now), Decisions: Decisions, MaxNote: MaxNoteBytes, ConvLimit: c.o.ConversationLimit,
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

// safeReturn accepts only console paths on this host as redirect targets.
func safeReturn(s string) bool {
	if !strings.HasPrefix(s, Prefix) || strings.Contains(s, "//") || strings.ContainsAny(s, "\\\r\n") || len(s) > 1024 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, Prefix)
}

func (c *Console) verdict(w http.ResponseWriter, r *http.Request, p principal) {
	id := r.PathValue("id")
	if !validFlagID(id) {
		c.failAs(w, r, &p.sess, http.StatusNotFound, "No such flag.")
		return
	}
	decision, err := ParseDecision(r.PostForm.Get("verdict"))
	if err != nil {
		c.failAs(w, r, &p.sess, http.StatusBadRequest, "Choose confirm, dismiss or escalate.")
		return
	}
	note := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("note"), "\r\n", "\n"))
	if len(note) > MaxNoteBytes {
		c.failAs(w, r, &p.sess, http.StatusBadRequest, fmt.Sprintf("The note is longer than %d bytes.", MaxNoteBytes))
		return
	}
	if _, err := c.o.Store.Flag(r.Context(), id); errors.Is(err, ErrNotFound) {
		c.failAs(w, r, &p.sess, http.StatusNotFound, "No such flag.")
		return
	} else if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	v := Verdict{FlagID: id, Verdict: decision, Note: note, Analyst: p.sess.account.Name, DecidedAt: c.o.Now().UTC()}
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

// ---------------------------------------------------------------- rules, admin

type ruleView struct {
	RuleStats
	Precision float64
	HasValue  bool
}

func (c *Console) rules(w http.ResponseWriter, r *http.Request, p principal) {
	stats, err := c.o.Store.RulePrecision(r.Context())
	if err != nil {
		c.storeError(w, r, p, err)
		return
	}
	var v []ruleView
	for _, s := range stats {
		prec, ok := s.Precision()
		v = append(v, ruleView{RuleStats: s, Precision: prec, HasValue: ok})
	}
	pg := c.newPage(r, &p, "Rule precision", "rules")
	pg.Data = v
	c.render(w, http.StatusOK, "rules", pg)
}

type adminView struct {
	Accounts []Account
	Sessions []sessionView
	Accesses []Access
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

// ---------------------------------------------------------------- login

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

// ---------------------------------------------------------------- assets

func (c *Console) loadAssets() error {
	c.static = map[string]staticFile{}
	entries, err := fs.ReadDir(assets, "static")
	if err != nil {
		return err
	}
	for _, e := range entries {
		body, err := fs.ReadFile(assets, "static/"+e.Name())
		if err != nil {
			return err
		}
		ct := "application/octet-stream"
		switch {
		case strings.HasSuffix(e.Name(), ".css"):
			ct = "text/css; charset=utf-8"
		case strings.HasSuffix(e.Name(), ".js"):
			ct = "text/javascript; charset=utf-8"
		case strings.HasSuffix(e.Name(), ".svg"):
			ct = "image/svg+xml"
		}
		c.static[e.Name()] = staticFile{body: body, etag: fmt.Sprintf(`"%s"`, HashToken(string(body))[:16]), contentType: ct}
	}
	funcs := template.FuncMap{
		"sevClass": func(s detectors.Severity) string { return "sev-" + string(s) },
		"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"short":    shortID,
		"pct":      func(x float64) string { return fmt.Sprintf("%.0f%%", x*100) },
		"title":    func(s Status) string { return strings.ToUpper(string(s[:1])) + string(s[1:]) },
		"key":      func(s Status) string { return string(s[:1]) },
		"verb":     verb,
		"join":     strings.Join,
		"flagURL":  func(id string) string { return Prefix + "flags/" + id },
		"verdictURL": func(id string) string {
			return Prefix + "flags/" + id + "/verdict"
		},
		"withFrom": func(id, from string) string {
			if from == Prefix {
				return Prefix + "flags/" + id
			}
			return Prefix + "flags/" + id + "?from=" + url.QueryEscape(from)
		},
	}
	c.pages = map[string]*template.Template{}
	for _, name := range []string{"queue", "flag", "rules", "admin", "lookup", "login", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// verb is the button label of a decision.
func verb(s Status) string {
	switch s {
	case Confirmed:
		return "Confirm"
	case Dismissed:
		return "Dismiss"
	case Escalated:
		return "Escalate"
	}
	return string(s)
}

func (c *Console) assetURL(name string) string {
	f := c.static[name]
	return Prefix + "static/" + name + "?v=" + strings.Trim(f.etag, `"`)
}

func (c *Console) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := c.static[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Content-Type", f.contentType)
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(f.body)
}
