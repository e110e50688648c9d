"""Lookup tables without Postfix: the interface contract (never raise,
status values, paging, secrets, diagnostics naming file and line).
Postfix's own answers are checked in tests/oracle/test_postmap_*.py."""
from __future__ import annotations

import os

import pytest

from tui.core.tables import Entry, LookupResult, TableStatus, open_table


@pytest.mark.parametrize("spec", [
    "", "nocolon", "hash:", "hash:/nonexistent/x", "texthash:/nonexistent", "regexp:/nonexistent",
    "pcre:/nonexistent", "cidr:/nonexistent", "mysql:/nonexistent.cf", "sqlite:/nonexistent.cf",
    "bogus:x", "inline:{", "inline:{}", "inline:{ novalue }", "static:", "static:{oops", "fail:",
    "proxy:", "proxy:hash:/nonexistent", "unix:nosuch.byname", "mysql:relative_name",
])
def test_open_table_never_raises_and_lookups_return_errors(spec):
    t = open_table(spec)
    assert isinstance(t.status, TableStatus)
    assert t.status.state in ("unreadable", "not evaluated")
    assert t.status.message
    r = t.lookup("key@example.com")
    assert isinstance(r, LookupResult)
    assert not r.found and r.error
    assert t.entries(0, 10) == []
    t.close()


@pytest.mark.parametrize("type_", ["ldap", "pgsql", "memcache", "socketmap", "tcp", "nis"])
def test_types_we_cannot_evaluate_say_so(type_):
    t = open_table(f"{type_}:/etc/postfix/whatever.cf")
    assert t.evaluable is False
    assert t.status.state == "not evaluated"
    r = t.lookup("x")
    assert not r.found and "not evaluated" in r.error


def test_proxy_is_unwrapped_to_the_inner_type(tmp_path):
    src = tmp_path / "access"
    src.write_text("example.com OK\n")
    t = open_table(f"proxy:texthash:{src}")
    assert t.type == "texthash" and t.spec == f"proxy:texthash:{src}"
    assert t.lookup("EXAMPLE.com").value == "OK"


def test_is_pattern():
    assert open_table("cidr:{ {1.2.3.4 x} }").is_pattern
    assert open_table("regexp:{ {/x/ y} }").is_pattern
    assert open_table("pcre:{ {/x/ y} }").is_pattern
    assert not open_table("inline:{a=b}").is_pattern
    assert not open_table("static:x").is_pattern


def _touch(path, when):
    os.utime(path, (when, when))


def test_compiled_file_without_source_is_unreadable(tmp_path):
    (tmp_path / "access.db").write_bytes(b"")
    t = open_table(f"hash:{tmp_path / 'access'}")
    assert t.status.state == "unreadable"
    assert "source" in t.status.message


def test_where_names_file_and_line(tmp_path):
    src = tmp_path / "access"
    src.write_text("# comment\n\nfirst.example OK\nsecond.example REJECT go\n  away\n")
    t = open_table(f"texthash:{src}")
    r = t.lookup("second.example")
    assert r.found and r.where == f"{src}:4" and r.key == "second.example"
    assert t.count() == 2


def test_entries_page_and_search(tmp_path):
    src = tmp_path / "big"
    with open(src, "w") as fh:
        for i in range(10_000):
            fh.write(f"host{i}.example  value{i}\n")
    t = open_table(f"texthash:{src}")
    assert t.count() == 10_000
    page = t.entries(5000, 3)
    assert page == [Entry("host5000.example", "value5000", 5001),
                    Entry("host5001.example", "value5001", 5002),
                    Entry("host5002.example", "value5002", 5003)]
    assert t.entries(9_999, 10) == [Entry("host9999.example", "value9999", 10_000)]
    assert t.entries(20_000, 10) == []
    hits = t.entries(0, 100, search="value123")
    assert [e.key for e in hits][:2] == ["host123.example", "host1230.example"]
    assert len(t.entries(1, 100, search="value123")) == len(hits) - 1


def test_diagnostics_for_bad_lines_name_file_and_line(tmp_path):
    src = tmp_path / "access"
    src.write_text("  leading x\nok.example OK\nnovalue\nok.example second\n")
    t = open_table(f"texthash:{src}")
    t.count()  # loading is lazy
    lines = sorted((d.line, d.message.split(":")[0]) for d in t.status.diagnostics)
    assert [ln for ln, _ in lines] == [1, 3, 4]
    assert all(d.path == str(src) for d in t.status.diagnostics)


