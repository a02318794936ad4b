// Package secret reads secrets (passwords, keys) from a file or from an
// environment variable, and keeps them out of printed output: a Value
// formats as "[redacted]" with fmt, %v, %q and log/slog.
package secret

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Value is a secret. The zero Value is "not set".
type Value struct{ s string }

// New wraps s.
func New(s string) Value { return Value{s: s} }

// Reveal returns the secret itself, for the one call that needs it.
func (v Value) Reveal() string { return v.s }

// IsSet reports whether the secret is non-empty.
func (v Value) IsSet() bool { return v.s != "" }

// String never returns the secret.
func (v Value) String() string {
	if v.s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString never returns the secret.
func (v Value) GoString() string { return "secret.Value(" + v.String() + ")" }

// Format makes every fmt verb print String.
func (v Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(v.String())) }

// LogValue keeps the secret out of slog output.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MaxFileBytes bounds a secret file.
const MaxFileBytes = 64 << 10

// Read returns the secret in file (when file is not empty) or in the
// environment variable env. Both set is an error: one source of truth.
// A file's trailing newlines are dropped. Errors name the file or the
// variable, never the content.
func Read(file, env string) (Value, error) {
	fromEnv, inEnv := os.LookupEnv(env)
	inEnv = inEnv && fromEnv != ""
	if file == "" {
		return Value{s: fromEnv}, nil
	}
	if inEnv {
		return Value{}, fmt.Errorf("both a file and %s are set: use one", env)
	}
	return ReadFile(file)
}

// ReadFile reads a secret file, dropping trailing newlines (CR and LF).
func ReadFile(path string) (Value, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Value{}, fmt.Errorf("secret file: %w", err)
	}
	if st.Size() > MaxFileBytes {
		return Value{}, fmt.Errorf("secret file %s: larger than %d bytes", path, MaxFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Value{}, fmt.Errorf("secret file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return Value{}, errors.New("secret file " + path + " is empty")
	}
	return Value{s: s}, nil
}
