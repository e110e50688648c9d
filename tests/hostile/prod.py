"""A production-shaped configuration for the hostile tests: PostfixAdmin
tables in MariaDB read by a SELECT-only user with a distinctive password,
a pgsql .cf (not evaluated, also with a password), a sqlite .cf, hash,
regexp and cidr maps, a master.cf with -o overrides.

`make_prod_dir(d, db, user, password, hosts=...)` writes it; `pfa_database()`
is a context manager that creates (and drops) the database and the user.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import subprocess
from pathlib import Path

from tests.hostile.util import mariadb

REPO = Path(__file__).resolve().parents[2]
SQL_DIR = REPO / "tests" / "sql"
SOCKET = "/run/mysqld/mysqld.sock"

# Distinctive, and with characters that must survive the .cf and never leak.
PASSWORD = "Hst!le-pw-" + secrets.token_hex(6)
PG_PASSWORD = "Pg-secret-" + secrets.token_hex(6)
WRONG_PASSWORD = "Wr0ng-pw-" + secrets.token_hex(6)
ALL_SECRETS = (PASSWORD, PG_PASSWORD, WRONG_PASSWORD)

PFA_DOMAINS = "SELECT domain FROM domain WHERE domain='%s' AND active = '1' AND backupmx = '0'"
PFA_ALIASES = ("SELECT goto FROM alias WHERE address='%s' AND active = '1'")
PFA_ALIAS_DOMAIN_CATCHALL = ("SELECT goto FROM alias,alias_domain WHERE alias_domain.alias_domain = '%d' "
                             "and alias.address = CONCAT('@', alias_domain.target_domain) "
                             "AND alias.active = 1 AND alias_domain.active='1'")
PFA_MAILBOXES = "SELECT maildir FROM mailbox WHERE username='%s' AND active = '1'"


@contextlib.contextmanager
def pfa_database(password: str = PASSWORD):
    """(db, user): a PostfixAdmin database and a SELECT-only user with
    PASSWORD on localhost (socket) and 127.0.0.1 (TCP)."""
    tag = f"{os.getpid()}_{secrets.token_hex(3)}"
    db = f"pfxhostile_{tag}"
    user = f"pfxh_{tag}"[:32]
    sqlpw = password.replace("\\", "\\\\").replace("'", "\\'")
    mariadb(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4;")
    try:
        mariadb((SQL_DIR / "postfixadmin_schema.sql").read_text(), db)
        mariadb((SQL_DIR / "postfixadmin_data.sql").read_text(encoding="utf-8"), db)
        for host in ("localhost", "127.0.0.1"):
            mariadb(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{sqlpw}';"
                    f"GRANT SELECT ON `{db}`.* TO '{user}'@'{host}';")
        yield db, user
    finally:
        mariadb(f"DROP DATABASE IF EXISTS `{db}`;")
        for host in ("localhost", "127.0.0.1"):
            mariadb(f"DROP USER IF EXISTS '{user}'@'{host}';")


def checksum(db: str) -> str:
    """CHECKSUM TABLE of every table plus the row counts: any write shows."""
    tables = mariadb(f"SHOW TABLES FROM `{db}`;").split()
    out = mariadb(f"CHECKSUM TABLE {', '.join(f'`{db}`.`{t}`' for t in tables)} EXTENDED;")
    counts = mariadb(";".join(f"SELECT COUNT(*) FROM `{db}`.`{t}`" for t in tables) + ";")
    return out + counts


def mysql_cf(path: Path, hosts: str, user: str, password: str, dbname: str, query: str,
             mode: int = 0o640) -> None:
    path.write_text(f"# PostfixAdmin\nhosts = {hosts}\nuser = {user}\npassword = {password}\n"
                    f"dbname = {dbname}\nquery = {query}\n")
    path.chmod(mode)


def make_prod_dir(d: Path, db: str, user: str, *, hosts: str = f"unix:{SOCKET}",
                  password: str = PASSWORD, world_readable: bool = True) -> dict[str, str]:
    """Write the configuration into D; returns {role: table spec}."""
    d = Path(d)
    mysql_cf(d / "mysql_virtual_domains_maps.cf", hosts, user, password, db, PFA_DOMAINS,
             mode=0o644 if world_readable else 0o640)
    mysql_cf(d / "mysql_virtual_alias_maps.cf", hosts, user, password, db, PFA_ALIASES)
    mysql_cf(d / "mysql_virtual_alias_domain_catchall_maps.cf", hosts, user, password, db,
             PFA_ALIAS_DOMAIN_CATCHALL)
    mysql_cf(d / "mysql_virtual_mailbox_maps.cf", hosts, user, password, db, PFA_MAILBOXES)
    (d / "pgsql_relay.cf").write_text(f"hosts = 127.0.0.1\nuser = pg\npassword = {PG_PASSWORD}\n"
                                      "dbname = mail\nquery = SELECT 'OK' WHERE '%s' = 'x'\n")
    (d / "pgsql_relay.cf").chmod(0o644)
    sq = d / "access.sqlite"
    con = sqlite3.connect(sq)
    con.execute("CREATE TABLE access (k TEXT, v TEXT)")
    con.execute("INSERT INTO access VALUES ('spammer@example.org', 'REJECT no spam please')")
    con.commit()
    con.close()
    (d / "sqlite_access.cf").write_text(f"dbpath = {sq}\nquery = SELECT v FROM access WHERE k='%s'\n")
    (d / "sender_access").write_text("blocked@example.org REJECT blocked sender\nexample.org OK\n")
    (d / "helo.regexp").write_text("/^localhost$/ REJECT you are not me\n/\\.invalid$/ REJECT bad helo\n")
    (d / "clients.cidr").write_text("192.0.2.66/32 REJECT listed client\n198.51.100.0/24 OK\n")
    (d / "main.cf").write_text(f"""# production-shaped
