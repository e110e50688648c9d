"""Milters the configuration alone decides, asked of a real smtpd: one
service per setting (master.cf -o overrides), each answering the same
transaction.

- A milter smtpd cannot use -- an address without transport:endpoint
  (`localhost:8891`, the usual slip for `inet:localhost:8891`), a transport
  other than inet, unix or local, an empty endpoint, milter_protocol words
  it does not know -- is never connected: it answers MAIL FROM with
  "451 4.3.5 Server configuration problem - try again later" (after the
  sender restrictions with smtpd_delay_reject = no), unless its
  default_action is accept or quarantine. The first milter that answers
  wins: one skipped with accept lets the next answer.
- A milter list smtpd cannot read (a per-milter setting it does not know,
  `name = value` with blanks outside braces, a zero timeout, an empty
  braced definition, macro defaults that are not name=value) or an inet:
  address it cannot parse makes it exit before its greeting.
- DISABLE, receive_override_options = no_milters and smtpd_milter_maps
  (by client address) choose the list.
- A usable milter is asked at run time: the engine says so and answers
  with the restrictions (here the test suite's own milter, which lets
  everything through, or an unreachable one with default_action = accept).

The trace gives the real answer, its deciding step names the line to fix,
lint reports what every client of the service meets.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver, scratch_instance, scratch_master_cf
from tests.oracle.milter import Milter
from tests.oracle.postfix_instance import HarnessError
from tui.core.analysis.content_checks import DIFFERS, SAME
from tui.core.analysis.explain import explain
from tui.core.analysis.lint import startup_warnings
from tui.core.analysis.triage import triage
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

CONF_ERROR = "451 4.3.5 Server configuration problem - try again later"
MAIN_CF = SCRATCH_MAIN_CF + "local_recipient_maps =\n"
TX = dict(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
          sender="a@example.net", recipient="user@example.com")
OTHER = dict(TX, client_address="198.51.100.21")

# (service, its -o lines, what the engine must say: "reply" (the real reply,
# decided by a milter step on PARAM), "closed" (smtpd exits before its
# greeting), "restrictions" (no milter decides), the parameter lint and the
# step name or None, lint's severity or None)
CASES = [
    ("3001", ["smtpd_milters=localhost:8891"], "reply", "smtpd_milters", "error"),
    ("3002", ["smtpd_milters=foo:bar"], "reply", "smtpd_milters", "error"),
    ("3003", ["smtpd_milters=inet:"], "reply", "smtpd_milters", "error"),
    ("3004", ["smtpd_milters=:8891"], "reply", "smtpd_milters", "error"),
    ("3005", ["smtpd_milters=localhost:8891", "milter_default_action=accept"], "restrictions", "smtpd_milters",
     "warning"),
    ("3006", ["smtpd_milters=localhost:8891", "milter_default_action=QUARANTINE"], "restrictions",
     "smtpd_milters", "warning"),
    ("3007", ["smtpd_milters=localhost:8891", "milter_default_action=reject"], "reply", "smtpd_milters", "error"),
    ("3008", ["smtpd_milters=inet:127.0.0.1:1", "milter_protocol=7"], "reply", "milter_protocol", "error"),
    ("3009", ["smtpd_milters=inet:127.0.0.1:1", "milter_protocol=no_header_reply"], "reply", "milter_protocol",
     "error"),
    ("3010", ["smtpd_milters=inet:127.0.0.1:1", "milter_protocol=6,4"], "reply", "milter_protocol", "error"),
    ("3011", ["{ smtpd_milters = {localhost:1,default_action=accept} localhost:2 }"], "reply", "smtpd_milters",
     "error"),
    ("3012", ["{ smtpd_milters = {localhost:1,default_action=quarantine} localhost:2 }"], "restrictions",
     "smtpd_milters", "warning"),
    ("3013", ["{ smtpd_milters = {inet:127.0.0.1:1,protocol=9} }"], "reply", "smtpd_milters", "error"),
    ("3014", ["smtpd_milters={a:b,foo=bar}"], "closed", "smtpd_milters", "error"),
    ("3015", ["{ smtpd_milters = { a:b, default_action = accept } }"], "closed", "smtpd_milters", "error"),
    ("3016", ["{ smtpd_milters = { , } }"], "closed", "smtpd_milters", "error"),
    ("3017", ["smtpd_milters={a:b,connect_timeout=0}"], "closed", "smtpd_milters", "error"),
    ("3018", ["smtpd_milters={a:b,command_timeout=5x}"], "closed", "smtpd_milters", "error"),
    ("3019", ["smtpd_milters=inet:[127.0.0.1"], "closed", "smtpd_milters", "error"),
    ("3020", ["smtpd_milters=inet:127.0.0.1:12a"], "closed", "smtpd_milters", "error"),
    ("3021", ["smtpd_milters=inet:127.0.0.1:1", "milter_macro_defaults=foo"], "closed", "milter_macro_defaults",
     "error"),
    ("3022", ["smtpd_milters=localhost:8891", "smtpd_delay_reject=no", "smtpd_sender_restrictions=reject"],
     "restrictions", "smtpd_milters", "error"),
    ("3023", ["smtpd_milters=localhost:8891", "smtpd_delay_reject=no"], "reply", "smtpd_milters", "error"),
    ("3024", ["smtpd_milters=localhost:8891", "receive_override_options=no_milters"], "restrictions", None, None),
    ("3025", ["smtpd_milters=DISABLE"], "restrictions", None, None),
    ("3026", ["smtpd_milters=localhost:8891", "smtpd_reject_footer=see-the-docs"], "reply", "smtpd_milters",
     "error"),
    ("3027", ["smtpd_milters=localhost:8891", "smtpd_milter_maps=inline:{198.51.100.20=DISABLE}"], "restrictions",
     "smtpd_milters", "error"),
    ("3028", ["smtpd_milter_maps=inline:{198.51.100.20=localhost:8891}"], "reply", "smtpd_milter_maps", None),
    ("3029", ["smtpd_milters=unix:/nonexistent/milter", "milter_default_action=accept"], "restrictions", None,
     None),
    ("3030", ["smtpd_milters=MILTER"], "restrictions", None, None),
    ("3031", ["{ smtpd_milters = {localhost:1,default_action=accept} MILTER localhost:2 }"], "reply",
     "smtpd_milters", "error"),
    # smtpd_milter_maps that cannot be read: smtpd goes on with smtpd_milters
    ("3033", ["smtpd_milter_maps=hash:/nonexistent/milters", "smtpd_milters=localhost:8891"], "reply",
     "smtpd_milters", "error"),
    ("3034", ["{ smtpd_milter_maps = inline:{ { 198.51.100.20 = { localhost:1, default_action=accept } } } }",
              "smtpd_milters=localhost:8891"], "restrictions", "smtpd_milters", "error"),
]


# a list smtpd cannot read, for one client only
MAP_FATAL = ("3032", ["{ smtpd_milter_maps = inline:{ { 198.51.100.20 = {a:b,foo=bar} } } }"])


def master_cf(milter_spec: str) -> str:
    return scratch_master_cf((svc, [o.replace("MILTER", milter_spec) for o in opts])
                             for svc, opts, *_rest in CASES + [MAP_FATAL])


@pytest.fixture(scope="module")
def setup():
    with Milter({}) as m:   # continues at every stage
        with scratch_instance("pfx-milter-conf-", MAIN_CF, master_cf(m.spec)) as (cfg, inst):
            yield cfg, inst


def _trace(cfg, service, tx):
    config = load_config(str(cfg))
    return config, evaluate(config, Transaction(**tx), service=service, resolver=machine_resolver())


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_smtpd_answers_as_the_engine_says(setup, i):
    cfg, inst = setup
    port, opts, kind, param, severity = CASES[i]
    svc = f"127.0.0.1:{port}"
    real = inst.query(svc, **TX)
    config, tr = _trace(cfg, svc, TX)
    assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage), (tr.steps, real)
    said = [w for w in startup_warnings(config) if w.message.startswith(svc + "/")]
    assert [(w.param, w.severity) for w in said][-1:] == ([(param if param != "smtpd_milter_maps" else None,
                                                            severity)] if severity else []), said
    d = tr.decided_by
    log = inst.log_text()
    if kind == "reply":
        assert real.reply.split("\n")[0][4:] == CONF_ERROR[4:] and real.stage == "mail", real
        assert d.parameter == param and d.reply == CONF_ERROR, d
        if param != "milter_protocol":
            assert d.source.service == svc, d.source
        # the warning smtpd logged for the milter it could not use
        logged = tr.warnings[-1].removeprefix('smtpd logs "warning: ').removesuffix('"')
        assert f"warning: {logged}" in log, (logged, tr.warnings)
        ex = explain(tr, config)
        assert ex.summary.startswith(tr.reply) and "cannot use the milter" in ex.summary, ex
    elif kind == "closed":
        assert real.code == 0 and tr.answer == "(connection closed before any greeting)", real
        fatal = tr.config_errors[-1].removeprefix("smtpd: ")
        assert real.detail in fatal or fatal == "fatal: " + real.detail, (fatal, real.detail)
        assert d.parameter == param and d.source.service == svc, d
        assert explain(tr, config).summary.startswith("smtpd exits when it sets up its milters")
    else:
        assert real.code == 250 or (port == "3022" and real.code == 554), real
        assert d is None or d.parameter not in ("smtpd_milters", "smtpd_milter_maps", "milter_protocol"), d
        if port in ("3029", "3030"):
            assert tr.conditional and any(n.startswith("not evaluated: the milter") for n in tr.notes), tr.notes
        if port in ("3006", "3012"):
            assert any("put on hold" in n for n in tr.notes), tr.notes


def test_smtpd_milter_maps_choose_the_list_by_client(setup):
    """The client the map disables and one it does not name; the client the
    map gives a milter list to and one it does not."""
    cfg, inst = setup
    for port, tx, reply in (("3027", OTHER, CONF_ERROR), ("3028", OTHER, "250 2.1.5 Ok")):
        svc = f"127.0.0.1:{port}"
        real = inst.query(svc, **tx)
        _config, tr = _trace(cfg, svc, tx)
        assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage)
        assert real.reply == reply
        lookups = [lk for s in tr.steps if s.parameter == "smtpd_milter_maps" for lk in s.lookups]
        assert [lk.key for lk in lookups] == ["198.51.100.21"], tr.steps


def test_a_list_the_map_gives_one_client_is_read_for_that_client(setup):
    """smtpd_milter_maps with a list smtpd cannot read, for one client:
    smtpd exits when that client connects (here after XCLIENT: the oracle's
    own connection gets no list), and serves the others."""
    cfg, inst = setup
    svc = "127.0.0.1:3032"
    # the other client first: once smtpd exits, master throttles the service
    real = inst.query(svc, **OTHER)
    _config, tr = _trace(cfg, svc, OTHER)
    assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage) and real.code == 250
    with pytest.raises(HarnessError, match="connection closed after XCLIENT"):
        inst.query(svc, **TX)
    config, tr = _trace(cfg, svc, TX)
    assert tr.code == 0 and tr.answer == "(connection closed before any greeting)", tr.answer
    assert tr.decided_by.parameter == "smtpd_milter_maps", tr.decided_by
    fatal = tr.config_errors[-1].removeprefix("smtpd: ")
    assert fatal == 'fatal: unknown option: "foo = bar"' and fatal in inst.log_text()


# -- triage: the milter-reject lines smtpd logs for a milter it cannot use
# (at CONNECT, XCLIENT and EHLO too, where it answers as usual)
def _triage_master(with_milter: bool) -> str:
    return "smtp      inet  n       -       n       -       -       smtpd\n" + (
        "  -o smtpd_milters=localhost:8891\n" if with_milter else "")


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """(config dir, the log the real Postfix wrote) after one transaction."""
    with scratch_instance("pfx-milter-triage-", MAIN_CF, _triage_master(True)) as (cfg, inst):
        assert inst.query("smtp", **TX).reply == CONF_ERROR
        keep = tmp_path_factory.mktemp("milter-triage")
        (keep / "maillog").write_text(inst.log_text())
        shutil.copytree(cfg, keep / "etc")
        yield keep / "etc", keep / "maillog"


def _milter_groups(cfg_dir: Path, log: Path) -> dict:
    res = triage(load_config(str(cfg_dir)), [str(log)])
    assert res.unparsed.count == 0, res.unparsed.examples
    return {g.stage: g for g in res.groups if g.action == "milter-reject"}


def test_triage_finds_the_milter_smtpd_cannot_use_today(logged):
    cfg, log = logged
    groups = _milter_groups(cfg, log)
    assert sorted(groups) == ["connect", "helo", "mail"], groups
    for g in groups.values():
        assert g.today == SAME and g.reply == CONF_ERROR, g
    assert groups["mail"].decided_by["parameter"] == "smtpd_milters", groups["mail"]


def test_triage_says_today_differs_once_the_milter_is_gone(logged, tmp_path):
    cfg, log = logged
    fixed = tmp_path / "etc"
    shutil.copytree(cfg, fixed)
    (fixed / "master.cf").write_text(_triage_master(False))
    g = _milter_groups(fixed, log)["mail"]
    assert g.today == DIFFERS and g.today_reply == "250 2.1.0 Ok" and g.decided_by is None, g


@pytest.mark.parametrize("setting, parameter, command", [
    ("smtpd_milters = BARE", "smtpd_milters", "postconf -e 'smtpd_milters = SPEC'"),
    ("smtpd_milters = SPEC\nmilter_protocol = 7", "milter_protocol", "postconf -e 'milter_protocol = 6'"),
], ids=["no inet:", "milter_protocol"])
def test_the_edit_works_when_pasted(setting, parameter, command):
    """smtpd_milters = 127.0.0.1:PORT (no inet:), or a milter_protocol it
    does not know: the explanation's edit, pasted as printed into a copy,
    makes the real smtpd talk to the milter listening there (which lets
    everything through): the answer it promised."""
    with Milter({}) as m:
        bare = m.spec.removeprefix("inet:")
        top = Path(tempfile.mkdtemp(prefix="pfx-milter-edit-"))
        top.chmod(0o755)   # the postfix user reads the copy
        try:
            d = top / "etc"
            d.mkdir()
            (d / "main.cf").write_text(MAIN_CF + setting.replace("BARE", bare).replace("SPEC", m.spec) + "\n")
            (d / "master.cf").write_text("smtp      inet  n       -       n       -       -       smtpd\n")
            _paste_and_ask(d, parameter, command.replace("SPEC", m.spec))
        finally:
            shutil.rmtree(top, ignore_errors=True)


def _paste_and_ask(d: Path, parameter: str, command: str) -> None:
    from tests.oracle.postfix_instance import PostfixInstance
    from tests.oracle.test_suggest_oracle import _run_pasted

    config = load_config(str(d))
    tr = evaluate(config, Transaction(**TX), service="smtp", resolver=machine_resolver())
    assert tr.reply == CONF_ERROR and tr.decided_by.parameter == parameter, tr.reply
    edits = explain(tr, config, resolver=machine_resolver()).edits
    assert len(edits) == 1 and edits[0].command.startswith(command), edits
    _run_pasted(edits[0].command, d)
    with PostfixInstance(d) as inst:
        got = inst.query("smtp", **TX)
    assert got.reply == edits[0].new_reply == "250 2.1.5 Ok", (edits[0], got)