def test_untranslatable_pcre_pattern_is_an_error_naming_file_and_line(tmp_path):
    src = tmp_path / "checks.pcre"
    src.write_text("/^ok$/ fine\n/(?|(a)|(b))/ branch-reset\n/^(?R)?x/ recursion\n/after/ still-works\n")
    t = open_table(f"pcre:{src}")
    errors = [d for d in t.status.diagnostics if d.severity == "error"]
    assert [d.line for d in errors] == [2, 3]
    assert all(d.path == str(src) for d in errors)
    assert "cannot be evaluated" in errors[0].message
    assert t.lookup("after").value == "still-works"
    assert "could not be translated" in t.status.message


def test_lookup_never_raises_on_odd_keys(tmp_path):
    src = tmp_path / "r"
    src.write_text("/^(.*)$/ got $1\n")
    for spec in (f"regexp:{src}", f"pcre:{src}", "cidr:{ {::/0 v6} }", f"texthash:{src}", "inline:{a=b}"):
        t = open_table(spec)
        for key in ("", "\udcff\udcfe", "x" * 10000, "\x00", "a\nb", "é@ü"):
            r = t.lookup(key)
            assert r.error is None, (spec, key, r.error)


SECRET = "Pw'q\"b\\s%Secret123"


def test_mysql_password_never_shown(tmp_path):
    cf = tmp_path / "m.cf"
    # port 1 on loopback refuses at once: a quick connection error
    cf.write_text(f"hosts = inet:127.0.0.1:1\nuser = someone\npassword = {SECRET}\n"
                  "dbname = db\nquery = SELECT '%s'\n")
    t = open_table(f"mysql:{cf}")
    assert t.status.state == "ok"
    r = t.lookup("x@example.com")
    assert not r.found and r.error and "127.0.0.1" in r.error
    texts = [repr(t), str(t), repr(t.status), str(t.status), r.error, repr(r), repr(vars(t)),
             t.status.message] + [str(d) for d in t.status.diagnostics]
    for text in texts:
        assert SECRET not in text
        assert "Secret123" not in text
    t.close()


def test_mysql_error_text_is_scrubbed(tmp_path):
    from tui.core.tables.mysql import MysqlTable
    cf = tmp_path / "m.cf"
    cf.write_text(f"hosts = inet:127.0.0.1:1\nuser = u\npassword = {SECRET}\ndbname = db\nquery = SELECT 1\n")
    t = open_table(f"mysql:{cf}")
    assert isinstance(t, MysqlTable)
    assert SECRET not in t._scrub(f"server said: {SECRET}")


def test_sqlite_opens_read_only(tmp_path):
    import sqlite3
    db = tmp_path / "x.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (k TEXT, v TEXT)")
    con.execute("INSERT INTO t VALUES ('a', 'b')")
    con.commit()
    con.close()
    cf = tmp_path / "s.cf"
    cf.write_text(f"dbpath = {db}\nquery = DELETE FROM t WHERE k = '%s'\n")
    t = open_table(f"sqlite:{cf}")
    r = t.lookup("a")
    assert r.error and "readonly" in r.error.replace("-", "").replace(" ", "").lower()
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1


def test_unix_passwd_says_it_reads_this_host():
    t = open_table("unix:passwd.byname")
    assert "THIS host" in t.status.message
    r = t.lookup("root")
    assert r.found and r.value.startswith("root:")


def test_sqlite_quoting_round_trips():
    """sqlite_quote() makes any text a string literal that returns itself."""
    import sqlite3
    from hypothesis import given, settings, strategies as st
    from tui.core.tables.sql import sqlite_quote

    db = sqlite3.connect(":memory:")

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
    def roundtrip(s):
        assert db.execute("SELECT '" + sqlite_quote(s) + "'").fetchone() == (s,)

    roundtrip()


def test_a_malformed_password_line_is_not_echoed(tmp_path):
    cf = tmp_path / "m.cf"
    cf.write_text(f"hosts = 127.0.0.1\nuser = u\npassword: {SECRET}\ndbname = db\nquery = SELECT 1\n")
    t = open_table(f"mysql:{cf}")
    texts = [str(d) for d in t.status.diagnostics] + [t.status.message, repr(t)]
    assert t.status.diagnostics and all("Secret123" not in x for x in texts)
