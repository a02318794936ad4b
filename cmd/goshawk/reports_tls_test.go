package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
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
	"github.com/goshawk-safety/goshawk/sinks/sqlite"
	"github.com/goshawk-safety/goshawk/triage"
)

// testBrokerTLS returns a self-signed server certificate for 127.0.0.1 as
// a tls.Config, and the PEM file a client trusts it with.
func testBrokerTLS(t *testing.T) (*tls.Config, string) {
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
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
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

// The reports pipeline of `goshawk run` speaks TLS and SCRAM like the rest:
// against a broker that accepts nothing else, a valid report is consumed
// and stored, and a bad one reaches the reports' dead-letter topic.
func TestRunReportsOverTLSAndSCRAM(t *testing.T) {
	const user, password = "goshawk", "scram-pw-for-reports"
	serverTLS, caFile := testBrokerTLS(t)
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", user, password),
		kfake.TLS(serverTLS), kfake.SeedTopics(1, "messages", "messages.dlq", "reports", "reports.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	sec, err := kafkasec.Config{CAFile: caFile, SASLMechanism: "SCRAM-SHA-512", SASLUser: user, SASLPassword: secret.New(password)}.Build()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "flags.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"run", "--brokers", strings.Join(brokers, ","), "--sink", "sqlite", "--sqlite-path", dbPath,
			"--evidence-encryption=off", "--metrics-addr", "", "--batch-interval", "50ms",
			"--kafka-tls-ca-file", caFile, "--kafka-sasl-mechanism", "scram-sha-512", "--kafka-sasl-user", user,
			"--kafka-sasl-password-file", pwFile}, io.Discard, logs)
	}()

	good, _ := json.Marshal(map[string]any{"report_id": "rep-tls", "reporter_id": "u-1", "conversation_id": "c-tls",
		"reason": "harassment", "comment": "over TLS", "reported_at": "2026-11-25T12:00:00Z"})
	bad := []byte(`{"report_id":"rep-bad","reporter_id":"u-1","conversation_id":"c-tls","reason":"nonsense","reported_at":"2026-11-25T12:00:00Z"}`)
	// Generous bounds: under CI's load with -race, `run` has taken 30 s
	// from opening the store to consuming.
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "reports", Transport: sec.Transport(), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll}
	if err := w.WriteMessages(wctx, kafka.Message{Key: []byte("c-tls"), Value: good}, kafka.Message{Key: []byte("c-tls"), Value: bad}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	reader, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var it triage.Item
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if it, err = reader.Console().Flag(ctx, triage.ReportItemID("rep-tls")); err == nil {
			break
		}
	}
	if err != nil || it.Report == nil || it.Report.Comment != "over TLS" {
		t.Fatalf("report not stored over TLS: %+v %v; logs:\n%s", it.Report, err, logs.String())
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "reports.dlq", Partition: 0, Dialer: sec.Dialer(), MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(wctx)
	if err != nil || string(m.Value) != string(bad) {
		t.Fatalf("reports.dlq: %q %v; logs:\n%s", m.Value, err, logs.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("run exited %d; logs:\n%s", code, logs.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("run did not stop")
	}
	if strings.Contains(logs.String(), password) {
		t.Error("the logs hold the SASL password")
	}
}
