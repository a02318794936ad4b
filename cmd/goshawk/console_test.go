package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/dashboards/console"
)

func TestConsoleCommandConfiguration(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "tokens")
	if err := os.WriteFile(bad, []byte("# accounts\nanalyst:not-a-hash-hunter2:alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
		not  string
	}{
		{"no accounts", []string{"console", "--sink", "sqlite", "--sqlite-path", filepath.Join(dir, "x.db")}, []string{"--console-tokens-file", "GOSHAWK_CONSOLE_TOKENS_FILE", "required"}, ""},
		{"bad tokens file", []string{"console", "--sink", "sqlite", "--sqlite-path", filepath.Join(dir, "x.db"), "--console-tokens-file", bad}, []string{"--console-tokens-file", "line 2", "64 hex digits"}, "hunter2"},
		{"missing tokens file", []string{"run", "--evidence-encryption=off", "--console-tokens-file", filepath.Join(dir, "nosuch")}, []string{"--console-tokens-file", "no such file"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.not != "" && strings.Contains(stderr, tt.not) {
				t.Errorf("stderr echoes the tokens file:\n%s", stderr)
			}
		})
	}
}

// goshawk console serves the login page, /metrics with the review metrics
// and /readyz against a SQLite store, and stops on cancel.
func TestConsoleCommandServes(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	line := "analyst:" + console.HashToken(console.NewToken()) + ":alice\n"
	if err := os.WriteFile(tokens, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"console", "--sink", "sqlite", "--sqlite-path", filepath.Join(dir, "flags.db"),
			"--console-tokens-file", tokens, "--console-addr", addr}, io.Discard, io.Discard)
	}()
	get := func(path string) (int, string) {
		var last error
		for range 100 {
			res, err := http.Get("http://" + addr + path)
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				return res.StatusCode, string(b)
			}
			last = err
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("GET %s: %v", path, last)
		return 0, ""
	}
	if code, body := get("/console/login"); code != 200 || !strings.Contains(body, `name="token"`) {
		t.Errorf("login page: %d", code)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, console.MetricOldestUnreviewedCritical+" 0") {
		t.Errorf("metrics: %d\n%s", code, body)
	}
	for range 50 {
		if code, _ := get("/readyz"); code == 200 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("readyz: %d", code)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("goshawk console did not stop")
	}
}
