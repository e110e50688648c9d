"""Differential tests: mysql: and sqlite: tables against the real postmap.

A PostfixAdmin-shaped database (tests/sql/postfixadmin_schema.sql + data)
is created in the MariaDB server under a unique name for this test session
and dropped afterwards; the tables log in as a user with SELECT only and a
password, over TCP (127.0.0.1:3306) and over the server's UNIX socket. The
same rows go into a SQLite file for sqlite: tables. For PostfixAdmin's
reference queries and for queries exercising every expansion rule, our
lookup must print exactly what `postmap -c DIR -q - mysql:FILE.cf` does.
"""
from __future__ import annotations

import os
import re
import secrets
import sqlite3
import subprocess

import pytest

from tests.conftest import need_mariadb, need_postfix
from tests.oracle.test_postmap_support import (
    ERROR, FIXTURES, SQL_DIR, diff, make_config_dir, ours_batch, postmap_batch, postmap_bin, postmap_one,
    settle, view_for,
)

pytestmark = [pytest.mark.oracle, pytest.mark.mysql]

SOCKET = "/run/mysqld/mysqld.sock"

KEYS = [
    # plain hits, case, inactive rows
    "alice@example.com", "ALICE@Example.COM", "bob@example.com", "gone@example.com",
    "old@example.com", "sales@example.com", "info@example.com", "postmaster@example.com",
    "carol@example.net", "list@example.net", "dave@inactive.example",
    # domains, parent domains (not the table's business), backup MX
    "example.com", "EXAMPLE.COM", "example.net", "inactive.example", "backup.example",
    "oldbackup.example", "sub.example.com", "x.example.com", "com", "all", "ALL",
    # catch-alls and alias domains
    "@example.net", "nobody@example.net", "@inactive.example", "x@inactive.example",
    "alice@alias.example", "Sales@Alias.Example", "nobody@alias.example", "@alias.example",
    "alice@deadalias.example", "carol@net-alias.example", "whoever@net-alias.example",
    # awkward keys: quotes, backslashes, %, delimiter, empty parts, no @
    "o'brien@example.com", "O'Brien@example.com", "o''brien@example.com",
    "back\\slash@example.com", "back\\\\slash@example.com", "100%@example.com", "100%%@example.com",
    "%@example.com", "%s@example.com", "%d", "user+tag@example.com", "user@example.com",
    "alice+foo@example.com", '"quoted"@example.com', "a\"b@example.com", "x' OR '1'='1",
    "x\\' OR 1=1 -- @example.com", "@", "user@", "nodomain", "postmaster", "",
    "a@b@example.com", "alice@example.com.", ".example.com",
    # IPv6 and addresses
    "2001:db8::1", "[2001:db8::1]", "1.2.3.4", "user@[1.2.3.4]",
    # many labels for %1..%9
    "u@a.b.c.d.e.f.g.h.i.example", "u@one", "u@two.labels",
]


# Non-ASCII keys: PostfixAdmin's latin1 columns meet Postfix's utf8mb4
# connection, and MariaDB refuses the comparison ("Illegal mix of
# collations"): a temporary lookup error in Postfix, and in ours. Each such
# postmap error costs a second, so these keys run against fewer tables.
NON_ASCII_KEYS = ["jösé@example.com", "JÖSÉ@EXAMPLE.COM", "jose@example.com", "ŝ@example.com",
                  "日本@example.com", "straße@example.com", "x@bücher.example"]


