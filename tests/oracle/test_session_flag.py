"""reject_unlisted_sender in the HELO restrictions, answered by one real
smtpd process session after session.

smtpd_check_mail() clears smtpd's "sender already checked" flag, but with
smtpd_delay_reject = yes it runs after the client and HELO restrictions of
each RCPT, and smtpd_state_init() never clears it: a check in those lists
sees the flag as the process's previous session left it. Asked the same
refused transaction again and again, one smtpd process (default_process_limit
= 1: every session goes to the same process) alternates between refusing it
and skipping the check. The engine answers what a check that runs answers
and says, on that step, that a real smtpd may skip it; a check in the sender
restrictions (after the flag is cleared) is answered the same every time and
carries no such note.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.oracle.conftest import machine_resolver
from tests.oracle.postfix_instance import PostfixInstance
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.smtpd.checks import SENDER_FLAG_NOTE
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = """\
compatibility_level = 3.6
myhostname = mx.example.com
mydomain = example.com
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination = $myhostname, localhost, example.com
mynetworks = 127.0.0.0/8
alias_maps =
local_recipient_maps = hash:{d}/users
default_process_limit = 1
smtpd_helo_restrictions = reject_unlisted_sender
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


@pytest.fixture(scope="module")
def setup():
    need_postfix()
    root = Path(tempfile.mkdtemp(prefix="pfx-session-flag-"))
    root.chmod(0o755)
    cfg = root / "etc"
    cfg.mkdir()
    (cfg / "main.cf").write_text(MAIN_CF.format(d=cfg))
    (cfg / "master.cf").write_text(MASTER_CF)
    (cfg / "users").write_text("alice x\n")
    try:
        with PostfixInstance(cfg) as inst:
            yield cfg, inst
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _engine(cfg, service):
    tr = evaluate(load_config(str(cfg)), Transaction(**TX), service=service, resolver=machine_resolver())
    return tr, [s for s in tr.steps if s.entry == "reject_unlisted_sender"]


def test_a_helo_list_check_alternates_in_one_process_and_the_trace_says_so(setup):
    cfg, inst = setup
    real = [inst.query("smtp", **TX) for _ in range(4)]
    replies = [a.reply for a in real]
    refused = [r == REFUSED for r in replies]
    # every other session skips the check (the recipient is then accepted)
    assert refused in ([True, False, True, False], [False, True, False, True]), replies
    assert all(r == REFUSED or a.code == 250 for r, a in zip(replies, real)), replies
    tr, steps = _engine(cfg, "smtp")
    assert tr.reply == REFUSED and tr.stage == "rcpt"
    assert len(steps) == 1 and steps[0].parameter == "smtpd_helo_restrictions"
    assert SENDER_FLAG_NOTE in steps[0].detail


def test_a_sender_list_check_is_the_same_every_time_and_has_no_note(setup):
    cfg, inst = setup
    replies = [inst.query("127.0.0.1:2525", **TX).reply for _ in range(3)]
    assert replies == [REFUSED] * 3
    tr, steps = _engine(cfg, "127.0.0.1:2525")
    assert tr.reply == REFUSED
    assert len(steps) == 1 and steps[0].parameter == "smtpd_sender_restrictions"
    assert SENDER_FLAG_NOTE not in steps[0].detail
