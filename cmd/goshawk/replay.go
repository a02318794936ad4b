package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/pprof"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/pipeline"
)

func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("replay [flags] FILE... ('-' for stdin)",
		"Run every enabled detector over message events (JSON lines) in file order, exactly as the\n"+
			"streaming pipeline does; print one flag per line as JSON to stdout and a summary to stderr.\n"+
			"detected_at is the message's sent_at, so the output is reproducible.\n\n"+
			"With --rules-candidate DIR, run the current rules and the candidate rules side by side over the\n"+
			"same events and print what the change does instead: flags added, removed and re-graded, per\n"+
			"rule, with examples.", stderr)
	var dets []string
	var evidence, examples int
	var rulesDir, candidateDir, cpuProfile string
	f.List(&dets, "detectors", "", "detectors to run (empty: all registered)")
	f.String(&rulesDir, "rules-dir", "", "directory of rule files overriding or extending the built-in rules")
	f.String(&candidateDir, "rules-candidate", "", "backtest: directory of candidate rule files (over the built-in rules) to compare with --rules-dir")
	f.Int(&examples, "examples", 3, "backtest: examples shown per rule")
	f.Int(&evidence, "evidence-context", 40, "characters of context kept each side of a match in evidence")
	var tune detectorSettings
	tune.register(f)
	f.String(&cpuProfile, "cpuprofile", "", "write a CPU profile of the replay to this file (go tool pprof FILE)")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	f.check(f.NArg() == 0, "replay", "name at least one file, or - for stdin")
	f.check(evidence < 0 || evidence > 200, "evidence-context", "%d is not between 0 and 200", evidence)
	tune.validate(f)
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	factories, err := selectDetectors(dets, tune.options())
	if err != nil {
		return err
	}
	base, err := loadRules(factories, "rules-dir", rulesDir)
	if err != nil {
		return err
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
	opts := detectors.EngineOptions{Clock: detectors.EventTime, EvidenceContext: evidence}
	if cpuProfile != "" {
		stop, err := startCPUProfile(cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if candidateDir != "" {
		candidate, err := loadRules(factories, "rules-candidate", candidateDir)
		if err != nil {
			return err
		}
		rep, err := pipeline.Backtest(ctx, inputs, factories, base, candidate, opts, examples)
		if err != nil {
			return err
		}
		return rep.Write(stdout)
	}
	sum, err := pipeline.Replay(ctx, inputs, factories, base, opts, stdout)
	sum.WriteSummary(stderr)
	return err
}

// startCPUProfile starts writing a CPU profile to path; the returned
// function stops it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(file); err != nil {
		file.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		file.Close()
	}, nil
}

// selectDetectors returns the factories of the named built-in detectors (all
// when names is empty).
func selectDetectors(names []string, o builtin.Options) ([]detectors.Factory, error) {
	registry, err := builtin.RegistryWith(o)
	if err != nil {
		return nil, fmt.Errorf("detectors: %w", err)
	}
	factories, err := registry.Factories(names)
	if err != nil {
		return nil, usageError(fmt.Errorf("setting --detectors (%s): %w", envName("detectors"), err))
	}
	return factories, nil
}

// loadRules loads and checks the built-in rules with dir (the value of the
// named setting, may be empty) over them.
func loadRules(factories []detectors.Factory, setting, dir string) (*detectors.RuleSet, error) {
	var override fs.FS
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, usageError(fmt.Errorf("setting --%s (%s): %w", setting, envName(setting), err))
		}
		override = os.DirFS(dir)
	}
	set, err := detectors.LoadCheckedRules(factories, override)
	if err != nil {
		return nil, usageError(fmt.Errorf("setting --%s (%s): %w", setting, envName(setting), err))
	}
	return set, nil
}
