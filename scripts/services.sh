#!/usr/bin/env bash
# Starts, stops and reports the real services the integration tests use:
# ClickHouse (Debian's package) and a single-node Apache Kafka in KRaft mode
# (jars from Maven Central, run with the installed JVM). No Docker needed.
#
#   scripts/services.sh up      install what is missing, start what is not running
#   scripts/services.sh down    stop what `up` started (never a server it found running)
#   scripts/services.sh status  report; exit 0 only when both services answer
#
# `up` is idempotent and prints, as its only line on stdout,
#   export GOSHAWK_TEST_KAFKA=127.0.0.1:9092 GOSHAWK_TEST_CLICKHOUSE=127.0.0.1:9000
# so `eval "$(scripts/services.sh up)"` works; progress goes to stderr.
#
# Environment:
#   GOSHAWK_CACHE  jar cache, outside the repo (default ~/.cache/goshawk)
#   GOSHAWK_STATE  pids, configs, logs and Kafka's data (default /tmp/goshawk-services)
#   GOSHAWK_KAFKA_PORT / GOSHAWK_KAFKA_CONTROLLER_PORT  (default 9092 / 9093)
#   GOSHAWK_KAFKA_HEAP  broker -Xmx (default 1g)
#   GOSHAWK_CLICKHOUSE_WAIT / GOSHAWK_KAFKA_WAIT  start-up timeouts in seconds (60 / 90)
#
# Kafka's data directory is wiped whenever `up` starts a new broker, so every
# cold start gives the tests an empty cluster. ClickHouse keeps its data in the
# package's /var/lib/clickhouse; tests create their own databases.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# clickhouse-server lives in /usr/sbin, which a non-login PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
pom=$here/kafka/pom.xml
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
CACHE=${GOSHAWK_CACHE:-${HOME:-/root}/.cache/goshawk}
STATE=${GOSHAWK_STATE:-/tmp/goshawk-services}
KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
KAFKA_LIBS=$KAFKA_HOME/libs
KAFKA_HOST=127.0.0.1
KAFKA_PORT=${GOSHAWK_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${GOSHAWK_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_HEAP=${GOSHAWK_KAFKA_HEAP:-1g}
# A fixed cluster id (base64 of 16 bytes, as `StorageTool random-uuid` prints).
KAFKA_CLUSTER_ID=ZfRbcvqnSI6y5BzRzFCeyg
CH_CONFIG=/etc/clickhouse-server/config.xml
CH_HOST=127.0.0.1
CH_PORT=9000
CH_WAIT_SECONDS=${GOSHAWK_CLICKHOUSE_WAIT:-60}
KAFKA_WAIT_SECONDS=${GOSHAWK_KAFKA_WAIT:-90}

log() { printf '%s services: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# port_open HOST PORT: something accepts TCP connections there.
# shellcheck disable=SC2016 # $0 and $1 are the inner shell's
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }

# pid_alive NAME: the process recorded in $STATE/NAME.pid runs and is still
# the program we started (guards against a recycled pid).
pid_alive() {
  local f=$STATE/$1.pid pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  kill -0 "$pid" 2>/dev/null || return 1
  case $1 in
    kafka) grep -qa 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null ;;
    clickhouse) grep -qa 'clickhouse' "/proc/$pid/cmdline" 2>/dev/null ;;
  esac
}

# start_bg NAME LOGFILE CMD...: start CMD in its own session (it survives the
# shell that started it) and record its pid in $STATE/NAME.pid.
start_bg() {
  local name=$1 logfile=$2
  shift 2
  rm -f "$STATE/$name.pid"
  # shellcheck disable=SC2016 # $$, $0 and $@ are the inner shell's
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$STATE/$name.pid" "$@" </dev/null >"$logfile" 2>&1 &
  local i
  for i in $(seq 50); do [[ -s $STATE/$name.pid ]] && return 0; sleep 0.1; done
  die "$name did not start (no pid file)"
}

tail_logs() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    printf -- '--- last lines of %s\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

retry() { # retry N CMD...: run CMD up to N times, 5 s apart
  local n=$1 i
  shift
  for ((i = 1; ; i++)); do
    "$@" && return 0
    ((i < n)) || return 1
    log "attempt $i of '$*' failed; retrying"
    sleep 5
  done
}

# ---------------------------------------------------------------- packages

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $*"
  fi
}

