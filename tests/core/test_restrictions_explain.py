"""Explanation texts for the deciding step, on the seed scenario's config.

The traces come from the engine (whose answers the oracle suite checks
against the real smtpd); these tests check what the explanation says.
"""
from __future__ import annotations

import pytest

from tests.oracle.scenarios import load_scenario, materialize
from tui.core.config import load_config
from tui.core.dns import TempFailResolver
from tui.core.analysis.explain import explain
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

# the scenario's maps are compiled by the real postmap (scenarios.materialize)
pytestmark = pytest.mark.oracle

@pytest.fixture(scope="module")
def seed_cfg(tmp_path_factory):
    d = tmp_path_factory.mktemp("seed") / "seed_mailman"
    materialize(load_scenario("seed_mailman"), d)
    return load_config(d)


def _tx(**kw):
    base = dict(client_address="127.0.0.1", client_name="localhost", helo="mail.example.org",
                sender="test-list-bounces@lists.example.org", recipient="someone@outside.example")
    base.update(kw)
    return Transaction(**base)


def test_relay_denied_names_missing_permit_mynetworks(seed_cfg):
    tr = evaluate(seed_cfg, _tx(), service="smtp", resolver=TempFailResolver())
    ex = explain(tr, seed_cfg)
    text = ex.text()
    assert "Relay access denied" in ex.summary
    assert "in mynetworks" in text and "not authenticated" in text
    assert "permit_mynetworks is missing before reject_unauth_destination in smtpd_recipient_restrictions" in text
    cmd = ex.edits[0].command
    assert cmd.startswith("postconf -e 'smtpd_recipient_restrictions = ")
    assert "permit_mynetworks, reject_unauth_destination" in cmd
    assert "reject_rbl_client zen.dnsbl.example" in cmd          # arguments stay with their restriction
    # listing the outside domain in relay_domains would let any internet client relay there: not offered
    assert not any("relay_domains" in e.command for e in ex.edits)
    assert ex.edits[0].new_reply.startswith("250 ")


def test_relay_denied_outside_client_suggests_mynetworks(seed_cfg):
    tr = evaluate(seed_cfg, _tx(client_address="198.51.100.7", client_name="mx.sender.example",
                                helo="mx.sender.example", sender="a@example.net", recipient="x@outside.example"),
                  service="smtp", resolver=TempFailResolver())
    text = explain(tr, seed_cfg).text()
    assert "is not in mynetworks" in text


def test_access_map_reject_names_key_file_and_line(seed_cfg):
    tr = evaluate(seed_cfg, _tx(client_address="198.51.100.7", client_name="mx.sender.example",
                                helo="localhost", sender="a@example.net", recipient="alice@example.org"),
                  service="smtp", resolver=TempFailResolver())
    assert tr.decided_by.entry.startswith("check_helo_access")
    ex = explain(tr, seed_cfg)
    text = ex.text()
    assert "'localhost' matched in hash:" in text
    hit = [lk for lk in tr.decided_by.lookups if lk.found][0]
    assert hit.where and hit.where.endswith(":" + hit.where.rsplit(":", 1)[1])
    assert f"line {hit.where.rsplit(':', 1)[1]}" in text


def test_unknown_recipient_names_the_table_even_when_hidden(seed_cfg):
    tr = evaluate(seed_cfg, _tx(recipient="nobody@example.org"), service="smtp", resolver=TempFailResolver())
    assert tr.decided_by.parameter == "smtpd_reject_unlisted_recipient"
    text = explain(tr, seed_cfg).text()
    assert "virtual_mailboxes" in text          # show_user_unknown_table_name = no, we still say which
    assert "'nobody@example.org'" in text


def test_helo_syntax_explained(seed_cfg):
    tr = evaluate(seed_cfg, _tx(helo="mailhost"), service="smtp", resolver=TempFailResolver())
    text = explain(tr, seed_cfg).text()
    assert "not a fully-qualified host name" in text


def test_helo_required_explained(seed_cfg):
    tr = evaluate(seed_cfg, _tx(helo=None), service="smtp", resolver=TempFailResolver())
    ex = explain(tr, seed_cfg)
    assert tr.stage == "mail" and "smtpd_helo_required" in ex.summary


def test_master_cf_override_gets_postconf_P(seed_cfg):
    tr = evaluate(seed_cfg, _tx(), service="submission", resolver=TempFailResolver())
    # submission: -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
    assert tr.decided_by.source.kind == "master.cf"
    ex = explain(tr, seed_cfg)
    assert "Access denied" in tr.reply
    text = ex.text()
    assert "did not authenticate" in text
    # Mailman on 127.0.0.1 is in mynetworks: the fix goes into master.cf, not main.cf
    cmd = ex.edits[0].command
    assert cmd.startswith("postconf -P 'submission/inet/smtpd_recipient_restrictions=")
    assert "permit_mynetworks,reject" in cmd


def test_offline_dns_is_conditional(seed_cfg):
    from tui.core.dns import OfflineResolver

    tr = evaluate(seed_cfg, _tx(client_address="198.51.100.7", client_name="mx.sender.example",
                                helo="mx.sender.example", sender="a@sender.example", recipient="alice@example.org"),
                  service="smtp", resolver=OfflineResolver())
    assert tr.conditional
    assert any(s.outcome == "not evaluated" and "needs DNS" in s.detail for s in tr.steps)
    assert tr.accepted
