package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/sinks/sqlite"
	"github.com/goshawk-safety/goshawk/triage"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var now = time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)

// env is a console over a SQLite store, served by httptest.
type env struct {
	t      *testing.T
	w      *sqlite.Writer
	store  *sqlite.ConsoleStore
	srv    *httptest.Server
	logs   *syncBuffer
	tokens map[console.Role]string
	flags  []detectors.Flag
}

var names = map[console.Role]string{console.Viewer: "vera", console.Analyst: "alice", console.Admin: "adam"}

func newEnv(t *testing.T, flags []detectors.Flag) *env {
	t.Helper()
	return newEnvWith(t, flags, sinks.Protection{}, nil)
}

// newEnvWith is newEnv with the flags written under protection p, and the
// console's options changed by opts (when not nil).
func newEnvWith(t *testing.T, flags []detectors.Flag, p sinks.Protection, opts func(*console.Options)) *env {
	t.Helper()
	ctx := context.Background()
	w, err := sqlite.OpenProtected(ctx, filepath.Join(t.TempDir(), "flags.db"), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	store := w.Console()
	e := &env{t: t, w: w, store: store, logs: &syncBuffer{}, tokens: map[console.Role]string{}, flags: flags}
	var accs []console.Account
	for _, r := range []console.Role{console.Viewer, console.Analyst, console.Admin} {
		e.tokens[r] = console.NewToken()
		accs = append(accs, console.AccountWithToken(names[r], r, e.tokens[r]))
	}
	accounts, err := console.NewAccounts(accs...)
	if err != nil {
		t.Fatal(err)
	}
	o := console.Options{
		Store: store, Accounts: accounts, EvidenceContext: 20,
		Log: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: func() time.Time { return now },
	}
	if opts != nil {
		opts(&o)
	}
	c, err := console.New(o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, c)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// client returns an HTTP client that keeps cookies and does not follow
// redirects.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type resp struct {
	status int
	body   string
	header http.Header
}

func (e *env) do(c *http.Client, method, path string, form url.Values, hdr map[string]string) resp {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(b), res.Header}
}

func (e *env) get(c *http.Client, path string) resp {
	e.t.Helper()
	return e.do(c, "GET", path, nil, nil)
}
func (e *env) post(c *http.Client, path string, form url.Values) resp {
	e.t.Helper()
	return e.do(c, "POST", path, form, nil)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", body)
	}
	return m[1]
}

