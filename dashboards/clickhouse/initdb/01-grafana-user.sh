#!/bin/bash
# Runs once, on an empty data directory, in the clickhouse/clickhouse-server
# image (/docker-entrypoint-initdb.d): creates `grafana`, the read-only user of
# Grafana's ClickHouse data source. It is granted SELECT on the metadata
# columns of flags and verdicts and nothing else (readonly = 2 lets Grafana
# set query settings but not write): not flags.evidence or
# flags.evidence_key_id, not verdicts.note (analysts may quote a message), and
# not the evidence_access audit table. Grafana shows counts and metadata;
# evidence is read in the triage console only. dashboards/privacy_test.go
# checks that no dashboard query needs more. Grants on tables that migrate
# creates later are accepted and apply once they exist.
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
GRANT SELECT(flag_id, message_id, conversation_id, sender_id, recipient_ids, category, detector, rule, rule_version, mode,
  severity, score, sent_at, detected_at, inserted_at) ON ${CLICKHOUSE_DB:-goshawk}.flags TO grafana;
GRANT SELECT(flag_id, verdict, analyst, decided_at) ON ${CLICKHOUSE_DB:-goshawk}.verdicts TO grafana;
"
