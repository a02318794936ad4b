package kafkasec_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/goshawk-safety/goshawk/internal/kafkasec"
	"github.com/goshawk-safety/goshawk/internal/secret"
)

const password = "s3cret-CANARY-password"

// selfSigned writes a CA-less self-signed server certificate for
// 127.0.0.1 and returns the server's tls.Config and the PEM file.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "goshawk-test-broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, _ := x509.MarshalECPrivateKey(key)
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, file
}

// A broker with TLS and SCRAM-SHA-512: the writer's transport, a reader's
// dialer and an admin client reach it with the right settings, and are
// refused with a wrong password or without TLS.
func TestTLSAndSCRAMAgainstBroker(t *testing.T) {
	serverTLS, caFile := selfSigned(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "goshawk", password),
		kfake.TLS(serverTLS), kfake.SeedTopics(1, "secure"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	good := kafkasec.Config{CAFile: caFile, SASLMechanism: "SCRAM-SHA-512", SASLUser: "goshawk", SASLPassword: secret.New(password)}
	sec, err := good.Build()
	if err != nil {
		t.Fatal(err)
	}
	if !sec.TLS() || sec.SASL() != "SCRAM-SHA-512" {
		t.Fatalf("built %v %q", sec.TLS(), sec.SASL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "secure", Transport: sec.Transport(), RequiredAcks: kafka.RequireAll, MaxAttempts: 1}
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("c"), Value: []byte("hello over TLS")}); err != nil {
		t.Fatalf("write with TLS and SCRAM: %v", err)
	}
	w.Close()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "secure", Partition: 0, Dialer: sec.Dialer(), MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil || string(m.Value) != "hello over TLS" {
		t.Fatalf("read: %q %v", m.Value, err)
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: sec.Transport(), Timeout: 10 * time.Second}
	if _, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{"secure"}}); err != nil {
		t.Fatalf("admin client: %v", err)
	}

	for name, cfg := range map[string]kafkasec.Config{
		"wrong password": {CAFile: caFile, SASLMechanism: "scram-sha-512", SASLUser: "goshawk", SASLPassword: secret.New("wrong")},
		"no TLS":         {SASLMechanism: "scram-sha-512", SASLUser: "goshawk", SASLPassword: secret.New(password)},
		"unknown CA":     {TLS: true, SASLMechanism: "scram-sha-512", SASLUser: "goshawk", SASLPassword: secret.New(password)},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := cfg.Build()
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: s.Transport(), Timeout: 3 * time.Second}
			_, err = c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{"secure"}})
			if err == nil {
				t.Fatal("connected")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error holds the password: %v", err)
			}
		})
	}
}

// Configuration errors name the setting and never hold the password.
func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte(password), 0o600)
	pw := secret.New(password)
	tests := []struct {
		name    string
		cfg     kafkasec.Config
		setting string
	}{
		{"unknown mechanism", kafkasec.Config{SASLMechanism: "gssapi", SASLUser: "u", SASLPassword: pw}, "kafka-sasl-mechanism"},
		{"no user", kafkasec.Config{TLS: true, SASLMechanism: "scram-sha-256", SASLPassword: pw}, "kafka-sasl-user"},
		{"no password", kafkasec.Config{TLS: true, SASLMechanism: "scram-sha-256", SASLUser: "u"}, "kafka-sasl-password-file"},
		{"password without mechanism", kafkasec.Config{SASLUser: "u", SASLPassword: pw}, "kafka-sasl-mechanism"},
		{"plain without TLS", kafkasec.Config{SASLMechanism: "plain", SASLUser: "u", SASLPassword: pw}, "kafka-sasl-mechanism"},
		{"missing CA file", kafkasec.Config{CAFile: filepath.Join(dir, "nope.pem")}, "kafka-tls-ca-file"},
		{"CA file without PEM", kafkasec.Config{CAFile: notPEM}, "kafka-tls-ca-file"},
		{"cert without key", kafkasec.Config{CertFile: notPEM}, "kafka-tls-cert-file"},
		{"bad cert and key", kafkasec.Config{CertFile: notPEM, KeyFile: notPEM}, "kafka-tls-cert-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.Build()
			var e *kafkasec.Error
			if !errors.As(err, &e) || e.Setting != tt.setting {
				t.Fatalf("error %v, want one naming %s", err, tt.setting)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error holds the password: %v", err)
			}
		})
	}
	if s, err := (kafkasec.Config{}).Build(); s != nil || err != nil || s.Transport() != nil || s.Dialer() != nil {
		t.Errorf("zero config: %v %v", s, err)
	}
}
