"""Text from outside stays text on every screen: Rich markup in values, map
entries and log lines is shown as written, never interpreted (no
MarkupError, no lost brackets), and terminal escapes are shown as '?'."""
from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import plain, screen_text, settle
from textual import events
from textual.widgets import Input
from tui.app import make_app

ESC_TITLE = "\x1b]2;pwned\x07"   # OSC 2: would retitle the terminal
ESC_CLEAR = "\x1b[2J"            # CSI: would clear it

LOG_LINE = ("May 11 09:06:42 mail postfix/smtpd[8390]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: "
            "554 5.7.1 <x[/]@example.org>: Relay access denied; from=<[b]a@example.org> "
            "to=<x[/]@example.org> proto=ESMTP helo=<[/]>")


def hostile_config(d: Path) -> Path:
    (d / "access").write_text(f"[/]evil{ESC_CLEAR} REJECT [bold]no[/bold] {ESC_TITLE}\n"
                              "[red]x[/] OK\n")
    (d / "main.cf").write_text(
        f"x_banner = [bold]not bold[/] {ESC_TITLE} {ESC_CLEAR}end\n"
        f"smtpd_client_restrictions = check_client_access texthash:{d}/access\n"
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n"
        "mynetworks = 127.0.0.0/8\n")
    (d / "master.cf").write_text(
        "smtp inet n - y - - smtpd\n"
        "submission inet n - y - - smtpd\n"
        "  -o relayhost=[smtp.example.com]:587\n"
        "  -o content_filter=scan:[localhost]:10025\n")
    return d


def _clean(app) -> str:
    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\x07" not in svg
    return " ".join(screen_text(app).split())


async def test_every_screen_shows_outside_text_as_written(tmp_path: Path):
    d = hostile_config(tmp_path)
    app = make_app(d)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await settle(pilot)
        tree = app.tree
        # the tree, every section
        _clean(app)
        # a parameter with markup and escapes in its value
        app.goto_param("x_banner")
        await pilot.pause()
        detail = plain(app.detail.body.content)
        assert "[bold]not bold[/]" in detail
        assert "?]2;pwned?" in detail and "?[2Jend" in detail
        _clean(app)
        # master.cf -o values with brackets, in the tree and the detail
        svc = [n for n in tree.sections["master.cf"].children if n.data.key == "submission"][0]
        svc.expand()
        await pilot.pause()
        _clean(app)
        labels = [str(n.label) for n in svc.children]
        assert "-o relayhost=[smtp.example.com]:587" in labels
        assert "-o content_filter=scan:[localhost]:10025" in labels
        app.goto_param("relayhost", "submission")
        await pilot.pause()
        assert "[smtp.example.com]:587" in plain(app.detail.body.content)
        tree.reveal(svc)
        await pilot.pause()
        assert "relayhost" in plain(app.detail.body.content)
        assert "[smtp.example.com]:587" in plain(app.detail.body.content)
        # the table, its entries, an entry, a lookup of a hostile key
        spec = f"texthash:{d}/access"
        app.goto_table(spec)
        await pilot.pause()
        node = tree.table_nodes[spec]
        node.expand()
        assert await settle(pilot, lambda: any(c.data.kind == "entry" for c in node.children))
        _clean(app)
        assert any(str(c.label).startswith("[red]x[/]  OK") for c in node.children)
        assert any(str(c.label).startswith("[/]evil?[2j  REJECT [bold]no[/bold] ?]2;pwned?")
                   for c in node.children)
        for child in node.children:
            tree.reveal(child)
            await pilot.pause()
            _clean(app)
        app.goto_table(spec)
        await pilot.pause()
        await pilot.press("tab")
        await pilot.press(*"[/]evil", "enter")
        result = app.detail.query_one("#lookup-result")
        assert await settle(pilot, lambda: "looking up" not in plain(result.content))
        _clean(app)
        # the trace: a pasted log line full of markup, then every step
        await pilot.press("ctrl+l")
        pane = app.trace_pane
        pane.query_one("#logline", Input).post_message(events.Paste(LOG_LINE))
        await pilot.pause()
        assert pane.values()["recipient"] == "x[/]@example.org"
        assert pane.values()["helo"] == "[/]"
        await pilot.press("enter")
        assert await settle(pilot, lambda: pane.trace is not None)
        text = _clean(app)
        assert "x[/]@example.org" in text or "x[/] @example.org" in text
        table = pane.query_one("#steps")
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.pause()
            _clean(app)
        # the help and the palette
        await pilot.press("question_mark")
        await pilot.pause()
        _clean(app)
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"x_ban")
        await pilot.pause()
        _clean(app)
        await pilot.press("escape")
        assert app.is_running
