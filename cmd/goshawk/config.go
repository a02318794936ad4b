package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/internal/secret"
)

// Every flag --some-name can also be set by the environment variable
// GOSHAWK_SOME_NAME; a flag on the command line wins over the environment.
// envName is the one place that rule lives.
func envName(flagName string) string {
	return "GOSHAWK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// flags wraps a FlagSet so that each setting is declared once, with its
// environment variable, and parse errors name the setting.
type flags struct {
	*flag.FlagSet
	errs []error
}

func newFlags(name, usage string, out io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: goshawk %s\n\n%s\n\nFlags (each also read from the environment variable shown):\n", name, usage)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(out, "  --%s (%s)\n\t%s", f.Name, envName(f.Name), f.Usage)
			if f.DefValue != "" {
				fmt.Fprintf(out, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(out)
		})
	}
	return &flags{FlagSet: fs}
}

func (f *flags) env(name string) (string, bool) {
	v, ok := os.LookupEnv(envName(name))
	return v, ok && v != ""
}

func (f *flags) bad(name string, err error) {
	f.errs = append(f.errs, fmt.Errorf("setting --%s (%s): %w", name, envName(name), err))
}

func (f *flags) String(p *string, name, def, usage string) {
	if v, ok := f.env(name); ok {
		def = v
	}
	f.StringVar(p, name, def, usage)
}

func (f *flags) Int(p *int, name string, def int, usage string) {
	if v, ok := f.env(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.bad(name, fmt.Errorf("%q is not an integer", v))
		} else {
			def = n
		}
	}
	f.IntVar(p, name, def, usage)
}

func (f *flags) Float(p *float64, name string, def float64, usage string) {
	if v, ok := f.env(name); ok {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			f.bad(name, fmt.Errorf("%q is not a number", v))
		} else {
			def = x
		}
	}
	f.Float64Var(p, name, def, usage)
}

func (f *flags) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := f.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.bad(name, fmt.Errorf("%q is not a duration such as 500ms or 30s", v))
		} else {
			def = d
		}
	}
	f.DurationVar(p, name, def, usage)
}

func (f *flags) Bool(p *bool, name string, def bool, usage string) {
	if v, ok := f.env(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.bad(name, fmt.Errorf("%q is not true or false", v))
		} else {
			def = b
		}
	}
	f.BoolVar(p, name, def, usage)
}

// secretFlag is a flag.Value that never prints its value: --help shows no
// default, and flag errors do not echo it.
type secretFlag struct{ p *secret.Value }

func (s secretFlag) String() string     { return "" }
func (s secretFlag) Set(v string) error { *s.p = secret.New(v); return nil }

// Secret is a setting that holds a secret (a password, keys). It is read
// like any other, but --help never shows its value, even one from the
// environment, and no error message repeats it. Prefer the environment or
// a -file setting to the command line, where other users can see it.
func (f *flags) Secret(p *secret.Value, name, usage string) {
	if v, ok := f.env(name); ok {
		*p = secret.New(v)
	}
	f.Var(secretFlag{p}, name, usage+" (secret: never printed; prefer "+envName(name)+" or a file)")
}

// List is a comma-separated setting.
func (f *flags) List(p *[]string, name, def, usage string) {
	if v, ok := f.env(name); ok {
		def = v
	}
	*p = splitList(def)
	f.Func(name, usage+fmt.Sprintf(" (comma-separated; default %q)", def), func(s string) error {
		*p = splitList(s)
		return nil
	})
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// Parse parses args and returns every environment and flag error at once.
func (f *flags) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return err
	}
	return errors.Join(f.errs...)
}

// check records a validation error for a setting when bad is true.
func (f *flags) check(bad bool, name, format string, args ...any) {
	if bad {
		f.bad(name, fmt.Errorf(format, args...))
	}
}

func (f *flags) validated() error { return errors.Join(f.errs...) }

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
	}
	return l, nil
}
