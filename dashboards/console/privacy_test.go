package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage"
)

func testKeys(t *testing.T) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(seal.Key{ID: "k-console", Key: []byte(strings.Repeat("c", seal.KeySize))})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func accesses(t *testing.T, e *env) []triage.Access {
	t.Helper()
	a, err := e.store.RecentAccesses(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Every page that shows evidence leaves one audit row per flag shown, with
// the account, its role, the flag, its conversation and the view; pages
// without evidence leave none.
func TestEveryEvidenceReadIsAudited(t *testing.T) {
	e := newEnv(t, fixture())
	live := sortedLive(e.flags)

	v, _ := e.login(console.Viewer)
	for _, p := range []string{"/console/", "/console/?status=all", "/console/rules"} {
		e.get(v, p)
	}
	if a := accesses(t, e); len(a) != 0 {
		t.Fatalf("a viewer's pages left audit rows: %+v", a)
	}

	c, _ := e.login(console.Analyst) // the login lands on the queue: 16 live flags, all shown
	rows := accesses(t, e)
	if len(rows) != len(live) {
		t.Fatalf("the queue showed %d flags and left %d audit rows", len(live), len(rows))
	}
	for _, a := range rows {
		if a.Actor != "alice" || a.Role != "analyst" || a.Purpose != "queue /console/" || !a.At.Equal(now) || !strings.HasPrefix(a.ConversationID, "conv-") {
			t.Errorf("queue audit row %+v", a)
		}
	}
	var ids []string
	for _, a := range rows {
		ids = append(ids, a.FlagID)
	}
	for _, f := range live {
		if !slices.Contains(ids, f.FlagID) {
			t.Errorf("flag %s shown without an audit row", f.FlagID)
		}
	}

	// A flag page: the flag itself, then the rest of its conversation.
	f := live[0]
	if r := e.get(c, "/console/flags/"+f.FlagID); r.status != 200 {
		t.Fatal(r.status)
	}
	rows = accesses(t, e)[:0]
	for _, a := range accesses(t, e) {
		if a.Purpose != "queue /console/" {
			rows = append(rows, a)
		}
	}
	var conv int
	for _, g := range live {
		if g.ConversationID == f.ConversationID {
			conv++
		}
	}
	if len(rows) != conv {
		t.Fatalf("the flag page showed %d flags and left %d rows: %+v", conv, len(rows), rows)
	}
	var own int
	for _, a := range rows {
		switch a.Purpose {
		case "flag " + f.FlagID:
			own++
			if a.FlagID != f.FlagID {
				t.Errorf("flag row for %s", a.FlagID)
			}
		case "conversation of flag " + f.FlagID:
			if a.ConversationID != f.ConversationID || a.FlagID == f.FlagID {
				t.Errorf("conversation row %+v", a)
			}
		default:
			t.Errorf("unexpected purpose %q", a.Purpose)
		}
	}
	if own != 1 {
		t.Errorf("%d rows for the opened flag", own)
	}
	// The admin sees the audit.
	adm, _ := e.login(console.Admin)
	if r := e.get(adm, "/console/admin"); !strings.Contains(r.body, "conversation of flag "+f.FlagID) || !strings.Contains(r.body, `id="audit"`) {
		t.Error("the admin page does not show the audit")
	}
}

// failingAudit is a store whose audit writes fail.
type failingAudit struct{ triage.Store }

func (failingAudit) RecordAccess(context.Context, []triage.Access) error {
	return errors.New("audit table unavailable")
}

// No audit, no evidence: when the audit write fails the page shows none.
func TestNoEvidenceWithoutAudit(t *testing.T) {
	e := newEnvWith(t, fixture(), sinks.Protection{}, func(o *console.Options) { o.Store = failingAudit{o.Store} })
	c := e.client()
	page := e.get(c, "/console/login")
	e.post(c, "/console/login", url.Values{"csrf": {csrf(t, page.body)}, "token": {e.tokens[console.Analyst]}})
	for _, p := range []string{"/console/", "/console/flags/" + sortedLive(e.flags)[0].FlagID} {
		r := e.get(c, p)
		if r.status != http.StatusServiceUnavailable || strings.Contains(r.body, "SECRET") {
			t.Errorf("%s: %d, evidence shown: %v", p, r.status, strings.Contains(r.body, "SECRET"))
		}
	}
	if r := e.get(c, "/console/rules"); r.status != 200 {
		t.Errorf("rules (no evidence) failed too: %d", r.status)
	}
}

// Sealed evidence: stored as ciphertext, shown in clear only by a console
// with the key, and as unavailable by one without it.
func TestSealedEvidenceInConsole(t *testing.T) {
	keys := testKeys(t)
	flags := fixture()
	for _, withKeys := range []bool{true, false} {
		e := newEnvWith(t, flags, sinks.Protection{Keys: keys}, func(o *console.Options) {
			if withKeys {
				o.Keys = keys
			}
		})
		stored, err := e.w.StoredFlags(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stored {
			if s.EvidenceKeyID != "k-console" || strings.Contains(s.Flag.Evidence, "SECRET") {
				t.Fatalf("stored %q with key %q", s.Flag.Evidence, s.EvidenceKeyID)
			}
		}
		c, _ := e.login(console.Analyst)
		f := sortedLive(flags)[0]
		r := e.get(c, "/console/flags/"+f.FlagID)
		q := e.get(c, "/console/")
		if withKeys {
			if !strings.Contains(r.body, "<mark>SECRET") || !strings.Contains(q.body, "<mark>SECRET") {
				t.Error("a console with the key does not show the evidence")
			}
		} else if strings.Contains(r.body+q.body, "SECRET") || !strings.Contains(r.body, "does not have") {
			t.Error("a console without the key shows evidence, or no notice")
		}
	}
}

func proxyEnv(t *testing.T, trusted string) *env {
	return newEnvWith(t, fixture(), sinks.Protection{}, func(o *console.Options) {
		o.Proxy = &console.ProxyAuth{UserHeader: "X-Auth-User", RoleHeader: "X-Auth-Role", Trusted: []netip.Prefix{netip.MustParsePrefix(trusted)}}
	})
}

// A trusted proxy's headers log the user in with the role it names; the
// same headers from anywhere else are ignored.
func TestProxyAuthentication(t *testing.T) {
	id := sortedLive(fixture())[0].FlagID
	as := func(user, role string) map[string]string {
		return map[string]string{"X-Auth-User": user, "X-Auth-Role": role}
	}
	t.Run("trusted", func(t *testing.T) {
		e := proxyEnv(t, "127.0.0.0/8") // httptest serves on 127.0.0.1
		c := e.client()
		r := e.do(c, "GET", "/console/flags/"+id, nil, as("pat", "analyst"))
		if r.status != 200 || !strings.Contains(r.body, "<mark>SECRET") || !strings.Contains(r.body, "pat") {
			t.Fatalf("analyst via proxy: %d", r.status)
		}
		// The proxy session carries a CSRF token: a verdict goes through.
		tok := csrf(t, r.body)
		form := url.Values{"csrf": {tok}, "verdict": {"confirmed"}}
		if r := e.do(c, "POST", "/console/flags/"+id+"/verdict", form, as("pat", "analyst")); r.status != 303 {
			t.Errorf("verdict via proxy: %d", r.status)
		}
		if it, _ := e.store.Flag(context.Background(), id); it.Verdict == nil || it.Verdict.Analyst != "pat" {
			t.Errorf("verdict %+v", it.Verdict)
		}
		if a := accesses(t, e); len(a) == 0 || a[0].Actor != "pat" {
			t.Errorf("audit of a proxy user: %+v", a)
		}
		// A viewer via the proxy reads no evidence; a bad role is refused.
		if r := e.do(e.client(), "GET", "/console/flags/"+id, nil, as("vic", "viewer")); r.status != 403 || strings.Contains(r.body, "SECRET") {
			t.Errorf("viewer via proxy: %d", r.status)
		}
		if r := e.do(e.client(), "GET", "/console/", nil, as("vic", "root")); r.status != 403 {
			t.Errorf("bad role via proxy: %d", r.status)
		}
		// The same cookie with another user's headers is that other user.
		if r := e.do(c, "GET", "/console/flags/"+id, nil, as("vic", "viewer")); r.status != 403 {
			t.Errorf("switched user via proxy: %d", r.status)
		}
		// Without the headers, a proxy session's cookie is no session.
		if r := e.get(c, "/console/"); r.status != 303 {
			t.Errorf("proxy cookie without the proxy: %d", r.status)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		e := proxyEnv(t, "10.0.0.0/8")
		r := e.do(e.client(), "GET", "/console/flags/"+id, nil, as("mallory", "admin"))
		if r.status != 303 || strings.Contains(r.body, "SECRET") {
			t.Errorf("headers from an untrusted address: %d", r.status)
		}
		if !strings.Contains(e.logs.String(), "untrusted address") {
			t.Error("the ignored header was not logged")
		}
		// Token login still works.
		e.login(console.Analyst)
	})
}

func TestPseudonymLookup(t *testing.T) {
	ps, err := seal.NewPseudonymizer([]byte(strings.Repeat("p", 32)))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, fixture(), sinks.Protection{Pseudonyms: ps}, func(o *console.Options) { o.Pseudonyms = ps })
	c, tok := e.login(console.Analyst)
	r := e.post(c, "/console/lookup", url.Values{"csrf": {tok}, "user_id": {"user-1"}})
	want := ps.Pseudonym("user-1")
	if r.status != 200 || !strings.Contains(r.body, want) {
		t.Fatalf("lookup: %d, want %s", r.status, want)
	}
	// The queue shows pseudonyms only.
	if q := e.get(c, "/console/flags/"+sortedLive(e.flags)[0].FlagID); strings.Contains(q.body, "user-") || !strings.Contains(q.body, "p:") {
		t.Error("the flag page shows a real user id")
	}
	if v, _ := e.login(console.Viewer); e.get(v, "/console/lookup").status != 403 {
		t.Error("a viewer can look up pseudonyms")
	}
	if strings.Contains(e.logs.String(), "user-1") || strings.Contains(e.logs.String(), want) {
		t.Error("the lookup is in the logs")
	}
}
