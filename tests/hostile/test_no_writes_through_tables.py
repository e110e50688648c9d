"""Writes through a table: the explorer never creates or changes a file.

A sqlite `query` is the configuration's to choose, and sqlite runs more than
SELECTs: `VACUUM INTO '/dir/%s'` writes a copy of the database named after
each key, `ATTACH '/dir/%s'` creates an empty database file, although the
database itself is opened read-only. Such queries are refused; the lookup
says so and no file appears.
"""
from __future__ import annotations

import os
import sqlite3

import pytest

from tests.hostile.util import cli, snapshot

WRITING_QUERIES = [
    "VACUUM INTO '{out}/copy-%s'",
    "ATTACH DATABASE '{out}/attached-%s' AS x",
    "SELECT 1 FROM (SELECT 1); ATTACH '{out}/two-%s' AS y",
    "PRAGMA journal_mode = WAL",
    "CREATE TEMP TABLE t_%s (a)",
    "INSERT INTO alias VALUES ('%s', 'x')",
    "UPDATE alias SET goto = 'x' WHERE address = '%s'",
    "DELETE FROM alias WHERE address <> '%s'",
]


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "db" / "mail.sqlite"
    path.parent.mkdir()
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE alias (address TEXT, goto TEXT)")
    c.execute("INSERT INTO alias VALUES ('a@example.org', 'b@example.org')")
    c.commit()
    c.close()
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\n")
    return tmp_path, path, out


@pytest.mark.parametrize("query", WRITING_QUERIES)
def test_writing_queries_are_refused_and_write_nothing(db, query):
    d, path, out = db
    cf = d / "t.cf"
    cf.write_text(f"dbpath = {path}\nquery = {query.format(out=out)}\n")
    before = snapshot(d)
    r = cli("lookup", "--config-dir", str(d), f"sqlite:{cf}", "a@example.org", "k2")
    assert r.rc == 2, r.all
    assert "query refused" in r.err or "SQL query failed" in r.err, r.err
    assert "Traceback" not in r.err
    assert os.listdir(out) == []
    assert snapshot(d) == before


def test_reading_queries_still_work(db):
    d, path, _ = db
    cf = d / "t.cf"
    cf.write_text(f"dbpath = {path}\n"
                  "query = WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) "
                  "SELECT upper(goto) || count(x) FROM alias, c WHERE address = '%s' GROUP BY goto\n")
    r = cli("lookup", "--config-dir", str(d), f"sqlite:{cf}", "a@example.org")
    assert r.rc == 0 and r.out == "B@EXAMPLE.ORG3\n", r.all
