# Day-to-day entry points; scripts/test.sh is the one test command (CI runs it).
GO ?= go

.PHONY: test demo build bench lint services-up services-down services-status

## test: start ClickHouse and Kafka if needed, then gofmt, vet, promtool, fuzz, go test -race
test:
	scripts/test.sh

## demo: the whole pipeline on this machine (embedded Kafka, SQLite), nothing to install
demo:
	$(GO) run ./cmd/goshawk demo

## build: a static binary in bin/goshawk
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/goshawk ./cmd/goshawk

## bench: goshawk bench against the local Kafka and ClickHouse (make services-up first): a bare
## consumer vs goshawk run, latency at 5,000 msg/s, replay on one core; BENCH_ARGS adds flags
BENCH_BROKERS ?= 127.0.0.1:9092
BENCH_CLICKHOUSE ?= 127.0.0.1:9000
bench: build
	bin/goshawk bench --brokers $(BENCH_BROKERS) --clickhouse-addr $(BENCH_CLICKHOUSE) $(BENCH_ARGS)

## lint: the static checks of scripts/test.sh, without services or tests
lint:
	@out="$$(find . \( -type d \( -name '.?*' -o -name testdata -o -name vendor \) -prune \) -o \( -type f -name '*.go' -print0 \) | xargs -0 -r gofmt -l)"; \
	if [ -n "$$out" ]; then echo "not gofmt-formatted (run gofmt -w):"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	promtool check config dashboards/prometheus/prometheus.yml
	docker-compose -f docker-compose.yml config -q

## services-up / services-down / services-status: the real ClickHouse and Kafka (scripts/services.sh)
services-up:
	scripts/services.sh up

services-down:
	scripts/services.sh down

services-status:
	scripts/services.sh status