ensure_packages() {
  local need=()
  command -v clickhouse-server >/dev/null || need+=(clickhouse-server)
  command -v clickhouse-client >/dev/null || need+=(clickhouse-client)
  command -v promtool >/dev/null || need+=(prometheus)
  command -v docker-compose >/dev/null || need+=(docker-compose)
  command -v java >/dev/null || need+=(default-jre-headless)
  command -v mvn >/dev/null || need+=(maven)
  [[ -x /usr/bin/chromium ]] || need+=(chromium) # the console's browser test
  ((${#need[@]})) || return 0
  log "installing Debian packages: ${need[*]}"
  retry 3 as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
  # --no-install-recommends: docker-compose would otherwise pull in the
  # Docker engine, prometheus the node exporter.
  retry 3 as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 ||
    die "apt-get install ${need[*]} failed"
}

ensure_kafka_jars() {
  local want have=''
  want=$(sha256sum "$pom" | cut -d' ' -f1)
  [[ -f $KAFKA_HOME/pom.sha256 ]] && have=$(<"$KAFKA_HOME/pom.sha256")
  if [[ $have == "$want" ]] && compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  log "fetching Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS"
  mkdir -p "$KAFKA_HOME"
  # Maven runs on a copy of the pom so that nothing is written into the repo.
  local work
  work=$(mktemp -d "$KAFKA_HOME/fetch.XXXXXX")
  cp "$pom" "$work/pom.xml"
  if ! retry 3 mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1; then
    tail_logs "$work/mvn.log"
    rm -rf "$work"
    die "mvn could not fetch the Kafka jars"
  fi
  rm -rf "$KAFKA_LIBS"
  mv "$work/libs" "$KAFKA_LIBS"
  rm -rf "$work"
  echo "$want" >"$KAFKA_HOME/pom.sha256"
}

# -------------------------------------------------------------- ClickHouse

ch_answers() { timeout 10 clickhouse-client --host "$CH_HOST" --port "$CH_PORT" -q 'select version()' 2>/dev/null; }

ch_logs() {
  local err
  err=$(sed -n 's:.*<errorlog>\(.*\)</errorlog>.*:\1:p' "$CH_CONFIG" | head -n1)
  echo "$STATE/clickhouse/stdout.log" "$err"
}

clickhouse_up() {
  local v
  if pid_alive clickhouse; then
    log "ClickHouse: started earlier by this script (pid $(<"$STATE/clickhouse.pid"))"
  elif port_open "$CH_HOST" "$CH_PORT"; then
    if v=$(ch_answers); then
      log "ClickHouse $v: already running, not started by this script; using it"
      return 0
    fi
    die "something listens on $CH_HOST:$CH_PORT but does not answer as ClickHouse"
  else
    [[ -f $CH_CONFIG ]] || die "$CH_CONFIG is missing (is the clickhouse-server package installed?)"
    mkdir -p "$STATE/clickhouse"
    # The package's config logs to /var/log/clickhouse-server; without an init
    # system nothing else creates it.
    mkdir -p /var/log/clickhouse-server 2>/dev/null || true
    log "ClickHouse: starting (work dir $STATE/clickhouse)"
    (cd "$STATE/clickhouse" && start_bg clickhouse "$STATE/clickhouse/stdout.log" \
      clickhouse-server --config-file="$CH_CONFIG")
  fi
  local deadline=$((SECONDS + CH_WAIT_SECONDS))
  until v=$(ch_answers); do
    if ! pid_alive clickhouse; then
      # shellcheck disable=SC2046
      tail_logs $(ch_logs)
      die "ClickHouse exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      # shellcheck disable=SC2046
      tail_logs $(ch_logs)
      die "ClickHouse did not answer within ${CH_WAIT_SECONDS}s"
    fi
    sleep 0.5
  done
  log "ClickHouse $v: ready on $CH_HOST:$CH_PORT"
}

# ------------------------------------------------------------------- Kafka

# kafka_tool SECONDS CLASS ARGS...: a short-lived JVM running one of Kafka's
# command-line tools, killed after SECONDS.
kafka_tool() {
  local secs=$1
  shift
  timeout "$secs" java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$STATE/kafka/log4j2-tools.xml" \
    -cp "$KAFKA_LIBS/*" "$@"
}

# kafka_answers: the broker answers a metadata request (lists topics).
kafka_answers() {
  kafka_tool 30 org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" --list >/dev/null 2>&1
}

write_kafka_config() {
  local dir=$STATE/kafka
  mkdir -p "$dir"
  cat >"$dir/server.properties" <<EOF
# Written by scripts/services.sh: single-node KRaft (broker + controller) for tests.
node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
controller.quorum.bootstrap.servers=$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
log.dirs=$dir/data
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
EOF
  local f
  for f in log4j2.xml log4j2-tools.xml; do
    local appender='<File name="out" fileName="'$dir'/kafka.log"><PatternLayout pattern="[%d] %p %m (%c)%n"/></File>'
    [[ $f == log4j2-tools.xml ]] && appender='<Console name="out" target="SYSTEM_ERR"><PatternLayout pattern="%p %m%n"/></Console>'
    cat >"$dir/$f" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/services.sh. -->
<Configuration status="WARN">
  <Appenders>
    $appender
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
EOF
  done
}

kafka_up() {
  local dir=$STATE/kafka
  mkdir -p "$dir"
  write_kafka_config
  if pid_alive kafka; then
    log "Kafka: started earlier by this script (pid $(<"$STATE/kafka.pid"))"
  elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    log "Kafka: something already listens on $KAFKA_HOST:$KAFKA_PORT, not started by this script; checking it"
  else
    rm -rf "$dir/data" "$dir/kafka.log"
    log "Kafka $KAFKA_VERSION: formatting storage (KRaft, standalone controller)"
    kafka_tool 60 kafka.tools.StorageTool format --standalone \
      --cluster-id "$KAFKA_CLUSTER_ID" --config "$dir/server.properties" >"$dir/format.log" 2>&1 ||
      { tail_logs "$dir/format.log"; die "formatting Kafka's storage failed"; }
    log "Kafka $KAFKA_VERSION: starting (heap $KAFKA_HEAP, logs in $dir)"
    (cd "$dir" && start_bg kafka "$dir/stdout.log" \
      java -Xms256m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$dir/log4j2.xml" -Dkafka.logs.dir="$dir" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties")
  fi
  local deadline=$((SECONDS + KAFKA_WAIT_SECONDS)) started
  started=$(pid_alive kafka && echo yes || echo no)
  until port_open "$KAFKA_HOST" "$KAFKA_PORT" && kafka_answers; do
    if [[ $started == yes ]] && ! pid_alive kafka; then
      tail_logs "$dir/stdout.log" "$dir/kafka.log"
      die "Kafka exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      tail_logs "$dir/stdout.log" "$dir/kafka.log"
      die "Kafka did not answer a metadata request on $KAFKA_HOST:$KAFKA_PORT within ${KAFKA_WAIT_SECONDS}s"
    fi
    sleep 0.5
  done
  log "Kafka: ready on $KAFKA_HOST:$KAFKA_PORT (metadata answered)"
}

# -------------------------------------------------------------------- down

stop() { # stop NAME: stop the process this script started, if it runs
  local name=$1 pid i
  if ! pid_alive "$name"; then
    rm -f "$STATE/$name.pid"
    log "$name: not running (or not started by this script)"
    return 0
  fi
  pid=$(<"$STATE/$name.pid")
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after 30s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/$name.pid"
}

# ------------------------------------------------------------------ status

status() {
  local ok=0 v
  who() { pid_alive "$1" && echo "started by services.sh, pid $(<"$STATE/$1.pid")" || echo "not started by services.sh"; }
  if v=$(ch_answers); then
    log "ClickHouse $v: up on $CH_HOST:$CH_PORT ($(who clickhouse))"
  else
    log "ClickHouse: down"
    ok=1
  fi
  if [[ -d $KAFKA_LIBS ]] && [[ -f $STATE/kafka/log4j2-tools.xml ]] && port_open "$KAFKA_HOST" "$KAFKA_PORT" && kafka_answers; then
    log "Kafka: up on $KAFKA_HOST:$KAFKA_PORT ($(who kafka))"
  elif port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    log "Kafka: port $KAFKA_HOST:$KAFKA_PORT open ($(who kafka)), metadata not checked or not answered"
    ok=1
  else
    log "Kafka: down"
    ok=1
  fi
  return $ok
}

main() {
  local cmd=${1:-}
  case $cmd in
    up)
      local t0=$SECONDS
      mkdir -p "$STATE"
      ensure_packages
      ensure_kafka_jars
      clickhouse_up
      kafka_up
      log "services up in $((SECONDS - t0))s"
      echo "export GOSHAWK_TEST_KAFKA=$KAFKA_HOST:$KAFKA_PORT GOSHAWK_TEST_CLICKHOUSE=$CH_HOST:$CH_PORT"
      ;;
    down)
      stop kafka
      stop clickhouse
      ;;
    status) status ;;
    *)
      echo "usage: $0 up|down|status" >&2
      exit 2
      ;;
  esac
}

main "$@"
