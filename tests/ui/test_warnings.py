"""Warnings the detail pane shows, help, and the command palette."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.ui.conftest import plain, settle
from tui.app import make_app
from tui.screens.help import HelpScreen


def config(d: Path, main_cf: str) -> Path:
    (d / "main.cf").write_text(main_cf)
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return d


async def test_unreachable_and_unknown_restrictions(tmp_path: Path):
    config(tmp_path, "smtpd_recipient_restrictions = permit_mynetworks, reject_unknwon_sender_domain,\n"
                     "    permit, reject_unauth_destination\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        app.goto_param("smtpd_recipient_restrictions")
        await pilot.pause()
        text = plain(app.detail.body.content)
        assert "reject_unknwon_sender_domain  ← unknown to Postfix" in text
        assert "reject_unauth_destination  ← never reached (after permit)" in text
        assert "'reject_unauth_destination' can never be reached" in text
        assert "'reject_unknwon_sender_domain' is not a restriction Postfix knows" in text
        node = app.tree.param_nodes["smtpd_recipient_restrictions"]
        assert "⚠" in node.label.plain
        # the warnings section on top lists both; Enter on one shows its parameter
        sec = app.tree.root.children[0]
        assert sec is app.tree.sections["warnings"]
        msgs = [c.data.key for c in sec.children]
        assert any("can never be reached" in m for m in msgs)
        assert any("is not a restriction Postfix knows" in m for m in msgs)
        app.tree.reveal(sec.children[0])
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.tree.cursor_node.data.key == "smtpd_recipient_restrictions"


@pytest.mark.oracle
async def test_real_postfix_rejects_the_unknown_restriction_the_app_flags(public_dir: Path):
    """The 'unknown to Postfix' flag agrees with a real smtpd (451 4.3.5)."""
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    config(public_dir, "smtpd_recipient_restrictions = reject_unknwon_sender_domain, reject_unauth_destination\n")
    with PostfixInstance(public_dir) as inst:
        answer = inst.query("smtp", "192.0.2.9", "unknown", "client.example.com",
                            "a@example.com", "b@example.net")
    assert answer.code == 451 and "4.3.5" in answer.reply
    app = make_app(public_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        assert any("reject_unknwon_sender_domain" in w.message and w.severity == "error"
                   for w in app.model.warnings)


async def test_domain_in_two_classes(tmp_path: Path):
    config(tmp_path, "mydestination = example.org, localhost\n"
                     "virtual_mailbox_domains = example.org, example.net\n"
                     "virtual_mailbox_maps = texthash:/nonexistent/vmailbox\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        classes = {c.data.key: c for c in app.tree.sections["classes"].children}
        item = [c for c in classes["virtual mailbox"].children if c.data.key == "example.org"][0]
        assert "two classes" in item.label.plain
        app.tree.reveal(item)
        await pilot.pause()
        text = plain(app.detail.body.content)
        assert "example.org is listed in two address classes: local (mydestination) and " \
               "virtual mailbox (virtual_mailbox_domains)" in text
        # a map that cannot be read is a red node with the reason, not a crash
        spec = "texthash:/nonexistent/vmailbox"
        assert app.model.table_state(spec)[0] == "unreadable"
        assert "red" in str(app.tree.table_nodes[spec].label.style)


@pytest.mark.oracle
async def test_stale_hash_map_is_flagged(tmp_path: Path):
    need_postfix()
    access = tmp_path / "access"
    access.write_text("example.com OK\n")
    config(tmp_path, f"smtpd_sender_restrictions = check_sender_access hash:{access}\n")
    r = subprocess.run(["postmap", "-c", str(tmp_path), f"hash:{access}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    access.write_text("example.com OK\nexample.net REJECT\n")
    later = time.time() + 60
    os.utime(access, (later, later))  # the source is now newer than access.db
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        spec = f"hash:{access}"
        assert app.tree.table_nodes[spec].label.plain.endswith("stale")
        app.goto_table(spec)
        await pilot.pause()
        text = plain(app.detail.body.content)
        assert "stale" in text and "postmap" in text


async def test_help_and_command_palette(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"relay_domains_rej")
        from textual.command import CommandList

        results = app.screen.query_one(CommandList)
        assert await settle(pilot, lambda: results.option_count > 0 and "relay_domains_reject_code" in
                            str(results.get_option_at_index(0).prompt))
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.pause()
        node = app.tree.cursor_node
        assert node is not None and node.data.key == "relay_domains_reject_code"
