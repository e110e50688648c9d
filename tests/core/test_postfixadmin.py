"""tui.core.analysis.postfixadmin: PostfixAdmin's tables read through the tables
layer's own connection (SqlTable.select), never with a password in any text.

With MariaDB: the rows the reader returns agree with what the real postmap
answers through the same .cf (a domain is found by the usual
virtual_mailbox_domains query exactly when the reader says it is active and
not a backup MX).
"""
from __future__ import annotations

import secrets
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_mariadb, need_postfix
from tui.core.analysis import inventory, postfixadmin
from tui.core.config import load_config

PASSWORD = "Pfa-secret-" + secrets.token_hex(4)
DOMAIN_QUERY = "SELECT domain FROM domain WHERE domain='%s' AND active = '1' AND backupmx = '0'"


def config(d: Path, spec: str) -> list[inventory.TableRef]:
    (d / "main.cf").write_text(f"virtual_mailbox_domains = {spec}\nalias_maps =\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return inventory.collect_tables(load_config(str(d)))


def sqlite_db(d: Path) -> Path:
    db = d / "pfa.sqlite"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE domain (domain TEXT, description TEXT, active INT, backupmx INT);
        CREATE TABLE mailbox (username TEXT, maildir TEXT, active INT);
        CREATE TABLE alias (address TEXT, goto TEXT, active INT);
        CREATE TABLE alias_domain (alias_domain TEXT, target_domain TEXT, active INT);
        INSERT INTO domain VALUES ('z.example', 'last', 1, 0), ('a.example', NULL, 0, 1);
        INSERT INTO mailbox VALUES ('u@z.example', 'z.example/u/', 1);
        INSERT INTO alias VALUES ('@z.example', 'u@z.example,v@z.example', 1);
        INSERT INTO alias_domain VALUES ('alias.example', 'z.example', 0);
    """)
    con.commit()
    con.close()
    return db


def test_sqlite_view(tmp_path: Path):
    db = sqlite_db(tmp_path)
    cf = tmp_path / "domains.cf"
    cf.write_text(f"dbpath = {db}\nquery = {DOMAIN_QUERY}\n")
    before = db.read_bytes()
    view = postfixadmin.postfixadmin_view(config(tmp_path, f"sqlite:{cf}"))
    assert view is not None and view.error is None
    assert view.source == f"sqlite:{db}" and view.via == str(cf)
    assert view.domains == [postfixadmin.PFADomain("a.example", "", False, True),
                            postfixadmin.PFADomain("z.example", "last", True, False)]
    assert view.mailboxes == [("u@z.example", "z.example/u/", True)]
    assert view.aliases == [("@z.example", "u@z.example,v@z.example", True)]
    assert view.alias_domains == [("alias.example", "z.example", False)]
    assert db.read_bytes() == before  # read-only


def test_no_postfixadmin_table_and_missing_database(tmp_path: Path):
    cf = tmp_path / "other.cf"
    cf.write_text(f"dbpath = {tmp_path}/x.sqlite\nquery = SELECT v FROM settings WHERE k='%s'\n")
    assert postfixadmin.postfixadmin_view(config(tmp_path, f"sqlite:{cf}")) is None
    cf.write_text(f"dbpath = {tmp_path}/missing.sqlite\nquery = {DOMAIN_QUERY}\n")
    view = postfixadmin.postfixadmin_view(config(tmp_path, f"sqlite:{cf}"))
    assert view is not None and view.domains == []
    assert "missing.sqlite" in view.error and "does not exist" in view.error


def test_missing_table_is_an_error_not_a_crash(tmp_path: Path):
    db = tmp_path / "half.sqlite"
    con = sqlite3.connect(db)
    con.executescript("CREATE TABLE domain (domain TEXT, description TEXT, active INT, backupmx INT);"
                      "INSERT INTO domain VALUES ('x.example', 'd', 1, 0);")
    con.close()
    cf = tmp_path / "d.cf"
    cf.write_text(f"dbpath = {db}\nquery = {DOMAIN_QUERY}\n")
    view = postfixadmin.postfixadmin_view(config(tmp_path, f"sqlite:{cf}"))
    assert [d.domain for d in view.domains] == ["x.example"]
    assert view.error.startswith("mailboxes: ") and "no such table: mailbox" in view.error


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_mysql_says_why_without_the_password(tmp_path: Path):
    cf = tmp_path / "m.cf"
    port = _closed_port()
    cf.write_text(f"hosts = inet:127.0.0.1:{port}\nuser = pfa\npassword = {PASSWORD}\n"
                  f"dbname = postfixadmin\nquery = {DOMAIN_QUERY}\n")
    refs = config(tmp_path, f"proxy:mysql:{cf}")
    view = postfixadmin.postfixadmin_view(refs)
    assert view.source == f"mysql pfa@inet:127.0.0.1:{port}/postfixadmin"
    assert "cannot connect" in view.error and "refused" in view.error.lower()
    assert PASSWORD not in repr(view)


def _mariadb(sql: str, db: str | None = None) -> None:
    cmd = ["mariadb", "-uroot", "--batch"] + ([db] if db else [])
    r = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.mark.mysql
def test_mysql_view_agrees_with_postmap(tmp_path: Path):
    need_mariadb()
    need_postfix()
    repo = Path(__file__).resolve().parents[2]
    tag = secrets.token_hex(4)
    db = user = f"pfx_pfa_{tag}"
    _mariadb(f"CREATE DATABASE `{db}`;")
    try:
        _mariadb((repo / "tests" / "sql" / "postfixadmin_schema.sql").read_text(), db)
        _mariadb("INSERT INTO domain (domain, description, backupmx, active) VALUES "
                 "('example.org', 'main', 0, 1), ('mx2.example.com', 'backup', 1, 1), "
                 "('old.example', 'gone', 0, 0);"
                 "INSERT INTO mailbox (username, password, maildir, local_part, domain) VALUES "
                 "('alice@example.org', '{CRYPT}x', 'example.org/alice/', 'alice', 'example.org');"
                 "INSERT INTO alias (address, goto, domain) VALUES "
                 "('info@example.org', 'alice@example.org', 'example.org');", db)
        _mariadb(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{PASSWORD}';"
                 f"GRANT SELECT ON `{db}`.* TO '{user}'@'localhost';")
        cf = tmp_path / "mysql_virtual_domains_maps.cf"
        cf.write_text(f"hosts = unix:/run/mysqld/mysqld.sock\nuser = {user}\npassword = {PASSWORD}\n"
                      f"dbname = {db}\nquery = {DOMAIN_QUERY}\n")
        cf.chmod(0o640)
        refs = config(tmp_path, f"proxy:mysql:{cf}")
        view = postfixadmin.postfixadmin_view(refs, inventory.cf_secrets(refs))
        assert view.error is None, view.error
        assert [d.domain for d in view.domains] == ["example.org", "mx2.example.com", "old.example"]
        assert view.mailboxes == [("alice@example.org", "example.org/alice/", True)]
        assert view.aliases == [("info@example.org", "alice@example.org", True)]
        assert PASSWORD not in repr(view)
        for d in view.domains:
            r = subprocess.run(["postmap", "-c", str(tmp_path), "-q", d.domain, f"mysql:{cf}"],
                               capture_output=True, text=True, timeout=60)
            found = r.returncode == 0
            assert found == (d.active and not d.backupmx), (d, r.stdout, r.stderr)

        # a wrong password: the reason, never the password
        cf.write_text(cf.read_text().replace(PASSWORD, PASSWORD + "-wrong"))
        refs = config(tmp_path, f"proxy:mysql:{cf}")
        view = postfixadmin.postfixadmin_view(refs)
        assert view.domains == [] and "Access denied" in view.error
        assert PASSWORD not in view.error and PASSWORD not in repr(view)
    finally:
        _mariadb(f"DROP DATABASE IF EXISTS `{db}`; DROP USER IF EXISTS '{user}'@'localhost';")
