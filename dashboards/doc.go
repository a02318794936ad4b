// Package dashboards holds the Grafana dashboards and provisioning, the Prometheus configuration and rules, and (later) the triage console.
//
// Layout:
//
//	grafana/provisioning/datasources/  data sources with fixed uids "prometheus" and "clickhouse"
//	grafana/provisioning/dashboards/   the dashboards provider and the dashboard JSON files
//	prometheus/prometheus.yml          scrape configuration; *rules*.yml beside it are loaded as rules
//	prometheus/tests/                  promtool rule unit tests (run by scripts/test.sh)
//	clickhouse/initdb/                 first-start scripts of the ClickHouse container (read-only grafana user)
//
// compose_test.go checks that docker-compose.yml, this directory and the
// goshawk binary's flags agree with each other.
package dashboards
