"""A transaction that ends at MAIL FROM (recipient None: no RCPT TO is
sent), as a MAIL FROM log line describes one: the engine's answer is the
real smtpd's answer to MAIL FROM, "250 2.1.0 Ok" when it takes the sender,
whatever refuses it otherwise (the sender restrictions with
smtpd_delay_reject = no, a milter smtpd cannot use, address syntax, a
missing HELO), or the connection closed when smtpd opens the queue file at
MAIL FROM and exits."""
from __future__ import annotations

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver, scratch_instance, scratch_master_cf
from tests.oracle.postfix_instance import HarnessError
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + "local_recipient_maps =\n"
TX = dict(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
          sender="a@example.net", recipient=None)

# (service, its -o lines, the transaction's changes)
CASES = [
    ("3201", [], {}),
    ("3202", [], {"sender": ""}),
    ("3203", ["smtpd_delay_reject=no", "smtpd_sender_restrictions=reject_non_fqdn_sender"], {"sender": "a@b"}),
    ("3204", ["smtpd_delay_reject=no", "smtpd_sender_restrictions=reject_non_fqdn_sender"], {}),
    ("3205", ["smtpd_milters=localhost:8891"], {}),
    ("3206", ["smtpd_helo_required=yes"], {"helo": None}),
    ("3207", [], {"sender": "a@[bad"}),
    ("3208", ["smtpd_delay_reject=no", "smtpd_client_restrictions=check_client_access,inline:{198.51.100.20=OK}",
              "smtpd_sender_restrictions=reject"], {}),
]
CLOSED = ("3209", ["smtpd_delay_open_until_valid_rcpt=no", "smtputf8_autodetect_classes=pfxbad"], {})
MASTER_CF = scratch_master_cf((svc, opts) for svc, opts, _tx in CASES + [CLOSED])


@pytest.fixture(scope="module")
def setup():
    with scratch_instance("pfx-mail-only-", MAIN_CF, MASTER_CF) as got:
        yield got


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_the_answer_to_mail_from(setup, i):
    cfg, inst = setup
    port, _opts, changes = CASES[i]
    svc = f"127.0.0.1:{port}"
    tx = dict(TX, **changes)
    real = inst.query(svc, **tx)
    tr = evaluate(load_config(str(cfg)), Transaction(**tx), service=svc, resolver=machine_resolver())
    assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage), (tr.steps, real)
    assert real.stage in ("connect", "mail"), real
    assert tr.route is None


def test_smtpd_that_exits_at_mail_from(setup):
    cfg, inst = setup
    svc = f"127.0.0.1:{CLOSED[0]}"
    with pytest.raises(HarnessError, match="connection closed after MAIL FROM"):
        inst.query(svc, **TX)
    tr = evaluate(load_config(str(cfg)), Transaction(**TX), service=svc, resolver=machine_resolver())
    assert tr.answer == "(connection closed after MAIL FROM)", tr.answer
