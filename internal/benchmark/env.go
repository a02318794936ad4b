package benchmark

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

// Environment is what the numbers were measured on.
type Environment struct {
	Cores      int    // logical CPUs
	GOMAXPROCS int    // during the Kafka phases
	CPUModel   string // from /proc/cpuinfo, when known
	Platform   string // GOOS/GOARCH
	GoVersion  string
	Goshawk    string // VCS revision of the binary, when stamped
	Kafka      string
	ClickHouse string
	LoadStart  string // /proc/loadavg at the start and the end
	LoadEnd    string
}

func describeEnvironment(ctx context.Context, a *admin, cfg Config) Environment {
	env := Environment{
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPUModel:   cpuModel(),
		Platform:   runtime.GOOS + "/" + runtime.GOARCH,
		GoVersion:  runtime.Version(),
		Goshawk:    goshawkVersion(),
		Kafka:      a.kafkaVersion(ctx, cfg.Brokers),
		ClickHouse: clickhouseVersion(ctx, cfg.ClickHouse),
		LoadStart:  loadAverage(),
	}
	return env
}

// goshawkVersion is the module version and VCS revision stamped in the
// binary (go build in a checkout stamps them; go test does not).
func goshawkVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	if rev == "" {
		if head := gitHead(); head != "" {
			return v + " " + head + " (not stamped in the binary: git HEAD of the working directory)"
		}
		return v + ", no VCS revision stamped"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += " with uncommitted changes"
	}
	if when != "" {
		rev += ", committed " + when
	}
	return v + " " + rev
}

// gitHead returns the short HEAD revision of the working directory's git
// checkout, marked when there are uncommitted changes, or "".
func gitHead() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(out))
	status, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil && len(bytes.TrimSpace(status)) > 0 {
		head += " with uncommitted changes"
	}
	return head
}

func clickhouseVersion(ctx context.Context, cfg clickhouse.Config) string {
	conn, err := clickhouse.Dial(ctx, cfg)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer conn.Close()
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return "ClickHouse " + v
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range bytes.Lines(data) {
		name, value, ok := strings.Cut(string(line), ":")
		if ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// loadAverage returns the 1, 5 and 15-minute load averages, or "".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
