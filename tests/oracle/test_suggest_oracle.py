"""Every kind of edit the explainer suggests, pasted into a real Postfix.

For each kind, a transaction whose explanation offers it: the printed
command is run as printed (with `-c DIR` on a scratch copy of the scenario,
never /etc/postfix), then

- the real postconf loads the result without an error, and
  `postconf -c DIR -xh NAME` (`-Pxh service/type/NAME` for a master.cf
  override) gives the value the proof predicted;
- a real smtpd on the edited copy answers the transaction with exactly the
  reply printed next to the edit.

And the other way round: an edit that would let an unauthenticated
internet client relay, or widen mynetworks beyond private networks, or
that does not change the verdict, is not shown.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.oracle.scenarios import load_scenario, materialize
from tui.core.analysis import suggest
from tui.core.analysis.explain import explain
from tui.core.config import load_config
from tui.core.dns import TempFailResolver
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"


def _tx(**kw) -> Transaction:
    base = dict(client_address="127.0.0.1", client_name="localhost", helo="mail.example.org",
                sender="test-list-bounces@lists.example.org", recipient="someone@outside.example")
    base.update(kw)
    return Transaction(**base)


# (id, scenario, service, transaction, a word the edit's description holds, parameter it sets)
KINDS = [
    ("permit_mynetworks-main.cf", "seed_mailman", "smtp", _tx(),
     "insert permit_mynetworks", "smtpd_recipient_restrictions"),
    ("permit_mynetworks-master.cf", "seed_mailman", "submission", _tx(),
     "insert permit_mynetworks", "smtpd_recipient_restrictions"),
    ("mynetworks-private-client", "seed_mailman", "smtp",
     _tx(client_address="10.20.30.40", client_name="unknown"), "to mynetworks", "mynetworks"),
    ("permit_sasl_authenticated", "seed_mailman", "smtp",
     _tx(client_address="198.51.100.7", client_name="unknown", sasl_login="alice"),
     "insert permit_sasl_authenticated", "smtpd_recipient_restrictions"),
    ("helo_required", "seed_mailman", "smtp", _tx(helo=None, recipient="alice@example.org"), "skip HELO", "smtpd_helo_required"),
    ("reject_unlisted_recipient", "seed_mailman", "smtp",
     _tx(client_address="198.51.100.7", client_name="mx.sender.example", helo="mx.sender.example",
         sender="", recipient="nobody@example.org"),
     "unknown recipients", "smtpd_reject_unlisted_recipient"),
    ("non_fqdn_helo", "seed_mailman", "smtp", _tx(helo="mailhost"),
     "insert permit_mynetworks", "smtpd_recipient_restrictions"),
    ("startup_relay_restrictions", "startup_check", "smtp",
     Transaction(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
                 sender="a@example.net", recipient="alice@example.com"),
     "smtpd_relay_restrictions", "smtpd_relay_restrictions"),
]


@pytest.fixture
def scratch():
    """A temp dir the postfix user can read (pytest's tmp_path is 0700),
    removed afterwards."""
    top = Path(tempfile.mkdtemp(prefix="pfx-suggest-"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _warnings(text: str) -> set:
    """postconf's warnings; a parameter main.cf sets twice counts once,
    whether postconf says it reading (\"overriding earlier entry\") or
    editing (\"multiple entries\")."""
    out: set = set()
    for line in text.splitlines():
        if "warning:" in line:
            twice = re.search(r'multiple entries for "([^"]+)"|overriding earlier entry: ([^=\s]+)=', line)
            out.add(("set twice", twice.group(1) or twice.group(2)) if twice else line)
    return out


def _run_pasted(command: str, config_dir: Path) -> None:
    """Run a printed command as a sysadmin would, on CONFIG_DIR: every
    `postconf` gets `-c DIR`; `postfix reload` is left out (the instance
    starts on the edited files). No postconf warning but those it gives
    for the files as they were (a parameter set twice in main.cf, say)."""
    before = _warnings(subprocess.run([POSTCONF, "-c", str(config_dir), "-n"], capture_output=True, text=True,
                                      timeout=60).stderr)
    for part in command.split(" && "):
        argv = shlex.split(part)
        if argv[:2] == ["postfix", "reload"]:
            continue
        assert argv[0] == "postconf", part
        r = subprocess.run([POSTCONF, "-c", str(config_dir), *argv[1:]], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, (part, r.stderr)
        assert not _warnings(r.stderr) - before, (part, r.stderr)


def _postconf_value(config_dir: Path, change: suggest.Change) -> str:
    if change.service is None:
        args = ["-xh", change.parameter]
    else:
        args = ["-Pxh", f"{change.service}/{change.parameter}"]
    r = subprocess.run([POSTCONF, "-c", str(config_dir), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "fatal" not in r.stderr, r.stderr
    return r.stdout.rstrip("\n")


@pytest.mark.parametrize("kind", KINDS, ids=[k[0] for k in KINDS])
def test_suggested_edit_works_in_the_real_postfix(kind, scratch):
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    _id, scenario, service, tx, words, parameter = kind
    d = scratch / scenario
    materialize(load_scenario(scenario), d)
    cfg = load_config(d)
    resolver = TempFailResolver()   # these machines have no DNS: neither has the real smtpd
    tr = evaluate(cfg, tx, service=service, resolver=resolver)
    assert not tr.accepted
    ex = explain(tr, cfg, resolver=resolver)
    edits = [e for e in ex.edits if words in e.description and any(c.parameter == parameter for c in e.changes)]
    assert edits, (ex.text(), [suggest.why_not(cfg, tr, e.changes, resolver) for e in ex.edits])
    edit = edits[0]
    assert edit.new_reply and "..." not in edit.command
    # the proof's predicted values, before the files change
    proof = suggest.prove(cfg, tr, edit.changes, resolver)
    assert proof is not None
    predicted = dict(proof.expanded)

    _run_pasted(edit.command, d)
    r = subprocess.run([POSTCONF, "-c", str(d), "-n"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "macro" not in r.stderr and "fatal" not in r.stderr, r.stderr
    for ch in edit.changes:
        assert _postconf_value(d, ch) == predicted[ch.parameter], ch

    with PostfixInstance(d) as inst:
        got = inst.query(service, tx.client_address, tx.client_name, tx.helo, tx.sender, tx.recipient,
                         tx.sasl_login)
    assert got.reply == edit.new_reply, (edit.command, got, inst.log_tail() if got.code == 0 else "")


def test_an_edit_of_a_parameter_main_cf_sets_twice_works_when_pasted(scratch):
    """main.cf sets smtpd_recipient_restrictions twice (Postfix takes the
    last; postconf warns). The suggested `postconf -e` replaces both, and
    the real smtpd then answers what the edit promised."""
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    d = scratch / "seed_mailman"
    materialize(load_scenario("seed_mailman"), d)
    main_cf = d / "main.cf"
    text = main_cf.read_text()
    main_cf.write_text("smtpd_recipient_restrictions = permit\n" + text)   # the earlier, unused entry
    cfg = load_config(d)
    resolver = TempFailResolver()
    tx = _tx()
    tr = evaluate(cfg, tx, service="smtp", resolver=resolver)
    assert "Relay access denied" in tr.reply
    edits = [e for e in explain(tr, cfg, resolver=resolver).edits
             if any(c.parameter == "smtpd_recipient_restrictions" for c in e.changes)]
    assert edits, explain(tr, cfg, resolver=resolver).text()
    r = subprocess.run([POSTCONF, "-c", str(d), "-n"], capture_output=True, text=True, timeout=60)
    assert "overriding earlier entry: smtpd_recipient_restrictions=permit" in r.stderr
    _run_pasted(edits[0].command, d)
    assert main_cf.read_text().count("smtpd_recipient_restrictions =") == 2
    with PostfixInstance(d) as inst:
        got = inst.query("smtp", tx.client_address, tx.client_name, tx.helo, tx.sender, tx.recipient)
    assert got.reply == edits[0].new_reply, (edits[0].command, got)


def test_refused_edits_are_the_ones_the_real_smtpd_shows_unsafe(scratch):
    """relay_domains = (whole value), example.com is what the explainer used
    to print (as `$relay_domains, ...`, which postconf cannot even expand).
    The proof refuses it because an internet client could then relay to the
    domain; the real smtpd, given the edit, indeed accepts that client."""
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    d = scratch / "seed_mailman"
    materialize(load_scenario("seed_mailman"), d)
    cfg = load_config(d)
    resolver = TempFailResolver()
    tx = _tx()
    tr = evaluate(cfg, tx, service="smtp", resolver=resolver)
    ex = explain(tr, cfg, resolver=resolver)
    assert not any(c.parameter == "relay_domains" for e in ex.edits for c in e.changes), ex.text()
    assert all("$relay_domains" not in e.command for e in ex.edits)

    change = suggest.Change("relay_domains", "outside.example")
    # with DNS checks assumed to pass (the default), the internet client is accepted
    why = suggest.why_not(cfg, tr, (change,))
    assert "unauthenticated internet client" in why, why
    probe = why.split("(", 1)[1].split(")", 1)[0]

    # the old text fails in the real postconf ...
    bad = scratch / "bad"
    shutil.copytree(d, bad)
    subprocess.run([POSTCONF, "-c", str(bad), "-e", "relay_domains = $relay_domains, outside.example"],
                   check=True, capture_output=True, timeout=60)
    r = subprocess.run([POSTCONF, "-c", str(bad), "-xh", "relay_domains"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and "unreasonable macro call nesting" in r.stderr
    # ... and with the whole value the real smtpd no longer refuses the
    # internet client as a relay (without DNS here it then stops at the
    # DNS-based reject_unknown_recipient_domain, which a host with DNS passes)
    args = ("smtp", probe, "unknown", "client.example.net", "probe@example.net", "someone@outside.example")
    with PostfixInstance(d) as inst:
        before = inst.query(*args)
    assert "Relay access denied" in before.reply, before
    _run_pasted(change.command(), d)
    with PostfixInstance(d) as inst:
        after = inst.query(*args)
    assert "Relay access denied" not in after.reply and after.code != 554, after


def test_a_public_client_is_never_added_to_mynetworks(scratch):
    need_postfix()
    d = scratch / "seed_mailman"
    materialize(load_scenario("seed_mailman"), d)
    cfg = load_config(d)
    tr = evaluate(cfg, _tx(client_address="8.8.8.8", client_name="unknown"), service="smtp",
                  resolver=TempFailResolver())
    ex = explain(tr, cfg, resolver=TempFailResolver())
    assert "Relay access denied" in tr.reply
    assert not any(c.parameter == "mynetworks" for e in ex.edits for c in e.changes), ex.text()
    why = suggest.why_not(cfg, tr, (suggest.Change("mynetworks", "127.0.0.0/8, 192.0.2.10/32, 8.8.8.8/32"),
                                    suggest.Change("smtpd_recipient_restrictions",
                                                   "permit_mynetworks, reject_unauth_destination")),
                          TempFailResolver())
    assert "neither this host nor a private network" in why, why


def test_an_edit_that_does_not_flip_the_verdict_is_not_shown(scratch):
    need_postfix()
    d = scratch / "seed_mailman"
    materialize(load_scenario("seed_mailman"), d)
    cfg = load_config(d)
    tr = evaluate(cfg, _tx(), service="smtp", resolver=TempFailResolver())
    why = suggest.why_not(cfg, tr, (suggest.Change("smtpd_helo_required", "no"),), TempFailResolver())
    assert why.startswith("the verdict stays the same"), why
