// Package seal encrypts evidence at rest with AES-256-GCM under a keyring:
// several keys, each with an id, one of them active for sealing. The id of
// the key is stored beside every ciphertext, so that old rows stay readable
// while new rows are sealed with a new key (rotation), and a key can be
// retired once no row needs it.
//
// Every ciphertext is bound to its row by GCM's associated data: the flag
// id (and a fixed purpose label). A ciphertext copied to another row does
// not open there.
//
// Sealed text is base64 (standard alphabet, padded) of nonce || ciphertext
// || tag: it fits a ClickHouse String, a SQLite TEXT and a JSON string.
//
// # Key file
//
// One key per line, as
//
//	key-id:base64-of-32-random-bytes
//
// Blank lines and lines starting with # are ignored. The LAST key listed is
// the active one: rotating is appending a new line (for example with
// `goshawk keygen`'s output) and restarting; older keys stay listed for as
// long as rows sealed with them are kept. Key ids are 1–32 letters, digits,
// '.', '_' or '-'. Errors name the line number, never the line.
package seal

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

// MaxKeyID bounds a key id.
const MaxKeyID = 32

// purpose is mixed into the associated data so that a ciphertext sealed for
// evidence cannot be presented as something else sealed under the same key.
const purpose = "goshawk/evidence/v1\x00"

// ErrUnknownKey is returned by Open for a key id that is not in the ring.
var ErrUnknownKey = errors.New("seal: unknown key id")

// ErrOpen is returned by Open when the ciphertext does not authenticate:
// wrong key, wrong row (associated data), or tampered bytes.
var ErrOpen = errors.New("seal: ciphertext does not authenticate")

// Keyring holds AEADs by key id. It is safe for concurrent use once built.
type Keyring struct {
	keys   map[string]cipher.AEAD
	ids    []string
	active string
}

// Key is one named AES-256 key.
type Key struct {
	ID  string
	Key []byte // KeySize bytes
}

// NewKeyring builds a ring from keys; the last one is active.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: no keys")
	}
	k := &Keyring{keys: map[string]cipher.AEAD{}}
	for i, key := range keys {
		if !validID(key.ID) {
			return nil, fmt.Errorf("seal: key %d: id must be 1-%d letters, digits, '.', '_' or '-'", i+1, MaxKeyID)
		}
		if _, dup := k.keys[key.ID]; dup {
			return nil, fmt.Errorf("seal: key id %s is listed twice", key.ID)
		}
		if len(key.Key) != KeySize {
			return nil, fmt.Errorf("seal: key %s: %d bytes, want %d", key.ID, len(key.Key), KeySize)
		}
		block, err := aes.NewCipher(key.Key)
		if err != nil {
			return nil, fmt.Errorf("seal: key %s: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: key %s: %w", key.ID, err)
		}
		k.keys[key.ID] = aead
		k.ids = append(k.ids, key.ID)
		k.active = key.ID
	}
	return k, nil
}

// NewKey returns a fresh random key with the given id.
func NewKey(id string) (Key, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return Key{}, fmt.Errorf("seal: random key: %w", err)
	}
	return Key{ID: id, Key: b}, nil
}

// FormatKey returns the key-file line of k (without a newline).
func FormatKey(k Key) string {
	return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Key)
}

func validID(s string) bool {
	if s == "" || len(s) > MaxKeyID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// LoadKeyring reads a key file (see the package documentation).
func LoadKeyring(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseKeyring(f)
}

// ParseKeyring reads the key-file format. Error messages give line numbers
// and key ids, never key material.
func ParseKeyring(r io.Reader) (*Keyring, error) {
	var keys []Key
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want key-id:base64-key", n)
		}
		if !validID(id) {
			return nil, fmt.Errorf("line %d: the key id must be 1-%d letters, digits, '.', '_' or '-'", n, MaxKeyID)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("line %d (key %s): the key must be %d bytes in base64", n, id, KeySize)
		}
		keys = append(keys, Key{ID: id, Key: key})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys (want lines key-id:base64-key)")
	}
	return NewKeyring(keys...)
}

// Active returns the id of the key that seals.
func (k *Keyring) Active() string { return k.active }

// IDs returns the ids of every key, in file order.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

func associated(rowID string) []byte {
	return append([]byte(purpose), rowID...)
}

// Seal encrypts plaintext for the row rowID with the active key and
// returns the key id and the sealed text.
func (k *Keyring) Seal(rowID, plaintext string) (keyID, sealed string, err error) {
	aead := k.keys[k.active]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", "", fmt.Errorf("seal: nonce: %w", err)
	}
	buf = aead.Seal(buf, buf[:aead.NonceSize()], []byte(plaintext), associated(rowID))
	return k.active, base64.StdEncoding.EncodeToString(buf), nil
}

// Open decrypts sealed text of row rowID sealed with key keyID.
func (k *Keyring) Open(keyID, rowID, sealed string) (string, error) {
	aead, ok := k.keys[keyID]
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < aead.NonceSize()+aead.Overhead() {
		return "", ErrOpen
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], associated(rowID))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// Pseudonymizer replaces user ids with keyed pseudonyms: the first 128
// bits of HMAC-SHA256(key, id), in hex, after "p:". The same id always
// gives the same pseudonym (counts per sender still work), and without the
// key a pseudonym cannot be reversed or recomputed from a guessed id.
type Pseudonymizer struct{ key []byte }

// MinPseudonymKey is the shortest accepted pseudonymisation key.
const MinPseudonymKey = 32

// NewPseudonymizer returns a pseudonymizer with key (at least
// MinPseudonymKey bytes).
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < MinPseudonymKey {
		return nil, fmt.Errorf("seal: pseudonymisation key is %d bytes, want at least %d", len(key), MinPseudonymKey)
	}
	return &Pseudonymizer{key: append([]byte(nil), key...)}, nil
}

// PseudonymPrefix starts every pseudonym.
const PseudonymPrefix = "p:"

// Pseudonym returns the pseudonym of id. The empty id stays empty, and a
// value that already is a pseudonym is returned unchanged, so that applying
// it twice (a retried write) is harmless.
func (p *Pseudonymizer) Pseudonym(id string) string {
	if id == "" || IsPseudonym(id) {
		return id
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(id))
	return PseudonymPrefix + hex.EncodeToString(m.Sum(nil)[:16])
}

// IsPseudonym reports whether s has the form of a pseudonym.
func IsPseudonym(s string) bool {
	if len(s) != len(PseudonymPrefix)+32 || !strings.HasPrefix(s, PseudonymPrefix) {
		return false
	}
	_, err := hex.DecodeString(s[len(PseudonymPrefix):])
	return err == nil
}
