package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/goshawk-safety/goshawk/detectors/spam"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

// cmdRulesLearn learns the spam Bayes rule's model (detectors/spam
// bayes.go) from analysts' verdicts and labelled messages.
func cmdRulesLearn(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("rules learn --out FILE [flags]",
		"Learn the model of the spam Bayes rule (kind: bayes) and write it to --out, for the rule's\n"+
			"`model: FILE`. Spam flags whose latest verdict is confirmed are spam, dismissed ones ham: their\n"+
			"texts come from --events (message events, JSON lines, as replay reads), joined by message id,\n"+
			"because the flag store keeps no message text. --labelled adds labelled messages\n"+
			"({\"spam\": true, \"message\": {...}} or {\"spam\": false, \"text\": \"...\"} per line). With\n"+
			"--verdicts=false only --labelled is read. Words seen in fewer than 3 messages are left out of\n"+
			"the model, so it keeps no name or number one conversation used.", stderr)
	var store storeSettings
	store.register(f, "clickhouse")
	var events, labelled []string
	var out, since, until string
	var verdicts bool
	var limit int
	f.List(&events, "events", "", "files of message events holding the texts of the reviewed flags")
	f.List(&labelled, "labelled", "", "files of labelled messages to learn as well")
	f.String(&out, "out", "", "the model file to write")
	f.Bool(&verdicts, "verdicts", true, "learn from analysts' verdicts on spam flags in ClickHouse")
	f.String(&since, "since", "", "start of the sent_at range of reviewed flags, RFC 3339 (default: 90 days before --until)")
	f.String(&until, "until", "", "end of the sent_at range, RFC 3339 (default: now)")
	f.Int(&limit, "limit", 1000000, "at most this many reviewed flags")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	f.check(out == "", "out", "required: the model file to write")
	f.check(f.NArg() > 0, "rules", "rules learn takes no arguments (use --events and --labelled)")
	f.check(limit < 1, "limit", "%d is less than 1", limit)
	var start, end time.Time
	if verdicts {
		store.validate(f)
		f.check(store.Sink != "clickhouse", "sink", "rules learn reads verdicts from ClickHouse")
		f.check(len(events) == 0, "events", "required with --verdicts: the message events the reviewed flags were raised on")
		var err error
		end, err = parseTimeSetting(until, time.Now().UTC())
		f.check(err != nil, "until", "%v", err)
		start, err = parseTimeSetting(since, end.Add(-90*24*time.Hour))
		f.check(err != nil, "since", "%v", err)
		f.check(!start.Before(end), "since", "must be before --until")
	} else {
		f.check(len(labelled) == 0, "labelled", "required with --verdicts=false: nothing else to learn from")
	}
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	tr := spam.NewBayesTrainer()
	for _, name := range labelled {
		if err := learnFile(name, tr.AddLabelled); err != nil {
			return err
		}
	}
	var nSpam, nHam, missing int
	if verdicts {
		w, err := clickhouse.Open(ctx, clickhouseConfig(store))
		if err != nil {
			return err
		}
		defer w.Close()
		rows, err := w.Reader().ReviewedFlags(ctx, start, end, limit)
		if err != nil {
			return err
		}
		label := map[string]bool{} // message id -> spam
		for _, r := range rows {
			if r.Flag.Detector == spam.Name {
				label[r.Flag.MessageID] = r.Verdict == "confirmed"
			}
		}
		found := map[string]bool{}
		for _, name := range events {
			err := learnFile(name, func(r io.Reader) error {
				return eachEvent(r, func(m *event.Message) {
					isSpam, ok := label[m.MessageID]
					if !ok || found[m.MessageID] {
						return
					}
					found[m.MessageID] = true
					tr.Add(m.Text, isSpam)
					if isSpam {
						nSpam++
					} else {
						nHam++
					}
				})
			})
			if err != nil {
				return err
			}
		}
		missing = len(label) - len(found)
	}
	model := tr.Model()
	if model.Spam == 0 || model.Ham == 0 {
		return fmt.Errorf("learnt %d spam and %d ham messages: a model needs both (settings --events, --labelled)", model.Spam, model.Ham)
	}
	var b bytes.Buffer
	if err := model.WriteJSON(&b); err != nil {
		return err
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("setting --out: %w", err)
	}
	if verdicts {
		fmt.Fprintf(stdout, "verdicts on spam flags sent from %s to %s: %d confirmed, %d dismissed found in --events; %d reviewed flags not found there\n",
			start.Format(time.RFC3339), end.Format(time.RFC3339), nSpam, nHam, missing)
	}
	fmt.Fprintf(stdout, "model %s: %d spam and %d ham messages (distinct texts), %d words\n", out, model.Spam, model.Ham, len(model.Tokens))
	return nil
}

func learnFile(name string, fn func(io.Reader) error) error {
	file, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("rules learn: %w", err)
	}
	defer file.Close()
	if err := fn(file); err != nil {
		return fmt.Errorf("rules learn: %s: %w", name, err)
	}
	return nil
}

// eachEvent calls fn for every valid message event of r, one per line;
// invalid lines are skipped (replay and the pipeline dead-letter them).
func eachEvent(r io.Reader, fn func(*event.Message)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), event.MaxEventBytes+1024)
	for sc.Scan() {
		if m, err := event.Decode(sc.Bytes()); err == nil {
			fn(m)
		}
	}
	return sc.Err()
}
