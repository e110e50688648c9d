"""Pilot test of the Log view on cleanup's header/body checks lines: the mail
log is the one a real Postfix wrote while tests/oracle/test_triage_content.py's
messages tripped its header_checks and body_checks. The groups are the
triage's own, shown like every other group; a transaction of one is not
opened in the trace pane (smtpd's restrictions did not decide it)."""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from tests.conftest import need_postfix
from tests.oracle import postfix_instance as pi
from tests.oracle.test_triage_content import (MESSAGES, HEADER_CHECKS, _cleanup_lines, _send, _write_checks,
                                              scratch_config)
from tests.ui.conftest import settle
from textual.widgets import DataTable
from tui.app import make_app

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def content_log():
    need_postfix()
    with ExitStack() as stack:
        d = scratch_config(stack, "pfx-content-ui-")
        _write_checks(d, HEADER_CHECKS)
        with pi.PostfixInstance(d) as inst:
            start = inst.log_size()
            for m in MESSAGES[:3]:
                _send(inst.port("smtp"), *m)
            lines = _cleanup_lines(inst, start, 3)
        assert len(lines) == 3, lines
        yield d, "\n".join(lines) + "\n"


async def test_log_view_shows_header_checks_groups(content_log, tmp_path):
    from tui.screens.log_view import LogView

    d, text = content_log
    log = tmp_path / "mail.log"
    log.write_text(text)
    app = make_app(d, log_paths=[str(log)])
    async with app.run_test(size=(160, 50)) as pilot:
        assert await settle(pilot)
        assert await settle(pilot, lambda: isinstance(app.screen, LogView))
        view = app.screen
        assert await settle(pilot, lambda: view.result is not None)
        await pilot.pause()
        groups = view.query_one("#log-groups", DataTable)
        assert groups.row_count == len(view.result.groups) == 2
        cells = [c.plain for r in range(groups.row_count) for c in groups.get_row_at(r)]
        assert "header" in cells and "cleanup" in cells
        assert any("header_checks" in c and "REJECT no pills here" in c for c in cells), cells
        # the filter's words reach them too
        view.query_one("#log-filter").value = "restriction:header_checks"
        await pilot.pause()
        assert len(view.shown) == 2
        view.query_one("#log-filter").value = ""
        await pilot.pause()
        # Enter, Enter: no trace of smtpd's restrictions for a header check; the view stays
        groups.focus()
        groups.move_cursor(row=0)
        await pilot.press("enter")
        trans = view.query_one("#log-transactions", DataTable)
        assert trans.has_class("-visible") and trans.row_count == len(view.group.occurrences)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LogView)
        assert any("header_checks" in n.message for n in app._notifications), list(app._notifications)
        # the reason holds text from the log (a process name, a reply): never read as markup
        assert all(not n.markup for n in app._notifications if "cannot be traced" in n.message)
