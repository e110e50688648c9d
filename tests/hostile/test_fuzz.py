"""Fuzz every grammar and reader with hostile text: the only exceptions
allowed out are the project's own (ExplorerError and subclasses); table
readers and lookups must not raise at all (errors are values there).

Bounded for CI: each test has a fixed max_examples and no deadline; the
whole file runs in well under a minute on one core.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.model import ExplorerError

FUZZ = settings(max_examples=int(os.environ.get("PFX_FUZZ_EXAMPLES", "120")), deadline=None,
                derandomize=not os.environ.get("PFX_FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
FEW = settings(FUZZ, max_examples=60)

# Characters that mean something to one of the grammars, plus the nasty ones.
SPECIAL = list("$(){}[]=,:;#\\/\"'%!<>@.*+?|^ \t\n\r\v\f-") + ["\x00", "\x7f", "\udcff", "\udc80",
                                                                "é", "日", "\u2028", "\ufeff"]
WORDS = ["main.cf", "smtpd", "inet", "unix", "-o", "n", "y", "-", "${", "$(", "$", "{", "}",
         "myhostname", "mydomain", "smtpd_recipient_restrictions", "check_sender_access",
         "hash:/etc/postfix/x", "inline:{", "regexp:", "if", "endif", "!", "/^a(b|c)$/", "REJECT",
         "OK", "192.0.2.0/24", "2001:db8::/32", "[::1]", "=", "==", "!=", "<", "{a=b}", "${a?{x}:{y}}",
         "${a != {1}?{x}}", "$a", "$b", "$$", "\\", "\\\\", "%s", "%u", "%d", "%1", "%9", "%%", "query",
         "hosts", "password", "dbname", "dbpath", "result_format", "domain", "expansion_limit"]

token = st.one_of(st.sampled_from(SPECIAL), st.sampled_from(WORDS),
                  st.text(min_size=1, max_size=6))
hostile_text = st.one_of(
    st.lists(token, max_size=40).map("".join),
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")),
)
hostile_lines = st.lists(hostile_text, max_size=12).map("\n".join)


def allowed(fn, *args, **kw):
    """Call fn; only ExplorerError may escape."""
    try:
        return fn(*args, **kw)
    except ExplorerError:
        return None


@pytest.fixture(scope="module")
def scratch():
    d = Path(tempfile.mkdtemp(prefix="pfx-fuzz-"))
    yield d
    import shutil

    shutil.rmtree(d, ignore_errors=True)


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


# ----------------------------------------------------------------------
# main.cf / master.cf / expansion

@FUZZ
@given(hostile_lines)
def test_main_cf_and_expansion(text):
    from tui.core.config import parse_main_cf

    diags: list = []
    allowed(parse_main_cf, text, "/fuzz/main.cf", diags)
    for d in diags:
        str(d)


@FUZZ
@given(hostile_lines, hostile_lines)
def test_whole_config_with_expansion(scratch, main_text, master_text):
    from tui.core.config import load_config

    _write(scratch / "main.cf", main_text)
    _write(scratch / "master.cf", master_text)
    cfg = allowed(load_config, scratch, hostname="fuzz.example")
    if cfg is None:
        return
    for d in cfg.diagnostics:
        str(d)
    views = [cfg.params()] + [allowed(cfg.params, s) for s in cfg.services[:3]]
    for view in views:
        if view is None:
            continue
        for name in view.names(explicit_only=True)[:20]:
            view.raw(name)
            allowed(view.expand, name)
            allowed(view.expand_errors, name)
            allowed(view.get_list, name)
            view.source(name)
    cfg.explicit_names()


@FUZZ
@given(hostile_text, st.dictionaries(st.sampled_from(["a", "b", "c", "x", "myhostname"]),
                                     hostile_text, max_size=5))
def test_mac_expand(pattern, values):
    from tui.core.expand import mac_expand, referenced_names

    res = allowed(mac_expand, pattern, values.get)
    if res is not None:
        assert isinstance(res.value, str)
    allowed(referenced_names, pattern)


def test_deep_nesting_and_loops_are_errors_not_crashes():
    from tui.core.expand import mac_expand

    deep = "${a?" * 5000 + "x" + "}" * 5000
    r = mac_expand(deep, {"a": "1"}.get)
    assert isinstance(r.value, str)
    loop = {"a": "$b", "b": "${c}", "c": "$(a)"}
    r = mac_expand("$a", loop.get)
    assert r.errors and "nesting" in r.errors[0]


# ----------------------------------------------------------------------
# log lines

LOG_PREFIX = ("May 11 09:06:42 gabble postfix/smtpd[8390]: NOQUEUE: reject: RCPT from "
              "localhost[127.0.0.1]: 554 5.7.1 <a@b.test>: Relay access denied; ")


@FUZZ
@given(st.one_of(hostile_text, hostile_text.map(lambda t: LOG_PREFIX + t),
                 hostile_text.map(lambda t: LOG_PREFIX[:len(t) % len(LOG_PREFIX)] + t)))
def test_log_line(text):
    from tui.core.analysis.maillog import LogLineError
    from tui.core.analysis.maillog import parse_line as parse_log_line

    try:
        ll = parse_log_line(text)
    except LogLineError as exc:
        str(exc)
        return
    ll.transaction()


# ----------------------------------------------------------------------
# table readers: never raise, not even ExplorerError


def _exercise(table, keys):
    st_ = table.status
    str(st_)
    for d in st_.diagnostics:
        str(d)
    repr(table)
    for k in keys:
        r = table.lookup(k)
        assert r.found in (True, False)
    table.count()
    table.entries(0, 5)
    table.entries(0, 5, search=keys[0] if keys else "a")
    table.close()


keys = st.lists(hostile_text, min_size=1, max_size=3)


@FUZZ
@given(hostile_lines, keys, st.sampled_from(["texthash", "hash", "lmdb", "cdb"]))
def test_indexed_source(scratch, text, ks, type_):
    from tui.core.tables import open_table

    p = scratch / f"map-{type_}"
    _write(p, text)
    _exercise(open_table(f"{type_}:{p}"), ks)


@FUZZ
@given(hostile_lines, keys, st.sampled_from(["regexp", "pcre"]))
def test_regexp_pcre(scratch, text, ks, type_):
    from tui.core.tables import open_table

    p = scratch / f"map.{type_}"
    _write(p, text)
    _exercise(open_table(f"{type_}:{p}"), ks)


pattern_line = st.tuples(st.sampled_from(["/", "!/", "if /", "if !/", "endif", "#", " ", ""]),
                         hostile_text, st.sampled_from(["/", "/i", "/x", "/m", "/s", "/U", "/X", "/zz", ""]),
                         st.sampled_from([" OK", " REJECT $1", " ${1}x", " $", " $9", "", " DUNNO ${"]),
                         ).map("".join)


@FUZZ
@given(st.lists(pattern_line, max_size=8).map("\n".join), keys, st.sampled_from(["regexp", "pcre"]))
def test_regexp_pcre_shaped(scratch, text, ks, type_):
    from tui.core.tables import open_table

    p = scratch / f"shaped.{type_}"
    _write(p, text)
    _exercise(open_table(f"{type_}:{p}"), ks)


cidr_line = st.tuples(st.sampled_from(["", "!", "if ", "if !", "endif", "["]),
                      st.one_of(st.ip_addresses().map(str), hostile_text),
                      st.sampled_from(["", "/0", "/8", "/33", "/129", "/-1", "/x", "]", "/24]"]),
                      st.sampled_from([" OK", " REJECT", "", "\tx y z"])).map("".join)


@FUZZ
@given(st.lists(st.one_of(cidr_line, hostile_text), max_size=8).map("\n".join),
       st.lists(st.one_of(st.ip_addresses().map(str), hostile_text), min_size=1, max_size=3))
def test_cidr(scratch, text, ks):
    from tui.core.tables import open_table

    p = scratch / "map.cidr"
    _write(p, text)
    _exercise(open_table(f"cidr:{p}"), ks)


@FUZZ
@given(hostile_text, keys, st.sampled_from(["inline", "static", "fail", "proxy:inline", "unix", "proxy:proxy"]))
def test_inline_static_spec(text, ks, type_):
    from tui.core.tables import open_table

    spec = f"{type_}:{{{text}}}" if type_.endswith("inline") else f"{type_}:{text}"
    _exercise(open_table(spec), ks)


@FUZZ
@given(hostile_text)
def test_any_spec(text):
    from tui.core.tables import open_table

    _exercise(open_table(text), ["x"])


cf_line = st.tuples(st.sampled_from(["hosts", "user", "password", "dbname", "query", "result_format",
                                     "domain", "expansion_limit", "select_field", "table", "where_field",
                                     "additional_conditions", "dbpath", "tls_cert_file", " ", "#", ""]),
                    st.sampled_from([" = ", "=", " ", " == "]),
                    hostile_text).map("".join)


@FUZZ
@given(st.lists(st.one_of(cf_line, hostile_text), max_size=10).map("\n".join),
       st.sampled_from(["mysql", "sqlite", "pgsql", "proxy:mysql"]))
def test_sql_cf_reading(scratch, text, type_):
    """.cf parsing for SQL tables. No lookups here: they would connect; the
    query templates are exercised by test_sql_templates."""
    from tui.core.tables import open_table
    from tui.core.tables.sql import read_cf

    p = scratch / "db.cf"
    _write(p, text)
    read_cf(str(p))
    t = open_table(f"{type_}:{p}")
    str(t.status)
    repr(t)
    for d in t.status.diagnostics:
        str(d)
    t.close()


@FUZZ
@given(hostile_text, hostile_text, hostile_text)
def test_sql_templates(query, result_format, key):
    from tui.core.tables.sql import Template, expand_query, expand_result, mysql_quote, sqlite_quote

    q = Template(query, is_query=True)
    rf = Template(result_format, is_query=False)
    for quote in (mysql_quote, sqlite_quote):
        if not q.errors:
            expand_query(q, key, quote)
    if not rf.errors:
        expand_result(rf, key, key)


@FEW
@given(st.lists(st.one_of(cf_line, hostile_text), max_size=8).map("\n".join), keys)
def test_sqlite_table_lookups(scratch, text, ks):
    """sqlite tables with hostile .cf and keys against a real (read-only) file."""
    import sqlite3

    from tui.core.tables import open_table

    db = scratch / "t.sqlite"
    if not db.exists():
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE t (k TEXT, v TEXT)")
        con.execute("INSERT INTO t VALUES ('a', 'b')")
        con.commit()
        con.close()
    before = db.read_bytes()
    p = scratch / "sq.cf"
    _write(p, f"dbpath = {db}\n" + text)
    _exercise(open_table(f"sqlite:{p}"), ks)
    assert db.read_bytes() == before
