#!/usr/bin/env python3
"""Run Goshawk's ClickHouse query catalog on a current ClickHouse engine.

CI's real server is Debian's ClickHouse 18.16; users run current releases.
chDB (PyPI chdb-core) is the current ClickHouse engine in-process. This
script takes the catalog that the Go tests write (GOSHAWK_SQL_CATALOG=dir
go test -run 'TestQueryCatalog|TestGrafanaQueryCatalog' ./sinks/clickhouse
./dashboards):

  sinks-<server version>.jsonl  every migration and every statement of the
                                sink and the console store, as the Go code
                                issues them for that server version
  grafana.jsonl                 every ClickHouse query of the Grafana
                                dashboards, macros expanded

and runs, for each sinks file, its statements in order in a database of its
own (the 18.16 schema as an upgraded server holds it, and the schema a
current server gets), then every Grafana query against each of those
databases. Batch INSERTs (whose rows travel as native blocks, not SQL) are
run with a few generated rows for their column list, so that the queries
after them read data. Any statement that fails is printed with where it
comes from, and the exit status is 1.

Usage: chcompat.py CATALOG_DIR
"""

import glob
import json
import os
import re
import sys

from chdb import session

CATALOG_DB = "goshawk_compat"
INSERT_RE = re.compile(r"^\s*INSERT\s+INTO\s+(\S+)\s*\(([^)]*)\)\s*$", re.I | re.S)


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def rename(sql, db):
    return sql.replace("`%s`" % CATALOG_DB, "`%s`" % db).replace("'%s'" % CATALOG_DB, "'%s'" % db)


def column_types(sess, table):
    """Name -> type of table's columns, from DESCRIBE TABLE."""
    out = {}
    res = sess.query("DESCRIBE TABLE %s" % table, "JSONEachRow")
    for line in res.bytes().decode().splitlines():
        if line.strip():
            row = json.loads(line)
            out[row["name"]] = row["type"]
    return out


def insert_sql(sess, stmt):
    """A runnable INSERT for a batch insert statement: its table and column
    list, with rows from generateRandom of the columns' types."""
    m = INSERT_RE.match(stmt)
    if not m:
        return stmt  # a complete INSERT ... VALUES/SELECT: run as it is
    table, cols = m.group(1), [c.strip() for c in m.group(2).split(",")]
    types = column_types(sess, table)
    missing = [c for c in cols if c not in types]
    if missing:
        raise RuntimeError("columns %s are not in %s" % (", ".join(missing), table))
    structure = ", ".join("%s %s" % (c, types[c]) for c in cols).replace("'", "\\'")
    return "INSERT INTO %s (%s) SELECT * FROM generateRandom('%s', 1, 16, 4) LIMIT 5" % (
        table, ", ".join(cols), structure)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    catalog = argv[1]
    sinks = sorted(glob.glob(os.path.join(catalog, "sinks-*.jsonl")))
    grafana_path = os.path.join(catalog, "grafana.jsonl")
    if not sinks or not os.path.exists(grafana_path):
        print("chcompat: catalog %s lacks sinks-*.jsonl or grafana.jsonl" % catalog, file=sys.stderr)
        return 1
    grafana = load(grafana_path)

    sess = session.Session()
    version = sess.query("SELECT version()", "TabSeparated").bytes().decode().strip()
    print("chcompat: ClickHouse %s (chDB), catalog %s" % (version, catalog))
    failures, ran = [], 0

    def run(where, sql):
        nonlocal ran
        ran += 1
        try:
            sess.query(sql, "Null")
        except Exception as e:  # chDB raises its own error types
            failures.append((where, sql, str(e).splitlines()[0]))

    for path in sinks:
        schema = os.path.basename(path)[len("sinks-"):-len(".jsonl")]
        db = "%s_%s" % (CATALOG_DB, re.sub(r"\W", "_", schema))
        entries = load(path)
        for e in entries:
            sql = rename(e["sql"], db)
            where = "%s schema: %s (%s)" % (schema, e["source"], e["kind"])
            if e["kind"] == "insert":
                try:
                    sql = insert_sql(sess, sql)
                except Exception as err:
                    failures.append((where, sql, str(err).splitlines()[0]))
                    continue
            run(where, sql)
        # The dashboards' queries name tables without a database.
        run("%s schema: USE" % schema, "USE `%s`" % db)
        for e in grafana:
            run("%s schema: %s" % (schema, e["source"]), e["sql"])
        print("chcompat: %s schema (%s): %d sink statements, %d dashboard queries" % (
            schema, db, len(entries), len(grafana)))

    for where, sql, err in failures:
        print("\nFAIL %s\n  %s\n  %s" % (where, err, " ".join(sql.split())[:600]))
    print("\nchcompat: %d statements run on ClickHouse %s, %d failed" % (ran, version, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
