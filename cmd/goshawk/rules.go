package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
	"github.com/goshawk-safety/goshawk/triage"
)

func cmdRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "score" {
		return cmdRulesScore(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "learn" {
		return cmdRulesLearn(ctx, args[1:], stdout, stderr)
	}
	f := newFlags("rules test|list [DIR]",
		"test: load the built-in rules with DIR's rule files over them, check every field and run every\n"+
			"rule's examples; exit 1 if any rule is invalid or any example fails.\n"+
			"list: print the rules that would run (detector, id, mode, severity, version, owner, source).\n"+
			"score: see goshawk rules score --help.\n"+
			"learn: see goshawk rules learn --help.", stderr)
	var dets []string
	f.List(&dets, "detectors", "", "detectors whose rules to load (empty: all registered)")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	f.check(f.NArg() < 1 || f.NArg() > 2 || (f.Arg(0) != "test" && f.Arg(0) != "list"), "rules", "usage: goshawk rules test|list [DIR]")
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	factories, err := selectDetectors(dets, builtin.DefaultOptions())
	if err != nil {
		return err
	}
	set, err := loadRules(factories, "rules", f.Arg(1))
	if err != nil {
		if errors.Is(err, errUsage) {
			// Invalid rules are this command's finding, not a usage error.
			fmt.Fprintln(stdout, err)
			return errors.New("rules are invalid")
		}
		return err
	}
	switch f.Arg(0) {
	case "test":
		examples := 0
		for _, r := range set.All() {
			examples += len(r.Examples)
		}
		fmt.Fprintf(stdout, "ok: %d rules, %d examples, rule set version %s\n", len(set.All()), examples, set.Version())
	case "list":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DETECTOR\tRULE\tMODE\tCATEGORY\tSEVERITY\tVERSION\tOWNER\tSOURCE")
		for _, r := range set.All() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Detector, r.ID, r.Mode, r.Category, r.Severity, r.Version, r.Owner, r.Source)
		}
		return tw.Flush()
	}
	return nil
}

func cmdRulesScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("rules score [flags]",
		"Score rules against analysts' verdicts in ClickHouse: the live flags sent in [--since, --until)\n"+
			"whose latest verdict is confirmed or dismissed. Prints the precision of the rules that raised them,\n"+
			"and of the candidate rules (built-in rules with --rules-candidate over them) run over the same\n"+
			"flags' evidence. The store keeps only evidence excerpts, never whole conversations, so rules that\n"+
			"need conversation context score lower here than live.", stderr)
	var store storeSettings
	store.register(f, "clickhouse")
	var privacy privacySettings
	privacy.registerKeys(f) // to open sealed evidence (privacy.go)
	var candidateDir string
	var since, until string
	var limit int
	f.String(&candidateDir, "rules-candidate", "", "directory of candidate rule files over the built-in rules (empty: the built-in rules)")
	f.String(&since, "since", "", "start of the sent_at range, RFC 3339 (default: 30 days before --until)")
	f.String(&until, "until", "", "end of the sent_at range, RFC 3339 (default: now)")
	f.Int(&limit, "limit", 100000, "at most this many reviewed flags")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	store.validate(f)
	privacy.loadKeys(f)
	f.check(store.Sink != "clickhouse", "sink", "rules score reads ClickHouse history")
	f.check(limit < 1, "limit", "%d is less than 1", limit)
	end, err := parseTimeSetting(until, time.Now().UTC())
	f.check(err != nil, "until", "%v", err)
	start, err := parseTimeSetting(since, end.Add(-30*24*time.Hour))
	f.check(err != nil, "since", "%v", err)
	f.check(!start.Before(end), "since", "must be before --until")
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	factories, err := selectDetectors(nil, builtin.DefaultOptions())
	if err != nil {
		return err
	}
	candidate, err := loadRules(factories, "rules-candidate", candidateDir)
	if err != nil {
		return err
	}
	w, err := clickhouse.Open(ctx, clickhouseConfig(store))
	if err != nil {
		return err
	}
	defer w.Close()
	rows, err := w.Reader().ReviewedFlags(ctx, start, end, limit)
	if err != nil {
		return err
	}
	if rows, err = openReviewed(ctx, w.Console(), rows, privacy.keys); err != nil {
		return err
	}
	reviewed := make([]pipeline.ReviewedFlag, len(rows))
	for i, r := range rows {
		reviewed[i] = pipeline.ReviewedFlag{Flag: r.Flag, Confirmed: r.Verdict == "confirmed"}
	}
	rep, err := pipeline.ScoreCandidate(reviewed, factories, candidate)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "verdicts on flags sent from %s to %s\n", start.Format(time.RFC3339), end.Format(time.RFC3339))
	return rep.Write(stdout)
}

func parseTimeSetting(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time such as 2026-11-01T00:00:00Z", s)
	}
	return t.UTC(), nil
}

// openReviewed opens the sealed evidence of rows with keys, after recording
// every read in the evidence audit (actor "goshawk rules score" and the OS
// user). Without keys, sealed evidence stays unread and the command says so.
func openReviewed(ctx context.Context, store triage.Store, rows []clickhouse.Reviewed, keys *seal.Keyring) ([]clickhouse.Reviewed, error) {
	var reads []triage.Access
	actor := "goshawk rules score"
	if u := os.Getenv("USER"); u != "" {
		actor += " (" + u + ")"
	}
	sealed := 0
	for _, r := range rows {
		if r.EvidenceKeyID != "" {
			sealed++
		}
		if r.Flag.Evidence != "" && (r.EvidenceKeyID == "" || keys != nil) {
			reads = append(reads, triage.Access{At: time.Now().UTC(), Actor: actor, Role: "cli",
				FlagID: r.Flag.FlagID, ConversationID: r.Flag.ConversationID, Purpose: "rules score"})
		}
	}
	if sealed > 0 && keys == nil {
		return nil, usageError(fmt.Errorf("setting --evidence-keys-file (%s): %d reviewed flags have sealed evidence and no key is configured",
			envName("evidence-keys-file"), sealed))
	}
	if err := store.RecordAccess(ctx, reads); err != nil {
		return nil, fmt.Errorf("evidence audit: %w", err)
	}
	out := make([]clickhouse.Reviewed, len(rows))
	for i, r := range rows {
		if r.EvidenceKeyID != "" {
			text, err := keys.Open(r.EvidenceKeyID, r.Flag.FlagID, r.Flag.Evidence)
			if err != nil {
				return nil, fmt.Errorf("flag %s: %w", r.Flag.FlagID, err)
			}
			r.Flag.Evidence, r.EvidenceKeyID = text, ""
		}
		out[i] = r
	}
	return out, nil
}
