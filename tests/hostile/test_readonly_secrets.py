"""Read-only and secret-keeping, proven on a production-shaped configuration
(tests/hostile/prod.py) whose files and directory are chmod a-w:

* every CLI command (params, lookup, trace with many options, lint) runs as
  root AND as the unprivileged user `nobody` (for whom the modes are real),
  and the app (Pilot) walks every node, expands every table, opens help and
  runs traces -- afterwards the directory listing, every file's content,
  mode and mtime, and a CHECKSUM of every database table are unchanged;
* no password (the working one, a pgsql one, a wrong one) appears in any
  CLI output (text, --json, errors), any screen (SVG export of every node's
  detail pane, the trace pane, help, warnings, the MySQL-down and the
  wrong-password states), any Python log record, or any table object's repr;
* the world-readable .cf holding a password is reported (lint on the CLI,
  the warnings section and the detail pane in the app), the 0640 ones not.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import need_mariadb, need_postfix
from tests.hostile.prod import (
    ALL_SECRETS, PASSWORD, WRONG_PASSWORD, checksum, make_prod_dir, make_read_only, pfa_database,
)
from tests.hostile.util import closed_port, cli, no_traceback, public_tmpdir, rmtree, snapshot

pytestmark = [pytest.mark.mysql]

LOG_LINE = ("Nov 27 10:00:00 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from unknown[192.0.2.66]: "
            "554 5.7.1 <192.0.2.66>: Client host rejected: listed client; from=<a@example.org> "
            "to=<alice@example.com> proto=ESMTP helo=<client.example.org>")


def commands(specs: dict[str, str]) -> list[tuple[list[str], bytes | None]]:
    """Every CLI command, with the options that take different paths."""
    t = ["trace", "--client-address"]
    return [
        (["params", "-n"], None), (["params", "-x"], None), (["params", "--json"], None),
        (["params", "-n", "--service", "submission"], None),
        (["params", "-x", "--json", "--service", "submission", "smtpd_recipient_restrictions"], None),
        (["params", "-n", "-x", "-h", "virtual_alias_maps"], None),
        (["lookup", specs["domains"], "example.com"], None),
        (["lookup", specs["aliases"], "--where", "info@example.com", "nobody@example.com"], None),
        (["lookup", specs["mailboxes"], "-"], b"alice@example.com\no'brien@example.com\nx' OR '1'='1\n"),
        (["lookup", specs["sqlite"], "spammer@example.org"], None),
        (["lookup", specs["pgsql"], "x"], None),
        (["lookup", specs["hash"], "blocked@example.org"], None),
        (["lookup", specs["regexp"], "localhost"], None),
        (["lookup", specs["cidr"], "192.0.2.66"], None),
        (t + ["192.0.2.1", "--helo", "c.example.org", "--sender", "a@example.org",
              "--recipient", "alice@example.com"], None),
        (t + ["192.0.2.1", "--helo", "c.example.org", "--sender", "a@example.org",
              "--recipient", "info@example.com", "--json"], None),
        (t + ["192.0.2.1", "--helo", "c.example.org", "--sender", "a@example.org",
              "--recipient", "someone@elsewhere.example", "--dns", "none"], None),
        (t + ["192.0.2.1", "--helo", "c.example.org", "--sender", "spammer@example.org",
              "--recipient", "alice@example.com", "--json"], None),
        (t + ["203.0.113.5", "--client-name", "c.example.org", "--helo", "c.example.org",
              "--sender", "a@example.org", "--recipient", "x@elsewhere.example", "--service", "submission",
              "--sasl-login", "alice@example.com"], None),
        (["trace", "--from-log", LOG_LINE, "--domain-exists", "example.org"], None),
        (["trace", "--from-log", LOG_LINE, "--json", "--policy", "inet:127.0.0.1:1=DUNNO"], None),
        (["lint"], None), (["lint", "--json"], None),
    ]


def assert_no_secret(text: str, where: str) -> None:
    for s in ALL_SECRETS:
        assert s not in text, f"a password leaked in {where}"
        # also not cut in half or escaped
        assert s[:14] not in text, f"part of a password leaked in {where}"


def run_all(d: Path, specs: dict[str, str], user: str | None) -> list[str]:
    outs = []
    for argv, stdin in commands(specs):
        r = cli("--config-dir", str(d), *argv, user=user, stdin=stdin)
        no_traceback(r)
        assert r.rc in (0, 1, 2), (argv, r.rc, r.err)
        assert_no_secret(r.all, f"{argv} as {user or 'root'}")
        outs.append(r.all)
    return outs


@pytest.fixture(scope="module")
def prod():
    need_postfix()
    need_mariadb()
    with pfa_database() as (db, user):
        d = public_tmpdir("pfx-prod-")
        specs = make_prod_dir(d, db, user)
        make_read_only(d)
        try:
            yield d, db, specs
        finally:
            rmtree(d)


def test_cli_reads_only_and_keeps_secrets(prod):
    d, db, specs = prod
    before, db_before = snapshot(d), checksum(db)
    root_out = run_all(d, specs, None)
    nobody_out = run_all(d, specs, "nobody")
    assert snapshot(d) == before
    assert checksum(db) == db_before
    # it really worked as root: the working MySQL tables answered
    joined = "\n".join(root_out)
    assert "example.com/alice/" in joined
    # as nobody the 0640 .cf files are unreadable: named, not a crash
    assert "Permission denied" in "\n".join(nobody_out)
    # the world-readable .cf holding a password is reported by lint; 0640 ones are not
    lint_out = root_out[-2]
    assert f"{d}/mysql_virtual_domains_maps.cf" in lint_out and "world-readable" in lint_out
    assert f"{d}/pgsql_relay.cf" in lint_out
    assert "mysql_virtual_alias_maps.cf holds a password" not in lint_out


def test_engine_objects_hide_the_password(prod):
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.tables import open_table
    from tui.core.trace import Transaction

    d, _db, specs = prod
    cfg = load_config(d)
    for spec in specs.values():
        t = open_table(spec, cfg.params())
        t.lookup("alice@example.com")
        assert_no_secret(repr(t) + str(t.status) + repr(vars(t)), f"{spec} object")
        t.close()
    tr = evaluate(cfg, Transaction("192.0.2.1", helo="c.example.org", sender="a@example.org",
                                   recipient="info@example.com"))
    assert_no_secret(repr(tr) + str(tr.to_json()), "trace object")


# ---------------------------------------------------------------------------
# the app


async def walk_app(app, pilot, limit: int = 600) -> list[str]:
    """Show every node's detail pane (expanding all of them, tables too),
    then help and a trace; return the text of every screen."""
    from tests.ui.conftest import plain, screen_text, settle

    screens = []
    tree = app.tree
    todo = list(tree.root.children)
    seen = 0
    while todo and seen < limit:
        node = todo.pop(0)
        seen += 1
        if node.allow_expand and not node.is_expanded:
            node.expand()
            await pilot.pause()
            await settle(pilot, lambda: not any(w.is_running for w in app.workers), tries=100)
        app.detail.show(node.data, app.model)
        screens.append(plain(app.detail.body.content))
        if seen % 25 == 0:
            tree.move_cursor(node)
            await pilot.pause()
            screens.append(screen_text(app))
        todo.extend(node.children)
    await pilot.press("question_mark")
    await pilot.pause()
    screens.append(screen_text(app))
    await pilot.press("escape")
    return screens


async def run_trace(app, pilot, values: dict) -> str:
    from tests.ui.conftest import screen_text, settle

    await pilot.press("t")
    pane = app.trace_pane
    pane.trace = None
    pane.fill(values)
    pane.action_run()
    await settle(pilot, lambda: pane.trace is not None, tries=400)
    await pilot.pause()
    text = screen_text(app)
    await pilot.press("down", "down", "enter")
    await pilot.pause()
    text += screen_text(app)
    await pilot.press("escape")
    return text


async def check_app(d: Path, expect: str, caplog) -> list[str]:
    from tests.ui.conftest import screen_text, settle
    from tui.app import make_app

    caplog.set_level(logging.DEBUG)
    app = make_app(d)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        screens = [screen_text(app)]
        screens += await walk_app(app, pilot)
        for rcpt in ("info@example.com", "alice@example.com", "x@elsewhere.example"):
            screens.append(await run_trace(app, pilot, {
                "client_address": "192.0.2.1", "helo": "c.example.org", "sender": "a@example.org",
                "recipient": rcpt}))
        screens.append(app.export_screenshot())
        for i, s in enumerate(screens):
            assert_no_secret(s, f"app screen {i}")
        assert app.is_running
    assert_no_secret(caplog.text, "log records")
    assert expect in "\n".join(screens)
    return screens


async def test_app_reads_only_and_keeps_secrets(prod, caplog):
    d, db, specs = prod
    before, db_before = snapshot(d), checksum(db)
    screens = await check_app(d, "10 mailboxes", caplog)
    joined = "\n".join(screens)
    assert "world-readable" in joined
    assert snapshot(d) == before
    assert checksum(db) == db_before


@pytest.fixture(params=["server down", "wrong password"])
def failing(request):
    """The same configuration with MySQL refusing connections, or with a
    wrong password (which must not leak either)."""
    need_postfix()
    need_mariadb()
    with pfa_database() as (db, user):
        d = public_tmpdir("pfx-fail-")
        if request.param == "server down":
            specs = make_prod_dir(d, db, user, hosts=f"inet:127.0.0.1:{closed_port()}")
        else:
            specs = make_prod_dir(d, db, user, hosts="inet:127.0.0.1:3306", password=WRONG_PASSWORD)
        make_read_only(d)
        try:
            yield request.param, d, specs
        finally:
            rmtree(d)


async def test_failing_database_keeps_secrets(failing, caplog):
    what, d, specs = failing
    before = snapshot(d)
    outs = run_all(d, specs, None)
    joined = "\n".join(outs)
    assert ("refused" if what == "server down" else "Access denied") in joined
    screens = await check_app(d, "Access denied" if what == "wrong password" else "refused", caplog)
    assert snapshot(d) == before
    assert PASSWORD not in "\n".join(screens)
