package console

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Role is what a console account may do. Each role can do everything the
// roles before it can.
type Role int

const (
	// Viewer sees counts and per-rule precision, never evidence or ids.
	Viewer Role = iota + 1
	// Analyst also sees flags with their evidence and records verdicts.
	Analyst
	// Admin also sees the accounts and sessions of the console.
	Admin
)

// String is the role's name: viewer, analyst or admin ("none" otherwise).
func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Analyst:
		return "analyst"
	case Admin:
		return "admin"
	}
	return "none"
}

// ParseRole parses viewer, analyst or admin.
func ParseRole(s string) (Role, error) {
	for _, r := range []Role{Viewer, Analyst, Admin} {
		if r.String() == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown role %q (want viewer, analyst or admin)", s)
}

// Account is one console login: a named person (or team) with a role and
// the SHA-256 of their token. The token itself is never stored.
type Account struct {
	Name string
	Role Role
	Hash [sha256.Size]byte
}

// Accounts are the console's logins.
type Accounts struct {
	list []Account
}

// HashToken returns the hex SHA-256 of a token, as the tokens file holds it.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a new random token (256 bits, URL-safe text).
func NewToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "gsk_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// NewAccounts returns accounts from a list; each needs a unique name and a
// unique hash.
func NewAccounts(list ...Account) (*Accounts, error) {
	a := &Accounts{}
	for _, acc := range list {
		if err := a.add(acc); err != nil {
			return nil, err
		}
	}
	if len(a.list) == 0 {
		return nil, errors.New("no console accounts")
	}
	return a, nil
}

// AccountWithToken returns an account that logs in with token.
func AccountWithToken(name string, role Role, token string) Account {
	return Account{Name: name, Role: role, Hash: sha256.Sum256([]byte(token))}
}

func (a *Accounts) add(acc Account) error {
	if !validName(acc.Name) {
		return fmt.Errorf("account name %q: want 1-64 letters, digits, '.', '_', '-' or '@'", acc.Name)
	}
	if acc.Role < Viewer || acc.Role > Admin {
		return fmt.Errorf("account %s: no role", acc.Name)
	}
	for _, b := range a.list {
		if b.Name == acc.Name {
			return fmt.Errorf("account %s is listed twice", acc.Name)
		}
		if b.Hash == acc.Hash {
			return fmt.Errorf("accounts %s and %s have the same token hash", b.Name, acc.Name)
		}
	}
	a.list = append(a.list, acc)
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("._-@", c) >= 0) {
			return false
		}
	}
	return true
}

// LoadAccounts reads a tokens file: one account per line, as
//
//	role:sha256hex:name
//
// with role viewer, analyst or admin, the hex SHA-256 of the account's
// token (HashToken; `printf %s "$TOKEN" | sha256sum`) and a name shown
// with the verdicts it records. Blank lines and lines starting with # are
// ignored. Errors give the line number, never the line.
func LoadAccounts(path string) (*Accounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseAccounts(f)
}

// ParseAccounts reads the format of LoadAccounts.
func ParseAccounts(r io.Reader) (*Accounts, error) {
	a := &Accounts{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("line %d: want role:sha256hex:name", n)
		}
		role, err := ParseRole(parts[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		h, err := hex.DecodeString(strings.ToLower(parts[1]))
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("line %d: the token hash must be 64 hex digits (a SHA-256)", n)
		}
		acc := Account{Name: parts[2], Role: role}
		copy(acc.Hash[:], h)
		if err := a.add(acc); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(a.list) == 0 {
		return nil, errors.New("no accounts (want lines role:sha256hex:name)")
	}
	return a, nil
}

// List returns the accounts.
func (a *Accounts) List() []Account { return slices.Clone(a.list) }

// check returns the account whose token this is. Every account is
// compared, in constant time, whatever matches.
func (a *Accounts) check(token string) (Account, bool) {
	sum := sha256.Sum256([]byte(token))
	var found Account
	ok := 0
	for _, acc := range a.list {
		if subtle.ConstantTimeCompare(sum[:], acc.Hash[:]) == 1 {
			found, ok = acc, 1
		}
	}
	return found, ok == 1
}

// Session lifetimes.
const (
	SessionIdle     = 2 * time.Hour
	SessionLifetime = 12 * time.Hour
	maxSessions     = 10000
)

// session is one logged-in browser. Sessions live in memory: a restart
// logs everyone out, and instances behind a load balancer need sticky
// sessions.
type session struct {
	id       string
	account  Account
	csrf     string
	created  time.Time
	lastSeen time.Time
	flash    string
	viaProxy bool // authenticated by the trusted proxy, not by a token
}

type sessions struct {
	mu  sync.Mutex
	m   map[string]*session
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, now: now}
}

func randomID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// startProxy is start for an account named by the trusted proxy.
func (s *sessions) startProxy(acc Account) *session {
	ss := s.start(acc)
	s.mu.Lock()
	defer s.mu.Unlock()
	ss.viaProxy = true
	return ss
}

// start creates a session with a fresh id (never one the browser offered).
func (s *sessions) start(acc Account) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.expireLocked(now)
	if len(s.m) >= maxSessions {
		var oldest *session
		for _, x := range s.m {
			if oldest == nil || x.lastSeen.Before(oldest.lastSeen) {
				oldest = x
			}
		}
		delete(s.m, oldest.id)
	}
	ss := &session{id: randomID(), account: acc, csrf: randomID(), created: now, lastSeen: now}
	s.m[ss.id] = ss
	return ss
}

func (s *sessions) expireLocked(now time.Time) {
	for id, x := range s.m {
		if now.Sub(x.lastSeen) > SessionIdle || now.Sub(x.created) > SessionLifetime {
			delete(s.m, id)
		}
	}
}

// get returns a copy of the live session with this id and marks it seen.
func (s *sessions) get(id string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[id]
	if !ok {
		return session{}, false
	}
	now := s.now()
	if now.Sub(x.lastSeen) > SessionIdle || now.Sub(x.created) > SessionLifetime {
		delete(s.m, id)
		return session{}, false
	}
	x.lastSeen = now
	return *x, true
}

// takeFlash returns and clears the session's one-time message.
func (s *sessions) takeFlash(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x, ok := s.m[id]; ok {
		f := x.flash
		x.flash = ""
		return f
	}
	return ""
}

func (s *sessions) setFlash(id, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if x, ok := s.m[id]; ok {
		x.flash = msg
	}
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// active lists the live sessions, newest first, without their ids.
func (s *sessions) active() []session {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.now())
	out := make([]session, 0, len(s.m))
	for _, x := range s.m {
		c := *x
		c.id, c.csrf = "", ""
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b session) int { return b.created.Compare(a.created) })
	return out
}

// sameSecret compares two secrets in constant time.
func sameSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