compatibility_level = 3.6
myhostname = mx.example.com
mydomain = example.com
mydestination = localhost
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
virtual_mailbox_domains = proxy:mysql:{d}/mysql_virtual_domains_maps.cf
virtual_alias_maps = proxy:mysql:{d}/mysql_virtual_alias_maps.cf,
    proxy:mysql:{d}/mysql_virtual_alias_domain_catchall_maps.cf
virtual_mailbox_maps = proxy:mysql:{d}/mysql_virtual_mailbox_maps.cf
smtpd_helo_required = yes
smtpd_helo_restrictions = check_helo_access regexp:{d}/helo.regexp
smtpd_sender_restrictions = check_sender_access hash:{d}/sender_access,
    check_sender_access sqlite:{d}/sqlite_access.cf
smtpd_recipient_restrictions = permit_mynetworks, check_client_access cidr:{d}/clients.cidr,
    reject_unauth_destination, check_recipient_access pgsql:{d}/pgsql_relay.cf
""")
    (d / "master.cf").write_text(
        "smtp      inet  n       -       n       -       -       smtpd\n"
        "submission inet n       -       n       -       -       smtpd\n"
        "  -o smtpd_sasl_auth_enable=yes\n"
        "  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n")
    subprocess.run(["postmap", "-c", str(d), f"hash:{d}/sender_access"], check=True, capture_output=True)
    for p in d.iterdir():
        if p.suffix != ".cf" or p.name == "main.cf":
            p.chmod(0o644)
    d.chmod(0o755)
    return {
        "domains": f"proxy:mysql:{d}/mysql_virtual_domains_maps.cf",
        "aliases": f"proxy:mysql:{d}/mysql_virtual_alias_maps.cf",
        "mailboxes": f"proxy:mysql:{d}/mysql_virtual_mailbox_maps.cf",
        "pgsql": f"pgsql:{d}/pgsql_relay.cf",
        "sqlite": f"sqlite:{d}/sqlite_access.cf",
        "hash": f"hash:{d}/sender_access",
        "regexp": f"regexp:{d}/helo.regexp",
        "cidr": f"cidr:{d}/clients.cidr",
    }


def make_read_only(d: Path) -> None:
    """chmod a-w on every file and directory under D (root ignores it;
    `nobody` does not)."""
    for root, dirs, files in os.walk(d):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode & ~0o222)
        for name in dirs:
            p = os.path.join(root, name)
            os.chmod(p, os.stat(p).st_mode & ~0o222)
    os.chmod(d, os.stat(d).st_mode & ~0o222)
