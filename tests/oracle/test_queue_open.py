"""smtpd reads smtputf8_autodetect_classes only when it opens a queue file
(smtputf8_autodetect(), just before it connects to cleanup): a word it does
not know makes it exit there. Asked of a real smtpd, one service per value:

- at the accepted RCPT TO (smtpd_delay_open_until_valid_rcpt = yes, the
  default) the client gets no reply and the connection is closed; a refused
  RCPT TO is refused as before (no queue file is opened);
- with smtpd_delay_open_until_valid_rcpt = no, at MAIL FROM;
- the words it knows (case-sensitive) pass.

With smtpd_proxy_filter smtpd connects to the before-queue content filter
there instead (and reads no smtputf8_autodetect_classes): an inet address
that inet_connect() cannot parse (`127.0.0.1` without a port reads as the
port "127.0.0.1") makes it exit the same way, unless smtpd_proxy_options =
speed_adjust puts the connection after the message.

The trace ends at that command with code 0 and says the connection was
closed after it; the deciding step names the -o line and quotes the fatal
line smtpd logged; lint reports it as an error of that service.
"""
from __future__ import annotations

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver, scratch_instance
from tests.oracle.postfix_instance import HarnessError
from tui.core.analysis.explain import explain
from tui.core.analysis.lint import startup_warnings
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + "local_recipient_maps =\n"
# (service, its overrides, recipient, the command after which smtpd closes
# or None: it answers, does lint report the service)
CASES = [
    ("127.0.0.1:2601", "-o smtputf8_autodetect_classes=pfxbad", "postmaster@example.com", "RCPT TO", True),
    ("127.0.0.1:2602", "-o smtputf8_autodetect_classes=pfxbad", "x@elsewhere.example", None, True),
    ("127.0.0.1:2603", "-o smtputf8_autodetect_classes=pfxbad -o smtpd_delay_open_until_valid_rcpt=no",
     "postmaster@example.com", "MAIL FROM", True),
    ("127.0.0.1:2604", "-o smtputf8_autodetect_classes=Sendmail", "postmaster@example.com", "RCPT TO", True),
    ("127.0.0.1:2605", "-o { smtputf8_autodetect_classes = sendmail, smtpd verify }", "postmaster@example.com",
     None, False),
    ("127.0.0.1:2606", "-o smtputf8_autodetect_classes=all", "postmaster@example.com", None, False),
    # a before-queue content filter address inet_connect() cannot parse:
    # smtpd exits when it connects to it, where it would open the queue file
    ("127.0.0.1:2611", "-o smtpd_proxy_filter=127.0.0.1", "postmaster@example.com", "RCPT TO", True),
    ("127.0.0.1:2612", "-o smtpd_proxy_filter=inet:[127.0.0.1", "postmaster@example.com", "RCPT TO", True),
    ("127.0.0.1:2613", "-o smtpd_proxy_filter=127.0.0.1:12a -o smtpd_delay_open_until_valid_rcpt=no",
     "postmaster@example.com", "MAIL FROM", True),
    ("127.0.0.1:2614", "-o smtpd_proxy_filter=127.0.0.1", "x@elsewhere.example", None, True),
    # ... connected to after the message with speed_adjust; with a proxy,
    # smtputf8_autodetect_classes is not read (no queue file of its own)
    ("127.0.0.1:2615", "-o smtpd_proxy_filter=127.0.0.1 -o smtpd_proxy_options=speed_adjust",
     "postmaster@example.com", None, False),
    ("127.0.0.1:2616", "-o smtpd_proxy_filter=unix:/nonexistent -o smtputf8_autodetect_classes=pfxbad",
     "x@elsewhere.example", None, False),
]
MASTER_CF = "smtp      inet  n       -       n       -       -       smtpd\n" + "".join(
    f"{svc} inet n - n - - smtpd\n  {opts}\n" for svc, opts, *_rest in CASES)


@pytest.fixture(scope="module")
def setup():
    with scratch_instance("pfx-queue-open-", MAIN_CF, MASTER_CF) as got:
        yield got


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_smtpd_closes_where_the_engine_says(setup, i):
    cfg, inst = setup
    svc, _opts, rcpt, after, reported = CASES[i]
    tx = dict(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
              sender="a@example.net", recipient=rcpt)
    config = load_config(str(cfg))
    tr = evaluate(config, Transaction(**tx), service=svc, resolver=machine_resolver())
    said = [w for w in startup_warnings(config) if w.message.startswith(svc + "/")]
    param = "smtpd_proxy_filter" if "smtpd_proxy_filter" in _opts else "smtputf8_autodetect_classes"
    assert [(w.param, w.severity) for w in said] == ([(param, "error")] if reported else []), said
    if after is None:
        real = inst.query(svc, **tx)
        assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage)
        return
    with pytest.raises(HarnessError, match=f"connection closed after {after}"):
        inst.query(svc, **tx)
    assert tr.code == 0 and tr.reply == "" and tr.closed_after == after
    assert tr.answer == f"(connection closed after {after})"
    d = tr.decided_by
    assert d.parameter == param and d.source.service == svc, d
    fatal = "fatal: " + d.detail.split(". smtpd ")[0]
    assert fatal in inst.log_text(), (fatal, d)
    assert explain(tr, config).summary.startswith(
        "smtpd exits with this configuration when it " + ("connects to its before-queue content filter"
                                                          if param == "smtpd_proxy_filter" else "opens a queue file"))
    assert f"closed after {after}" in said[0].message
