package main

// Privacy and security settings: evidence encryption and retention,
// pseudonymisation, Kafka TLS/SASL, ClickHouse TLS, the console's trusted
// proxy, and the keygen and retention commands. SECURITY.md describes the
// threat model these serve.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/internal/kafkasec"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/internal/secret"
	"github.com/goshawk-safety/goshawk/sinks"
)

// secretSetting reads a secret given either directly (--name, or
// GOSHAWK_NAME) or as a file (--name-file). Errors name the settings only.
func secretSetting(f *flags, direct secret.Value, file, name string) secret.Value {
	if file == "" {
		return direct
	}
	if direct.IsSet() {
		f.bad(name+"-file", fmt.Errorf("--%s (%s) is set too: use one", name, envName(name)))
		return secret.Value{}
	}
	v, err := secret.ReadFile(file)
	if err != nil {
		f.bad(name+"-file", err)
	}
	return v
}

// ---------------------------------------------------------------- evidence

// privacySettings: evidence encryption and retention, and pseudonyms.
type privacySettings struct {
	Encryption        string // on | off
	Keys              secret.Value
	KeysFile          string
	RetentionDays     int
	RetentionInterval time.Duration
	FlagsTopicEv      string // omit | sealed
	PseudonymKey      secret.Value
	PseudonymKeyFile  string

	keys   *seal.Keyring
	pseudo *seal.Pseudonymizer
}

// registerKeys declares the settings every command that reads or writes
// evidence has: the keys and the pseudonymisation key.
func (p *privacySettings) registerKeys(f *flags) {
	f.Secret(&p.Keys, "evidence-keys", "evidence keys, lines (or ';'-separated entries) key-id:base64-of-32-bytes; the last is active (see `goshawk keygen`)")
	f.String(&p.KeysFile, "evidence-keys-file", "", "file of evidence keys, one key-id:base64-of-32-bytes per line; the last is active, older ones open older rows")
	f.Secret(&p.PseudonymKey, "pseudonym-key", "key (at least 32 bytes) for pseudonymising user ids with HMAC-SHA256 (empty: user ids stored as they are)")
	f.String(&p.PseudonymKeyFile, "pseudonym-key-file", "", "file holding --pseudonym-key")
}

// register declares the settings of run (and demo).
func (p *privacySettings) register(f *flags) {
	f.String(&p.Encryption, "evidence-encryption", "on", "on: evidence is sealed with AES-256-GCM before it is stored (run refuses to start without keys); off: stored as plain text")
	p.registerKeys(f)
	f.Int(&p.RetentionDays, "evidence-retention-days", 90, "clear the evidence of flags detected more than this many days ago, keeping the rest of the flag (0: keep for ever)")
	f.Duration(&p.RetentionInterval, "evidence-retention-interval", time.Hour, "how often run clears expired evidence")
	f.String(&p.FlagsTopicEv, "flags-topic-evidence", "omit", "evidence on --flags-topic: omit, or sealed (with the evidence keys)")
}

// loadKeys reads the keys and the pseudonymisation key.
func (p *privacySettings) loadKeys(f *flags) {
	keys := secretSetting(f, p.Keys, p.KeysFile, "evidence-keys")
	if keys.IsSet() {
		setting := "evidence-keys"
		if p.KeysFile != "" {
			setting = "evidence-keys-file"
		}
		text := strings.ReplaceAll(keys.Reveal(), ";", "\n")
		ring, err := seal.ParseKeyring(strings.NewReader(text))
		if err != nil {
			f.bad(setting, err) // line numbers and key ids only, never key material
		}
		p.keys = ring
	}
	pk := secretSetting(f, p.PseudonymKey, p.PseudonymKeyFile, "pseudonym-key")
	if pk.IsSet() {
		ps, err := seal.NewPseudonymizer([]byte(pk.Reveal()))
		if err != nil {
			f.bad("pseudonym-key", err)
		}
		p.pseudo = ps
	}
}