// login returns a client logged in with role's token.
func (e *env) login(role console.Role) (*http.Client, string) {
	e.t.Helper()
	c := e.client()
	page := e.get(c, "/console/login")
	r := e.post(c, "/console/login", url.Values{"csrf": {csrf(e.t, page.body)}, "token": {e.tokens[role]}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/console/" {
		e.t.Fatalf("login as %s: %d %s", role, r.status, r.header.Get("Location"))
	}
	q := e.get(c, "/console/")
	if q.status != 200 {
		e.t.Fatalf("queue after login: %d", q.status)
	}
	return c, csrf(e.t, q.body)
}

// fixture: every severity and category, three conversations, two shadow
// flags, evidence long enough to highlight, and a unique marker in every
// excerpt and note so that tests can look for leaks.
func fixture() []detectors.Flag {
	var flags []detectors.Flag
	for i := range 18 {
		msg := fmt.Sprintf("msg-%02d", i)
		rule := []string{"grooming.secrecy", "harassment.threat", "spam.link"}[i%3]
		mode := detectors.Live
		if i == 4 || i == 11 {
			mode = detectors.Shadow
		}
		flags = append(flags, detectors.Flag{
			FlagID:         detectors.FlagID(msg, "keyword", rule),
			MessageID:      msg,
			ConversationID: fmt.Sprintf("conv-%d", i%3),
			SenderID:       fmt.Sprintf("user-%d", i%4),
			RecipientIDs:   []string{"user-9"},
			Category:       detectors.Categories[i%3],
			Detector:       "keyword",
			Rule:           rule,
			RuleVersion:    "abc123",
			Mode:           mode,
			Severity:       detectors.Severities[(i*5)%4],
			Score:          0.8,
			Evidence:       fmt.Sprintf("…twenty chars before SECRET%02dMATCH twenty chars after …", i),
			SentAt:         now.Add(-time.Duration(100-i) * time.Minute),
			DetectedAt:     now.Add(-time.Duration(100-i*3%17) * time.Minute),
		})
	}
	return flags
}

func sortedLive(flags []detectors.Flag) []detectors.Flag {
	var live []detectors.Flag
	for _, f := range flags {
		if f.Mode == detectors.Live {
			live = append(live, f)
		}
	}
	slices.SortFunc(live, func(a, b detectors.Flag) int {
		if a.Severity.Rank() != b.Severity.Rank() {
			return b.Severity.Rank() - a.Severity.Rank()
		}
		if c := a.DetectedAt.Compare(b.DetectedAt); c != 0 {
			return c
		}
		return strings.Compare(a.FlagID, b.FlagID)
	})
	return live
}

var rowRE = regexp.MustCompile(`<tr class="row" data-href="[^"]*" id="f-([0-9a-f]+)">`)

func rowIDs(body string) []string {
	var ids []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestUnauthenticatedGetsNothing(t *testing.T) {
	e := newEnv(t, fixture())
	id := e.flags[0].FlagID
	c := e.client()
	tests := []struct {
		method, path string
		status       int
		location     string
	}{
		{"GET", "/console/", 303, "/console/login"},
		{"GET", "/console/?status=all", 303, "/console/login"},
		{"GET", "/console/flags/" + id, 303, "/console/login?next=%2Fconsole%2Fflags%2F" + id},
		{"GET", "/console/rules", 303, "/console/login?next=%2Fconsole%2Frules"},
		{"GET", "/console/admin", 303, "/console/login?next=%2Fconsole%2Fadmin"},
		{"POST", "/console/flags/" + id + "/verdict", 401, ""},
		{"POST", "/console/logout", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var form url.Values
			if tt.method == "POST" {
				form = url.Values{"verdict": {"confirmed"}, "csrf": {"x"}}
			}
			r := e.do(c, tt.method, tt.path, form, nil)
			if r.status != tt.status || r.header.Get("Location") != tt.location {
				t.Errorf("%d %q, want %d %q", r.status, r.header.Get("Location"), tt.status, tt.location)
			}
			if strings.Contains(r.body, "SECRET") || strings.Contains(r.body, "conv-") {
				t.Errorf("unauthenticated response shows flag data:\n%s", r.body)
			}
		})
	}
	// A made-up session cookie is no session.
	u, _ := url.Parse(e.srv.URL + "/console/")
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "goshawk_console", Value: "forged", Path: "/console/"}})
	if r := e.get(c, "/console/"); r.status != 303 {
		t.Errorf("forged cookie: %d", r.status)
	}
	if it, _ := e.store.Flag(context.Background(), id); it.Verdict != nil {
		t.Error("an unauthenticated POST stored a verdict")
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, fixture())
	c := e.client()
	page := e.get(c, "/console/login")
	token := csrf(t, page.body)
	t.Run("wrong token", func(t *testing.T) {
		r := e.post(c, "/console/login", url.Values{"csrf": {token}, "token": {"gsk_wrong"}})
		if r.status != 401 || !strings.Contains(r.body, "not valid") {
			t.Errorf("%d\n%s", r.status, r.body)
		}
		token = csrf(t, r.body) // the form is renewed
	})
	t.Run("no login CSRF token", func(t *testing.T) {
		r := e.post(c, "/console/login", url.Values{"token": {e.tokens[console.Analyst]}})
		if r.status != 403 || r.header.Get("Set-Cookie") != "" && strings.Contains(r.header.Get("Set-Cookie"), "goshawk_console=") {
			t.Errorf("%d %v", r.status, r.header["Set-Cookie"])
		}
		token = csrf(t, r.body)
	})
	t.Run("no login cookie", func(t *testing.T) {
		r := e.post(e.client(), "/console/login", url.Values{"csrf": {token}, "token": {e.tokens[console.Analyst]}})
		if r.status != 403 {
			t.Errorf("%d", r.status)
		}
	})
	t.Run("good token", func(t *testing.T) {
		page := e.get(c, "/console/login?next=%2Fconsole%2Frules")
		r := e.post(c, "/console/login", url.Values{"csrf": {csrf(t, page.body)}, "token": {e.tokens[console.Analyst]}, "next": {"/console/rules"}})
		if r.status != 303 || r.header.Get("Location") != "/console/rules" {
			t.Fatalf("%d %q", r.status, r.header.Get("Location"))
		}
		var sess *http.Cookie
		for _, ck := range (&http.Response{Header: r.header}).Cookies() {
			if ck.Name == "goshawk_console" {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/console/" || len(sess.Value) < 40 {
			t.Fatalf("session cookie %+v", sess)
		}
		if strings.Contains(sess.Value, e.tokens[console.Analyst]) {
			t.Error("the session cookie holds the token")
		}
		if r := e.get(c, "/console/"); r.status != 200 || !strings.Contains(r.body, "alice") {
			t.Errorf("queue after login: %d", r.status)
		}
	})
	t.Run("open redirect refused", func(t *testing.T) {
		c := e.client()
		page := e.get(c, "/console/login")
		r := e.post(c, "/console/login", url.Values{"csrf": {csrf(t, page.body)}, "token": {e.tokens[console.Viewer]}, "next": {"//evil.example/console/"}})
		if r.header.Get("Location") != "/console/" {
			t.Errorf("redirect to %q", r.header.Get("Location"))
		}
	})
	t.Run("logout", func(t *testing.T) {
		c, tok := e.login(console.Viewer)
		if r := e.post(c, "/console/logout", url.Values{}); r.status != 403 {
			t.Errorf("logout without CSRF token: %d", r.status)
		}
		if r := e.post(c, "/console/logout", url.Values{"csrf": {tok}}); r.status != 303 {
			t.Errorf("logout: %d", r.status)
		}
		if r := e.get(c, "/console/"); r.status != 303 {
			t.Errorf("queue after logout: %d", r.status)
		}
	})
}

