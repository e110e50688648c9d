"""reject_unlisted_sender in the HELO restrictions, answered by one real
smtpd process session after session.

smtpd_check_mail() clears smtpd's "sender already checked" flag, but with
smtpd_delay_reject = yes it runs after the client and HELO restrictions of
each RCPT, and smtpd_state_init() never clears it: a check in those lists
sees the flag as the process's previous session left it. Asked the same
transaction again and again, one smtpd process (default_process_limit = 1:
every session goes to the same process) runs the check once; from then on
it skips it and the next restriction answers (which refuses at the HELO
stage, so nothing clears the flag again). The engine answers
what a check that runs answers and says, on that step, that a real smtpd
may skip it; a triage of that smtpd's log does not take the other answer
for a configuration change. A check in the sender restrictions (after the
flag is cleared) is answered the same every time and carries no such note.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver, scratch_instance
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.smtpd.checks import SENDER_FLAG_NOTE
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + """\
local_recipient_maps = hash:__DIR__/users
default_process_limit = 1
smtpd_helo_restrictions = reject_unlisted_sender, check_sender_access inline:{ {nobody@example.com=REJECT go away} }
"""

MASTER_CF = """\
smtp      inet  n       -       n       -       -       smtpd
127.0.0.1:2525 inet n - n - - smtpd
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=reject_unlisted_sender
"""

TX = dict(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
          sender="nobody@example.com", recipient="alice@example.com")
REFUSED = "550 5.1.0 <nobody@example.com>: Sender address rejected: User unknown in local recipient table"
SKIPPED = "554 5.7.1 <nobody@example.com>: Sender address rejected: go away"   # the next restriction's


@pytest.fixture(scope="module")
def setup():
    with scratch_instance("pfx-session-flag-", MAIN_CF, MASTER_CF, {"users": "alice x\n"}) as got:
        yield got


def _engine(cfg, service):
    tr = evaluate(load_config(str(cfg)), Transaction(**TX), service=service, resolver=machine_resolver())
    return tr, [s for s in tr.steps if s.entry == "reject_unlisted_sender"]


def test_a_helo_list_check_alternates_in_one_process_and_the_trace_says_so(setup):
    cfg, inst = setup
    replies = [inst.query("smtp", **TX).reply for _ in range(4)]
    # the first check sets the flag; the next restriction then refuses each
    # session at the HELO stage, before anything clears it again (what a
    # new process starts with is whatever its stack holds)
    assert replies[0] in (REFUSED, SKIPPED) and replies[1:] == [SKIPPED] * 3, replies
    tr, steps = _engine(cfg, "smtp")
    assert tr.reply == REFUSED and tr.stage == "rcpt"
    assert len(steps) == 1 and steps[0].parameter == "smtpd_helo_restrictions"
    assert SENDER_FLAG_NOTE in steps[0].detail


def test_triage_does_not_call_the_skipped_check_a_configuration_change(setup):
    from tui.core.analysis.triage import triage

    cfg, inst = setup
    at = inst.log_size()
    for _ in range(4):
        inst.query("smtp", **TX)
    log = Path(str(cfg) + ".log")
    deadline = time.monotonic() + 10
    while inst.log_since(at).count("NOQUEUE: reject:") < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    log.write_text(inst.log_since(at))
    res = triage(load_config(str(cfg)), [str(log)], resolver=machine_resolver())
    # one group per reply; the check ran at most in the process's first session
    skipped = [g for g in res.groups if "go away" in g.reply]
    assert len(skipped) == 1 and skipped[0].count >= 3, [g.to_json() for g in res.groups]
    assert skipped[0].today == "undecidable", skipped[0].to_json()
    assert "previous session" in skipped[0].reason
    assert all(g.today == "same" for g in res.groups if g is not skipped[0])
    assert not res.differs


def test_a_sender_list_check_is_the_same_every_time_and_has_no_note(setup):
    cfg, inst = setup
    replies = [inst.query("127.0.0.1:2525", **TX).reply for _ in range(3)]
    assert replies == [REFUSED] * 3
    tr, steps = _engine(cfg, "127.0.0.1:2525")
    assert tr.reply == REFUSED
    assert len(steps) == 1 and steps[0].parameter == "smtpd_sender_restrictions"
    assert SENDER_FLAG_NOTE not in steps[0].detail
