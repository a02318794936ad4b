package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/pipeline"
)

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("replay [flags] FILE... ('-' for stdin)",
		"Run every enabled detector over message events (JSON lines) in file order, exactly as the\n"+
			"streaming pipeline does; print one flag per line as JSON to stdout and a summary to stderr.\n"+
			"detected_at is the message's sent_at, so the output is reproducible.", stderr)
	var dets []string
	var evidence int
	f.List(&dets, "detectors", "", "detectors to run (empty: all registered)")
	f.Int(&evidence, "evidence-context", 40, "characters of context kept each side of a match in evidence")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	f.check(f.NArg() == 0, "replay", "name at least one file, or - for stdin")
	f.check(evidence < 0 || evidence > 200, "evidence-context", "%d is not between 0 and 200", evidence)
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	registry, err := builtin.Registry()
	if err != nil {
		return fmt.Errorf("detectors: %w", err)
	}
	factories, err := registry.Factories(dets)
	if err != nil {
		return usageError(fmt.Errorf("setting --detectors (%s): %w", envName("detectors"), err))
	}
	var inputs []pipeline.ReplayInput
	for _, name := range f.Args() {
		if name == "-" {
			inputs = append(inputs, pipeline.ReplayInput{Name: "stdin", R: os.Stdin})
			continue
		}
		file, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		defer file.Close()
		inputs = append(inputs, pipeline.ReplayInput{Name: name, R: file})
	}
	sum, err := pipeline.Replay(ctx, inputs, factories, nil, detectors.EngineOptions{Clock: detectors.EventTime, EvidenceContext: evidence}, stdout)
	sum.WriteSummary(stderr)
	return err
}