def _mariadb(sql: str, db: str | None = None) -> str:
    cmd = ["mariadb", "-uroot", "--batch", "--skip-column-names"] + ([db] if db else [])
    r = subprocess.run(cmd, input=sql.encode(), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode()


@pytest.fixture(scope="session")
def pfa():
    """(dbname, user, password) of a fresh PostfixAdmin database."""
    need_postfix()
    need_mariadb()
    tag = f"{os.getpid()}_{secrets.token_hex(3)}"
    db = f"pfxtest_{tag}"
    user = f"pfxro_{tag}"[:32]
    # a password with characters that must survive the .cf and never leak
    password = "Pw'q\"b\\s%" + secrets.token_hex(6)
    sqlpw = password.replace("\\", "\\\\").replace("'", "\\'")
    _mariadb(f"CREATE DATABASE `{db}` CHARACTER SET latin1 COLLATE latin1_general_ci;")
    try:
        _mariadb((SQL_DIR / "postfixadmin_schema.sql").read_text(), db)
        _mariadb((SQL_DIR / "postfixadmin_data.sql").read_text(encoding="utf-8"), db)
        for host in ("localhost", "127.0.0.1"):
            _mariadb(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{sqlpw}';"
                     f"GRANT SELECT ON `{db}`.* TO '{user}'@'{host}';")
        yield db, user, password
    finally:
        _mariadb(f"DROP DATABASE IF EXISTS `{db}`;")
        for host in ("localhost", "127.0.0.1"):
            _mariadb(f"DROP USER IF EXISTS '{user}'@'{host}';")


@pytest.fixture(scope="session")
def pfa_sqlite(tmp_path_factory):
    """The same rows in a SQLite file (PostfixAdmin's columns, no MySQL-isms)."""
    need_postfix()
    path = tmp_path_factory.mktemp("sqlite") / "postfixadmin.db"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE domain (domain TEXT PRIMARY KEY, description TEXT, aliases INT, mailboxes INT,
            maxquota INT, quota INT, transport TEXT, backupmx INT, created TEXT DEFAULT '2000-01-01 00:00:00',
            modified TEXT DEFAULT '2000-01-01 00:00:00', active INT DEFAULT 1);
        CREATE TABLE mailbox (username TEXT PRIMARY KEY, password TEXT, name TEXT, maildir TEXT,
            quota INT, local_part TEXT, domain TEXT, created TEXT DEFAULT '2000-01-01 00:00:00',
            modified TEXT DEFAULT '2000-01-01 00:00:00', active INT DEFAULT 1);
        CREATE TABLE alias (address TEXT PRIMARY KEY, goto TEXT, domain TEXT,
            created TEXT DEFAULT '2000-01-01 00:00:00', modified TEXT DEFAULT '2000-01-01 00:00:00',
            active INT DEFAULT 1);
        CREATE TABLE alias_domain (alias_domain TEXT PRIMARY KEY, target_domain TEXT,
            created TEXT DEFAULT '2000-01-01 00:00:00', modified TEXT DEFAULT '2000-01-01 00:00:00',
            active INT DEFAULT 1);
    """)
    data = (SQL_DIR / "postfixadmin_data.sql").read_text(encoding="utf-8")
    data = data.replace("`", '"').replace("\\\\", "\\")  # MySQL string escapes -> SQL
    db.executescript(data)
    db.commit()
    db.close()
    os.chmod(path, 0o644)
    return path


def reference_queries() -> dict[str, str]:
    out = {}
    for line in (FIXTURES / "postfixadmin_queries.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, q = line.partition(": ")
        out[name] = q
    return out


def to_sqlite(query: str) -> str:
    """CONCAT(a, b, c) -> (a || b || c): SQLite 3.40 has no concat()."""
    def repl(m):
        parts = [p.strip() for p in re.split(r",(?=(?:[^']*'[^']*')*[^']*$)", m.group(1))]
        return "(" + " || ".join(parts) + ")"
    return re.sub(r"CONCAT\(([^()]*)\)", repl, query)


# Queries exercising every expansion rule (result_format, %u/%d/%1.., domain,
# NULL/empty/numeric values, several rows and columns, the legacy form).
EXTRA_CF = {
    "user_part": {"query": "SELECT goto FROM alias WHERE address = CONCAT('%u', '@example.com')"},
    "domain_part": {"query": "SELECT domain FROM domain WHERE domain = '%d' AND active = 1"},
    "labels": {"query": "SELECT CONCAT('%1', '|', '%2', '|', '%3')"},
    "label9": {"query": "SELECT '%9.%1'"},
    "upper": {"query": "SELECT CONCAT('%S', '/', '%U', '/', '%D', '/', '100%%')"},
    "echo": {"query": "SELECT '%s'"},
    "echo_hex": {"query": "SELECT HEX('%s')"},
    "rows": {"query": "SELECT address FROM alias WHERE domain = '%d' AND active = 1 ORDER BY address"},
    "cols": {"query": "SELECT goto, domain, active FROM alias WHERE address = '%s'"},
    "nulls": {"query": "SELECT NULL, '', goto FROM alias WHERE address = '%s'"},
    "nulls_rows": {"query": "SELECT goto FROM alias WHERE address = '%s' UNION ALL SELECT NULL "
                            "UNION ALL SELECT '' UNION ALL SELECT 'last'"},
    "only_empty": {"query": "SELECT '' FROM alias WHERE address = '%s'"},
    "numbers": {"query": "SELECT active, backupmx, maxquota, created FROM domain WHERE domain = '%s'"},
    "fmt_transport": {"query": "SELECT goto FROM alias WHERE address = '%s'", "result_format": "smtp:[%s]"},
    "fmt_user": {"query": "SELECT goto FROM alias WHERE address = '%s'", "result_format": "%u"},
    "fmt_domain": {"query": "SELECT goto FROM alias WHERE address = '%s'", "result_format": "%d"},
    "fmt_keyparts": {"query": "SELECT goto FROM alias WHERE address = '%s'",
                     "result_format": "%s via %D for %U (%S) %1 %%"},
    "fmt_label2": {"query": "SELECT goto FROM alias WHERE address = '%s'", "result_format": "%2:%s"},
    "domain_list": {"query": "SELECT goto FROM alias WHERE address = '%s'",
                    "domain": "example.com, Example.NET"},
    "legacy": {"select_field": "goto", "table": "alias", "where_field": "address",
               "additional_conditions": "AND active = '1'"},
    "limit_ok": {"query": "SELECT goto FROM alias WHERE address = '%s'", "expansion_limit": "1"},
}

# cases where postmap finds nothing for any key (that is what they test)
NOTHING_FOUND = {"only_empty", "nulls"}

TRANSPORTS = {
    "tcp": "127.0.0.1",
    "inet": "inet:127.0.0.1:3306",
    "socket": f"unix:{SOCKET}",
    "fallback": "inet:127.0.0.1:1 127.0.0.1",  # a dead host, then a live one
}


def write_mysql_cf(path, pfa, params: dict, hosts: str) -> None:
    db, user, password = pfa
    lines = [f"hosts = {hosts}", f"user = {user}", f"password = {password}", f"dbname = {db}"]
    lines += [f"{k} = {v}" for k, v in params.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settle(path)


def write_sqlite_cf(path, dbpath, params: dict) -> None:
    lines = [f"dbpath = {dbpath}"]
    for k, v in params.items():
        if k in ("query", "select_field", "additional_conditions"):
            v = to_sqlite(v)
        lines.append(f"{k} = {v}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settle(path)


@pytest.fixture(scope="module")
def confdir(tmp_path_factory):
    need_postfix()
    return make_config_dir(tmp_path_factory.mktemp("etc"))


def _check(confdir, spec, keys=None, must_find=True):
    """Compare ours with postmap. Keys where WE report a lookup error are
    asked one by one (postmap -q - stops at the first error, and every
    postmap fatal costs a second), the rest in one batch."""
    keys = [k for k in (KEYS if keys is None else keys) if "\n" not in k and "\t" not in k]
    ours = ours_batch(spec, keys, view_for(confdir))
    err_keys = [k for k in keys if ours.get(k) == ERROR]
    theirs, err = postmap_batch(confdir, spec, [k for k in keys if k not in err_keys])
    for k in err_keys:
        v = postmap_one(confdir, spec, k)
        if v is not None:
            theirs[k] = v
    d = diff(ours, theirs)
    assert not d, "\n".join(d)
    if must_find:
        assert theirs, f"postmap found nothing for {spec}: the case is not exercised ({err})"
    return theirs


@pytest.mark.parametrize("name", sorted(reference_queries()))
@pytest.mark.parametrize("transport", ["tcp", "socket"])
def test_postfixadmin_reference_queries_mysql(confdir, pfa, name, transport):
    cf = confdir / f"pfa_{name}_{transport}.cf"
    write_mysql_cf(cf, pfa, {"query": reference_queries()[name]}, TRANSPORTS[transport])
    _check(confdir, f"mysql:{cf}")


@pytest.mark.parametrize("name", sorted(reference_queries()))
def test_postfixadmin_reference_queries_sqlite(confdir, pfa_sqlite, name):
    cf = confdir / f"pfa_{name}_sqlite.cf"
    write_sqlite_cf(cf, pfa_sqlite, {"query": reference_queries()[name]})
    _check(confdir, f"sqlite:{cf}", KEYS + NON_ASCII_KEYS)


@pytest.mark.parametrize("name", ["virtual_alias", "echo", "echo_hex"])
def test_non_ascii_keys_mysql(confdir, pfa, name):
    params = {"query": reference_queries()[name]} if name in reference_queries() else EXTRA_CF[name]
    cf = confdir / f"nonascii_{name}.cf"
    write_mysql_cf(cf, pfa, params, TRANSPORTS["tcp"])
    _check(confdir, f"mysql:{cf}", NON_ASCII_KEYS + ["alice@example.com"])


@pytest.mark.parametrize("name", sorted(EXTRA_CF))
def test_expansion_rules_mysql(confdir, pfa, name):
    cf = confdir / f"extra_{name}.cf"
    write_mysql_cf(cf, pfa, EXTRA_CF[name], TRANSPORTS["tcp"])
    _check(confdir, f"mysql:{cf}", must_find=name not in NOTHING_FOUND)


@pytest.mark.parametrize("name", sorted(set(EXTRA_CF) - {"echo_hex"}))
def test_expansion_rules_sqlite(confdir, pfa_sqlite, name):
    cf = confdir / f"extra_{name}_sqlite.cf"
    write_sqlite_cf(cf, pfa_sqlite, EXTRA_CF[name])
    _check(confdir, f"sqlite:{cf}", must_find=name not in NOTHING_FOUND)


@pytest.mark.parametrize("transport", ["inet", "fallback"])
def test_host_forms(confdir, pfa, transport):
    cf = confdir / f"hosts_{transport}.cf"
    write_mysql_cf(cf, pfa, {"query": reference_queries()["virtual_alias"]}, TRANSPORTS[transport])
    _check(confdir, f"mysql:{cf}", KEYS[:12])


def _postmap_one(confdir, spec, key):
    r = subprocess.run([postmap_bin(), "-c", str(confdir), "-q", key, spec], capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def test_expansion_limit_exceeded_is_an_error_like_postmap(confdir, pfa):
    cf = confdir / "limit.cf"
    write_mysql_cf(cf, pfa, {"query": "SELECT goto FROM alias WHERE address = '%s'",
                             "expansion_limit": "1"}, TRANSPORTS["tcp"])
    # sales@ has one row whose value holds two addresses: one value -> found
    rc, out, _ = _postmap_one(confdir, f"mysql:{cf}", "sales@example.com")
    from tui.core.tables import open_table
    t = open_table(f"mysql:{cf}")
    r = t.lookup("sales@example.com")
    assert (r.found, r.value) == (rc == 0, out.rstrip("\n") if rc == 0 else None)
    cf2 = confdir / "limit2.cf"
    write_mysql_cf(cf2, pfa, {"query": "SELECT goto, domain FROM alias WHERE address = '%s'",
                              "expansion_limit": "1"}, TRANSPORTS["tcp"])
    rc, out, err = _postmap_one(confdir, f"mysql:{cf2}", "sales@example.com")
    assert rc != 0 and "xpansion limit" in err, err
    r2 = open_table(f"mysql:{cf2}").lookup("sales@example.com")
    assert not r2.found and "Expansion limit exceeded" in (r2.error or "")


def test_wrong_password_is_an_error_without_the_password(confdir, pfa):
    db, user, password = pfa
    cf = confdir / "badpw.cf"
    wrong = password + "WRONG"
    write_mysql_cf(cf, (db, user, wrong), {"query": "SELECT '%s'"}, TRANSPORTS["tcp"])
    rc, _out, err = _postmap_one(confdir, f"mysql:{cf}", "x")
    assert rc != 0 and "Access denied" in err
    from tui.core.tables import open_table
    t = open_table(f"mysql:{cf}")
    r = t.lookup("x")
    assert not r.found and "Access denied" in r.error
    for text in (r.error, repr(r), str(t), repr(t), str(t.status), repr(t.status), repr(vars(t))):
        assert wrong not in text and password not in text


def test_select_only_user_cannot_write(confdir, pfa):
    """The tables' user has SELECT only: a query that writes fails in both."""
    cf = confdir / "write.cf"
    write_mysql_cf(cf, pfa, {"query": "DELETE FROM alias WHERE address = '%s'"}, TRANSPORTS["tcp"])
    from tui.core.tables import open_table
    r = open_table(f"mysql:{cf}").lookup("alice@example.com")
    assert not r.found and r.error and "denied" in r.error.lower()
    assert _mariadb("SELECT COUNT(*) FROM alias WHERE address='alice@example.com'", pfa[0]).strip() == "1"


@pytest.mark.parametrize("domain", [
    "example.com", "Example.NET, !example.com", "!example.com example.com example.net",
    "hash:{dir}/doms", "{dir}/domfile", "texthash:{dir}/doms",
])
def test_domain_restriction_forms(confdir, pfa, domain):
    """`domain` = names, !names, type:table, /file -- exact domains only."""
    from tests.oracle.test_postmap_support import postmap_build
    (confdir / "doms").write_text("example.net OK\nsub.example.com OK\n")
    postmap_build(confdir, f"hash:{confdir / 'doms'}")
    (confdir / "domfile").write_text("# domains\nexample.com\n  example.net\n")
    cf = confdir / f"dom_{abs(hash(domain))}.cf"
    write_mysql_cf(cf, pfa, {"query": "SELECT goto FROM alias WHERE address = '%s'",
                             "domain": domain.format(dir=confdir)}, TRANSPORTS["socket"])
    _check(confdir, f"mysql:{cf}")


def test_quoting_round_trips_through_the_server(pfa):
    """Whatever a key holds, the expanded query returns it unchanged: the
    quoting is exactly MySQL's, so no key can end the string literal."""
    from hypothesis import given, settings, strategies as st
    from tui.core.tables.sql import mysql_quote
    import pymysql

    db, user, password = pfa
    from tui.core.tables.mysql import _text_conv
    conn = pymysql.connect(unix_socket=SOCKET, user=user, password=password, database=db,
                           charset="utf8mb4", conv=_text_conv())
    specials = st.sampled_from(["'", '"', "\\", "\x00", "\n", "\r", "\x1a", "%", "_", "`", ";", "--", "é"])
    text = st.lists(st.one_of(specials, st.text(max_size=3)), max_size=12).map("".join)

    @settings(max_examples=300, deadline=None)
    @given(text)
    def roundtrip(s):
        s = s.replace("\udcff", "")
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            return
        with conn.cursor() as cur:
            cur.execute("SELECT '" + mysql_quote(s) + "'")
            assert cur.fetchall() == ((s,),)

    try:
        roundtrip()
    finally:
        conn.close()


def test_connection_is_reused(confdir, pfa):
    from tui.core.tables import open_table
    cf = confdir / "connid.cf"
    write_mysql_cf(cf, pfa, {"query": "SELECT CONCAT(CONNECTION_ID(), '') FROM DUAL WHERE '%s' <> ''"},
                   TRANSPORTS["tcp"])
    t = open_table(f"mysql:{cf}")
    first = t.lookup("a").value
    assert first and all(t.lookup(k).value == first for k in ("b", "c", "d"))
    t.close()
    t2 = open_table(f"mysql:{cf}")
    assert t2.lookup("a").value != first   # a new table, a new connection
    t2.close()


def test_a_hung_server_does_not_freeze_the_caller(pfa):
    """A server that accepts TCP but never speaks: the lookup returns an
    error after the connect timeout instead of hanging."""
    import socket
    import tempfile
    from tui.core.tables import open_table
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    port = srv.getsockname()[1]
    try:
        with tempfile.TemporaryDirectory() as d:
            from pathlib import Path
            cf = Path(d) / "hung.cf"
            write_mysql_cf(cf, pfa, {"query": "SELECT '%s'"}, f"inet:127.0.0.1:{port}")
            r = open_table(f"mysql:{cf}").lookup("x")
            assert not r.found and r.error and f"127.0.0.1:{port}" in r.error
    finally:
        srv.close()


def test_settings_from_main_cf_parameters(tmp_path, pfa):
    """mysql:NAME without a path reads NAME_hosts, NAME_query, ... from main.cf."""
    db, user, password = pfa
    d = make_config_dir(tmp_path / "etc", "compatibility_level = 3.6\n"
                        f"pfa_hosts = 127.0.0.1\npfa_user = {user}\npfa_password = {password}\n"
                        f"pfa_dbname = {db}\n"
                        "pfa_query = SELECT goto FROM alias WHERE address='%s' AND active = '1'\n")
    _check(d, "mysql:pfa", KEYS[:20])


def test_credentials_from_option_file(confdir, pfa):
    """option_file/option_group: the [client] section supplies the password."""
    db, user, password = pfa
    opt = confdir / "my.cnf"
    opt.write_text(f"[pfxgroup]\npassword = \"{password}\"\n".replace("\\", "\\\\"))
    settle(opt)
    cf = confdir / "optfile.cf"
    cf.write_text(f"hosts = 127.0.0.1\nuser = {user}\ndbname = {db}\noption_file = {opt}\n"
                  "option_group = pfxgroup\nquery = SELECT goto FROM alias WHERE address='%s'\n")
    settle(cf)
    _check(confdir, f"mysql:{cf}", KEYS[:10])
