// Package services starts private instances of ClickHouse and Apache Kafka
// for fault tests that stop, kill or restart a server.
//
// The shared services of scripts/services.sh (ClickHouse on 127.0.0.1:9000,
// Kafka on 127.0.0.1:9092) serve every other integration test at the same
// time and are never stopped by a test. A private instance has its own data
// directory (under t.TempDir) and its own free ports, keeps both across
// restarts, is killed when the test ends, and dies with the test process
// (the kernel sends it SIGKILL when its parent goes: Pdeathsig).
//
// It uses what scripts/services.sh installs: Debian's clickhouse-server, and
// the Apache Kafka jars cached in ${GOSHAWK_CACHE:-~/.cache/goshawk}/kafka-*/libs
// run with the installed JVM.
package services

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one private server process, started and stopped by the test.
// Its methods are safe for concurrent use.
type Server struct {
	name      string
	dir       string
	stdout    string   // the process's stdout and stderr
	logs      []string // files worth showing when a test fails
	argv      []string
	ready     func(ctx context.Context) error
	startWait time.Duration

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Dir is the server's working directory (data, configuration, logs).
func (s *Server) Dir() string { return s.dir }

// Running reports whether the process runs.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runningLocked()
}

func (s *Server) runningLocked() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Pid returns the process id, or 0 when the server is not running.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return 0
	}
	return s.cmd.Process.Pid
}

// Start starts the process and waits until it answers (or fails to within
// its start-up timeout). The server keeps its data and ports from any
// earlier run.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runningLocked() {
		return fmt.Errorf("%s: already running (pid %d)", s.name, s.cmd.Process.Pid)
	}
	out, err := os.OpenFile(s.stdout, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that signals reach everything it forks;
	// Pdeathsig, so that it does not outlive a test binary that crashed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("%s: start %s: %w", s.name, s.argv[0], err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited

	ctx, cancel := context.WithTimeout(context.Background(), s.startWait)
	defer cancel()
	var last error
	for {
		if last = s.ready(ctx); last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited during start-up (%v):\n%s", s.name, cmd.ProcessState, s.tailLocked(30))
		case <-ctx.Done():
			s.signalLocked(syscall.SIGKILL)
			<-exited
			return fmt.Errorf("%s did not answer within %s (%v):\n%s", s.name, s.startWait, last, s.tailLocked(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop asks the server to shut down (SIGTERM) and waits for it to exit; it
// kills it if that takes longer than 60 seconds. Stopping a stopped server
// does nothing.
func (s *Server) Stop() error { return s.halt(syscall.SIGTERM, 60*time.Second) }

// Kill kills the server (SIGKILL) and waits for it to exit.
func (s *Server) Kill() error { return s.halt(syscall.SIGKILL, 30*time.Second) }

// Restart stops the server and starts it again on the same data and ports.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.Start()
}

func (s *Server) halt(sig syscall.Signal, wait time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.runningLocked() {
		return nil
	}
	s.signalLocked(sig)
	select {
	case <-s.exited:
		return nil
	case <-time.After(wait):
	}
	s.signalLocked(syscall.SIGKILL)
	select {
	case <-s.exited:
		return fmt.Errorf("%s: did not exit within %s of %v; killed", s.name, wait, sig)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: pid %d survives SIGKILL", s.name, s.cmd.Process.Pid)
	}
}

// signalLocked signals the process group the server leads.
func (s *Server) signalLocked(sig syscall.Signal) {
	pid := s.cmd.Process.Pid
	if err := syscall.Kill(-pid, sig); err != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Tail returns the last n lines of each of the server's log files.
func (s *Server) Tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tailLocked(n)
}

func (s *Server) tailLocked(n int) string {
	var b strings.Builder
	for _, f := range append([]string{s.stdout}, s.logs...) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- last lines of %s\n%s\n", f, strings.Join(lines, "\n"))
	}
	return b.String()
}

// manage ties a server to a test: it is killed when the test ends, and its
// logs are shown when the test failed.
func manage(t testing.TB, s *Server) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s logs:\n%s", s.name, s.Tail(40))
		}
		if err := s.Kill(); err != nil {
			t.Errorf("%v", err)
		}
	})
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// lookPath finds a program, also in the sbin directories a non-login PATH
// may lack.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (scripts/services.sh installs it): %w", name, exec.ErrNotFound)
}

// errNotReady is what a readiness probe returns before the server answers.
var errNotReady = errors.New("not ready")
