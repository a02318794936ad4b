#!/bin/bash
# Runs once, on an empty data directory, in the clickhouse/clickhouse-server
# image (/docker-entrypoint-initdb.d): creates `grafana`, the read-only user of
# Grafana's ClickHouse data source. It is granted SELECT on the goshawk
# database and nothing else (readonly = 2 lets Grafana set query settings but
# not write).
#
# Needs CLICKHOUSE_USER/CLICKHOUSE_PASSWORD of an admin with access management
# (CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT=1), CLICKHOUSE_DB, and
# GRAFANA_CLICKHOUSE_PASSWORD; docker-compose.yml sets them all. No `set -u` or
# `exit`: the entrypoint sources this file instead of running it when the
# executable bit is lost.
clickhouse client --host 127.0.0.1 \
  --user "${CLICKHOUSE_USER:-default}" --password "${CLICKHOUSE_PASSWORD:-}" \
  --multiquery --query "
CREATE USER IF NOT EXISTS grafana
  IDENTIFIED WITH sha256_password BY '${GRAFANA_CLICKHOUSE_PASSWORD:?GRAFANA_CLICKHOUSE_PASSWORD is not set}'
  SETTINGS readonly = 2;
GRANT SELECT ON ${CLICKHOUSE_DB:-goshawk}.* TO grafana;
"
