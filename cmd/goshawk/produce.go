package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/generator"
)

func cmdProduce(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("produce", "Produce realistic generated message events (keyed by conversation_id) to Kafka, or to a JSON-lines file.", stderr)
	var k kafkaSettings
	var p produceSettings
	var r reportProduceSettings // reports.go
	k.register(f)
	p.register(f, produceSettings{Count: 10000})
	r.register(f, 0)
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	p.validate(f)
	r.validate(f, k, p)
	if p.Output == "" {
		k.validate(f)
	}
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	gen := generator.New(int64(p.Seed), generator.Options{BadRatio: p.BadRatio})
	reports := newReportPacer(gen, r, p.Count)
	var n int
	var err error
	if p.Output != "" {
		n, err = produceFile(ctx, gen, p, reports, stdout)
	} else {
		n, err = produceKafka(ctx, gen, k, p, reports)
	}
	if reports != nil {
		fmt.Fprintf(stderr, "produced %d events and %d reports\n", n, reports.sent)
	} else {
		fmt.Fprintf(stderr, "produced %d events\n", n)
	}
	return err
}

func produceFile(ctx context.Context, gen *generator.Generator, p produceSettings, reports *reportPacer, stdout io.Writer) (n int, err error) {
	w, done, err := createLines(p.Output, "output", stdout)
	if err != nil {
		return 0, err
	}
	defer func() {
		if derr := done(); err == nil {
			err = derr
		}
	}()
	send := w
	if reports != nil {
		rw, rdone, err := createLines(reports.output, "reports-output", stdout)
		if err != nil {
			return 0, err
		}
		defer func() {
			if derr := rdone(); err == nil {
				err = derr
			}
		}()
		send = reports.interleave(w, rw)
	}
	return pace(ctx, p, send, gen)
}

// createLines opens path ('-' for stdout) for JSON lines; send writes a
// batch of record values, one a line, and done flushes and closes.
func createLines(path, setting string, stdout io.Writer) (send func([]generator.Event) error, done func() error, err error) {
	out, closeFile := stdout, func() error { return nil }
	if path != "-" {
		file, err := os.Create(path)
		if err != nil {
			return nil, nil, fmt.Errorf("setting --%s (%s): %w", setting, envName(setting), err)
		}
		out, closeFile = file, file.Close
	}
	w := bufio.NewWriter(out)
	send = func(batch []generator.Event) error {
		for _, e := range batch {
			w.Write(e.Value)
			if err := w.WriteByte('\n'); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
		}
		return nil
	}
	done = func() error {
		ferr := w.Flush()
		if cerr := closeFile(); ferr == nil {
			ferr = cerr
		}
		if ferr != nil {
			return fmt.Errorf("write %s: %w", path, ferr)
		}
		return nil
	}
	return send, done, nil
}

func produceKafka(ctx context.Context, gen *generator.Generator, k kafkaSettings, p produceSettings, reports *reportPacer) (int, error) {
	send, closeWriter := kafkaSender(ctx, k, k.Topic)
	defer closeWriter()
	if reports != nil {
		sendReports, closeReports := kafkaSender(ctx, k, reports.topic)
		defer closeReports()
		send = reports.interleave(send, sendReports)
	}
	return pace(ctx, p, send, gen)
}

// kafkaSender returns a function that writes a batch of events to topic
// (keyed by conversation) on k's brokers, with k's TLS and SASL, and the
// writer's close.
func kafkaSender(ctx context.Context, k kafkaSettings, topic string) (send func([]generator.Event) error, close func() error) {
	w := &kafka.Writer{
		Addr:                   kafka.TCP(k.Brokers...),
		Transport:              k.Security.built.Transport(), // TLS and SASL (privacy.go)
		Topic:                  topic,
		Balancer:               &kafka.Hash{}, // conversation_id key → one partition per conversation
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              1000,
		BatchTimeout:           10 * time.Millisecond,
		AllowAutoTopicCreation: true,
	}
	return func(batch []generator.Event) error {
		msgs := make([]kafka.Message, len(batch))
		for i, e := range batch {
			msgs[i] = kafka.Message{Key: e.Key, Value: e.Value}
		}
		// A topic that is being auto-created, or a leader that is moving,
		// fails writes for a moment: retry for up to a minute, resending
		// only the records that failed.
		retry := backoff.WithContext(backoff.NewExponentialBackOff(backoff.WithMaxElapsedTime(time.Minute)), ctx)
		return backoff.Retry(func() error {
			err := w.WriteMessages(ctx, msgs...)
			var failed kafka.WriteErrors
			if errors.As(err, &failed) && len(failed) == len(msgs) {
				var again []kafka.Message
				for i, e := range failed {
					if e != nil {
						again = append(again, msgs[i])
					}
				}
				msgs = again
			}
			if err != nil {
				return fmt.Errorf("produce to %s: %w", topic, err)
			}
			return nil
		}, retry)
	}, w.Close
}

// pace draws events from gen and hands them to send in batches, at the
// configured rate, until Count events (or ctx ends when Count is 0).
func pace(ctx context.Context, p produceSettings, send func([]generator.Event) error, gen *generator.Generator) (int, error) {
	const maxBatch = 1000
	batchSize := maxBatch
	var interval time.Duration
	if p.Rate > 0 {
		// Ten batches a second, or one event per batch at low rates.
		batchSize = max(1, min(maxBatch, int(p.Rate/10)))
		interval = time.Duration(float64(time.Second) * float64(batchSize) / p.Rate)
	}
	start := time.Now()
	sent := 0
	batch := make([]generator.Event, 0, batchSize)
	for p.Count == 0 || sent < p.Count {
		if ctx.Err() != nil {
			return sent, nil
		}
		batch = batch[:0]
		for len(batch) < batchSize && (p.Count == 0 || sent+len(batch) < p.Count) {
			batch = append(batch, gen.Next())
		}
		if err := send(batch); err != nil {
			return sent, err
		}
		sent += len(batch)
		if interval > 0 {
			due := start.Add(time.Duration(sent/batchSize) * interval)
			select {
			case <-ctx.Done():
				return sent, nil
			case <-time.After(time.Until(due)):
			}
		}
	}
	return sent, nil
}
