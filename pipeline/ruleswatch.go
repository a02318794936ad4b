package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

// RuleWatcher reloads a rules directory when told to (SIGHUP) and when its
// files change. A new rule set is loaded and checked (every example run)
// before it is applied; an invalid one is refused with a log line and
// goshawk_rules_reloads_total{result="invalid"}, and the running rules stay.
type RuleWatcher struct {
	Dir       string
	Factories []detectors.Factory
	Apply     func(*detectors.RuleSet) // e.g. (*Pipeline).SetRules
	Metrics   *Metrics
	Log       *slog.Logger
	Interval  time.Duration // how often to look for changed files (default 2s)

	fingerprint string
	version     string
}

// Load loads and checks the built-in rules with Dir over them (Dir may be
// empty: built-in rules only). It notes the files' fingerprint first, so a
// change made while it reads is seen by the next look.
func (w *RuleWatcher) Load() (*detectors.RuleSet, error) {
	w.fingerprint, _ = dirFingerprint(w.Dir)
	var override fs.FS
	if w.Dir != "" {
		if _, err := os.Stat(w.Dir); err != nil {
			return nil, fmt.Errorf("rules directory: %w", err)
		}
		override = os.DirFS(w.Dir)
	}
	return detectors.LoadCheckedRules(w.Factories, override)
}

// Reload loads, checks and applies the rules; it returns the error that
// made it refuse them.
func (w *RuleWatcher) Reload(reason string) error {
	set, err := w.Load()
	if err != nil {
		w.Metrics.RulesReloads.WithLabelValues("invalid").Inc()
		w.Log.Error("rules refused; the running rules stay", "reason", reason, "dir", w.Dir, "error", err)
		return err
	}
	if set.Version() == w.version {
		return nil
	}
	w.Apply(set)
	w.version = set.Version()
	w.Metrics.RulesReloads.WithLabelValues("ok").Inc()
	w.Log.Info("rules reloaded", "reason", reason, "rules_version", set.Version(), "rules", len(set.All()))
	return nil
}

// Run watches until ctx ends. A value on hup forces a reload. Call Load
// first: Run looks for changes since the files Load read.
func (w *RuleWatcher) Run(ctx context.Context, current *detectors.RuleSet, hup <-chan os.Signal) {
	if current != nil {
		w.version = current.Version()
	}
	interval := w.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = w.Reload("signal")
		case <-tick.C:
			if fp, err := dirFingerprint(w.Dir); err != nil || fp == w.fingerprint {
				continue
			}
			_ = w.Reload("files changed")
		}
	}
}

// dirFingerprint hashes the names, sizes and modification times of the
// files under dir.
func dirFingerprint(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	h := sha256.New()
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", p, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
