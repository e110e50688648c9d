"""SVG screenshots of the real app on the demo, written to screenshots/.

They are documentation (README) as much as tests: each one drives the app
like a user and asserts on what it shows before saving the picture.
"""
from __future__ import annotations

import re
import shutil
import zlib
from pathlib import Path

import pytest

from tests.ui.conftest import SCREENSHOTS, plain, settle
from tests.ui.test_mysql import closed_port, write_config
from tui.app import make_app
from tui.demo import SEED_CASE, materialise

# Screenshots show file paths; a fixed scratch location (not a random temp
# dir) keeps the committed SVGs unchanged from one test run to the next.
FIXED = Path("/tmp/postfix-explorer-screenshots")


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


def save(app, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    app.save_screenshot(filename=name, path=str(SCREENSHOTS))
    out = SCREENSHOTS / name
    assert out.stat().st_size > 1000
    # Textual names the SVG's CSS classes with a number that changes from run
    # to run even when the picture does not; a name-derived one keeps git quiet.
    svg = out.read_text(encoding="utf-8")
    stable = f"terminal-{zlib.crc32(name.encode())}"
    out.write_text(re.sub(r"terminal-\d+", stable, svg), encoding="utf-8")
    return out


async def test_screenshot_tree_with_a_parameter(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        app.goto_param("smtpd_recipient_restrictions")
        await pilot.pause()
        assert "smtpd_recipient_restrictions" in plain(app.detail.body.content)
        save(app, "tree-parameter.svg")


async def test_screenshot_seed_case_traced(demo_dir: Path):
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        await pilot.press("t", "ctrl+r")
        pane = app.trace_pane
        assert await settle(pilot, lambda: pane.trace is not None)
        await pilot.pause()
        assert pane.highlighted_step.entry == "reject_unauth_destination"
        save(app, "trace-seed-case.svg")


async def test_screenshot_80x24(demo_dir: Path):
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        app.sub_title = "demo"
        app.goto_param("relay_domains")
        await pilot.pause()
        assert "relay_domains" in plain(app.detail.body.content)
        save(app, "app-80x24.svg")
        await pilot.press("t", "ctrl+r")
        pane = app.trace_pane
        assert await settle(pilot, lambda: pane.trace is not None)
        await pilot.pause()
        assert pane.highlighted_step is pane.trace.decided_by
        save(app, "trace-80x24.svg")


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
        save(app, "postfixadmin.svg")


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
        save(app, "mysql-down.svg")


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
        save(app, "warnings.svg")
        # Enter on the loader's warning shows the -o override it is about
        typo = [c for c in sec.children if "unlistsd" in c.data.key][0]
        app.tree.reveal(typo)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        node = app.tree.cursor_node
        assert node.data.kind == "override" and node.data.service == "submission"
        assert node.data.key == "smtpd_reject_unlistsd_sender"
