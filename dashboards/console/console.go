// Package console is the analysts' triage console: a server-rendered web
// page (html/template, embedded assets, a little vanilla JavaScript for
// keyboard shortcuts) over a triage.Store of flags and verdicts.
//
// Routes, all under Prefix:
//
//	GET  /console/                     the queue: live flags by severity then age, counts, filters
//	GET  /console/flags/{id}           one flag, its conversation's flags and their timeline
//	POST /console/flags/{id}/verdict   record confirmed | dismissed | escalated, with a note
//	GET  /console/rules                per-rule precision from the latest verdicts
//	GET  /console/reports              user reports: detectors' miss rate, time to first verdict
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
// triage.Store.RecordAccess, and only then opens it; when the audit write fails,
// the page shows no evidence at all. User reports' comments are treated
// the same way: one Access per report whose comment is shown, with the
// report's item id and a purpose starting "report: " (reports_ui.go). Every POST carries a CSRF token and is
// checked by net/http's cross-origin protection. Responses carry a strict
// Content-Security-Policy and no-store caching. Evidence and notes never
// appear in URLs or log lines: URLs carry flag ids, filters and keyset
// cursors only, and requests are logged by route pattern.
package console

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/triage"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

const (
	sessionCookie = "goshawk_console"
	loginCookie   = "goshawk_login"
	maxFormBytes  = 16 << 10
)

// Options configure a Console.
type Options struct {
	Store    triage.Store
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

// Console serves the triage console. Create it with New.
type Console struct {
	o        Options
	log      *slog.Logger
	pages    map[string]*template.Template
	sessions *sessions
	handler  http.Handler
	static   map[string]staticFile
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
	mux.HandleFunc("GET /console/reports", c.authed(Viewer, c.reportsPage)) // reports_ui.go
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

// statusWriter records the status code of a response for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status code written.
func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records 200 OK when no status code was written before the body.
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

// safeReturn accepts only console paths on this host as redirect targets.
func safeReturn(s string) bool {
	if !strings.HasPrefix(s, Prefix) || strings.Contains(s, "//") || strings.ContainsAny(s, "\\\r\n") || len(s) > 1024 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, Prefix)
}
