#!/usr/bin/env bash
# The project's test command (`make test`, and what CI's .ci/run executes).
#
# Starts the real services (scripts/services.sh up: ClickHouse and Kafka,
# installing them on a bare Debian machine), then runs, in this order:
#   gofmt, go vet, the static build the Dockerfile makes, promtool (Prometheus
#   config and rules), a short fuzz run of every Fuzz* target, and last the
#   whole test suite with GOSHAWK_INTEGRATION=1 (so go test's own summary lines
#   close the output).
# Every step runs even when an earlier one fails; the script exits non-zero if
# any failed. The services are left running for the next run.
#
# Environment:
#   GOSHAWK_TEST_RACE=0        run go test without -race (default: with)
#   GOSHAWK_FUZZTIME=10s       how long each fuzz target runs (0 or "off": skip fuzzing)
#   GOSHAWK_TEST_TIMEOUT=20m   go test -timeout
#   GOSHAWK_TEST_KAFKA / GOSHAWK_TEST_CLICKHOUSE override the service addresses
#   (services.sh is still run, so the defaults are up).
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
        # Minimising a new input may take up to a minute by default, during
        # which the fuzzer runs nothing else; keep it short.
        go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s "./${dir#./}" ||
          fail "fuzz $name (./${dir#./}); a failing input was written under ${dir#./}/testdata/fuzz/$name"
      done < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file")
    done < <(find . \( -type d \( -name '.?*' -o -name '_*' -o -name testdata -o -name vendor \) -prune \) \
      -o \( -type f -name '*_test.go' -print0 \) | LC_ALL=C sort -z | xargs -0 -r grep -l '^func Fuzz')
  fi

  step "go test (integration, race=${race})"
  args=(-count=1 -timeout "$timeout")
  if [[ $race == 1 ]]; then
    if [[ $(go env CGO_ENABLED) == 1 ]] && command -v "$(go env CC)" >/dev/null; then
      args+=(-race)
    else
      echo "note: -race needs cgo and a C compiler; running without it"
    fi
  fi
  go test "${args[@]}" ./... || fail "go test"

  # Nothing is printed after go test's own lines when all is well.
  if ((${#failed[@]})); then
    printf '\n=== %d step(s) FAILED after %ds:\n' ${#failed[@]} $((SECONDS - t0))
    printf '  - %s\n' "${failed[@]}"
    exit 1
  fi
}

main "$@"
exit
