"""What explain() and suggest.prove() remember between transactions never
changes an answer: every explanation given by a configuration that has
already explained many similar transactions (its memos warm: proofs,
changed copies, their probes, refused change sets) equals the one a freshly
loaded configuration gives for that transaction alone.

The transactions come in pairs that share the deciding rule (and so the
candidate edits and their change sets) but differ in a field the proof
depends on: the client (inside or outside mynetworks, private or public),
the recipient (served here or not: the relay probe sends to it), the SASL
login, the service. A memo keyed on less than what the answer depends on
gives one of the pair the other's answer. What the explanations say is
checked against the real Postfix in tests/oracle/test_suggest_oracle.py;
here only that remembering changes nothing."""
from __future__ import annotations

import itertools
import json

import pytest

from tui.core.analysis import suggest
from tui.core.analysis.explain import _append_value, explain
from tui.core.config import load_config
from tui.core.dns import OfflineResolver
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction
from tui.demo import demo_config_dir

CLIENTS = ["192.0.2.25", "192.0.2.26", "10.1.2.3", "10.1.2.4", "192.168.7.7", "203.0.113.9", "8.8.8.8",
           "127.0.0.1"]
RECIPIENTS = ["friend@example.com", "other@example.net", "friend@lists.example.org", "nobody@example.org",
              "postmaster@example.org", "root@localhost", "x@elsewhere.example"]
SERVICES = ["smtp", "submission", "127.0.0.1:10025"]


def _transactions() -> list[tuple[str, Transaction]]:
    out = []
    for svc, client, rcpt in itertools.product(SERVICES, CLIENTS, RECIPIENTS):
        out.append((svc, Transaction(client_address=client, client_name="unknown", helo="mail.example.net",
                                     sender="a@remote.example", recipient=rcpt)))
    for client, rcpt in itertools.product(CLIENTS[:4], RECIPIENTS[:3]):
        out.append(("smtp", Transaction(client_address=client, client_name="unknown", helo="nodots",
                                        sender="someone@example.net", recipient=rcpt, sasl_login="user")))
        out.append(("smtp", Transaction(client_address=client, client_name="unknown", helo=None,
                                        sender="someone", recipient=rcpt)))
    return out


@pytest.fixture(scope="module")
def cfg_dir():
    return demo_config_dir()


def _answer(cfg, svc, tx, resolver) -> str:
    tr = evaluate(cfg, tx, service=svc, resolver=resolver)
    return json.dumps(explain(tr, cfg, resolver=resolver).to_json())


def test_a_warm_configuration_explains_as_a_fresh_one(cfg_dir):
    txs = _transactions()
    resolver = OfflineResolver()
    warm = load_config(str(cfg_dir))
    # twice through, the second time backwards: each answer is asked with
    # the memos filled by the transactions before and after it
    hot = [_answer(warm, svc, tx, resolver) for svc, tx in txs]
    hot_again = [_answer(warm, svc, tx, resolver) for svc, tx in reversed(txs)][::-1]
    assert hot == hot_again
    edits = 0
    for (svc, tx), got in zip(txs, hot):
        cold = _answer(load_config(str(cfg_dir)), svc, tx, resolver)
        assert got == cold, (svc, tx)
        edits += len(json.loads(got)["edits"])
    assert edits  # the corpus reaches proven edits (else it tests no proof memo)


def test_why_not_after_prove_gives_the_full_reason(cfg_dir):
    """A refusal remembered without its reason (prove() is sure of some
    refusals without building the changed copy, and needs no reason) is
    worked out again when why_not() asks, the same as from scratch; and
    prove() accepts exactly what why_not() finds nothing against."""
    resolver = OfflineResolver()
    outside = Transaction(client_address="203.0.113.9", client_name="unknown", helo="mail.example.net",
                          sender="a@remote.example", recipient="x@elsewhere.example")
    private = outside.replace(client_address="10.9.9.9")
    own = "127.0.0.0/8 [::1]/128, 192.0.2.25/32 [2001:db8:25::]/64"
    # the edit explain() offers the private client (a permit_mynetworks
    # and the client in mynetworks), and the same with a public address too
    first = load_config(str(cfg_dir))
    offered = explain(evaluate(first, private, service="smtp", resolver=resolver), first,
                      resolver=resolver).edits[0].changes
    wider = tuple(suggest.Change(c.parameter, c.value + ", 8.8.4.4/32", c.service) if c.parameter == "mynetworks"
                  else c for c in offered)
    assert wider != offered
    cases = [
        (outside, (suggest.Change("mynetworks", f"{own}, 203.0.113.9/32"),)),
        (outside, (suggest.Change("mynetworks", "127.0.0.0/8, 10.0.0.0/8, 8.8.8.8/32"),)),
        (outside, (suggest.Change("mynetworks", "127.0.0.0/8, 10.9.9.9/32"),)),
        (outside, (suggest.Change("relay_domains", "elsewhere.example"),)),
        (private, offered),
        (private, wider),
        (private, (suggest.Change("mynetworks", f"{own}, 10.9.9.9/32, 8.8.4.4/32", "smtp/inet"),)),
    ]
    warm = load_config(str(cfg_dir))
    traces = [evaluate(warm, tx, service="smtp", resolver=resolver) for tx, _ch in cases]
    proofs = [suggest.prove(warm, tr, ch, resolver) for tr, (_tx, ch) in zip(traces, cases)]
    whys = [suggest.why_not(warm, tr, ch, resolver) for tr, (_tx, ch) in zip(traces, cases)]
    for (tx, ch), proof, why in zip(cases, proofs, whys):
        cold = load_config(str(cfg_dir))
        ctr = evaluate(cold, tx, service="smtp", resolver=resolver)
        assert why == suggest.why_not(cold, ctr, ch, resolver), ch
        assert (proof is None) == (why != ""), (ch, why)
    assert sum(p is None for p in proofs) >= 3 and sum(p is not None for p in proofs) >= 1


