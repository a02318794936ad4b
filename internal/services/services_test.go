package services_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/internal/services"
	"github.com/goshawk-safety/goshawk/internal/testenv"
)

// A private ClickHouse starts, answers, keeps its data across a kill and a
// restart on the same port, and stops.
func TestPrivateClickHouse(t *testing.T) {
	testenv.Require(t)
	c := services.StartClickHouse(t)
	if c.Addr() == "127.0.0.1:9000" {
		t.Fatal("the private ClickHouse took the shared one's port")
	}
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	if c.Running() || c.Pid() != 0 {
		t.Fatal("still running after Kill")
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted after a kill in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped and started again in %s", time.Since(start).Round(time.Millisecond))
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
}

// A private Kafka broker starts, keeps a topic and its records across a
// restart, and stops.
func TestPrivateKafka(t *testing.T) {
	testenv.Require(t)
	k := services.StartKafka(t)
	ctx := context.Background()
	w := &kafka.Writer{Addr: kafka.TCP(k.Addr()), Topic: "t", AllowAutoTopicCreation: true, RequiredAcks: kafka.RequireAll}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := w.WriteMessages(ctx, kafka.Message{Key: []byte("k"), Value: []byte("v")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("produce: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	w.Close()
	start := time.Now()
	if err := k.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted in %s", time.Since(start).Round(time.Millisecond))
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{k.Addr()}, Topic: "t", Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	m, err := r.ReadMessage(rctx)
	if err != nil || string(m.Value) != "v" {
		t.Fatalf("after the restart: %q, %v", m.Value, err)
	}
}
