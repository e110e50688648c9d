"""Pilot tests of the trace pane: the seed case, a pasted log line, the jump
from a step to its parameter, and the real Postfix's answer for the same
transaction on the demo configuration."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.ui.conftest import main_cf_line, plain, settle
from textual.widgets import Input, Select
from tui.app import make_app
from tui.demo import SEED_CASE, SEED_LOG_LINE

SEED_REPLY = "554 5.7.1 <friend@example.com>: Relay access denied"


async def trace_seed_case(pilot):
    """Type the seed case into the form, the way a user would, run it, and
    return the trace pane once its trace is there."""
    app = pilot.app
    await pilot.press("t")
    pane = app.trace_pane
    pane.query_one("#service", Select).value = SEED_CASE["service"]
    for field in ("client_address", "client_name", "helo", "sender", "recipient"):
        inp = pane.query_one(f"#{field}", Input)
        inp.focus()
        inp.value = ""
        await pilot.press(*SEED_CASE[field])
    await pilot.press("enter")
    assert await settle(pilot, lambda: pane.trace is not None)
    return pane


async def test_seed_case_stops_on_reject_unauth_destination(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        pane = await trace_seed_case(pilot)
        step = pane.highlighted_step
        assert step is pane.trace.decided_by
        assert step.entry == "reject_unauth_destination"
        assert step.parameter == "smtpd_recipient_restrictions"
        assert step.source.kind == "main.cf"
        assert step.source.line == main_cf_line(demo_dir, "smtpd_recipient_restrictions")
        summary = plain(pane.query_one("#trace-summary").content)
        assert SEED_REPLY in summary.splitlines()[0]
        assert "rejected by reject_unauth_destination" in summary
        assert f"main.cf:{step.source.line}" in summary
        detail = plain(pane.query_one("#step-detail").content)
        assert "permit_mynetworks is missing before reject_unauth_destination" in detail
        assert "postconf -e" in detail  # the suggested change
        assert "insert permit_mynetworks before reject_unauth_destination" in detail
        # the deciding row is the table's cursor row, marked
        table = pane.query_one("#steps")
        assert table.cursor_row == pane.trace.decided_index
        assert table.get_row_at(table.cursor_row)[0].plain == "▶"


async def test_pasting_the_log_line_fills_the_form(demo_dir: Path):
    app = make_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        await pilot.press("t")
        await pilot.press("ctrl+l")
        pane = app.trace_pane
        assert pane.query_one("#logline", Input).has_focus
        # a terminal paste arrives as one Paste event
        from textual import events

        pane.query_one("#logline", Input).post_message(events.Paste(SEED_LOG_LINE))
        await pilot.pause()
        values = pane.values()
        for field in ("client_address", "client_name", "helo", "sender", "recipient"):
            assert values[field] == SEED_CASE[field], field
        await pilot.press("enter")
        assert await settle(pilot, lambda: pane.trace is not None)
        assert pane.trace.reply == SEED_REPLY


async def test_a_step_jumps_to_its_parameter_in_the_tree(demo_dir: Path):
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        await pilot.press("t", "ctrl+r")
        pane = app.trace_pane
        assert await settle(pilot, lambda: pane.trace is not None)
        await pilot.press("p")
        await pilot.pause()
        assert app.query_one("#switcher").current == "explore"
        node = app.tree.cursor_node
        assert node.data.kind == "param" and node.data.key == "smtpd_recipient_restrictions"
        await pilot.press("t")  # and back: the trace is still there
        assert pane.trace is not None and pane.query_one("#steps").has_focus


async def test_submission_override_is_traced_with_its_own_list(demo_dir: Path):
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        await pilot.press("t")
        pane = app.trace_pane
        pane.query_one("#service", Select).value = "submission"
        pane.query_one("#sasl_login", Input).value = "alice@example.org"
        await pilot.press("ctrl+r")
        assert await settle(pilot, lambda: pane.trace is not None)
        assert pane.trace.accepted
        d = pane.trace.decided_by
        assert d is None or d.entry == "permit_sasl_authenticated"
        detail = plain(pane.query_one("#step-detail").content)
        assert "delivery route" in detail and "smtp" in detail


@pytest.mark.oracle
async def test_real_postfix_gives_the_reply_the_app_shows(demo_dir: Path):
    """The seed case on the demo, asked of a real smtpd (XCLIENT on loopback)."""
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    case = dict(SEED_CASE)
    service = case.pop("service")
    with PostfixInstance(demo_dir) as inst:
        answer = inst.query(service, **case)
    assert answer.reply == SEED_REPLY  # what Postfix says ...
    app = make_app(demo_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        await pilot.press("t", "ctrl+r")
        pane = app.trace_pane
        assert await settle(pilot, lambda: pane.trace is not None)
        assert pane.trace.code == answer.code
        assert pane.trace.reply == answer.reply  # ... is what the app shows
        assert plain(pane.query_one("#trace-summary").content).splitlines()[0].split(None, 1)[1].rstrip() == answer.reply


@pytest.mark.parametrize("param, value, stage, headline", [
    # smtpd refuses the value at start-up
    ("smtpd_delay_reject", "true", "connect", "(connection closed before any greeting)"),
    # trivial-rewrite does (tests/oracle/test_daemon_startup.py): MAIL FROM gets no reply
    ("swap_bangpath", "true", "mail", "(no reply: smtpd waits for trivial-rewrite)"),
])
async def test_no_reply_is_said_in_words(demo_dir: Path, tmp_path: Path, param, value, stage, headline):
    """A configuration smtpd, or a daemon it waits for, refuses at start-up:
    the headline says what the client sees (no reply code), then the
    parameter's line, at 80x24."""
    import shutil

    d = tmp_path / "etc"
    shutil.copytree(demo_dir, d)
    (d / "main.cf").write_text((d / "main.cf").read_text() + f"\n{param} = {value}\n")
    app = make_app(d)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        pane = await trace_seed_case(pilot)
        assert (pane.trace.code, pane.trace.stage) == (0, stage)
        summary = plain(pane.query_one("#trace-summary").content).splitlines()
        assert summary[0].split(None, 1)[1].rstrip() == headline
        assert any(f"main.cf:{main_cf_line(d, param)}" in ln for ln in summary), summary


