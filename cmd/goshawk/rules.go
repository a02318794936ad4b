package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
)

func cmdRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("rules test|list [DIR]",
		"test: load the built-in rules with DIR's rule files over them, check every field and run every\n"+
			"rule's examples; exit 1 if any rule is invalid or any example fails.\n"+
			"list: print the rules that would run (detector, id, mode, severity, version, owner, source).", stderr)
	var dets []string
	f.List(&dets, "detectors", "", "detectors whose rules to load (empty: all registered)")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	f.check(f.NArg() < 1 || f.NArg() > 2 || (f.Arg(0) != "test" && f.Arg(0) != "list"), "rules", "usage: goshawk rules test|list [DIR]")
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	factories, err := selectDetectors(dets)
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
