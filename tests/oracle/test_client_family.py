"""An IPv6 client on a configuration whose inet_protocols leaves IPv6 out.

Such a client cannot connect at all, and XCLIENT refuses its address; a
trace of it (typed in, or from a log written before inet_protocols
changed) says so instead of answering as if nothing were odd. An IPv4
client, and an IPv4-mapped IPv6 address (smtpd takes it as its IPv4
address), get no such note.
"""
from __future__ import annotations

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver, scratch_instance
from tests.oracle.postfix_instance import HarnessError
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + """\
local_recipient_maps =
smtpd_reject_footer = Contact postmaster@example.com
"""

TX = dict(client_name="mail.example.net", helo="mail.example.net", sender="a@example.net",
          recipient="alice@example.com")


@pytest.fixture(scope="module")
def setup():
    with scratch_instance("pfx-client-family-", MAIN_CF, "smtp inet n - n - - smtpd\n") as got:
        yield got


def _notes(cfg, addr: str) -> list[str]:
    tr = evaluate(load_config(str(cfg)), Transaction(client_address=addr, **TX), resolver=machine_resolver())
    return [n for n in tr.notes if "inet_protocols" in n]


@pytest.mark.parametrize("addr", ["2001:db8::5", "2001:DB8:0:0:0:0:0:5"])
def test_an_ipv6_client_is_refused_by_xclient_and_the_trace_says_so(setup, addr):
    cfg, inst = setup
    with pytest.raises(HarnessError, match="XCLIENT refused: 501-5.5.4 Bad ADDR syntax"):
        inst.query("smtp", addr, **TX)
    notes = _notes(cfg, addr)
    assert len(notes) == 1 and "inet_protocols = ipv4" in notes[0] and "Bad ADDR syntax" in notes[0], notes


@pytest.mark.parametrize("addr", ["192.0.2.7", "::ffff:192.0.2.7"])
def test_an_ipv4_client_has_no_such_note(setup, addr):
    cfg, inst = setup
    assert inst.query("smtp", addr, **TX).code == 250
    assert _notes(cfg, addr) == []
