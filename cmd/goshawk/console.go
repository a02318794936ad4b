package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
	"github.com/goshawk-safety/goshawk/sinks/sqlite"
	"github.com/goshawk-safety/goshawk/triage"
)

// cmdConsole serves the triage console on its own: against the flag store
// (ClickHouse or SQLite), with /metrics (the review metrics), /healthz and
// /readyz on the same address.
func cmdConsole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("console",
		"Serve the analysts' triage console at /console/ against the flag store, with /metrics (review\n"+
			"metrics), /healthz and /readyz. Accounts come from --console-tokens-file, one per line as\n"+
			"role:sha256hex:name (roles viewer, analyst, admin; the hex SHA-256 of the account's token).", stderr)
	var (
		store           storeSettings
		cs              consoleSettings
		logLevel        string
		evidenceContext int
		privacy         privacySettings
		proxy           proxySettings
	)
	store.register(f, "clickhouse")
	cs.register(f, "file of console accounts, lines role:sha256hex:name (required unless --console-trusted-proxies is set)")
	privacy.registerKeys(f)
	proxy.register(f)
	f.String(&cs.Addr, "console-addr", ":9465", "address of /console/, /metrics, /healthz and /readyz")
	f.Int(&evidenceContext, "evidence-context", 40, "the pipeline's --evidence-context, to find the match in an excerpt")
	f.String(&logLevel, "log-level", "info", "debug, info, warn or error")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	store.validate(f)
	privacy.loadKeys(f)
	extras := consoleExtras{Keys: privacy.keys, Pseudonyms: privacy.pseudo, Proxy: proxy.build(f)}
	f.check(cs.TokensFile == "" && extras.Proxy == nil, "console-tokens-file", "required: the console never runs without accounts (or a trusted proxy)")
	f.check(cs.Addr == "", "console-addr", "must not be empty")
	f.check(evidenceContext < 0 || evidenceContext > 200, "evidence-context", "%d is not between 0 and 200", evidenceContext)
	if _, err := parseLogLevel(logLevel); err != nil {
		f.bad("log-level", err)
	}
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	log := newLogger(stderr, logLevel)
	var accounts *console.Accounts
	if cs.TokensFile != "" {
		a, err := loadConsoleAccounts(cs)
		if err != nil {
			return err
		}
		accounts = a
	}
	w, err := openStore(ctx, store, log)
	if err != nil {
		return err
	}
	defer w.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	h, col, err := newConsole(ctx, w, accounts, reg, log, evidenceContext, extras)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, h)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !col.Healthy() {
			http.Error(w, "the flag store does not answer", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	ln, err := net.Listen("tcp", cs.Addr)
	if err != nil {
		return usageError(fmt.Errorf("setting --console-addr (%s): %w", envName("console-addr"), err))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("console server", "error", err)
		}
	}()
	nAccounts := 0
	if accounts != nil {
		nAccounts = len(accounts.List())
	}
	log.Info("serving the console", "addr", ln.Addr().String(), "path", console.Prefix, "sink", store.Sink, "accounts", nAccounts,
		"trusted_proxy", extras.Proxy != nil, "evidence_keys", extras.Keys != nil)
	<-ctx.Done()
	shutdownHTTP(srv)
	return nil
}

// loadConsoleAccounts reads --console-tokens-file; errors name the setting
// and the line, never the line's content.
func loadConsoleAccounts(cs consoleSettings) (*console.Accounts, error) {
	a, err := console.LoadAccounts(cs.TokensFile)
	if err != nil {
		return nil, usageError(fmt.Errorf("setting --console-tokens-file (%s): %w", envName("console-tokens-file"), err))
	}
	return a, nil
}

// consoleExtras are the console's privacy options: the keys that open
// evidence, the pseudonymisation key for lookups, and the trusted proxy.
type consoleExtras struct {
	Keys       *seal.Keyring
	Pseudonyms *seal.Pseudonymizer
	Proxy      *console.ProxyAuth
}

// newConsole builds the console over the flag store behind w, and starts
// the collector of the review metrics (registered on reg) until ctx ends.
// accounts may be nil when x.Proxy is set.
func newConsole(ctx context.Context, w sinks.Writer, accounts *console.Accounts, reg prometheus.Registerer, log *slog.Logger,
	evidenceContext int, x consoleExtras) (http.Handler, *console.Collector, error) {
	var store triage.Store
	switch s := w.(type) {
	case *clickhouse.Writer:
		store = s.Console()
	case *sqlite.Writer:
		store = s.Console()
	default:
		return nil, nil, fmt.Errorf("console: the %T store has no console", w)
	}
	h, err := console.New(console.Options{Store: store, Accounts: accounts, Log: log, EvidenceContext: evidenceContext,
		Keys: x.Keys, Pseudonyms: x.Pseudonyms, Proxy: x.Proxy})
	if err != nil {
		return nil, nil, err
	}
	col, err := console.NewCollector(reg, store, log, nil)
	if err != nil {
		return nil, nil, err
	}
	go col.Run(ctx, console.DefaultRefresh)
	return h, col, nil
}