def test_relay_probes_remembered_per_recipient(cfg_dir):
    """One changed copy, two transactions: the relay probe to the first
    one's recipient domain (a domain the change starts relaying for) opens the
    server, the probe to the second one's does not; in either order, with
    the probes remembered on the copy, each gets what a fresh copy says."""
    cfg = load_config(str(cfg_dir))
    changes = (suggest.Change("relay_domains", _append_value(cfg, "relay_domains", "elsewhere.example")),)
    new = suggest.apply_changes(cfg, changes)
    opened = Transaction(client_address="203.0.113.9", client_name="unknown", helo="mail.example.net",
                         sender="a@remote.example", recipient="x@elsewhere.example")
    closed = opened.replace(recipient="friend@example.com")
    fresh = {tx: suggest._opens_relay(cfg, new, tx, "smtp") for tx in (opened, closed)}
    assert fresh[opened] and "<probe@elsewhere.example>" in fresh[opened]
    assert fresh[closed] is None
    for order in ((opened, closed), (closed, opened)):
        memo = suggest._ProbeMemo(cfg, new)
        for tx in order * 2:
            assert suggest._opens_relay(cfg, new, tx, "smtp", memo) == fresh[tx]


def test_a_copy_found_open_before_still_proves_what_it_does_not_open(cfg_dir):
    """One change set (relay for elsewhere.example, and a private client
    in mynetworks with permit_mynetworks): it opens the server for a
    recipient in elsewhere.example, not for one elsewhere. After a proof on
    the copy found it open, the next proof asks that first; a transaction
    the change does not open (the private client to another domain) must
    still be proven, in any order, as a fresh configuration proves it."""
    resolver = OfflineResolver()
    opened = Transaction(client_address="203.0.113.9", client_name="unknown", helo="mail.example.net",
                         sender="a@remote.example", recipient="x@elsewhere.example")
    private = Transaction(client_address="10.9.9.9", client_name="unknown", helo="mail.example.net",
                          sender="a@remote.example", recipient="friend@example.com")
    first = load_config(str(cfg_dir))
    changes = explain(evaluate(first, private, service="smtp", resolver=resolver), first,
                      resolver=resolver).edits[0].changes
    changes += (suggest.Change("relay_domains", _append_value(first, "relay_domains", "elsewhere.example")),)

    def proofs(cfg, order):
        return {tx: suggest.prove(cfg, evaluate(cfg, tx, service="smtp", resolver=resolver), changes, resolver)
                for tx in order}

    fresh = {tx: proofs(load_config(str(cfg_dir)), [tx])[tx] for tx in (opened, private)}
    assert fresh[opened] is None and fresh[private] is not None
    for order in ((opened, private, opened, private), (private, opened, private, opened)):
        warm = load_config(str(cfg_dir))
        for tx in order:
            assert proofs(warm, [tx])[tx] == fresh[tx], (order, tx)


def test_proofs_follow_a_table_that_changed(tmp_path):
    """A proof evaluates on the tables as they are: after a table changes,
    the same configuration explains as a freshly loaded one does, even when
    only the changed copies consult that table (here the recipient table is
    asked only once the relay restrictions have let the mail through)."""
    (tmp_path / "main.cf").write_text(
        "compatibility_level = 3.6\nmyhostname = mx.example.test\nmydestination = $myhostname, localhost\n"
        "mynetworks = 127.0.0.0/8\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
        f"smtpd_recipient_restrictions = check_recipient_access texthash:{tmp_path}/rcpt\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    table = tmp_path / "rcpt"
    table.write_text("nobody@elsewhere.test OK\n")
    tx = Transaction(client_address="10.1.2.3", client_name="unknown", helo="mail.example.net",
                     sender="a@remote.example", recipient="x@elsewhere.test")
    resolver = OfflineResolver()
    cfg = load_config(str(tmp_path))
    before = _answer(cfg, "smtp", tx, resolver)
    assert "proven on a copy" in before  # the client added to mynetworks relays
    table.write_text("x@elsewhere.test REJECT not this one\n")
    later = table.stat().st_mtime + 5
    import os
    os.utime(table, (later, later))
    after = _answer(cfg, "smtp", tx, resolver)
    assert after == _answer(load_config(str(tmp_path)), "smtp", tx, resolver)
    assert after != before   # the change matters to the proofs


def test_relay_probe_asked_once_per_domain(cfg_dir, monkeypatch):
    """Recipients of one domain the change would relay for: the probe to
    probe@ that domain refuses the change for each of them, asked once on
    the copy; the traced recipients' own probes are not needed."""
    cfg = load_config(str(cfg_dir))
    changes = (suggest.Change("relay_domains", _append_value(cfg, "relay_domains", "elsewhere.example")),)
    new = suggest.apply_changes(cfg, changes)
    asked: list[str] = []
    real = suggest._probe

    def probe(cfg, new, key, client, rcpt):
        asked.append(rcpt)
        return real(cfg, new, key, client, rcpt)

    monkeypatch.setattr(suggest, "_probe", probe)
    memo = suggest._ProbeMemo(cfg, new)
    for user in ("x", "y", "z"):
        tx = Transaction(client_address="203.0.113.9", client_name="unknown", helo="mail.example.net",
                         sender="a@remote.example", recipient=f"{user}@elsewhere.example")
        assert "<probe@elsewhere.example>" in (suggest._opens_relay(cfg, new, tx, "smtp", memo) or "")
    assert asked == ["probe@elsewhere.example"]