// validate checks the settings of run (and demo, with needKeys false: the
// demo makes an ephemeral key).
func (p *privacySettings) validate(f *flags, needKeys bool) {
	p.loadKeys(f)
	switch p.Encryption {
	case "on":
		f.check(needKeys && p.keys == nil, "evidence-keys-file",
			"evidence encryption is on (the default) and no key is configured: set --evidence-keys-file or GOSHAWK_EVIDENCE_KEYS "+
				"(make one with `goshawk keygen`), or turn encryption off with --evidence-encryption=off")
	case "off":
	default:
		f.check(true, "evidence-encryption", "%q is not on or off", p.Encryption)
	}
	f.check(p.RetentionDays < 0 || p.RetentionDays > 36500, "evidence-retention-days", "%d is not between 0 and 36500", p.RetentionDays)
	f.check(p.RetentionInterval < time.Second, "evidence-retention-interval", "%s is shorter than 1s", p.RetentionInterval)
	switch p.FlagsTopicEv {
	case "omit":
	case "sealed":
		f.check(p.Encryption != "on", "flags-topic-evidence", "sealed needs --evidence-encryption=on")
	default:
		f.check(true, "flags-topic-evidence", "%q is not omit or sealed", p.FlagsTopicEv)
	}
}

// protection is what the stores apply to flags.
func (p *privacySettings) protection() sinks.Protection {
	pr := sinks.Protection{Pseudonyms: p.pseudo}
	if p.Encryption == "on" {
		pr.Keys = p.keys
	}
	return pr
}

// evidenceExpirer is a store with evidence retention.
type evidenceExpirer interface {
	ExpireEvidence(ctx context.Context, cutoff time.Time) (int64, error)
}