async def test_the_tls_field_reaches_the_trace(tmp_path: Path):
    """TLS? beside the service: on a service that requires TLS, "no TLS"
    gets the 530 smtpd gives a client that did not use STARTTLS, STARTTLS
    and blank (what the service requires) get past it, as the engine
    answers the same transaction (its 530 is checked against a real smtpd
    in tests/oracle/test_starttls.py)."""
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction
    from tui.demo import materialise

    (tmp_path / "demo").mkdir()
    cfg_dir = materialise(tmp_path / "demo")
    master = cfg_dir / "master.cf"
    master.write_text(master.read_text().replace(
        "submission inet n       -       -       -       -       smtpd\n",
        "submission inet n       -       -       -       -       smtpd\n  -o smtpd_tls_security_level=encrypt\n"))
    cfg = load_config(str(cfg_dir))
    fields = dict(SEED_CASE, service="submission", sasl_login="someone")
    tx = {k: fields[k] for k in ("client_address", "client_name", "helo", "sender", "recipient", "sasl_login")}
    want = {tls: evaluate(cfg, Transaction(**tx, tls=tls), service="submission") for tls in (None, True, False)}
    assert want[False].reply.startswith("530 ") and not want[None].reply.startswith("530 ")
    app = make_app(cfg_dir, trace_defaults=fields)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("t")
        pane = app.trace_pane
        # chosen with the keys a plain terminal has: Enter opens it, Down, Enter
        pane.query_one("#tls", Select).focus()
        for key in ("enter", "down", "enter"):
            await pilot.press(key)
            await pilot.pause()
        assert pane.values()["tls"] == "yes"
        for choice, tls in ((Select.NULL, None), ("no", False), ("yes", True)):
            pane.query_one("#tls", Select).value = choice
            pane.trace = None
            await pilot.press("ctrl+r")
            assert await settle(pilot, lambda: pane.trace is not None)
            assert pane.trace.transaction.tls is tls
            assert (pane.trace.reply, pane.trace.notes) == (want[tls].reply, want[tls].notes), choice
        # a pasted reject line: the client got past the TLS the service
        # requires, so the field goes back to blank
        pane.query_one("#tls", Select).value = "no"
        assert pane.paste_log_line(SEED_LOG_LINE)
        assert pane.values()["tls"] is None


async def test_no_smtpd_service_is_said_before_running(tmp_path: Path):
    """A master.cf without any smtpd service leaves the service field
    blank: Run says the service is needed, and nothing is evaluated."""
    from tui.demo import materialise

    (tmp_path / "demo").mkdir()
    cfg_dir = materialise(tmp_path / "demo")
    (cfg_dir / "master.cf").write_text("pickup    unix  n       -       y       60      1       pickup\n")
    app = make_app(cfg_dir, trace_defaults=dict(SEED_CASE))
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        await pilot.press("t")
        pane = app.trace_pane
        assert pane.service is None
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "Cannot run: the service is needed" in plain(pane.query_one("#trace-summary").render())
        assert pane.trace is None
