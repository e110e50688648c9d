"""A real smtpd against our trace, on access maps whose index is stale or missing.

The oracle harness compiles every map before it starts Postfix; the admin's
mistakes are made after that, before the first connection (smtpd opens its
maps when master starts it for that connection):

- `check_recipient_access hash:rcpt_access` whose source is edited and not
  rebuilt: smtpd answers from the old .db;
- `check_sender_access hash:sender_access` (on a second service) whose .db
  was removed: smtpd cannot open the table and answers 451 4.3.5;
- `virtual_alias_maps = hash:valias` (on a third service) whose .db was
  removed: recipient validation fails with 451 4.3.0.

Our engine reads the same files; code, reply and stage must be smtpd's.
"""
from __future__ import annotations

import os

import pytest

from tests.oracle.conftest import scratch_instance

pytestmark = pytest.mark.oracle

MAIN_CF = """\
compatibility_level = 3.6
myhostname = mx.example.com
mydomain = example.com
inet_interfaces = 127.0.0.1
mydestination = example.com
mynetworks = 127.0.0.0/8
alias_maps =
local_recipient_maps =
smtpd_recipient_restrictions = check_recipient_access hash:__DIR__/rcpt_access,
    permit_mynetworks, reject_unauth_destination
"""

MASTER_CF = """\
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o smtpd_recipient_restrictions=check_sender_access,hash:__DIR__/sender_access,permit_mynetworks,reject_unauth_destination
127.0.0.1:2527 inet n - n - - smtpd
  -o virtual_alias_maps=hash:__DIR__/valias
"""

OLD_RCPT = "old@example.com REJECT the old entry\nkept@example.com REJECT kept\n"
NEW_RCPT = "new@example.com REJECT the new entry\nkept@example.com REJECT kept\n"

# (service, sender, recipient)
CASES = [
    ("smtp", "a@example.org", "old@example.com"),      # only in the stale .db: rejected
    ("smtp", "a@example.org", "new@example.com"),      # only in the edited source: accepted
    ("smtp", "a@example.org", "kept@example.com"),
    ("smtp", "a@example.org", "other@example.com"),
    ("submission", "blocked@example.org", "someone@example.com"),   # no sender_access.db: 451
    ("submission", "", "someone@example.com"),
    ("127.0.0.1:2527", "a@example.org", "someone@example.com"),   # no valias.db: 451 4.3.0
]


@pytest.fixture(scope="module")
def instance():
    files = {"rcpt_access": OLD_RCPT, "sender_access": "blocked@example.org REJECT blocked\n",
             "valias": "alias@example.com someone@example.net\n"}
    # starting the instance compiles rcpt_access.db and sender_access.db
    with scratch_instance("pfx-indexed-smtpd-", MAIN_CF, MASTER_CF, files) as (cfg, inst):
        db = cfg / "rcpt_access.db"
        assert db.exists() and (cfg / "sender_access.db").exists()
        # the admin's mistakes
        (cfg / "rcpt_access").write_text(NEW_RCPT)
        t = os.stat(db).st_mtime + 10
        os.utime(cfg / "rcpt_access", (t, t))
        (cfg / "sender_access.db").unlink()
        (cfg / "valias.db").unlink()
        yield cfg, inst


def test_stale_and_missing_indexes_answer_as_smtpd(instance):
    cfg_dir, inst = instance
    from tui.core.config import load_config
    from tui.core.dns import TempFailResolver
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    cfg = load_config(cfg_dir)
    mismatches = []
    answers = {}
    for service, sender, rcpt in CASES:
        real = inst.query(service=service, client_address="127.0.0.1", client_name="localhost",
                          helo="client.example.org", sender=sender, recipient=rcpt)
        tr = evaluate(cfg, Transaction(client_address="127.0.0.1", client_name="localhost",
                                       helo="client.example.org", sender=sender, recipient=rcpt),
                      service=service, resolver=TempFailResolver())
        answers[(service, rcpt, sender)] = real
        if (tr.code, tr.reply, tr.stage) != (real.code, real.reply, real.stage):
            mismatches.append(f"{service} {sender!r} -> {rcpt}: postfix [{real.stage}] {real.reply!r}; "
                              f"ours [{tr.stage}] {tr.reply!r}")
    assert not mismatches, "\n".join(mismatches) + "\n" + inst.log_tail(20)
    # the cases test what they claim: smtpd used the stale .db, and failed
    # on the missing one
    assert answers[("smtp", "old@example.com", "a@example.org")].code == 554
    assert answers[("smtp", "new@example.com", "a@example.org")].code == 250
    assert answers[("submission", "someone@example.com", "blocked@example.org")].reply.startswith("451 4.3.5")
    assert answers[("127.0.0.1:2527", "someone@example.com", "a@example.org")].reply.startswith("451 4.3.0")


def test_the_trace_says_why(instance):
    """The trace shows the table's status: stale, and missing, each with
    the command that fixes it."""
    cfg_dir, _inst = instance
    from tui.core.cache import shared_cache
    from tui.core.config import load_config
    from tui.core.dns import TempFailResolver
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    cfg = load_config(cfg_dir)
    tr = evaluate(cfg, Transaction(client_address="127.0.0.1", client_name="localhost",
                                   helo="client.example.org", sender="blocked@example.org",
                                   recipient="someone@example.com"),
                  service="submission", resolver=TempFailResolver())
    errors = [lk.error for s in tr.steps for lk in s.lookups if lk.error]
    assert any(f"open database {cfg_dir}/sender_access.db" in e for e in errors), errors
    cache = shared_cache(cfg)
    st = cache.get(f"hash:{cfg_dir}/sender_access", cfg.params("submission")).status
    assert st.state == "stale" and st.message.count(f"postmap hash:{cfg_dir}/sender_access") == 1
    st2 = cache.get(f"hash:{cfg_dir}/rcpt_access", cfg.params("smtp")).status
    assert "older than source file" in st2.message
