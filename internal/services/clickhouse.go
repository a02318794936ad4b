package services

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ClickHouse is a private clickhouse-server: its own configuration, data
// directory and ports, and the package's users.xml (user "default", no
// password).
type ClickHouse struct {
	*Server
	TCPPort  int // native protocol
	HTTPPort int
}

// StartClickHouse starts a private ClickHouse for the test and kills it when
// the test ends. It fails the test if the server does not come up.
func StartClickHouse(t testing.TB) *ClickHouse {
	t.Helper()
	c, err := NewClickHouse(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	manage(t, c.Server)
	start := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("private ClickHouse on %s (pid %d) answered in %s", c.Addr(), c.Pid(), time.Since(start).Round(time.Millisecond))
	return c
}

// NewClickHouse writes the configuration of a ClickHouse server living in
// dir, on free ports, without starting it.
func NewClickHouse(dir string) (*ClickHouse, error) {
	bin, err := lookPath("clickhouse-server")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	c := &ClickHouse{TCPPort: ports[0], HTTPPort: ports[1]}
	for _, sub := range []string{"data", "tmp", "user_files", "format_schemas", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	users, err := os.ReadFile("/etc/clickhouse-server/users.xml")
	if err != nil {
		return nil, fmt.Errorf("private ClickHouse: the package's users.xml: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), users, 0o644); err != nil {
		return nil, err
	}
	// The format of Debian's 18.16 package (root element <yandex>); newer
	// servers read it too. No interserver port: one server, no replicas.
	config := fmt.Sprintf(`<?xml version="1.0"?>
<!-- Written by internal/services for a private test server. -->
<yandex>
    <logger>
        <level>warning</level>
        <log>%[1]s/log/server.log</log>
        <errorlog>%[1]s/log/server.err.log</errorlog>
        <size>100M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>%[2]d</tcp_port>
    <http_port>%[3]d</http_port>
    <path>%[1]s/data/</path>
    <tmp_path>%[1]s/tmp/</tmp_path>
    <user_files_path>%[1]s/user_files/</user_files_path>
    <format_schema_path>%[1]s/format_schemas/</format_schema_path>
    <users_config>%[1]s/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>268435456</mark_cache_size>
    <max_concurrent_queries>100</max_concurrent_queries>
    <timezone>UTC</timezone>
</yandex>
`, dir, c.TCPPort, c.HTTPPort)
	configPath := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return nil, err
	}
	c.Server = &Server{
		name:      fmt.Sprintf("private ClickHouse (127.0.0.1:%d)", c.TCPPort),
		dir:       dir,
		stdout:    filepath.Join(dir, "log", "stdout.log"),
		logs:      []string{filepath.Join(dir, "log", "server.err.log")},
		argv:      []string{bin, "--config-file=" + configPath},
		ready:     c.answers,
		startWait: 60 * time.Second,
	}
	return c, nil
}

// Addr is the native-protocol address, for clickhouse.Config.Addr.
func (c *ClickHouse) Addr() string { return "127.0.0.1:" + strconv.Itoa(c.TCPPort) }

// answers runs SELECT 1 over HTTP; the native port opens at the same time.
func (c *ClickHouse) answers(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("http://127.0.0.1:%d/?query=SELECT%%201", c.HTTPPort), nil)
	if err != nil {
		return err
	}
	req.Close = true // no keep-alive connection: it would delay a graceful stop
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "1" {
		return fmt.Errorf("%w: HTTP %d %q", errNotReady, resp.StatusCode, body)
	}
	return nil
}
