package seal_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/internal/seal"
)

func key(id string, b byte) seal.Key {
	return seal.Key{ID: id, Key: bytes.Repeat([]byte{b}, seal.KeySize)}
}

func TestSealOpenRoundTripAndRotation(t *testing.T) {
	old, err := seal.NewKeyring(key("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	id1, s1, err := old.Seal("flag-1", "you should keep this secret")
	if err != nil {
		t.Fatal(err)
	}
	if id1 != "k1" || strings.Contains(s1, "secret") {
		t.Fatalf("sealed %q with %q", s1, id1)
	}
	// Rotation: k2 is appended and becomes active; k1 rows still open.
	ring, err := seal.NewKeyring(key("k1", 1), key("k2", 2))
	if err != nil {
		t.Fatal(err)
	}
	if ring.Active() != "k2" {
		t.Fatalf("active %s", ring.Active())
	}
	id2, s2, err := ring.Seal("flag-2", "second")
	if err != nil || id2 != "k2" {
		t.Fatalf("%s %v", id2, err)
	}
	for _, tt := range []struct{ id, row, sealed, want string }{{id1, "flag-1", s1, "you should keep this secret"}, {id2, "flag-2", s2, "second"}} {
		got, err := ring.Open(tt.id, tt.row, tt.sealed)
		if err != nil || got != tt.want {
			t.Errorf("Open(%s, %s) = %q, %v", tt.id, tt.row, got, err)
		}
	}
	// The same plaintext seals differently every time (random nonce).
	_, a, _ := ring.Seal("r", "same")
	_, b, _ := ring.Seal("r", "same")
	if a == b {
		t.Error("two seals of the same text are equal")
	}
}

func TestOpenRefuses(t *testing.T) {
	ring, _ := seal.NewKeyring(key("k1", 1), key("k2", 2))
	id, sealed, _ := ring.Seal("flag-1", "evidence text")
	raw, _ := base64.StdEncoding.DecodeString(sealed)
	raw[len(raw)-1] ^= 1
	tampered := base64.StdEncoding.EncodeToString(raw)
	other, _ := seal.NewKeyring(key("k2", 9))
	tests := []struct {
		name            string
		ring            *seal.Keyring
		id, row, sealed string
		wantErr         error
	}{
		{"another row (moved ciphertext)", ring, id, "flag-2", sealed, seal.ErrOpen},
		{"another key id", ring, "k1", "flag-1", sealed, seal.ErrOpen},
		{"unknown key id", ring, "k9", "flag-1", sealed, seal.ErrUnknownKey},
		{"same id, different key", other, id, "flag-1", sealed, seal.ErrOpen},
		{"tampered", ring, id, "flag-1", tampered, seal.ErrOpen},
		{"not base64", ring, id, "flag-1", "plain text!", seal.ErrOpen},
		{"too short", ring, id, "flag-1", "AAAA", seal.ErrOpen},
		{"empty", ring, id, "flag-1", "", seal.ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.id, tt.row, tt.sealed)
			if !errors.Is(err, tt.wantErr) || got != "" {
				t.Errorf("Open = %q, %v; want %v", got, err, tt.wantErr)
			}
		})
	}
}

func TestParseKeyring(t *testing.T) {
	k1, k2 := seal.FormatKey(key("2026-01", 1)), seal.FormatKey(key("2026-07", 2))
	ring, err := seal.ParseKeyring(strings.NewReader("# keys\n\n" + k1 + "\n  " + k2 + "  \n"))
	if err != nil {
		t.Fatal(err)
	}
	if ring.Active() != "2026-07" || strings.Join(ring.IDs(), ",") != "2026-01,2026-07" {
		t.Errorf("active %s ids %v", ring.Active(), ring.IDs())
	}
	// A secret-looking canary in a bad line must never reach the error.
	const canary = "CANARYKEYMATERIAL"
	for name, bad := range map[string]string{
		"empty":        "# nothing\n",
		"no colon":     canary,
		"short key":    "k1:" + base64.StdEncoding.EncodeToString([]byte(canary)),
		"not base64":   "k1:" + canary + "!!",
		"bad id":       "k 1" + canary + ":" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)),
		"duplicate id": k1 + "\n" + k1,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := seal.ParseKeyring(strings.NewReader(bad))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), strings.SplitN(k1, ":", 2)[1]) {
				t.Errorf("error echoes key material: %v", err)
			}
		})
	}
}

func FuzzParseKeyring(f *testing.F) {
	f.Add(seal.FormatKey(key("k1", 1)))
	f.Add("k1:\n#x\nk2:AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		ring, err := seal.ParseKeyring(strings.NewReader(s))
		if err != nil {
			return
		}
		id, sealed, err := ring.Seal("row", s)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ring.Open(id, "row", sealed); err != nil || got != s {
			t.Fatalf("round trip: %q %v", got, err)
		}
	})
}

// BenchmarkSealOpen is the cost per flag of sealing (writer) and opening
// (console) an evidence excerpt of typical size (~100 bytes: 40 characters
// each side of a match).
func BenchmarkSealOpen(b *testing.B) {
	ring, _ := seal.NewKeyring(key("k1", 1))
	evidence := strings.Repeat("x", 100)
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := ring.Seal("0123456789abcdef0123456789abcdef", evidence); err != nil {
				b.Fatal(err)
			}
		}
	})
	_, sealed, _ := ring.Seal("0123456789abcdef0123456789abcdef", evidence)
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ring.Open("k1", "0123456789abcdef0123456789abcdef", sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestPseudonymizer(t *testing.T) {
	if _, err := seal.NewPseudonymizer([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
	p, _ := seal.NewPseudonymizer(bytes.Repeat([]byte{7}, 32))
	q, _ := seal.NewPseudonymizer(bytes.Repeat([]byte{8}, 32))
	a, b := p.Pseudonym("user-1"), p.Pseudonym("user-2")
	if a == b || a != p.Pseudonym("user-1") || a == q.Pseudonym("user-1") {
		t.Errorf("pseudonyms %s %s %s", a, b, q.Pseudonym("user-1"))
	}
	if !seal.IsPseudonym(a) || strings.Contains(a, "user") || p.Pseudonym(a) != a || p.Pseudonym("") != "" {
		t.Errorf("pseudonym %q", a)
	}
	if seal.IsPseudonym("user-1") || seal.IsPseudonym("p:zz") {
		t.Error("IsPseudonym accepts a plain id")
	}
}
