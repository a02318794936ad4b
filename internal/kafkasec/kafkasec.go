// Package kafkasec turns Goshawk's Kafka security settings (TLS and SASL)
// into what kafka-go needs: a Dialer for consumer-group readers and a
// Transport for writers and admin clients. Every Kafka connection Goshawk
// makes (the consumer, the lag monitor, the dead-letter and flags writers,
// and `goshawk produce`) is built from one Security.
package kafkasec

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/goshawk-safety/goshawk/internal/secret"
)

// SASL mechanisms.
const (
	Plain       = "plain"
	ScramSHA256 = "scram-sha-256"
	ScramSHA512 = "scram-sha-512"
)

// Mechanisms lists the accepted SASL mechanism names.
var Mechanisms = []string{Plain, ScramSHA256, ScramSHA512}

// Config are the security settings. The zero Config is plaintext without
// authentication (a local broker).
type Config struct {
	TLS bool // connect with TLS (implied by any of the files below)
	// CAFile is a PEM bundle of the CAs that sign the brokers' certificates
	// (empty: the system's roots).
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and key (mutual
	// TLS); both or neither.
	CertFile, KeyFile string
	// InsecureSkipVerify skips the brokers' certificate check. Off by
	// default; for tests only.
	InsecureSkipVerify bool
	// ServerName overrides the name checked in the brokers' certificates.
	ServerName string

	SASLMechanism string // "" (none), plain, scram-sha-256 or scram-sha-512
	SASLUser      string
	SASLPassword  secret.Value
}

// Security is a built Config. A nil *Security means plaintext without
// authentication.
type Security struct {
	tls  *tls.Config
	sasl sasl.Mechanism
}

// Error is a configuration error naming the setting at fault; it never
// holds a secret value.
type Error struct {
	Setting string // e.g. "kafka-sasl-user"
	Err     error
}

func (e *Error) Error() string { return e.Setting + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func bad(setting string, format string, args ...any) error {
	return &Error{Setting: setting, Err: fmt.Errorf(format, args...)}
}

// Build checks c and loads its files. It returns nil (and no error) for
// the zero Config. Errors are *Error values, joined.
func (c Config) Build() (*Security, error) {
	var errs []error
	s := &Security{}
	useTLS := c.TLS || c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.InsecureSkipVerify || c.ServerName != ""
	if useTLS {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify, ServerName: c.ServerName}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				errs = append(errs, &Error{Setting: "kafka-tls-ca-file", Err: err})
			} else {
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					errs = append(errs, bad("kafka-tls-ca-file", "%s holds no PEM certificate", c.CAFile))
				}
				cfg.RootCAs = pool
			}
		}
		switch {
		case (c.CertFile == "") != (c.KeyFile == ""):
			errs = append(errs, bad("kafka-tls-cert-file", "a client certificate needs both --kafka-tls-cert-file and --kafka-tls-key-file"))
		case c.CertFile != "":
			cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
			if err != nil {
				// The error of LoadX509KeyPair names files and formats, never key bytes.
				errs = append(errs, bad("kafka-tls-cert-file", "load %s and its key: %v", c.CertFile, err))
			} else {
				cfg.Certificates = []tls.Certificate{cert}
			}
		}
		s.tls = cfg
	}
	mech := strings.ToLower(strings.TrimSpace(c.SASLMechanism))
	switch mech {
	case "":
		if c.SASLUser != "" || c.SASLPassword.IsSet() {
			errs = append(errs, bad("kafka-sasl-mechanism", "a SASL user or password is set but no mechanism (want one of %s)", strings.Join(Mechanisms, ", ")))
		}
	case Plain, ScramSHA256, ScramSHA512:
		if c.SASLUser == "" {
			errs = append(errs, bad("kafka-sasl-user", "required with --kafka-sasl-mechanism=%s", mech))
		}
		if !c.SASLPassword.IsSet() {
			errs = append(errs, bad("kafka-sasl-password-file", "required with --kafka-sasl-mechanism=%s (or GOSHAWK_KAFKA_SASL_PASSWORD)", mech))
		}
		if mech == Plain && s.tls == nil {
			errs = append(errs, bad("kafka-sasl-mechanism", "plain sends the password in clear: it needs TLS (--kafka-tls)"))
		}
		if len(errs) == 0 {
			var err error
			switch mech {
			case Plain:
				s.sasl = plain.Mechanism{Username: c.SASLUser, Password: c.SASLPassword.Reveal()}
			case ScramSHA256:
				s.sasl, err = scram.Mechanism(scram.SHA256, c.SASLUser, c.SASLPassword.Reveal())
			case ScramSHA512:
				s.sasl, err = scram.Mechanism(scram.SHA512, c.SASLUser, c.SASLPassword.Reveal())
			}
			if err != nil {
				// xdg-go/scram rejects names and passwords that SASLprep
				// refuses; its error does not carry them, but say only why.
				errs = append(errs, bad("kafka-sasl-user", "the user name or password is not valid for SCRAM (SASLprep)"))
			}
		}
	default:
		errs = append(errs, bad("kafka-sasl-mechanism", "%q is not one of %s", c.SASLMechanism, strings.Join(Mechanisms, ", ")))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if s.tls == nil && s.sasl == nil {
		return nil, nil
	}
	return s, nil
}

// DialTimeout bounds a connection attempt.
const DialTimeout = 10 * time.Second

// Dialer returns the dialer of a consumer-group reader (kafka.ReaderConfig
// .Dialer); nil for a nil Security (kafka-go's default dialer).
func (s *Security) Dialer() *kafka.Dialer {
	if s == nil {
		return nil
	}
	return &kafka.Dialer{Timeout: DialTimeout, DualStack: true, TLS: s.tls, SASLMechanism: s.sasl}
}

// Transport returns the transport of a writer or a client
// (kafka.Writer.Transport, kafka.Client.Transport); nil (kafka-go's
// default transport) for a nil Security. The result is an interface value
// that is nil when there is nothing to configure, never a typed nil.
func (s *Security) Transport() kafka.RoundTripper {
	if s == nil {
		return nil
	}
	return &kafka.Transport{DialTimeout: DialTimeout, TLS: s.tls, SASL: s.sasl}
}

// TLS reports whether connections use TLS.
func (s *Security) TLS() bool { return s != nil && s.tls != nil }

// SASL returns the SASL mechanism's name, or "" for none.
func (s *Security) SASL() string {
	if s == nil || s.sasl == nil {
		return ""
	}
	return s.sasl.Name()
}
