package secret_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/internal/secret"
)

const canary = "hunter2-CANARY"

func TestValueNeverPrints(t *testing.T) {
	v := secret.New(canary)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "password", v)
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %q %s %x", v, v, v, v, v, v), fmt.Sprintf("%v", struct{ P secret.Value }{v}), logs.String()} {
		if strings.Contains(s, canary) {
			t.Errorf("printed the secret: %s", s)
		}
	}
	if v.Reveal() != canary || !v.IsSet() || secret.New("").IsSet() {
		t.Error("Reveal/IsSet")
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte(canary+"\r\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	const env = "GOSHAWK_TEST_SECRET_READ"

	v, err := secret.Read(file, env)
	if err != nil || v.Reveal() != canary {
		t.Fatalf("file: %q %v", v.Reveal(), err)
	}
	t.Setenv(env, canary+"-env")
	if v, err := secret.Read("", env); err != nil || v.Reveal() != canary+"-env" {
		t.Fatalf("env: %q %v", v.Reveal(), err)
	}
	for name, path := range map[string]string{"both set": file, "missing file": filepath.Join(dir, "nope"), "empty file": empty} {
		t.Run(name, func(t *testing.T) {
			if name != "both set" {
				t.Setenv(env, "")
			}
			_, err := secret.Read(path, env)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error echoes the secret: %v", err)
			}
		})
	}
}
