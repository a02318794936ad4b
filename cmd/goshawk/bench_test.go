package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

func TestBenchSettingsAreChecked(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--count", "0"}, []string{"--count", "GOSHAWK_COUNT"}},
		{[]string{"--rate", "0"}, []string{"--rate", "GOSHAWK_RATE"}},
		{[]string{"--latency-duration", "10s", "--warmup", "10s"}, []string{"--warmup", "GOSHAWK_WARMUP"}},
		{[]string{"--latency-duration", "-1s"}, []string{"--latency-duration"}},
		{[]string{"--partitions", "0", "--commit-every", "0"}, []string{"--partitions", "--commit-every"}},
		{[]string{"--brokers", ""}, []string{"--brokers"}},
		{[]string{"--log-level", "loud"}, []string{"--log-level"}},
	}
	for _, tc := range tests {
		code, _, stderr := run(t, append([]string{"bench"}, tc.args...)...)
		if code != 2 {
			t.Errorf("bench %v: exit %d, want 2; stderr:\n%s", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("bench %v: stderr does not mention %q:\n%s", tc.args, w, stderr)
			}
		}
	}
}

// goshawk bench end to end on the real services, small: it prints every
// row of the table, the stream stores what replay gives, and it removes
// what it created.
func TestBenchRealKafkaClickHouse(t *testing.T) {
	broker := testenv.Kafka(t)
	chAddr := testenv.ClickHouse(t)
	code, stdout, stderr := run(t, "bench", "--brokers", broker, "--clickhouse-addr", chAddr,
		"--count", "3000", "--partitions", "2", "--rate", "500", "--latency-duration", "4s", "--warmup", "1s")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("\n%s", stdout)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^bare kafka-go consumer +3,000 +[0-9.]+ +[0-9,]+ +1\.00 `),
		regexp.MustCompile(`(?m)^goshawk run → ClickHouse +3,000 +[0-9.]+ +[0-9,]+ +[0-9.]+ `),
		regexp.MustCompile(`(?m)^replay, 1 core +3,000 `),
		regexp.MustCompile(`(?m)^latency at 500 msg/s +[0-9,]+ +[0-9.]+ +[0-9,]+ .* [0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} *$`), // seconds: more than 9 on a loaded machine
		regexp.MustCompile(`flags: replay gives [0-9,]+, ClickHouse shows [0-9,]+ after the run phase \(the same\)`),
		regexp.MustCompile(`software: goshawk .*; go1\.[0-9]+.*; .*Kafka.*; ClickHouse [0-9]+\.`),
	} {
		if !want.MatchString(stdout) {
			t.Errorf("output does not match %s", want)
		}
	}
	if strings.Contains(stdout, "cleanup incomplete") {
		t.Errorf("cleanup failed:\n%s", stdout)
	}
	m := regexp.MustCompile(`topic (goshawk-bench-[0-9a-z]+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatal("no topic name in the output")
	}
	name := m[1]
	ctx := context.Background()

	// Topics are gone (deletion completes in the background; give it time).
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		meta, err := client.Metadata(ctx, &kafka.MetadataRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, topic := range meta.Topics {
			if strings.HasPrefix(topic.Name, name) {
				left = append(left, topic.Name)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("topics left behind: %v", left)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Databases are gone.
	conn, err := clickhouse.Dial(ctx, clickhouse.Config{Addr: []string{chAddr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	db := strings.ReplaceAll(name, "-", "_")
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE startsWith(name, ?)", db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d ClickHouse databases named %s* left behind", n, db)
	}
}
