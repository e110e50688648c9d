"""A service that requires TLS (smtpd_tls_security_level = encrypt, or
secure, verify and fingerprint, which smtpd takes as encrypt; else
smtpd_enforce_tls = yes) answers MAIL FROM from a client that has not used
STARTTLS with "530 5.7.0 Must issue a STARTTLS command first", before the
command's own checks and any restriction (a client refused at CONNECT
with smtpd_delay_reject = no is refused there first). A security level
that is set decides alone: may with smtpd_enforce_tls = yes does not
require TLS.

The oracle's client never uses STARTTLS: a real smtpd answers each
service, and the engine traces the same transaction with tls=False
(`--tls no`). Traced without saying (tls=None), the engine takes the TLS
state the service requires and says so in a note.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver, scratch_instance, scratch_master_cf
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + "local_recipient_maps =\n"
TX = dict(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
          sender="a@example.net", recipient="user@example.com")
STARTTLS_FIRST = "530 5.7.0 Must issue a STARTTLS command first"

# (service, its -o lines, the transaction's changes, the parameter that requires TLS or None)
CASES = [
    ("3101", ["smtpd_tls_security_level=encrypt"], {}, "smtpd_tls_security_level"),
    ("3102", ["smtpd_enforce_tls=yes"], {}, "smtpd_enforce_tls"),
    ("3103", ["smtpd_tls_security_level=may", "smtpd_enforce_tls=yes"], {}, None),
    ("3104", ["smtpd_tls_security_level=VERIFY"], {}, "smtpd_tls_security_level"),
    ("3105", ["smtpd_tls_security_level=encrypt", "smtpd_delay_reject=no",
              "smtpd_client_restrictions=check_client_access,inline:{198.51.100.20=REJECT}"],
     {}, "smtpd_tls_security_level"),
    ("3106", ["smtpd_tls_security_level=encrypt", "smtpd_helo_required=yes"], {"helo": None},
     "smtpd_tls_security_level"),
    ("3107", ["smtpd_tls_security_level=encrypt", "smtpd_delay_reject=no", "smtpd_sender_restrictions=reject"],
     {}, "smtpd_tls_security_level"),
    ("3108", ["smtpd_tls_security_level=none", "smtpd_enforce_tls=yes"], {}, None),
    ("3109", ["smtpd_tls_security_level=encrypt"], {"sender": "a@[bad"}, "smtpd_tls_security_level"),
]
MASTER_CF = scratch_master_cf((svc, opts) for svc, opts, *_rest in CASES)


@pytest.fixture(scope="module")
def setup():
    with scratch_instance("pfx-starttls-", MAIN_CF, MASTER_CF) as got:
        yield got


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_a_client_without_starttls(setup, i):
    cfg, inst = setup
    port, _opts, changes, param = CASES[i]
    svc = f"127.0.0.1:{port}"
    tx = dict(TX, **changes)
    real = inst.query(svc, **tx)
    config = load_config(str(cfg))
    tr = evaluate(config, Transaction(**tx, tls=False), service=svc, resolver=machine_resolver())
    assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage), (tr.steps, real)
    if real.reply == STARTTLS_FIRST:
        d = tr.decided_by
        assert d.parameter == param and d.source.service == svc, d
    # the same transaction, the client's TLS not said: what the service requires
    assumed = evaluate(config, Transaction(**tx), service=svc, resolver=machine_resolver())
    noted = [n for n in assumed.notes if n.startswith(f"not evaluated: {param} ")]
    assert assumed.reply != STARTTLS_FIRST and (noted if param else True), assumed.notes
    assert not any("STARTTLS" in n for n in tr.notes), tr.notes


def test_the_cli_takes_tls_no(setup):
    """trace --tls no, and a --batch line with "tls": false."""
    cfg, inst = setup
    svc = "127.0.0.1:3101"
    args = [sys.executable, "-m", "tui", "trace", "--config-dir", str(cfg), "--service", svc,
            "--client-address", TX["client_address"], "--client-name", TX["client_name"],
            "--helo", TX["helo"], "--sender", TX["sender"], "--recipient", TX["recipient"]]
    out = subprocess.run(args + ["--tls", "no", "--json"], capture_output=True, text=True)
    assert out.returncode == 1 and json.loads(out.stdout)["reply"] == STARTTLS_FIRST, out.stderr
    line = json.dumps(dict(TX, id="a", service=svc, tls=False))
    out = subprocess.run([sys.executable, "-m", "tui", "trace", "--config-dir", str(cfg), "--batch", "-"],
                         input=line + "\n", capture_output=True, text=True)
    got = json.loads(out.stdout.splitlines()[0])
    assert got["id"] == "a" and got["reply"] == STARTTLS_FIRST, out
    assert got["reply"] == inst.query(svc, **TX).reply


def test_port_25_that_requires_tls_gets_an_edit_that_works_when_pasted():
    """smtp (port 25) with encrypt: the explanation proposes may there, and
    pasted as printed into a copy, a real smtpd answers the plain-text
    client what the edit promised. A service on another port (where
    requiring TLS is the point) gets no such edit."""
    from tests.oracle.postfix_instance import PostfixInstance
    from tests.oracle.test_suggest_oracle import _run_pasted
    from tui.core.analysis.explain import explain

    top = Path(tempfile.mkdtemp(prefix="pfx-starttls-edit-"))
    top.chmod(0o755)   # the postfix user reads the copy
    try:
        d = top / "etc"
        d.mkdir()
        (d / "main.cf").write_text(MAIN_CF + "smtpd_tls_security_level = encrypt\n")
        (d / "master.cf").write_text("smtp      inet  n       -       n       -       -       smtpd\n"
                                     "127.0.0.1:3120 inet n - n - - smtpd\n")
        config = load_config(str(d))
        tr = evaluate(config, Transaction(**TX, tls=False), service="smtp", resolver=machine_resolver())
        assert tr.reply == STARTTLS_FIRST
        edits = explain(tr, config, resolver=machine_resolver()).edits
        assert [e.command for e in edits] == ["postconf -e 'smtpd_tls_security_level = may' && postfix reload"]
        other = evaluate(config, Transaction(**TX, tls=False), service="127.0.0.1:3120", resolver=machine_resolver())
        assert other.reply == STARTTLS_FIRST and not explain(other, config, resolver=machine_resolver()).edits
        _run_pasted(edits[0].command, d)
        with PostfixInstance(d) as inst:
            got = inst.query("smtp", **TX)
        assert got.reply == edits[0].new_reply == "250 2.1.5 Ok", (edits[0], got)
    finally:
        shutil.rmtree(top, ignore_errors=True)
