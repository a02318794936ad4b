// Package dashboards holds what operators and analysts look at: the Grafana
// dashboards and provisioning, the Prometheus configuration and alert rules,
// and the triage console (sub-package console).
//
// Layout:
//
//	grafana/dashboards/                the dashboard JSON files (safety overview, conversation drill-down, pipeline operations)
//	grafana/provisioning/datasources/  data sources with fixed uids "prometheus" and "clickhouse"
//	grafana/provisioning/dashboards/   the dashboards provider (reads /etc/grafana/dashboards in the container)
//	prometheus/prometheus.yml          scrape configuration and rule_files
//	prometheus/alerts.yml              alert rules; alerts_test.yml holds their promtool unit tests
//	clickhouse/initdb/                 first-start scripts of the ClickHouse container (read-only grafana user)
//	console/                           the triage console served by goshawk run, demo and console
//
// The tests here check that docker-compose.yml, these files and the goshawk
// binary agree: every dashboard query runs against a real ClickHouse with
// seeded flags, every PromQL expression names only exported metrics, and the
// alert rules pass promtool's checks and unit tests.
package dashboards
