package services

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// Kafka is a private single-node Apache Kafka broker in KRaft mode (broker
// and controller in one JVM, -Xmx512m), with its own log directory and
// ports.
type Kafka struct {
	*Server
	Port           int // PLAINTEXT listener, for clients
	ControllerPort int
}

// StartKafka starts a private Kafka broker for the test and kills it when
// the test ends. It fails the test if the broker does not come up.
func StartKafka(t testing.TB) *Kafka {
	t.Helper()
	k, err := NewKafka(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	manage(t, k.Server)
	start := time.Now()
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("private Kafka on %s (pid %d) answered in %s", k.Addr(), k.Pid(), time.Since(start).Round(time.Millisecond))
	return k
}

// NewKafka writes the configuration of a broker living in dir, on free
// ports, and formats its storage, without starting it.
func NewKafka(dir string) (*Kafka, error) {
	java, err := lookPath("java")
	if err != nil {
		return nil, err
	}
	libs, err := KafkaLibs()
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	k := &Kafka{Port: ports[0], ControllerPort: ports[1]}
	// The settings of scripts/services.sh, on this broker's ports.
	props := fmt.Sprintf(`# Written by internal/services for a private test broker.
node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://127.0.0.1:%[2]d,CONTROLLER://127.0.0.1:%[3]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[2]d
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
controller.quorum.bootstrap.servers=127.0.0.1:%[3]d
log.dirs=%[1]s/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
`, dir, k.Port, k.ControllerPort)
	propsPath := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(propsPath, []byte(props), 0o644); err != nil {
		return nil, err
	}
	log4j := func(appender string) string {
		return `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>` + appender + `</Appenders>
  <Loggers><Root level="WARN"><AppenderRef ref="out"/></Root></Loggers>
</Configuration>
`
	}
	brokerLog := filepath.Join(dir, "kafka.log")
	if err := os.WriteFile(filepath.Join(dir, "log4j2.xml"), []byte(log4j(
		`<File name="out" fileName="`+brokerLog+`"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File>`)), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "log4j2-tools.xml"), []byte(log4j(
		`<Console name="out" target="SYSTEM_ERR"><PatternLayout pattern="%p %m%n"/></Console>`)), 0o644); err != nil {
		return nil, err
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	format := exec.Command(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dlog4j2.configurationFile="+filepath.Join(dir, "log4j2-tools.xml"),
		"-cp", libs+"/*", "kafka.tools.StorageTool", "format", "--standalone",
		// "=": a random id may begin with "-".
		"--cluster-id="+base64.RawURLEncoding.EncodeToString(id[:]), "--config", propsPath)
	format.Dir = dir
	if out, err := format.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("private Kafka: format storage: %w\n%s", err, out)
	}
	k.Server = &Server{
		name:   fmt.Sprintf("private Kafka (127.0.0.1:%d)", k.Port),
		dir:    dir,
		stdout: filepath.Join(dir, "stdout.log"),
		logs:   []string{brokerLog},
		argv: []string{java, "-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
			"-Djava.awt.headless=true", "-Dlog4j2.configurationFile=" + filepath.Join(dir, "log4j2.xml"),
			"-Dkafka.logs.dir=" + dir, "-cp", libs + "/*", "kafka.Kafka", propsPath},
		ready:     k.answers,
		startWait: 90 * time.Second,
	}
	return k, nil
}

// Addr is the bootstrap address for clients.
func (k *Kafka) Addr() string { return "127.0.0.1:" + strconv.Itoa(k.Port) }

// answers asks for the cluster's metadata and wants this broker in it.
func (k *Kafka) answers(ctx context.Context) error {
	// A transport of its own: the default one caches metadata and
	// connections, and would answer for a broker that has gone.
	transport := &kafka.Transport{DialTimeout: time.Second, MetadataTTL: time.Millisecond}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(k.Addr()), Timeout: 2 * time.Second, Transport: transport}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return err
	}
	if len(meta.Brokers) == 0 || meta.Controller.ID < 0 {
		return fmt.Errorf("%w: no brokers or no controller in the metadata", errNotReady)
	}
	return nil
}

// KafkaLibs returns the directory of the cached Kafka jars: GOSHAWK_KAFKA_LIBS
// if set, else ${GOSHAWK_CACHE:-~/.cache/goshawk}/kafka-VERSION/libs with the
// version pinned in scripts/kafka/pom.xml (or, failing that, the newest
// cached one).
func KafkaLibs() (string, error) {
	if dir := os.Getenv("GOSHAWK_KAFKA_LIBS"); dir != "" {
		return dir, nil
	}
	cache := os.Getenv("GOSHAWK_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "/root"
		}
		cache = filepath.Join(home, ".cache", "goshawk")
	}
	hasJars := func(libs string) bool {
		m, _ := filepath.Glob(filepath.Join(libs, "kafka_2.13-*.jar"))
		return len(m) > 0
	}
	if v := pinnedKafkaVersion(); v != "" {
		if libs := filepath.Join(cache, "kafka-"+v, "libs"); hasJars(libs) {
			return libs, nil
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(cache, "kafka-*", "libs"))
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if hasJars(dirs[i]) {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("no Kafka jars in %s/kafka-*/libs: run scripts/services.sh up (it fetches them)", cache)
}

// pinnedKafkaVersion reads <kafka.version> from scripts/kafka/pom.xml,
// found relative to this source file.
func pinnedKafkaVersion() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	pom, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "scripts", "kafka", "pom.xml"))
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`<kafka\.version>([^<]+)</kafka\.version>`).FindSubmatch(pom)
	if m == nil {
		return ""
	}
	return string(m[1])
}
