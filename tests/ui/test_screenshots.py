"""Snapshot tests: the main screens of the real app at 80x24 and 160x45.

Each test drives the app like a user, asserts on what it shows, then
compares the screen with the committed picture in screenshots/ and fails
when the rendering changed (UPDATE_SCREENSHOTS=1 writes new pictures after
an intended change). The README shows these same SVGs.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.ui.conftest import plain, screen_text, settle, snapshot
from tests.ui.test_mysql import closed_port, write_config
from tui.app import make_app
from tui.demo import SEED_CASE, materialise

# Screenshots show file paths; a fixed scratch location (not a random temp
# dir) keeps the committed SVGs unchanged from one test run to the next.
FIXED = Path(tempfile.gettempdir()) / "postfix-explorer-screenshots"


def fixed_dir(name: str) -> Path:
    d = FIXED / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


@pytest.fixture
def demo_dir() -> Path:
    d = materialise(fixed_dir("demo"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _closed(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


async def test_screenshot_tree_with_a_parameter(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        app.goto_param("smtpd_recipient_restrictions")
        await pilot.pause()
        assert "smtpd_recipient_restrictions" in plain(app.detail.body.content)
        await snapshot(pilot, "tree-parameter.svg")


async def test_screenshot_postfixadmin_and_classes(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        for name in ("main.cf", "master.cf", "tables"):
            app.tree.sections[name].collapse()
        node = app.tree.sections["pfa"]
        alias_group = [c for c in node.children if c.data.key == "aliases"][0]
        alias_group.expand()
        app.tree.reveal(alias_group.children[0])
        await pilot.pause()
        assert "catch-all" in plain(app.detail.body.content)
        await snapshot(pilot, "postfixadmin.svg")


async def test_screenshot_mysql_down():
    tmp_path = fixed_dir("mysql-down")
    # Port 1 (tcpmux) is closed on any sane host; closed_port() would put a
    # different number into every picture.
    port = 1 if _closed(1) else closed_port()
    spec = write_config(tmp_path, f"inet:127.0.0.1:{port}", "postfixadmin", "postfix",
                        "hidden-password", mode=0o644)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        assert await settle(pilot)
        app.sub_title = "a MySQL server that does not answer"
        app.goto_table(spec)
        await pilot.pause()
        assert "unreadable" in plain(app.detail.body.content)
        await snapshot(pilot, "mysql-down.svg")


async def test_screenshot_warnings(demo_dir: Path):
    """The demo with three classic mistakes added: the warnings section."""
    master = demo_dir / "master.cf"
    master.write_text(master.read_text().replace("smtpd_reject_unlisted_sender", "smtpd_reject_unlistsd_sender"))
    main = demo_dir / "main.cf"
    text = main.read_text().replace("mydestination = $myhostname, localhost.$mydomain, localhost",
                                    "mydestination = $myhostname, localhost.$mydomain, localhost, example.org")
    text += "smtpd_client_restrictions = permit, reject_unknown_client_hostname\n"
    main.write_text(text)
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo with three mistakes"
        sec = app.tree.sections["warnings"]
        msgs = [c.data.key for c in sec.children]
        assert any("unused parameter: smtpd_reject_unlistsd_sender" in m for m in msgs)
        assert any("can never be reached" in m for m in msgs)
        assert any("example.org is listed in two address classes" in m for m in msgs)
        app.tree.reveal(sec.children[0])
        await pilot.pause()
        await snapshot(pilot, "warnings.svg")
        # Enter on the loader's warning shows the -o override it is about
        typo = [c for c in sec.children if "unlistsd" in c.data.key][0]
        app.tree.reveal(typo)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        node = app.tree.cursor_node
        assert node.data.kind == "override" and node.data.service == "submission"
        assert node.data.key == "smtpd_reject_unlistsd_sender"


SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 45), id="160x45")]


def _screen(app) -> str:
    return " ".join(screen_text(app).split())


def _name(what: str, size) -> str:
    return f"{what}-{size[0]}x{size[1]}.svg"


async def _run_trace(pilot, **fields) -> None:
    app = pilot.app
    pane = app.trace_pane
    await pilot.press("t")
    pane.trace = None
    pane.fill(fields)
    await pilot.press("ctrl+r")
    assert await settle(pilot, lambda: pane.trace is not None)
    # the picture is taken once the steps are in the table, not before
    steps = pane.query_one("#steps")
    assert await settle(pilot, lambda: steps.row_count == len(pane.trace.steps)), (steps.row_count, len(pane.trace.steps))
    await pilot.pause()


def _steps_fit(pane) -> None:
    """Every column of the steps table fits the table; the result column is
    whole on every row."""
    table = pane.query_one("#steps")
    cols = list(table.columns.values())
    total = sum(c.get_render_width(table) for c in cols)
    assert total <= table.size.width, (total, table.size.width)
    result = cols[-1]
    for row in range(table.row_count):
        assert len(table.get_row_at(row)[-1].plain) <= result.width


@pytest.mark.parametrize("size", SIZES)
async def test_snapshot_tree(demo_dir: Path, size):
    app = make_app(demo_dir)
    async with app.run_test(size=size) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        app.goto_param("relay_domains")
        await pilot.pause()
        assert "relay_domains" in plain(app.detail.body.content)
        await snapshot(pilot, _name("tree", size))


@pytest.mark.parametrize("size", SIZES)
async def test_snapshot_trace_answer_above_the_fold(demo_dir: Path, size):
    """The seed case: reply, verdict, deciding step, why and the first
    suggested change are on screen without scrolling."""
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=size) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        await _run_trace(pilot)
        text = _screen(app)
        assert "554 5.7.1 <friend@example.com>: Relay access denied" in text
        assert "rejected by reject_unauth_destination" in text
        assert "may not relay to example.com" in text
        assert "insert permit_mynetworks before reject_unauth_destination" in text
        assert "postconf -e" in text
        _steps_fit(app.trace_pane)
        await snapshot(pilot, _name("trace", size))


@pytest.mark.parametrize("size", SIZES)
async def test_snapshot_trace_after_a_long_list(demo_dir: Path, size):
    """A trace decided by smtpd_reject_unlisted_recipient, then the seed
    case: the columns fit again and the result column is whole."""
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=size) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        await _run_trace(pilot, sender="a@example.org", recipient="nobody@example.org")
        pane = app.trace_pane
        assert pane.trace.decided_by.parameter == "smtpd_reject_unlisted_recipient"
        _steps_fit(pane)
        await _run_trace(pilot, **SEED_CASE)
        assert pane.trace.decided_by.entry == "reject_unauth_destination"
        _steps_fit(pane)
        assert "reject" in screen_text(app)
        await snapshot(pilot, _name("trace-after-long-list", size))


@pytest.mark.parametrize("size", SIZES)
async def test_snapshot_trace_form(demo_dir: Path, size):
    """The form before a run: fields in reading order, starts of long
    values visible."""
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=size) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        await pilot.press("t")
        await pilot.pause()
        assert "users-bounces@" in _screen(app)  # the start of the sender, not its end
        await snapshot(pilot, _name("trace-form", size))


@pytest.mark.parametrize("size", SIZES)
async def test_snapshot_warning_detail(demo_dir: Path, size):
    main = demo_dir / "main.cf"
    main.write_text(main.read_text() + "smtpd_client_restrictions = permit, reject_unknown_client_hostname\n")
    app = make_app(demo_dir)
    async with app.run_test(size=size) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo with a mistake"
        sec = app.tree.sections["warnings"]
        node = [c for c in sec.children if "can never be reached" in c.data.key][0]
        app.tree.reveal(node)
        await pilot.pause()
        detail = plain(app.detail.body.content)
        assert "LintWarning(" not in detail and "can never be reached" in detail
        assert "smtpd_client_restrictions" in detail
        await snapshot(pilot, _name("warning-detail", size))


@pytest.mark.parametrize("size", SIZES)
async def test_snapshot_filter_without_matches(demo_dir: Path, size):
    app = make_app(demo_dir)
    async with app.run_test(size=size) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        await pilot.press("slash", *"zzzq")
        await pilot.pause()
        assert "no matches for 'zzzq'" in _screen(app)
        await snapshot(pilot, _name("filter-no-match", size))
