// Command goshawk finds grooming, harassment and spam in private messages
// streamed through Kafka and records flags for safety analysts.
//
//	goshawk run       consume the messages topic and write flags (production)
//	goshawk demo      the whole pipeline on one machine, nothing installed
//	goshawk replay    run the detectors over JSON-lines files (backtests)
//	goshawk produce   generate realistic traffic into Kafka or a file
//	goshawk migrate   create or upgrade the flag store's schema
//	goshawk console   serve the analysts' triage console against the store
//
// Every subcommand has --help; every flag can also be set through the
// environment as GOSHAWK_<FLAG_NAME>.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"run":       {"consume message events from Kafka and write flags to the store", cmdRun},
		"demo":      {"run the whole pipeline locally: embedded Kafka, generated traffic, SQLite", cmdDemo},
		"replay":    {"run the detectors over JSON-lines files (- for stdin) and print flags", cmdReplay},
		"produce":   {"produce generated message events to Kafka or a file", cmdProduce},
		"migrate":   {"create or upgrade the flag store schema", cmdMigrate},
		"console":   {"serve the analysts' triage console against the flag store", cmdConsole},
		"rules":     {"check rule files and run their examples (rules test DIR), list them, score them against verdicts, learn the spam Bayes model", cmdRules},
		"keygen":    {"print a new evidence encryption key (a key-file line)", cmdKeygen},
		"retention": {"clear expired evidence once (run does it periodically)", cmdRetention},
		"bench":     {"measure throughput, latency, CPU and memory against real Kafka and ClickHouse", cmdBench},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: goshawk <command> [flags]\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'goshawk <command> --help' for a command's flags.")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// runMain is main without the process: it returns the exit code.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "goshawk: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "goshawk %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "goshawk %s: %v\n", args[0], err)
		return 1
	}
}

// errUsage marks configuration errors (exit code 2).
var errUsage = errors.New("invalid configuration")

func usageError(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w:\n%w", errUsage, err)
}
