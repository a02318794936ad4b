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
	k.register(f)
	p.register(f, produceSettings{Count: 10000})
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	p.validate(f)
	if p.Output == "" {
		k.validate(f)
	}
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	gen := generator.New(int64(p.Seed), generator.Options{BadRatio: p.BadRatio})
	var n int
	var err error
	if p.Output != "" {
		n, err = produceFile(ctx, gen, p, stdout)
	} else {
		n, err = produceKafka(ctx, gen, k, p)
	}
	fmt.Fprintf(stderr, "produced %d events\n", n)
	return err
}

func produceFile(ctx context.Context, gen *generator.Generator, p produceSettings, stdout io.Writer) (int, error) {
	out := stdout
	if p.Output != "-" {
		file, err := os.Create(p.Output)
		if err != nil {
			return 0, fmt.Errorf("setting --output (%s): %w", envName("output"), err)
		}
		defer file.Close()
		out = file
	}
	w := bufio.NewWriter(out)
	n, err := pace(ctx, p, func(batch []generator.Event) error {
		for _, e := range batch {
			w.Write(e.Value)
			if err := w.WriteByte('\n'); err != nil {
				return fmt.Errorf("write %s: %w", p.Output, err)
			}
		}
		return nil
	}, gen)
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write %s: %w", p.Output, ferr)
	}
	return n, err
}

func produceKafka(ctx context.Context, gen *generator.Generator, k kafkaSettings, p produceSettings) (int, error) {
	w := &kafka.Writer{
		Addr:                   kafka.TCP(k.Brokers...),
		Transport:              k.Security.built.Transport(), // TLS and SASL (privacy.go)
		Topic:                  k.Topic,
		Balancer:               &kafka.Hash{}, // conversation_id key → one partition per conversation
		RequiredAcks:           kafka.RequireAll,
		BatchSize:              1000,
		BatchTimeout:           10 * time.Millisecond,
		AllowAutoTopicCreation: true,
	}
	defer w.Close()
	return pace(ctx, p, func(batch []generator.Event) error {
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
				return fmt.Errorf("produce to %s: %w", k.Topic, err)
			}
			return nil
		}, retry)
	}, gen)
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
