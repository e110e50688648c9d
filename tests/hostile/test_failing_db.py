"""A failing MySQL server: refusing connections (closed port), refusing the
credentials, accepting the connection and never answering, and dying in
the middle of a session (a TCP proxy in front of MariaDB, killed between
two lookups).

What real Postfix answers when its mysql tables fail is asked at test time
(tests/oracle/postfix_instance.py, a scratch smtpd whose mysql .cf points at
a closed port, and one with a wrong password); the engine's trace and the
CLI must give the same reply for every failure mode, with the reason in the
trace, and return (the client timeouts bound every wait; no timing is
asserted). In the app, the table shows red with the reason, and the UI
answers keys while a worker is blocked on the silent server.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import need_mariadb, need_postfix
from tests.hostile.prod import PASSWORD, PFA_DOMAINS, PFA_MAILBOXES, mysql_cf, pfa_database
from tests.hostile.util import SilentServer, TcpProxy, cli, closed_port, no_traceback, public_tmpdir, rmtree

pytestmark = [pytest.mark.mysql, pytest.mark.oracle]

# (service, sender, recipient): class lookups (recipient / sender domain),
# a mailbox map, an access table (check_sender_access), and a control that
# never reaches MySQL.
TXS = [
    ("smtp", "a@example.org", "b@example.net"),
    ("smtp", "a@vmail.example", "b@vmail.example"),
    ("127.0.0.1:10025", "a@vmail.example", "b@localhost"),
    ("smtp", "a@localhost", "b@localhost"),
]
REASON = {"closed port": "refused", "wrong password": "Access denied",
          "silent server": "timed out", "dies mid-session": "refused"}


def write_config(d: Path, hosts: str, user: str, password: str, db: str) -> None:
    mysql_cf(d / "domains.cf", hosts, user, password, db, PFA_DOMAINS, mode=0o640)
    mysql_cf(d / "mailboxes.cf", hosts, user, password, db, PFA_MAILBOXES, mode=0o640)
    mysql_cf(d / "access.cf", hosts, user, password, db,
             "SELECT 'REJECT' FROM domain WHERE domain='%s' AND description='blocked'", mode=0o640)
    (d / "main.cf").write_text(f"""compatibility_level = 3.6
