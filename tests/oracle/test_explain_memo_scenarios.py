"""What explain() and suggest.prove() remember between transactions never
changes an answer, on every configuration of the oracle corpus (its maps
compiled by the real postmap, so this needs Postfix): each scenario's
transactions and seeded variations of them (scripts/trace_dump.py's) are
explained twice on one loaded configuration, forwards then backwards, and
a sample of them on a freshly loaded configuration each, without the
early refusal of mynetworks change sets (every proof made in full); the
answers must be the same text. That the explanations say what the real Postfix does is
tests/oracle/test_suggest_oracle.py; here only that remembering changes
nothing (proofs, changed copies and their relay probes, early refusals,
step texts)."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.oracle.scenarios import load_scenario, materialized, scenario_names
from tui.core.analysis import suggest
from tui.core.analysis.explain import explain
from tui.core.config import load_config
from tui.core.dns import OfflineResolver
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = 6   # every SAMPLE-th transaction is also explained on a fresh configuration


def _transactions(sc):
    """Relay refusals for private and public clients outside mynetworks on
    every service (their explanations offer mynetworks edits, proven or
    refused), then the scenario's rows and their seeded variations."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import trace_dump
    finally:
        sys.path.pop(0)
    services = sorted({t.service for t in sc.transactions})
    relay = [(svc, Transaction(client_address=client, client_name="unknown", helo="mail.example.net",
                               sender="someone@example.net", recipient=rcpt))
             for svc in services for client in ("10.20.30.40", "192.168.77.7", "203.0.113.77", "8.8.4.4")
             for rcpt in ("someone@outside.example", "other@outside.example")]
    return relay, relay + trace_dump.scenario_transactions(sc, random.Random(sc.name))


def _answer(cfg, svc, tx, resolver, memo) -> str:
    tr = evaluate(cfg, tx, service=svc, resolver=resolver)
    return tr.to_json_text(memo) + json.dumps(explain(tr, cfg, resolver=resolver).to_json())


@pytest.mark.parametrize("name", [n for n in scenario_names() if not load_scenario(n).needs_mysql])
def test_warm_answers_are_fresh_answers(name, monkeypatch):
    need_postfix()
    sc = load_scenario(name)
    relay, txs = _transactions(sc)
    resolver = OfflineResolver()
    with materialized(sc) as d:
        warm = load_config(str(d))
        memo: dict = {}
        forwards = [_answer(warm, svc, tx, resolver, memo) for svc, tx in txs]
        backwards = [_answer(warm, svc, tx, resolver, memo) for svc, tx in reversed(txs)][::-1]
        assert forwards == backwards
        monkeypatch.setattr(suggest, "_networks_refused", lambda cfg, changes: False)
        for i, ((svc, tx), a) in enumerate(zip(txs, forwards)):
            if i < len(relay) or i % SAMPLE == 0:
                assert a == _answer(load_config(str(d)), svc, tx, resolver, {}), (svc, tx)
