// Command soak runs `goshawk run` against real Kafka and ClickHouse under a
// steady generated load and prints, every few seconds, the throughput, the
// end-to-end latency percentiles, the consumer lag and the resident memory
// of the pipeline process, so that one can see they stay flat.
//
//	scripts/services.sh up
//	go run ./scripts/soak --count 1000000 --rate 5000
//
// It is not part of the default test run (a million messages take minutes).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/internal/kafkaadmin"
	"github.com/goshawk-safety/goshawk/internal/seal"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "Kafka brokers")
	chAddr := flag.String("clickhouse-addr", "127.0.0.1:9000", "ClickHouse native address")
	count := flag.Int("count", 1_000_000, "messages to produce")
	rate := flag.Int("rate", 5000, "messages per second")
	every := flag.Duration("every", 5*time.Second, "report interval")
	partitions := flag.Int("partitions", 6, "partitions of the soak topic")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := soak(ctx, *brokers, *chAddr, *count, *rate, *partitions, *every); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func soak(ctx context.Context, brokers, chAddr string, count, rate, partitions int, every time.Duration) error {
	dir, err := os.MkdirTemp("", "goshawk-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "goshawk")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/goshawk")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	topic := fmt.Sprintf("soak-%d", time.Now().Unix())
	client := &kafka.Client{Addr: kafka.TCP(brokers), Timeout: 30 * time.Second}
	if _, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1},
		{Topic: topic + ".dlq", NumPartitions: 1, ReplicationFactor: 1},
	}}); err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	if err := kafkaadmin.WaitForLeaders(ctx, client, 0, 0, topic, topic+".dlq"); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	run := exec.Command(bin, "run", "--brokers", brokers, "--topic", topic, "--group", topic,
		"--clickhouse-addr", chAddr, "--clickhouse-database", "goshawk_soak", "--metrics-addr", metricsAddr, "--log-level", "warn")
	run.Stderr = os.Stderr
	// Evidence is sealed, as in production, with a key for this run only.
	key, err := seal.NewKey("soak")
	if err != nil {
		return err
	}
	run.Env = append(os.Environ(), "GOSHAWK_EVIDENCE_KEYS="+seal.FormatKey(key))
	if err := run.Start(); err != nil {
		return err
	}
	defer func() {
		run.Process.Signal(os.Interrupt)
		run.Wait()
	}()

	produced := make(chan int, 1)
	go func() { produced <- produce(ctx, brokers, topic, count, rate) }()

	fmt.Printf("soak: %d messages at %d/s into %s (%d partitions); goshawk run pid %d, metrics http://%s/metrics\n",
		count, rate, topic, partitions, run.Process.Pid, metricsAddr)
	fmt.Printf("%8s %10s %10s %9s %9s %9s %9s %8s %9s %8s\n", "elapsed", "consumed", "msg/s", "p50_s", "p90_s", "p99_s", "lag", "rss_MiB", "inflight", "dead")
	start := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	var last sample
	done := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-produced:
			if n < count {
				return fmt.Errorf("produced only %d of %d", n, count)
			}
			done = true
		case <-tick.C:
		}
		s, err := scrape("http://" + metricsAddr + "/metrics")
		if err != nil {
			fmt.Println("  (metrics not available yet:", err, ")")
			continue
		}
		window := s.sub(last)
		fmt.Printf("%8s %10.0f %10.0f %9.3f %9.3f %9.3f %9.0f %8.1f %9.0f %8.0f\n",
			time.Since(start).Round(time.Second), s.consumed, window.consumed/every.Seconds(),
			window.quantile(0.5), window.quantile(0.9), window.quantile(0.99), s.lag, rss(run.Process.Pid)/(1<<20), s.inflight, s.dead)
		last = s
		if done && s.consumed >= float64(count) && s.lag == 0 {
			fmt.Printf("soak: all %d messages consumed and committed in %s\n", count, time.Since(start).Round(time.Second))
			return nil
		}
	}
}

// produce sends count generated events at rate per second.
func produce(ctx context.Context, brokers, topic string, count, rate int) int {
	w := &kafka.Writer{Addr: kafka.TCP(brokers), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchSize: 1000, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	// Generated time runs about 2.3 s per message, far faster than the
	// wall clock at any soak rate; starting that far in the past keeps
	// every sent_at behind its record's time, so no message is refused as
	// future_timestamp and the soak measures the detection path.
	gen := generator.New(1, generator.Options{Start: time.Now().UTC().Add(-3 * time.Second * time.Duration(count))})
	const batch = 250
	start := time.Now()
	msgs := make([]kafka.Message, 0, batch)
	sent := 0
	for sent < count && ctx.Err() == nil {
		msgs = msgs[:0]
		for len(msgs) < batch && sent+len(msgs) < count {
			e := gen.Next()
			msgs = append(msgs, kafka.Message{Key: e.Key, Value: e.Value})
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			fmt.Fprintln(os.Stderr, "produce:", err)
			continue
		}
		sent += len(msgs)
		time.Sleep(time.Until(start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))))
	}
	return sent
}

// sample holds the figures read from one scrape.
type sample struct {
	consumed, lag, inflight, dead float64
	buckets                       map[float64]float64 // le → cumulative count of end-to-end latency (from=record)
}

func (s sample) sub(prev sample) sample {
	out := sample{consumed: s.consumed - prev.consumed, buckets: map[float64]float64{}}
	for le, n := range s.buckets {
		out.buckets[le] = n - prev.buckets[le]
	}
	return out
}

// quantile estimates a quantile from histogram buckets, as PromQL's
// histogram_quantile does.
func (s sample) quantile(q float64) float64 {
	les := make([]float64, 0, len(s.buckets))
	for le := range s.buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	if len(les) == 0 || s.buckets[math.Inf(1)] == 0 {
		return math.NaN()
	}
	rank := q * s.buckets[math.Inf(1)]
	prevLE, prevN := 0.0, 0.0
	for _, le := range les {
		n := s.buckets[le]
		if n >= rank {
			if math.IsInf(le, 1) {
				return prevLE
			}
			if n == prevN {
				return le
			}
			return prevLE + (le-prevLE)*(rank-prevN)/(n-prevN)
		}
		prevLE, prevN = le, n
	}
	return prevLE
}

func scrape(url string) (sample, error) {
	resp, err := http.Get(url)
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	s := sample{buckets: map[float64]float64{}}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch {
		case name == "goshawk_messages_consumed_total":
			s.consumed = v
		case name == "goshawk_messages_in_flight":
			s.inflight = v
		case name == "goshawk_dead_letters_total":
			s.dead = v
		case strings.HasPrefix(name, "goshawk_consumer_lag_messages{"):
			s.lag += v
		case strings.HasPrefix(name, `goshawk_end_to_end_latency_seconds_bucket{from="record",le="`):
			le := strings.TrimSuffix(strings.TrimPrefix(name, `goshawk_end_to_end_latency_seconds_bucket{from="record",le="`), `"}`)
			b, err := strconv.ParseFloat(le, 64)
			if le == "+Inf" {
				b, err = math.Inf(1), nil
			}
			if err == nil {
				s.buckets[b] = v
			}
		}
	}
	if s.buckets[math.Inf(1)] == 0 && s.consumed == 0 {
		return s, errors.New("nothing consumed yet")
	}
	return s, sc.Err()
}

// rss returns the resident set size of a process in bytes.
func rss(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb * 1024
			}
		}
	}
	return math.NaN()
}
