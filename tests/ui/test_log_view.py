"""Pilot test of the Log view (tui/screens/log_view.py) pushed onto the app:
the mail log is the one a real smtpd wrote while the triage scenario's
sessions drove it (tests/oracle/test_triage_scenario.py)."""
from __future__ import annotations

import pytest

from tests.conftest import need_postfix
from tests.oracle.test_triage_scenario import real_maillog
from tests.ui.conftest import plain, settle
from textual.widgets import DataTable, Input, ProgressBar
from tui.app import make_app


@pytest.fixture(scope="module")
def real():
    need_postfix()
    with real_maillog() as (d, text, _inst):
        yield d, text


async def test_log_view_groups_transactions_and_opens_a_trace(real, tmp_path):
    from tui.screens.log_view import LogView

    d, text = real
    # a line from outside with control characters: shown literally, never as markup
    evil = ("Dec 05 05:05:44 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from evil.test[203.0.113.99]: "
            "554 5.7.1 <x@elsewhere.test>: Relay access denied; from=<a\x1b[31m@other.test> "
            "to=<x@elsewhere.test> proto=ESMTP helo=<[bold]x[/bold]>\n")
    # an smtpd that exited at start-up (as Postfix logs it: no client, no transaction)
    fatal = "Dec 05 05:05:45 mx postfix/smtpd[2]: fatal: bad boolean configuration: smtpd_delay_reject = true\n"
    log = tmp_path / "mail.log"
    log.write_text(text + evil + fatal)
    app = make_app(d, log_paths=[str(log)])   # as `postfix-explorer --log FILE` makes it

    async with app.run_test(size=(160, 50)) as pilot:
        assert await settle(pilot)
        assert await settle(pilot, lambda: isinstance(app.screen, LogView))  # opened once loaded
        view = app.screen
        assert await settle(pilot, lambda: view.result is not None)
        await pilot.pause()
        groups = view.query_one("#log-groups", DataTable)
        assert groups.row_count == len(view.result.groups) > 5
        bar = view.query_one("#log-progress", ProgressBar)
        assert bar.progress == bar.total
        summary = plain(view.query_one("#log-summary").content)
        assert "groups" in summary and "re-traced" in summary

        # filter by code and by restriction; Esc clears the filter
        await pilot.press("slash")
        await pilot.press(*"code:554")
        assert all(g.reply.startswith("554") for g in view.shown) and view.shown
        view.query_one("#log-filter", Input).value = "restriction:check_sender_access"
        await pilot.pause()
        assert view.shown and all("check_sender_access" in g.decided_by["entry"] for g in view.shown)
        view.query_one("#log-filter", Input).value = "client:198.51.100.66"
        await pilot.pause()
        assert view.shown and all("Client host rejected: go away" in g.reply for g in view.shown)
        await pilot.press("escape")
        assert groups.row_count == len(view.result.groups)

        def group_of(addr):
            return next(i for i, g in enumerate(view.shown)
                        if any(o.record.client_address == addr for o in g.occurrences))

        # Enter on a group lists its transactions; outside text is literal,
        # control characters made visible
        groups.focus()
        groups.move_cursor(row=group_of("203.0.113.99"))
        await pilot.press("enter")
        trans = view.query_one("#log-transactions", DataTable)
        assert trans.has_class("-visible") and trans.row_count == len(view.group.occurrences)
        cells = [c.plain for r in range(trans.row_count) for c in trans.get_row_at(r)]
        assert "[bold]x[/bold]" in cells
        assert "a?[31m@other.test" in cells
        await pilot.press("escape")
        assert not trans.has_class("-visible") and groups.has_focus

        # the smtpd that exited: its group lists the line; Enter on it says
        # there is nothing to trace and stays in the Log view
        groups.move_cursor(row=next(i for i, g in enumerate(view.shown) if g.kind == "fatal"))
        await pilot.press("enter")
        assert view.group.kind == "fatal" and trans.row_count == 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LogView)
        assert any("no transaction to trace" in str(n.message) for n in app._notifications)  # noqa: SLF001
        await pilot.press("escape")
        assert groups.has_focus

        # the real smtpd's relay denial: Enter, Enter opens it in the trace pane
        groups.move_cursor(row=group_of("203.0.113.10"))
        await pilot.press("enter")
        row = next(i for i, o in enumerate(view.group.occurrences) if o.record.client_address == "203.0.113.10")
        trans.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, LogView)
        pane = app.trace_pane
        assert pane.query_one("#client_address", Input).value == "203.0.113.10"
        assert await settle(pilot, lambda: pane.trace is not None)
        assert pane.trace.reply == "554 5.7.1 <x@elsewhere.test>: Relay access denied"
        assert pane.trace.decided_by.entry == "reject_unauth_destination"

        # l opens the Log view again from the trace, Esc backs out of it
        await pilot.press("escape")
        await pilot.press("l")
        assert await settle(pilot, lambda: isinstance(app.screen, LogView))
        await pilot.press("escape")
        assert await settle(pilot, lambda: not isinstance(app.screen, LogView))