func TestRoles(t *testing.T) {
	e := newEnv(t, fixture())
	id := sortedLive(e.flags)[0].FlagID
	tests := []struct {
		role    console.Role
		method  string
		path    string
		status  int
		has     []string
		hasNone []string
	}{
		{console.Viewer, "GET", "/console/", 200, []string{"counts", "viewer"}, []string{"SECRET", "conv-", "user-"}},
		{console.Viewer, "GET", "/console/?status=all&category=spam", 200, []string{"counts"}, []string{"SECRET"}},
		{console.Viewer, "GET", "/console/flags/" + id, 403, []string{"analyst role"}, []string{"SECRET"}},
		{console.Viewer, "POST", "/console/flags/" + id + "/verdict", 403, nil, nil},
		{console.Viewer, "GET", "/console/rules", 200, []string{"Rule precision"}, []string{"SECRET"}},
		{console.Viewer, "GET", "/console/admin", 403, nil, nil},
		{console.Analyst, "GET", "/console/", 200, []string{"SECRET", "<mark>SECRET"}, nil},
		{console.Analyst, "GET", "/console/flags/" + id, 200, []string{"<mark>", "conv-"}, nil},
		{console.Analyst, "GET", "/console/admin", 403, nil, []string{"vera"}},
		{console.Admin, "GET", "/console/admin", 200, []string{"vera", "alice", "adam", "viewer", "analyst"}, []string{e.tokens[console.Viewer]}},
		{console.Admin, "GET", "/console/flags/" + id, 200, []string{"SECRET"}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %s", tt.role, tt.method, tt.path), func(t *testing.T) {
			c, tok := e.login(tt.role)
			var form url.Values
			if tt.method == "POST" {
				form = url.Values{"csrf": {tok}, "verdict": {"confirmed"}}
			}
			r := e.do(c, tt.method, tt.path, form, nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tt.status, r.body)
			}
			for _, s := range tt.has {
				if !strings.Contains(r.body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.hasNone {
				if strings.Contains(r.body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
	if it, _ := e.store.Flag(context.Background(), id); it.Verdict != nil {
		t.Errorf("a viewer's POST stored a verdict: %+v", it.Verdict)
	}
}

func TestVerdictNeedsCSRFToken(t *testing.T) {
	e := newEnv(t, fixture())
	id := sortedLive(e.flags)[0].FlagID
	c, tok := e.login(console.Analyst)
	path := "/console/flags/" + id + "/verdict"
	tests := []struct {
		name   string
		form   url.Values
		hdr    map[string]string
		status int
	}{
		{"no token", url.Values{"verdict": {"confirmed"}}, nil, 403},
		{"wrong token", url.Values{"verdict": {"confirmed"}, "csrf": {"x" + tok}}, nil, 403},
		{"another session's token", url.Values{"verdict": {"confirmed"}, "csrf": {func() string { _, t := e.login(console.Analyst); return t }()}}, nil, 403},
		{"cross-site, right token", url.Values{"verdict": {"confirmed"}, "csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"other origin, right token", url.Values{"verdict": {"confirmed"}, "csrf": {tok}}, map[string]string{"Origin": "https://evil.example"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do(c, "POST", path, tt.form, tt.hdr); r.status != tt.status {
				t.Errorf("status %d, want %d", r.status, tt.status)
			}
		})
	}
	if it, _ := e.store.Flag(context.Background(), id); it.Verdict != nil {
		t.Fatalf("a refused POST stored a verdict: %+v", it.Verdict)
	}
	if r := e.do(c, "POST", path, url.Values{"verdict": {"confirmed"}, "csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "same-origin"}); r.status != 303 {
		t.Errorf("same-origin POST with the token: %d", r.status)
	}
}

func TestVerdictIsStoredWithAnalystAndTime(t *testing.T) {
	e := newEnv(t, fixture())
	live := sortedLive(e.flags)
	c, tok := e.login(console.Analyst)
	ctx := context.Background()

	id := live[0].FlagID
	r := e.post(c, "/console/flags/"+id+"/verdict", url.Values{
		"csrf": {tok}, "verdict": {"escalated"}, "note": {"NOTE-MARKER  threat is credible\r\n"}, "return": {"/console/?status=all"},
	})
	if r.status != 303 || r.header.Get("Location") != "/console/?status=all" {
		t.Fatalf("%d %q", r.status, r.header.Get("Location"))
	}
	it, err := e.store.Flag(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	v := it.Verdict
	if v == nil || v.Verdict != triage.Escalated || v.Analyst != "alice" || !v.DecidedAt.Equal(now) || v.Note != "NOTE-MARKER  threat is credible" {
		t.Fatalf("stored %+v", v)
	}
	// The flag page shows who and when, and the one-time message.
	page := e.get(c, "/console/flags/"+id)
	for _, s := range []string{"escalated</span> by <b>alice</b>", "2026-03-05 10:00:00Z", "NOTE-MARKER", "Flag " + id[:8] + ": escalated."} {
		if !strings.Contains(page.body, s) {
			t.Errorf("flag page lacks %q", s)
		}
	}
	if again := e.get(c, "/console/flags/"+id); strings.Contains(again.body, "Flag "+id[:8]+": escalated.") {
		t.Error("the one-time message shows twice")
	}
	// The flag leaves the unreviewed queue.
	if q := e.get(c, "/console/"); slices.Contains(rowIDs(q.body), id) {
		t.Error("a decided flag is still in the unreviewed queue")
	}
	if q := e.get(c, "/console/?status=escalated"); !slices.Equal(rowIDs(q.body), []string{id}) {
		t.Errorf("escalated queue = %v", rowIDs(q.body))
	}

	tests := []struct {
		name     string
		id       string
		form     url.Values
		status   int
		location string
	}{
		{"no return: the flag page", live[1].FlagID, url.Values{"verdict": {"dismissed"}}, 303, "/console/flags/" + live[1].FlagID},
		{"foreign return refused", live[2].FlagID, url.Values{"verdict": {"confirmed"}, "return": {"https://evil.example/console/"}}, 303, "/console/flags/" + live[2].FlagID},
		{"scheme-relative return refused", live[2].FlagID, url.Values{"verdict": {"confirmed"}, "return": {"//evil.example/console/"}}, 303, "/console/flags/" + live[2].FlagID},
		{"unknown verdict", live[3].FlagID, url.Values{"verdict": {"maybe"}}, 400, ""},
		{"unreviewed is no verdict", live[3].FlagID, url.Values{"verdict": {"unreviewed"}}, 400, ""},
		{"note too long", live[3].FlagID, url.Values{"verdict": {"confirmed"}, "note": {strings.Repeat("x", triage.MaxNoteBytes+1)}}, 400, ""},
		{"unknown flag", "0123456789abcdef0123456789abcdef", url.Values{"verdict": {"confirmed"}}, 404, ""},
		{"shadow flag", e.flags[4].FlagID, url.Values{"verdict": {"confirmed"}}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("csrf", tok)
			r := e.post(c, "/console/flags/"+tt.id+"/verdict", tt.form)
			if r.status != tt.status || r.header.Get("Location") != tt.location {
				t.Errorf("%d %q, want %d %q", r.status, r.header.Get("Location"), tt.status, tt.location)
			}
		})
	}
	for _, id := range []string{live[3].FlagID, e.flags[4].FlagID} {
		if it, _ := e.store.Flag(ctx, id); it.Verdict != nil {
			t.Errorf("refused verdict stored on %s", id)
		}
	}
}

func TestQueueOrderShadowAndPagination(t *testing.T) {
	e := newEnv(t, fixture())
	live := sortedLive(e.flags)
	var want []string
	for _, f := range live {
		want = append(want, f.FlagID)
	}
	c, _ := e.login(console.Analyst)
	// Three flags a page: follow the next links to the end.
	var got []string
	next := "/console/?n=3"
	for pages := 0; next != ""; pages++ {
		if pages > 10 {
			t.Fatal("no last page")
		}
		r := e.get(c, next)
		if r.status != 200 {
			t.Fatalf("%s: %d", next, r.status)
		}
		ids := rowIDs(r.body)
		if len(ids) > 3 {
			t.Fatalf("page of %d rows", len(ids))
		}
		got = append(got, ids...)
		next = ""
		if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(r.body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("queue order\n got %v\nwant %v (severity, then oldest first)", got, want)
	}
	for _, f := range e.flags {
		if f.Mode == detectors.Shadow && slices.Contains(got, f.FlagID) {
			t.Errorf("shadow flag %s in the queue", f.FlagID)
		}
	}
	r := e.get(c, "/console/?status=all&n=200")
	for _, f := range e.flags {
		if f.Mode == detectors.Shadow && strings.Contains(r.body, f.FlagID) {
			t.Errorf("shadow flag %s on the page", f.FlagID)
		}
	}
	// Counts: 16 live, all unreviewed.
	if !strings.Contains(r.body, "<tfoot><tr><th>total</th><td>16</td>") {
		t.Errorf("counts footer wrong:\n%s", r.body[strings.Index(r.body, "<tfoot>"):][:200])
	}
	for _, bad := range []string{"?status=maybe", "?category=fraud", "?n=0", "?n=201", "?after=x", "?rule=" + strings.Repeat("r", 129)} {
		if r := e.get(c, "/console/"+bad); r.status != 400 {
			t.Errorf("%s: %d, want 400", bad, r.status)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, fixture())
	c, _ := e.login(console.Analyst)
	v, _ := e.login(console.Viewer)
	for _, tt := range []struct {
		c    *http.Client
		path string
	}{
		{e.client(), "/console/login"}, {e.client(), "/console/"}, {c, "/console/"}, {c, "/console/flags/" + e.flags[0].FlagID},
		{c, "/console/rules"}, {c, "/console/nosuch"}, {v, "/console/flags/" + e.flags[0].FlagID}, {c, "/console/static/console.js"},
	} {
		r := e.get(tt.c, tt.path)
		want := map[string]string{
			"X-Frame-Options":        "DENY",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
		}
		for k, w := range want {
			if got := r.header.Get(k); got != w {
				t.Errorf("%s (%d): %s = %q, want %q", tt.path, r.status, k, got, w)
			}
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", tt.path, csp)
		}
		if !strings.HasPrefix(tt.path, "/console/static/") && r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", tt.path, r.header.Get("Cache-Control"))
		}
		if strings.Contains(r.body, "style=") || strings.Contains(r.body, "<script>") {
			t.Errorf("%s has inline style or script (the CSP blocks it)", tt.path)
		}
	}
}

var urlAttrRE = regexp.MustCompile(`(?:href|action|src)="([^"]*)"`)

// Browse every page as an analyst and as an admin, record verdicts with
// notes, and check that no excerpt or note reaches a URL or a log line.
func TestEvidenceNeverInURLsOrLogs(t *testing.T) {
	e := newEnv(t, fixture())
	var urls []string
	for _, role := range []console.Role{console.Analyst, console.Admin} {
		c, tok := e.login(role)
		pages := []string{"/console/", "/console/?status=all", "/console/rules", "/console/admin", "/console/?n=2"}
		for _, f := range sortedLive(e.flags)[:6] {
			pages = append(pages, "/console/flags/"+f.FlagID)
			r := e.post(c, "/console/flags/"+f.FlagID+"/verdict", url.Values{"csrf": {tok}, "verdict": {"dismissed"}, "note": {"NOTE-MARKER quoting SECRET00MATCH"}})
			urls = append(urls, r.header.Get("Location"))
		}
		for _, p := range pages {
			r := e.get(c, p)
			urls = append(urls, p, r.header.Get("Location"))
			for _, m := range urlAttrRE.FindAllStringSubmatch(r.body, -1) {
				urls = append(urls, m[1])
			}
		}
	}
	if len(urls) < 50 {
		t.Fatalf("only %d URLs seen", len(urls))
	}
	for _, u := range urls {
		d, _ := url.QueryUnescape(u)
		if strings.Contains(d, "SECRET") || strings.Contains(d, "NOTE-MARKER") || strings.Contains(d, "twenty chars") || strings.Contains(d, "conv-") {
			t.Errorf("URL carries evidence or ids: %s", u)
		}
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"verdict recorded"`) || !strings.Contains(logs, `"console request"`) {
		t.Fatalf("the test saw no request or verdict logs:\n%s", logs)
	}
	for _, s := range []string{"SECRET", "NOTE-MARKER", "twenty chars", "conv-", e.tokens[console.Analyst], e.tokens[console.Admin]} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
}

func TestFlagPage(t *testing.T) {
	flags := fixture()
	// A short message: the excerpt is the whole text, the match unknown.
	flags[0].Evidence = "short SECRET00MATCH text"
	e := newEnv(t, flags)
	c, _ := e.login(console.Analyst)
	f := flags[3] // conversation conv-0: flags 0, 3, 6, 9, 12, 15
	r := e.get(c, "/console/flags/"+f.FlagID+"?from="+url.QueryEscape("/console/?status=all"))
	if r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	for _, s := range []string{
		"…twenty chars before <mark>SECRET03MATCH</mark> twenty chars after …", // context 20 on each side
		"short SECRET00MATCH text", `href="/console/?status=all" id="back"`,
		`<svg class="timeline"`, "grooming.secrecy", `value="/console/flags/` + f.FlagID + `?from=%2Fconsole%2F%3Fstatus%3Dall"`,
	} {
		if !strings.Contains(r.body, s) {
			t.Errorf("flag page lacks %q", s)
		}
	}
	for _, g := range []int{0, 6, 9, 12, 15} {
		if !strings.Contains(r.body, fmt.Sprintf("SECRET%02dMATCH", g)) {
			t.Errorf("conversation lacks flag %d", g)
		}
	}
	for _, other := range []int{1, 2, 4, 11} { // other conversations, shadow
		if strings.Contains(r.body, fmt.Sprintf("SECRET%02dMATCH", other)) {
			t.Errorf("conversation shows flag %d", other)
		}
	}
	if r := e.get(c, "/console/flags/"+flags[4].FlagID); r.status != 404 {
		t.Errorf("shadow flag page: %d", r.status)
	}
	if r := e.get(c, "/console/flags/..%2Fetc"); r.status != 404 {
		t.Errorf("bad id: %d", r.status)
	}
}

func TestSplitEvidence(t *testing.T) {
	tests := []struct {
		in, before, match, after string
		ok                       bool
	}{
		{"…abc MATCH def…", "…abc", " MATCH ", "def…", true},
		{"…abcMdef…", "…abc", "M", "def…", true},
		{"…abcdef…", "…abcdef…", "", "", false}, // nothing between the contexts
		{"abc MATCH def…", "abc MATCH def…", "", "", false},
		{"…abc MATCH def", "…abc MATCH def", "", "", false},
		{"whole message", "whole message", "", "", false},
		{"…秘密XY秘密…", "…秘密X", "Y", "秘密…", false},
		{"…日本語ABC日本語…", "…日本語", "ABC", "日本語…", true},
		{"…", "…", "", "", false},
		{"", "", "", "", false},
	}
	for _, tt := range tests {
		b, m, a, ok := console.SplitEvidence(tt.in, 3)
		if tt.in == "…秘密XY秘密…" {
			if ok && b+m+a != tt.in {
				t.Errorf("%q: parts do not add up", tt.in)
			}
			continue
		}
		if b != tt.before || m != tt.match || a != tt.after || ok != tt.ok {
			t.Errorf("SplitEvidence(%q) = %q %q %q %v; want %q %q %q %v", tt.in, b, m, a, ok, tt.before, tt.match, tt.after, tt.ok)
		}
	}
}

func TestParseAccounts(t *testing.T) {
	h := console.HashToken("t1")
	good := "# console accounts\n\nviewer:" + h + ":vera\nanalyst:" + strings.ToUpper(console.HashToken("t2")) + ":alice@example.org\n  admin:" + console.HashToken("t3") + ":adam  \n"
	a, err := console.ParseAccounts(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, acc := range a.List() {
		got = append(got, acc.Role.String()+":"+acc.Name)
	}
	if !slices.Equal(got, []string{"viewer:vera", "analyst:alice@example.org", "admin:adam"}) {
		t.Errorf("accounts %v", got)
	}
	for name, bad := range map[string]string{
		"empty":          "# nothing\n",
		"two fields":     "viewer:" + h,
		"unknown role":   "root:" + h + ":x",
		"short hash":     "viewer:abc:x",
		"not hex":        "viewer:" + strings.Repeat("z", 64) + ":x",
		"bad name":       "viewer:" + h + ":a b",
		"same name":      "viewer:" + h + ":x\nadmin:" + console.HashToken("t2") + ":x",
		"same hash":      "viewer:" + h + ":x\nadmin:" + h + ":y",
		"plain password": "viewer:hunter2:x",
	} {
		_, err := console.ParseAccounts(strings.NewReader(bad))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), h) {
			t.Errorf("%s: error echoes the line: %v", name, err)
		}
	}
}

func TestCollector(t *testing.T) {
	flags := fixture()
	e := newEnv(t, flags)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	clock := now.Add(time.Hour)
	col, err := console.NewCollector(reg, e.store, nil, func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	if err := col.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var crit []detectors.Flag
	for _, f := range sortedLive(flags) {
		if f.Severity == detectors.Critical {
			crit = append(crit, f)
		}
	}
	wantAge := clock.Sub(crit[0].DetectedAt).Seconds()
	if got := testutil.ToFloat64(gaugeOf(t, reg, console.MetricOldestUnreviewedCritical)); got != wantAge {
		t.Errorf("oldest = %v, want %v", got, wantAge)
	}
	clock = clock.Add(90 * time.Second) // grows between refreshes
	if got := testutil.ToFloat64(gaugeOf(t, reg, console.MetricOldestUnreviewedCritical)); got != wantAge+90 {
		t.Errorf("oldest after 90s = %v, want %v", got, wantAge+90)
	}
	// Verdicts: grooming.secrecy 2 confirmed + 1 escalated + 1 dismissed = 2/3;
	// harassment.threat 1 dismissed = 0.
	decide := func(rule string, sts ...triage.Status) {
		i := 0
		for _, f := range sortedLive(flags) {
			if f.Rule == rule && i < len(sts) {
				if err := e.store.RecordVerdict(ctx, triage.Verdict{FlagID: f.FlagID, Verdict: sts[i], Analyst: "alice", DecidedAt: now}); err != nil {
					t.Fatal(err)
				}
				i++
			}
		}
	}
	decide("grooming.secrecy", triage.Confirmed, triage.Confirmed, triage.Escalated, triage.Dismissed)
	decide("harassment.threat", triage.Dismissed)
	for _, f := range crit {
		if err := e.store.RecordVerdict(ctx, triage.Verdict{FlagID: f.FlagID, Verdict: triage.Confirmed, Analyst: "alice", DecidedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := col.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	stats, _ := e.store.RulePrecision(ctx)
	want := "# HELP goshawk_rule_precision_ratio Precision of a rule from analysts' latest verdicts on its live flags: confirmed / (confirmed + dismissed).\n# TYPE goshawk_rule_precision_ratio gauge\n"
	series := 0
	for _, s := range stats {
		if p, ok := s.Precision(); ok {
			want += fmt.Sprintf("goshawk_rule_precision_ratio{rule=%q} %g\n", s.Rule, p)
			series++
		}
	}
	want += "# HELP goshawk_review_oldest_unreviewed_critical_seconds Seconds since the oldest live critical flag without a verdict was detected; 0 when there is none.\n# TYPE goshawk_review_oldest_unreviewed_critical_seconds gauge\ngoshawk_review_oldest_unreviewed_critical_seconds 0\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), console.MetricRulePrecision, console.MetricOldestUnreviewedCritical); err != nil {
		t.Error(err)
	}
	if len(stats) < 2 || stats[0].Rule != "grooming.secrecy" {
		t.Errorf("stats %+v", stats)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
	// A failing store counts an error and keeps the last values.
	e.w.Close()
	if err := col.Refresh(ctx); err == nil {
		t.Error("refresh from a closed store succeeded")
	}
	if n, _ := testutil.GatherAndCount(reg, console.MetricRulePrecision); n != series || series < 2 {
		t.Errorf("after a failed refresh %d precision series, want the last %d", n, series)
	}
	if got := testutil.ToFloat64(counterOf(t, reg, console.MetricRefreshErrors)); got != 1 {
		t.Errorf("refresh errors = %v", got)
	}
}

// gaugeOf and counterOf wrap one gathered metric as a Collector for
// testutil.ToFloat64.
func gaugeOf(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	return oneMetric(t, reg, name)
}

func counterOf(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	return oneMetric(t, reg, name)
}

func oneMetric(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x", Help: "x"}, func() float64 { return v })
		}
	}
	t.Fatalf("no single series %s", name)
	return nil
}