// runRetention clears expired evidence now and then every interval until
// ctx ends.
func runRetention(ctx context.Context, store evidenceExpirer, days int, interval time.Duration, log *slog.Logger) {
	if days <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		cutoff := time.Now().UTC().AddDate(0, 0, -days)
		// A pass may not outlast its interval (a stuck ClickHouse mutation
		// must not stop the passes after it).
		passCtx, cancel := context.WithTimeout(ctx, interval)
		n, err := store.ExpireEvidence(passCtx, cutoff)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("evidence retention failed; retrying at the next interval", "error", err)
		case err == nil && n > 0:
			log.Info("expired evidence cleared", "flags", n, "detected_before", cutoff.Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ---------------------------------------------------------------- Kafka

// kafkaSecurity are the Kafka TLS and SASL settings.
type kafkaSecurity struct {
	TLS                bool
	CAFile             string
	CertFile, KeyFile  string
	InsecureSkipVerify bool
	SASLMechanism      string
	SASLUser           string
	SASLPassword       secret.Value
	SASLPasswordFile   string

	built *kafkasec.Security
}

func (k *kafkaSecurity) register(f *flags) {
	f.Bool(&k.TLS, "kafka-tls", false, "connect to Kafka with TLS (implied by the other --kafka-tls-* settings)")
	f.String(&k.CAFile, "kafka-tls-ca-file", "", "PEM file of the CAs that sign the brokers' certificates (empty: the system's)")
	f.String(&k.CertFile, "kafka-tls-cert-file", "", "PEM client certificate, for brokers that require one")
	f.String(&k.KeyFile, "kafka-tls-key-file", "", "PEM key of --kafka-tls-cert-file")
	f.Bool(&k.InsecureSkipVerify, "kafka-tls-insecure-skip-verify", false, "do not check the brokers' certificates (tests only)")
	f.String(&k.SASLMechanism, "kafka-sasl-mechanism", "", "SASL mechanism: plain (needs TLS), scram-sha-256 or scram-sha-512 (empty: none)")
	f.String(&k.SASLUser, "kafka-sasl-user", "", "SASL user name")
	f.Secret(&k.SASLPassword, "kafka-sasl-password", "SASL password")
	f.String(&k.SASLPasswordFile, "kafka-sasl-password-file", "", "file holding the SASL password")
}

func (k *kafkaSecurity) validate(f *flags) {
	pw := secretSetting(f, k.SASLPassword, k.SASLPasswordFile, "kafka-sasl-password")
	sec, err := kafkasec.Config{
		TLS: k.TLS, CAFile: k.CAFile, CertFile: k.CertFile, KeyFile: k.KeyFile, InsecureSkipVerify: k.InsecureSkipVerify,
		SASLMechanism: k.SASLMechanism, SASLUser: k.SASLUser, SASLPassword: pw,
	}.Build()
	if err != nil {
		for _, e := range unjoin(err) {
			if ke, ok := e.(*kafkasec.Error); ok {
				f.bad(ke.Setting, ke.Err)
			} else {
				f.bad("kafka-sasl-mechanism", e)
			}
		}
		return
	}
	k.built = sec
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// ---------------------------------------------------------------- ClickHouse

// clickhouseTLS builds the ClickHouse TLS settings (nil: plaintext).
func clickhouseTLS(f *flags, on bool, caFile string, insecure bool) *tls.Config {
	if !on && caFile == "" && !insecure {
		return nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			f.bad("clickhouse-tls-ca-file", err)
			return cfg
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			f.bad("clickhouse-tls-ca-file", fmt.Errorf("%s holds no PEM certificate", caFile))
		}
		cfg.RootCAs = pool
	}
	return cfg
}

// ---------------------------------------------------------------- console proxy

// proxySettings: the console's authenticating reverse proxy.
type proxySettings struct {
	Trusted    []string
	UserHeader string
	RoleHeader string
}

func (p *proxySettings) register(f *flags) {
	f.List(&p.Trusted, "console-trusted-proxies", "", "addresses (CIDR) of an authenticating reverse proxy whose user and role headers the console believes (empty: off)")
	f.String(&p.UserHeader, "console-proxy-user-header", "X-Forwarded-User", "header in which the trusted proxy names the console user")
	f.String(&p.RoleHeader, "console-proxy-role-header", "X-Forwarded-Role", "header in which the trusted proxy gives the user's role: viewer, analyst or admin")
}

// build returns the console's proxy authentication, nil when off.
func (p *proxySettings) build(f *flags) *console.ProxyAuth {
	if len(p.Trusted) == 0 {
		return nil
	}
	auth := &console.ProxyAuth{UserHeader: p.UserHeader, RoleHeader: p.RoleHeader}
	for _, s := range p.Trusted {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			addr, aerr := netip.ParseAddr(s)
			if aerr != nil {
				f.bad("console-trusted-proxies", fmt.Errorf("%q is not an address or a CIDR prefix", s))
				continue
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		auth.Trusted = append(auth.Trusted, pfx.Masked())
	}
	f.check(p.UserHeader == "", "console-proxy-user-header", "must not be empty with --console-trusted-proxies")
	f.check(p.RoleHeader == "", "console-proxy-role-header", "must not be empty with --console-trusted-proxies")
	return auth
}

// ---------------------------------------------------------------- commands

func cmdKeygen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("keygen",
		"Print a new evidence key as a key-file line, key-id:base64-of-32-random-bytes. Append it to the\n"+
			"--evidence-keys-file to rotate: the last key seals new evidence, the others still open older rows.", stderr)
	id := "k" + time.Now().UTC().Format("20060102")
	f.String(&id, "id", id, "key id (1-32 letters, digits, '.', '_' or '-')")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	k, err := seal.NewKey(id)
	if err == nil {
		_, err = seal.NewKeyring(k)
	}
	if err != nil {
		return usageError(fmt.Errorf("setting --id (%s): %w", envName("id"), err))
	}
	fmt.Fprintln(stdout, seal.FormatKey(k))
	return nil
}

func cmdRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("retention",
		"Clear, once, the evidence of flags detected more than --evidence-retention-days ago (run does this\n"+
			"every --evidence-retention-interval). The rest of each flag, its verdicts and the counts stay.", stderr)
	var store storeSettings
	var days int
	store.register(f, "clickhouse")
	f.Int(&days, "evidence-retention-days", 90, "clear the evidence of flags detected more than this many days ago")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	store.validate(f)
	f.check(days < 1 || days > 36500, "evidence-retention-days", "%d is not between 1 and 36500", days)
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	w, err := openStore(ctx, store, newLogger(stderr, "info"))
	if err != nil {
		return err
	}
	defer w.Close()
	ex, ok := w.(evidenceExpirer)
	if !ok {
		return fmt.Errorf("the %s store has no retention", store.Sink)
	}
	cutoff := time.Now().UTC().AddDate(0, 0, -days)
	n, err := ex.ExpireEvidence(ctx, cutoff)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cleared the evidence of %d flags detected before %s\n", n, cutoff.Format(time.RFC3339))
	return nil
}