myhostname = mx.example.com
mydomain = example.com
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination = localhost
mynetworks = 127.0.0.0/8
alias_maps =
virtual_mailbox_domains = vmail.example, mysql:{d}/domains.cf
virtual_mailbox_maps = mysql:{d}/mailboxes.cf
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
""")
    (d / "master.cf").write_text(
        "smtp inet n - n - - smtpd\n"
        f"127.0.0.1:10025 inet n - n - - smtpd -o smtpd_sender_restrictions=check_sender_access,mysql:{d}/access.cf\n")


@pytest.fixture(scope="module")
def database():
    need_mariadb()
    with pfa_database() as (db, user):
        yield db, user


def _config(hosts: str, db: str, user: str, password: str = PASSWORD) -> Path:
    d = public_tmpdir("pfx-dbfail-")
    write_config(d, hosts, user, password, db)
    return d


@pytest.fixture(scope="module")
def real_answers(database):
    """{mode: [(code, reply, stage) per TXS]} from a real smtpd."""
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    db, user = database
    out = {}
    for mode, hosts, pw in (("closed port", f"inet:127.0.0.1:{closed_port()}", PASSWORD),
                            ("wrong password", "inet:127.0.0.1:3306", "not-" + PASSWORD)):
        d = _config(hosts, db, user, pw)
        try:
            with PostfixInstance(d) as inst:
                out[mode] = []
                for svc, s, r in TXS:
                    a = inst.query(svc, "192.0.2.1", "client.example.org", "client.example.org", s, r)
                    out[mode].append((a.code, a.reply, a.stage))
        finally:
            rmtree(d)
    # a lookup error is a lookup error: Postfix's reply does not depend on why
    assert out["closed port"] == out["wrong password"]
    assert [c for c, _r, _s in out["closed port"]][:3] == [451, 451, 451]
    return out["closed port"]


def _resolver():
    from tests.oracle.conftest import machine_resolver

    return machine_resolver()


def engine_trace(cfg, svc, s, r):
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    tx = Transaction("192.0.2.1", client_name="client.example.org", helo="client.example.org",
                     sender=s, recipient=r)
    return evaluate(cfg, tx, service=svc, resolver=_resolver())


def check(tr, expected, mode):
    assert (tr.code, tr.reply, tr.stage) == expected
    text = json.dumps(tr.to_json())
    if tr.code == 451:
        assert REASON[mode] in text, text[:3000]
    assert PASSWORD not in text


@pytest.mark.parametrize("mode", ["closed port", "wrong password", "silent server"])
def test_engine_and_cli_give_postfixs_reply(mode, database, real_answers):
    from tui.core.config import load_config

    db, user = database
    server = SilentServer() if mode == "silent server" else None
    hosts = {"closed port": f"inet:127.0.0.1:{closed_port()}", "wrong password": "inet:127.0.0.1:3306",
             "silent server": f"inet:127.0.0.1:{server.port if server else 0}"}[mode]
    d = _config(hosts, db, user, "not-" + PASSWORD if mode == "wrong password" else PASSWORD)
    try:
        cfg = load_config(d)
        picks = [0, 2] if server else range(len(TXS))  # each silent lookup waits out the read timeout
        for i in picks:
            svc, s, r = TXS[i]
            check(engine_trace(cfg, svc, s, r), real_answers[i], mode)
        if server:
            assert server.accepted >= 1  # it really talked to the silent server
        svc, s, r = TXS[2]
        res = cli("--config-dir", str(d), "trace", "--service", svc, "--client-address", "192.0.2.1",
                  "--client-name", "client.example.org", "--helo", "client.example.org",
                  "--sender", s, "--recipient", r)
        no_traceback(res)
        assert res.rc == 1
        assert real_answers[2][1] in res.out and REASON[mode] in res.out
        assert PASSWORD not in res.all
        res = cli("--config-dir", str(d), "lookup", f"mysql:{d}/domains.cf", "example.com")
        no_traceback(res)
        assert res.rc == 2 and f"{d}/domains.cf" in res.err and REASON[mode] in res.err
        assert PASSWORD not in res.all
    finally:
        if server:
            server.close()
        rmtree(d)


def test_server_dies_mid_session(database, real_answers):
    """A live connection, then the server goes away between two traces of
    the same Config (the tables and their connection are reused)."""
    from tui.core.config import load_config

    db, user = database
    with TcpProxy(("127.0.0.1", 3306)) as proxy:
        d = _config(f"inet:127.0.0.1:{proxy.port}", db, user)
        try:
            cfg = load_config(d)
            ok = engine_trace(cfg, "smtp", "a@vmail.example", "alice@example.com")
            assert ok.code == 250, ok.reply  # the mailbox exists: MySQL answered through the proxy
            assert proxy.accepted >= 1
            proxy.kill()
            for i in (0, 1):
                check(engine_trace(cfg, *TXS[i]), real_answers[i], "dies mid-session")
        finally:
            rmtree(d)


# ---------------------------------------------------------------------------
# the app


async def test_app_answers_keys_while_a_worker_waits_on_a_silent_server(tmp_path, monkeypatch):
    from tests.ui.conftest import plain, settle
    from tui.app import make_app
    from tui.core.tables import mysql

    # the keys below must all be answered while the worker still waits: a
    # wait of 15 s instead of 5 leaves room for a machine slow to run them
    monkeypatch.setattr(mysql, "IO_TIMEOUT", 15)
    monkeypatch.setattr(mysql, "LOOKUP_TIMEOUT", mysql.CONNECT_TIMEOUT + 15)
    with SilentServer() as server:
        cf = tmp_path / "mysql_virtual_domains_maps.cf"
        mysql_cf(cf, f"inet:127.0.0.1:{server.port}", "postfix", PASSWORD, "postfixadmin", PFA_DOMAINS)
        spec = f"proxy:mysql:{cf}"
        (tmp_path / "main.cf").write_text(
            f"virtual_mailbox_domains = {spec}\n"
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
        (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
        app = make_app(tmp_path)
        async with app.run_test(size=(100, 30)) as pilot:
            # wait until the table worker is connected to the server that never answers
            assert await settle(pilot, lambda: server.accepted >= 1 and app.model is not None)
            assert app.model.table_state(spec)[0] == "checking"
            await pilot.press("question_mark")
            await pilot.pause()
            from tui.screens.help import HelpScreen

            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen)
            before = app.tree.cursor_line
            await pilot.press("down")
            await pilot.pause()
            assert app.tree.cursor_line == before + 1
            await pilot.press("t")
            await pilot.pause()
            assert app.query_one("#switcher").current == "trace"
            await pilot.press("escape")
            # still blocked on the silent server while all of that happened
            assert app.model.table_state(spec)[0] == "checking"
            assert await settle(pilot, tries=1000)
            state, reason = app.model.table_state(spec)
            assert state == "unreadable" and "timed out" in reason
            node = app.tree.table_nodes[spec]
            assert "red" in str(node.label.style)
            app.goto_table(spec)
            await pilot.pause()
            detail = plain(app.detail.body.content)
            assert "timed out" in detail and PASSWORD not in detail
