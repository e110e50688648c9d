"""Every key in the footer and the help, driven with Pilot from where a user
would press it: it works, or the app says why not."""
from __future__ import annotations

import os
from pathlib import Path

from tests.ui.conftest import plain, screen_text, settle
from textual.widgets import Input
from tui.app import make_app
from tui.demo import SEED_CASE


def _screen(app) -> str:
    return " ".join(screen_text(app).split())


def _notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]  # noqa: SLF001 -- textual is pinned


def _node_visible(tree, node) -> bool:
    line = node.line
    return line >= 0 and tree.scroll_offset.y <= line < tree.scroll_offset.y + tree.scrollable_content_region.height


async def test_slash_filters_on_what_the_tree_shows(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("slash", *"texthash:access")
        await pilot.pause()
        specs = list(app.tree.table_nodes)
        assert specs == [f"texthash:{demo_dir}/access"]
        # the cursor is on something the filter kept, and the detail shows it
        assert app.detail.ref is app.tree.cursor_node.data


async def test_a_filter_without_matches_says_so(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("slash", *"no-such-thing")
        await pilot.pause()
        assert "no matches for 'no-such-thing'" in _screen(app)


async def test_escape_clears_the_filter_and_the_detail_follows_the_cursor(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("slash", *"relay_domains", "enter")
        await pilot.press("down", "down")
        await pilot.press("escape")
        await pilot.pause()
        assert not app.tree.filter_text
        node = app.tree.cursor_node
        assert app.detail.ref is node.data
        assert _node_visible(app.tree, node)


async def test_question_mark_help_scrolls_at_once_and_escape_closes(demo_dir: Path):
    from tui.screens.help import HelpScreen

    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        scroll = app.screen.query_one("#help-scroll")
        for key in ("down", "pagedown", "j"):
            before = scroll.scroll_y
            await pilot.press(key)
            await pilot.pause()
            assert scroll.scroll_y > before, key
        await pilot.press("k")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_left_collapses_and_right_expands(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        tree = app.tree
        sec = tree.sections["main.cf"]
        tree.reveal(sec.children[0])
        await pilot.pause()
        await pilot.press("left")            # a leaf: to its section
        assert tree.cursor_node is sec
        await pilot.press("left")            # the section: closed
        assert not sec.is_expanded
        await pilot.press("right")
        assert sec.is_expanded


async def test_tab_from_a_table_lands_in_its_lookup_field_and_escape_returns(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        spec = f"proxy:sqlite:{demo_dir}/sqlite_virtual_alias_maps.cf"
        app.goto_table(spec)
        await pilot.pause()
        await pilot.press("tab")
        assert app.focused is app.detail.query_one("#lookup")
        await pilot.press(*"info@example.org", "enter")
        result = app.detail.query_one("#lookup-result")
        assert await settle(pilot, lambda: "→" in plain(result.content))
        await pilot.press("escape")
        await pilot.pause()
        assert app.tree.has_focus
        assert _node_visible(app.tree, app.tree.cursor_node)
        assert app.tree.cursor_node.data.key == spec


async def test_split_resizes_and_is_remembered(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        left = app.query_one("#left")
        before = left.outer_size.width
        await pilot.press("greater_than_sign", "greater_than_sign")
        await pilot.pause()
        assert left.outer_size.width == before + 8
        await pilot.press("t")
        app.trace_pane.query_one("#steps").focus()
        await pilot.press("less_than_sign")     # not in the trace: says why
        assert any("split" in n for n in _notes(app))
        await pilot.press("escape")
        await pilot.pause()
        assert left.outer_size.width == before + 8
        await pilot.press("less_than_sign")
        await pilot.pause()
        assert left.outer_size.width == before + 4


async def test_a_toggles_all_parameters(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        assert app.tree.allparams_node.is_expanded
        assert len(app.tree.allparams_node.children) > 500


async def test_t_opens_the_trace_and_escape_backs_out(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("t")
        assert app.focused is app.trace_pane.query_one("#client_address")
        await pilot.press("escape")
        assert app.tree.has_focus


async def test_ctrl_r_on_an_empty_form_says_what_is_missing(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("ctrl+r")             # from the tree: opens the trace and tries
        await pilot.pause()
        summary = plain(app.trace_pane.query_one("#trace-summary").content)
        assert "client and recipient are needed" in summary
        assert app.focused is app.trace_pane.query_one("#client_address")
        assert app.trace_pane.trace is None


async def test_ctrl_l_then_typing_lands_in_the_log_line(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("ctrl+l", *"May")     # from the tree
        assert app.trace_pane.query_one("#logline", Input).value == "May"
        app.trace_pane.query_one("#service").focus()
        await pilot.press("enter")              # open the service menu ...
        await pilot.press("escape")             # ... close it
        await pilot.press("ctrl+l", "end", *" 11")
        assert app.trace_pane.query_one("#logline", Input).value == "May 11"


async def test_tab_order_follows_the_form(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("t")
        order = []
        for _ in range(9):
            order.append(app.focused.id)
            await pilot.press("tab")
        assert order == ["client_address", "client_name", "helo", "sasl_login", "sender", "recipient",
                         "service", "tls", "logline"]


async def test_p_on_a_built_in_check_stays_and_says_why(demo_dir: Path):
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        pane = app.trace_pane
        await pilot.press("t")
        pane.fill({"sender": "no-domain@", "recipient": "friend@example.com"})
        await pilot.press("ctrl+r")
        assert await settle(pilot, lambda: pane.trace is not None)
        step = pane.highlighted_step
        assert step.parameter == "address syntax", step
        await pilot.press("p")
        await pilot.pause()
        assert app.query_one("#switcher").current == "trace"
        assert any("check smtpd makes by itself" in n for n in _notes(app))
        summary = plain(pane.query_one("#trace-summary").content)
        assert "in address syntax" not in summary
        assert "a check smtpd makes by itself" in summary


async def test_a_pasted_log_line_that_disagrees_with_today_says_so(demo_dir: Path):
    from textual import events

    main = demo_dir / "main.cf"
    text = main.read_text()
    main.write_text(text.replace("smtpd_recipient_restrictions =",
                                 "smtpd_recipient_restrictions = permit_mynetworks,", 1))
    line = ("May 11 09:06:42 mail postfix/smtpd[8390]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: "
            "554 5.7.1 <friend@example.com>: Relay access denied; from=<users-bounces@lists.example.org> "
            "to=<friend@example.com> proto=ESMTP helo=<mail.example.org>")
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("ctrl+l")
        pane = app.trace_pane
        pane.query_one("#logline", Input).post_message(events.Paste(line))
        await pilot.pause()
        await pilot.press("enter")
        assert await settle(pilot, lambda: pane.trace is not None)
        assert pane.trace.accepted
        text = _screen(app)
        assert "the pasted log line says 554 5.7.1" in text
        assert "answers differently" in text


async def test_a_deferral_is_called_deferred(demo_dir: Path):
    main = demo_dir / "main.cf"
    text = main.read_text()
    main.write_text(text.replace("reject_unauth_destination", "defer_unauth_destination"))
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        pane = app.trace_pane
        await pilot.press("ctrl+r")
        assert await settle(pilot, lambda: pane.trace is not None)
        assert pane.trace.code == 454
        summary = " ".join(plain(pane.query_one("#trace-summary").content).split())
        assert "deferred by defer_unauth_destination" in summary
        assert "rejected" not in summary


async def test_an_accept_ended_by_a_permit_says_so(demo_dir: Path):
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        pane = app.trace_pane
        await pilot.press("t")
        pane.fill({"recipient": "info@example.org"})
        await pilot.press("ctrl+r")
        assert await settle(pilot, lambda: pane.trace is not None)
        assert pane.trace.accepted
        summary = " ".join(plain(pane.query_one("#trace-summary").content).split())
        assert "without a reject" not in summary
        assert summary.count("accepted") == 1


async def test_q_quits_at_once_while_a_table_is_stuck(tmp_path: Path):
    """A map whose source never answers (a FIFO nobody writes) keeps its own
    node "checking"; the other tables are checked anyway, and q quits."""
    fifo = tmp_path / "stuck"
    os.mkfifo(fifo)
    (tmp_path / "ok").write_text("example.com OK\n")
    (tmp_path / "main.cf").write_text(
        f"smtpd_client_restrictions = check_client_access texthash:{fifo}\n"
        f"smtpd_helo_restrictions = check_helo_access texthash:{tmp_path}/ok\n")
    (tmp_path / "master.cf").write_text("smtp inet n - y - - smtpd\n")
    app = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            ok_spec = f"texthash:{tmp_path}/ok"
            assert await settle(pilot, lambda: app.model is not None and ok_spec in app.model.table_status)
            assert app.model.table_status[ok_spec][0] == "ok"
            await pilot.press("q")
        assert app.return_code == 0
    finally:
        # release the reader still blocked in open() (if the table opened it)
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass


async def test_ctrl_q_quits_from_a_text_field(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("t", "q")            # q in a field is a letter ...
        assert app.trace_pane.query_one("#client_address", Input).value.endswith("q")
        assert app.is_running
        await pilot.press("ctrl+q")            # ... Ctrl+Q quits from there
    assert app.return_code == 0


async def test_a_pasted_mail_from_line_is_traced_to_mail_from(demo_dir: Path):
    """A MAIL FROM reject line names no recipient: the form keeps none
    (not the one of an earlier trace), and the trace ends with the answer
    to MAIL FROM."""
    from textual import events

    line = ("May 11 09:06:42 mail postfix/smtpd[8390]: NOQUEUE: milter-reject: MAIL from "
            "mail.example.net[198.51.100.20]: 451 4.3.5 Server configuration problem - try again later; "
            "from=<a@example.net> proto=ESMTP helo=<mail.example.net>")
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("ctrl+l")
        pane = app.trace_pane
        assert pane.query_one("#recipient", Input).value   # the seed case's
        pane.query_one("#logline", Input).post_message(events.Paste(line))
        await pilot.pause()
        assert pane.query_one("#recipient", Input).value == ""
        assert "it ends at MAIL FROM" in plain(pane.query_one("#trace-summary").content)
        await pilot.press("enter")
        assert await settle(pilot, lambda: pane.trace is not None)
        assert (pane.trace.stage, pane.trace.reply) == ("mail", "250 2.1.0 Ok")
        assert pane.trace.transaction.recipient is None
        assert "the pasted log line says 451 4.3.5" in _screen(app)
