"""Whatever is typed as a key reaches MySQL only as quoted data.

Property (hypothesis): for keys full of quotes, backslashes, %, newlines,
control characters, non-ASCII and invalid UTF-8 bytes and SQL fragments,
our mysql: table answers exactly what `postmap -q` answers from the same
database, for PostfixAdmin's queries and for queries that echo what the
server received (HEX of %s, %u, %d, %1): identical bytes at the server means
identical quoting. The SELECT-only user could not write anyway; the
database is also checksummed before and after.

Keys are batched (`postmap -q -` reads one key a line); a key with a newline
is asked alone (`postmap -q KEY`). A NUL byte cannot be passed in argv, and
postmap's `-q -` ends the key at a NUL (C strings): the lookup CLI must do
the same (test_nul_in_batch_keys).
"""
from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import need_mariadb, need_postfix
from tests.hostile.prod import (
    PASSWORD, PFA_ALIAS_DOMAIN_CATCHALL, PFA_ALIASES, PFA_DOMAINS, PFA_MAILBOXES, SOCKET, checksum, mysql_cf,
    pfa_database,
)
from tests.hostile.util import cli, mariadb, public_tmpdir, rmtree

pytestmark = [pytest.mark.mysql, pytest.mark.oracle]

QUERIES = {
    "echo": "SELECT CONCAT('<', HEX('%s'), '>')",
    "parts": "SELECT CONCAT(HEX('%u'), '|', HEX('%d'), '|', HEX('%1'), '|', HEX('%S'))",
    "domains": PFA_DOMAINS,
    "aliases": PFA_ALIASES,
    "catchall": PFA_ALIAS_DOMAIN_CATCHALL,
    "mailboxes": PFA_MAILBOXES,
}

FRAGMENTS = ["'", "''", '"', "`", "\\", "\\'", "\\\\", "%", "%%", "%s", "%u", "_", "\r", "\t", "\x1a", "\x08",
             "\x7f", ";", "--", "#", "/*", "*/", "' OR '1'='1", "'; DROP TABLE alias; --",
             "\\'; DELETE FROM mailbox WHERE '1'='1", "' UNION SELECT password FROM mailbox -- ",
             "0x41", "@", "@example.com", "alice", "example.com", "info@example.com", "o'brien",
             "é", "ö", "日本", "\u2028", "\ufeff", "\udcff", "\udce9", "\udc80\udc80", "ẞ", "İ"]

key_st = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=8).map("".join) \
    .filter(lambda k: "\x00" not in k)


def _enc(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


@pytest.fixture(scope="module")
def setup():
    need_postfix()
    need_mariadb()
    with pfa_database() as (db, user):
        # utf8mb4 columns: non-ASCII keys get answers (PostfixAdmin's latin1
        # columns make them lookup errors, which cost postmap a second each)
        mariadb("".join(f"ALTER TABLE `{t}` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
                        for t in ("domain", "mailbox", "alias", "alias_domain")), db)
        d = public_tmpdir("pfx-sqlq-")
        (d / "main.cf").write_text("alias_maps =\nalias_database =\n")
        (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
        specs = {}
        for name, q in QUERIES.items():
            hosts = f"unix:{SOCKET}" if name != "aliases" else "inet:127.0.0.1:3306"
            mysql_cf(d / f"{name}.cf", hosts, user, PASSWORD, db, q)
            specs[name] = f"mysql:{d}/{name}.cf"
        from tui.core.config import load_config
        from tui.core.tables import open_table

        view = load_config(d).params()
        tables = {n: open_table(s, view) for n, s in specs.items()}
        before = checksum(db)
        try:
            yield d, specs, tables
        finally:
            for t in tables.values():
                t.close()
            assert checksum(db) == before, "the database changed"
            rmtree(d)


def postmap_batch(d, spec: str, keys: list[str]) -> dict[bytes, bytes]:
    data = b"".join(_enc(k) + b"\n" for k in keys)
    r = subprocess.run(["postmap", "-c", str(d), "-q", "-", spec], input=data, capture_output=True,
                       timeout=60)
    assert r.returncode in (0, 1), r.stderr
    out = {}
    for line in r.stdout.split(b"\n"):
        if line:
            k, _, v = line.rpartition(b"\t")
            out[k] = v
    return out


ERROR = object()  # a lookup error (e.g. a non-ASCII key against PostfixAdmin's latin1 columns)


def ours(table, key: str):
    r = table.lookup(key)
    assert PASSWORD not in (r.where or "") + (r.error or "")
    if r.error is not None:
        return ERROR
    return _enc(r.value) if r.found else None


def postmap_one(d, spec: str, key: str):
    r = subprocess.run(["postmap", "-c", str(d), "-q", _enc(key), spec], capture_output=True, timeout=60)
    if r.returncode == 0:
        return r.stdout.removesuffix(b"\n")
    if r.returncode == 1 and not r.stderr.strip():
        return None
    assert b"postmap: fatal" in r.stderr or b"warning" in r.stderr, r.stderr
    return ERROR


@settings(max_examples=int(os.environ.get("PFX_SQL_EXAMPLES", "150")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(key_st, min_size=1, max_size=12))
def test_quoting_matches_postmap(setup, keys):
    d, specs, tables = setup
    batch = [k for k in keys if "\n" not in k]
    alone = [k for k in keys if "\n" in k]
    for name, spec in specs.items():
        mine = {k: ours(tables[name], k) for k in keys}
        # a lookup error stops postmap -q -: keys that fail are asked alone
        got = postmap_batch(d, spec, [k for k in batch if mine[k] is not ERROR])
        for k in batch:
            if mine[k] is not ERROR:
                assert mine[k] == got.get(_enc(k)), (name, k)
        # (each postmap lookup error costs it a second: ask at most two per table)
        for k in alone + [k for k in batch if mine[k] is ERROR][:2]:
            assert mine[k] == postmap_one(d, spec, k), (name, k)


def test_injection_classics_hit_nothing(setup):
    """Explicit examples: each is data, never SQL (and equal to postmap)."""
    d, specs, tables = setup
    keys = ["' OR '1'='1", "x' OR 1=1 -- ", "\\' OR 1=1 #", "'; DROP TABLE alias; --",
            "info@example.com' AND SLEEP(5) -- ", "%' OR domain LIKE '%", "a\nb' OR '1'='1",
            "alice@example.com\\", "alice@example.com'", "' UNION SELECT password FROM mailbox -- "]
    for name in ("domains", "aliases", "mailboxes", "catchall"):
        for k in keys:
            assert ours(tables[name], k) is None, (name, k)
            if "\n" not in k:
                assert postmap_batch(d, specs[name], [k]) == {}
    # and real answers still come back
    assert ours(tables["mailboxes"], "alice@example.com") == b"example.com/alice/"
    assert ours(tables["aliases"], "o'brien@example.com") == postmap_one(d, specs["aliases"], "o'brien@example.com")


def test_nul_in_batch_keys(setup):
    """postmap -q - ends a key at a NUL byte; `lookup -` does the same."""
    d, specs, _tables = setup
    data = b"ab\x00c' OR '1'='1\nalice@example.com\x00junk\n\x00\nx\\y\n"
    for name in ("echo", "mailboxes"):
        p = subprocess.run(["postmap", "-c", str(d), "-q", "-", specs[name]], input=data, capture_output=True,
                           timeout=60)
        r = cli("--config-dir", str(d), "lookup", specs[name], "-", stdin=data)
        assert (r.rc, r.out) == (p.returncode, p.stdout.decode("utf-8", "replace")), (name, r.err)
