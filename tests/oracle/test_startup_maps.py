"""Map lists smtpd opens when it starts, with an entry that is not type:name.

smtpd opens these maps before it answers anything (smtpd_check_init(),
then its own start-up): local_recipient_maps, virtual_alias_maps,
smtpd_sender_login_maps, ..., smtpd_command_filter, smtpd_reject_footer_maps.
Postfix's dict_open() exits on an entry without a type or a name, so a value
such as `static:Footer from a table` (four entries: `from` is no table)
leaves the service without an smtpd: the client sees the connection closed
before any greeting. The engine says so, naming the parameter, instead of
answering with the entries it could read, and lint reports it for that
service alone. A value kept in one piece by braces, and an unknown type
(a lookup error, not an exit), still start.
"""
from __future__ import annotations

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver, scratch_instance
from tui.core.analysis.lint import startup_warnings
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + """\
local_recipient_maps =
"""

# service -> (its -o override, the parameter the engine names; None: smtpd starts)
SERVICES = {
    "127.0.0.1:2601": ("{ smtpd_reject_footer_maps = static:Footer from a table }", "smtpd_reject_footer_maps"),
    "127.0.0.1:2602": ("virtual_alias_maps=hash", "virtual_alias_maps"),
    "127.0.0.1:2603": ("smtpd_sender_login_maps=hash:", "smtpd_sender_login_maps"),
    "127.0.0.1:2604": ("smtpd_command_filter=nocolon", "smtpd_command_filter"),
    "127.0.0.1:2605": ("{ local_recipient_maps = :nothing }", "local_recipient_maps"),
    "127.0.0.1:2606": ("{ smtpd_reject_footer_maps = static:{Footer from a table} }", None),
    "127.0.0.1:2607": ("smtpd_reject_footer_maps=nosuchtype:x", None),
}

MASTER_CF = "smtp      inet  n       -       n       -       -       smtpd\n" + "".join(
    f"{svc} inet n - n - - smtpd\n  -o {override}\n" for svc, (override, _p) in SERVICES.items())

TX = dict(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
          sender="a@example.net", recipient="postmaster@example.com")


@pytest.fixture(scope="module")
def setup():
    with scratch_instance("pfx-startup-maps-", MAIN_CF, MASTER_CF) as got:
        yield got


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_smtpd_starts_or_not_as_the_engine_says(setup, service):
    cfg, inst = setup
    real = inst.query(service, **TX)
    config = load_config(str(cfg))
    tr = evaluate(config, Transaction(**TX), service=service, resolver=machine_resolver())
    assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage)
    param = SERVICES[service][1]
    said = [w for w in startup_warnings(config) if w.message.startswith(service + "/")]
    if param is None:
        assert real.code > 0 and all(s.parameter != "smtpd startup" for s in tr.steps)
        assert said == []
        return
    assert [(w.param, w.severity) for w in said] == [(param, "error")], said
    assert real.code == 0, real   # no greeting: that smtpd exited
    d = tr.decided_by
    assert d.parameter == "smtpd startup" and 'expecting "type:name" form' in d.detail, d
    # the step names the -o line that set the parameter
    assert d.source.service == service and param in d.detail + SERVICES[service][0], d
    assert MASTER_CF.splitlines()[d.source.line - 1].strip() == f"-o {SERVICES[service][0]}", d.source
