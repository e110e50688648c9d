"""DNS answers supplied by the user (StaticResolver) and the offline default.

On the test machines a real smtpd has no DNS, so these paths cannot be
compared with it; the texts follow Postfix's templates (default_rbl_reply
as `postconf -d` prints it, the reject_unknown_* replies of smtpd_check.c).
"""
from __future__ import annotations

import subprocess

import pytest

from tui.core.config import load_config
from tui.core.dns import OfflineResolver, StaticResolver, TempFailResolver, dnsxl_query
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction


@pytest.fixture()
def cfg(tmp_path):
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.6\nmyhostname = mx.example.com\nmydestination = example.com\n"
        "local_recipient_maps =\n"
        "smtpd_sender_restrictions = reject_unknown_sender_domain\n"
        "smtpd_recipient_restrictions = reject_rbl_client zen.dnsbl.example, permit\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return load_config(tmp_path)


TX = dict(client_address="192.0.2.1", client_name="mx.sender.example", helo="mx.sender.example",
          sender="a@sender.example", recipient="joe@example.com")


def test_dnsxl_query_names():
    assert dnsxl_query("192.0.2.1", "zen.example") == "1.2.0.192.zen.example"
    assert dnsxl_query("2001:db8::1", "bl.example").startswith("1.0.0.0.")
    assert dnsxl_query("2001:db8::1", "bl.example").endswith(".8.b.d.0.1.0.0.2.bl.example")
    assert dnsxl_query("Spam.Example", "dbl.example") == "spam.example.dbl.example"


def test_offline_is_conditional_and_passes(cfg):
    tr = evaluate(cfg, Transaction(**TX), resolver=OfflineResolver())
    assert tr.accepted and tr.conditional
    nev = [s for s in tr.steps if s.outcome == "not evaluated"]
    assert {s.entry.split()[0] for s in nev} == {"reject_unknown_sender_domain", "reject_rbl_client"}
    assert all("needs DNS" in s.detail for s in nev)


def test_listed_client_gets_the_default_rbl_reply(cfg):
    r = StaticResolver.from_answers(exists=["sender.example"], dnsbl_listed=[("192.0.2.1", "zen.dnsbl.example")])
    tr = evaluate(cfg, Transaction(**TX), resolver=r)
    assert tr.reply == "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.dnsbl.example"
    assert tr.decided_by.entry == "reject_rbl_client zen.dnsbl.example"
    assert not tr.conditional


def test_default_rbl_reply_template_is_postfix_default():
    try:
        out = subprocess.run(["postconf", "-dh", "default_rbl_reply"], capture_output=True, text=True)
    except OSError:
        pytest.skip("postconf not installed")
    assert out.stdout.strip() == ("$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using "
                                  "$rbl_domain${rbl_reason?; $rbl_reason}")


def test_nonexistent_sender_domain(cfg):
    r = StaticResolver.from_answers(nonexistent=["sender.example"])
    tr = evaluate(cfg, Transaction(**TX), resolver=r)
    assert tr.reply == "450 4.1.8 <a@sender.example>: Sender address rejected: Domain not found"


def test_tempfail_sender_domain_defers_only_if_permitted(cfg):
    tr = evaluate(cfg, Transaction(**TX), resolver=TempFailResolver())
    assert tr.reply == "450 4.1.8 <a@sender.example>: Sender address rejected: Domain not found"
    assert tr.decided_by.entry == "reject_unknown_sender_domain"
