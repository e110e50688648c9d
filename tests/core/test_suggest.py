"""tui.core.analysis.suggest on the bundled demo (no Postfix needed): the
proof's own rules. That the proven edits work in the real Postfix is
tests/oracle/test_suggest_oracle.py."""
from __future__ import annotations

import os

import pytest

from tui.core.analysis import suggest
from tui.core.analysis.explain import explain
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction
from tui.demo import SEED_CASE, demo_config_dir


@pytest.fixture(scope="module")
def demo():
    cfg = load_config(demo_config_dir())
    case = dict(SEED_CASE)
    service = case.pop("service")
    tr = evaluate(cfg, Transaction(**case), service=service)
    return cfg, tr


def _files(d) -> dict[str, float]:
    return {e.path: e.stat().st_mtime for e in os.scandir(d)}


def test_seed_case_edits_are_whole_values_with_their_reply(demo):
    cfg, tr = demo
    before = _files(cfg.config_dir)
    ex = explain(tr, cfg)
    assert ex.edits
    for e in ex.edits:
        assert "..." not in e.command and "$relay_domains" not in e.command
        assert e.command.startswith("postconf -") and e.command.endswith(" && postfix reload")
        assert e.new_reply.startswith("250 ")
    assert not any(c.parameter in ("relay_domains", "mynetworks") for e in ex.edits for c in e.changes)
    assert _files(cfg.config_dir) == before            # nothing written


def test_self_reference_is_refused_with_postconfs_words(demo):
    cfg, tr = demo
    why = suggest.why_not(cfg, tr, (suggest.Change("relay_domains", "$relay_domains, example.com"),))
    assert "unreasonable macro call nesting" in why


def test_apply_changes_leaves_the_loaded_configuration_alone(demo):
    cfg, _tr = demo
    raw = cfg.params().raw("smtpd_recipient_restrictions")
    new = suggest.apply_changes(cfg, (suggest.Change("smtpd_recipient_restrictions", "permit_mynetworks, reject"),
                                      suggest.Change("smtpd_recipient_restrictions", "permit_sasl_authenticated,reject",
                                                     "submission/inet")))
    assert new.params().raw("smtpd_recipient_restrictions") == "permit_mynetworks, reject"
    assert new.params("submission").raw("smtpd_recipient_restrictions") == "permit_sasl_authenticated,reject"
    assert cfg.params().raw("smtpd_recipient_restrictions") == raw
    assert new.params().source("smtpd_recipient_restrictions").line == \
        cfg.params().source("smtpd_recipient_restrictions").line


def test_master_cf_values_without_white_space(demo):
    cfg, tr = demo
    why = suggest.why_not(cfg, tr, (suggest.Change("smtpd_recipient_restrictions", "permit_mynetworks, reject",
                                                   "smtp/inet"),))
    assert "white space" in why
    assert suggest.join_list(["check_policy_service unix:private/x", "reject"], for_master=True) == \
        "check_policy_service,unix:private/x,reject"


def test_public_networks_never_join_mynetworks(demo):
    cfg, tr = demo
    net = cfg.params().raw("mynetworks")
    for extra, ok in (("8.8.8.0/24", False), ("0.0.0.0/0", False), ("203.0.113.5/32", False),
                      ("10.0.0.0/8", True), ("192.168.7.7/32", True)):
        why = suggest.why_not(cfg, tr, (suggest.Change("mynetworks", f"{net}, {extra}"),))
        assert ("neither this host nor a private network" in why) != ok, (extra, why)
