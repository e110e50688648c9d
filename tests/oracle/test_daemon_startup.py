"""smtpd waits for anvil, trivial-rewrite and cleanup during a transaction;
when one of them exits as it starts (a yes/no, number or time value it
cannot take), the client gets no reply to that command. Asked of a real
Postfix: each smtpd service names its own broken daemon
(anvil_service_name, rewrite_service_name, cleanup_service_name), whose
master.cf line carries the bad -o value, and a command left without a reply
for a few seconds is the answer.

What the real smtpd does, and the engine's trace must give:

- trivial-rewrite (a bad yes/no value, or a transport_maps entry that is
  not type:name): MAIL FROM gets no reply, also for the null sender
  (smtpd rewrites address_verify_sender before it looks at any sender);
  with address_verify_sender empty, the null sender passes and RCPT TO
  gets no reply; a check that answers before any rewrite (HELO required)
  still answers;
- cleanup: the accepted RCPT TO gets no reply (smtpd asks for the queue
  file then), a refused one is refused as before; MAIL FROM gets no reply
  with smtpd_delay_open_until_valid_rcpt = no;
- anvil (whose service is always "anvil": set in main.cf here): the
  connection gets no reply, unless the client is one of
  smtpd_client_event_limit_exceptions or smtpd limits nothing -- then
  trivial-rewrite, broken in main.cf too, leaves MAIL FROM without one;
- lint reports each main.cf value where it is set.

The deciding step names the daemon's master.cf -o line (or the main.cf
line) and quotes the fatal line the daemon logged.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.oracle.conftest import SCRATCH_MAIN_CF, machine_resolver
from tests.oracle.postfix_instance import NO_REPLY, STANDARD_SERVICES, PostfixInstance
from tui.core.analysis.explain import explain
from tui.core.analysis.lint import typed_value_warnings
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + "local_recipient_maps =\n"

# the daemons' own master.cf lines, each with one value it does not take
DAEMONS = """\
rw1 unix - - n - - trivial-rewrite
  -o swap_bangpath=true
rw2 unix - - n - - trivial-rewrite
  -o transport_maps=hash
cl1 unix n - n - 0 cleanup
  -o always_add_missing_headers=true
"""
FATAL_TEXT = {
    "rw1": ("trivial-rewrite", "bad boolean configuration: swap_bangpath = true"),
    "rw2": ("trivial-rewrite", 'open dictionary: expecting "type:name" form instead of "hash"'),
    "cl1": ("cleanup", "bad boolean configuration: always_add_missing_headers = true"),
}

# smtpd services: name -> -o overrides
SERVICES = {
    "2501": ["rewrite_service_name=rw1"],
    "2502": ["rewrite_service_name=rw1", "address_verify_sender="],
    "2503": ["rewrite_service_name=rw1", "smtpd_helo_required=yes"],
    "2504": ["cleanup_service_name=cl1"],
    "2505": ["cleanup_service_name=cl1", "smtpd_delay_open_until_valid_rcpt=no"],
    "2506": ["rewrite_service_name=rw2"],
    "2507": ["rewrite_service_name=nosuchrw"],
    "2508": ["cleanup_service_name=rw1"],   # a private service: smtpd connects to public/rw1
    "2509": [],
}

CLIENT = ("192.0.2.7", "client.example.net")
# (service, helo, sender, recipient, the daemon's line that decides, or None)
CASES = [
    ("2501", "client.example.net", "a@example.net", "postmaster@example.com", "rw1"),
    ("2501", "client.example.net", "", "postmaster@example.com", "rw1"),
    ("2502", "client.example.net", "", "postmaster@example.com", "rw1"),
    ("2503", None, "a@example.net", "postmaster@example.com", None),
    ("2504", "client.example.net", "a@example.net", "postmaster@example.com", "cl1"),
    ("2504", "client.example.net", "a@example.net", "someone@elsewhere.test", None),
    ("2505", "client.example.net", "a@example.net", "postmaster@example.com", "cl1"),
    ("2506", "client.example.net", "a@example.net", "postmaster@example.com", "rw2"),
    ("2507", "client.example.net", "a@example.net", "postmaster@example.com", "missing"),
    ("2508", "client.example.net", "a@example.net", "postmaster@example.com", "missing"),
    ("2509", "client.example.net", "a@example.net", "postmaster@example.com", None),
]


def _smtpd_lines(services: dict[str, list[str]]) -> str:
    """master.cf lines of inet smtpd services with their -o overrides."""
    return "".join(f"{name} inet n - n - - smtpd\n" + "".join(f"  -o {o}\n" for o in overrides)
                   for name, overrides in services.items())


@contextmanager
def _instance(main_cf: str, master_cf: str, extra_services: str = ""):
    """(config dir, a running Postfix whose silence is an answer)."""
    need_postfix()
    root = Path(tempfile.mkdtemp(prefix="pfx-daemon-startup-"))
    root.chmod(0o755)
    cfg = root / "etc"
    cfg.mkdir()
    (cfg / "main.cf").write_text(main_cf)
    (cfg / "master.cf").write_text(master_cf)
    try:
        with PostfixInstance(cfg, timeout=3, extra_services=extra_services, silence_is_an_answer=True) as inst:
            yield cfg, inst
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def answered():
    """(config dir, the real Postfix's answer to each case, its log)."""
    # the engine reads the whole master.cf the harness writes: smtpd lines,
    # the stock services and these daemons' own
    with _instance(MAIN_CF, _smtpd_lines(SERVICES) + STANDARD_SERVICES + DAEMONS, DAEMONS) as (cfg, inst):
        answers = [inst.query(svc, *CLIENT, helo, sender, rcpt) for svc, helo, sender, rcpt, _d in CASES]
        yield cfg, answers, inst.log_since(0)


@pytest.mark.parametrize("i", range(len(CASES)), ids=lambda i: "-".join(
    str(x) for x in (CASES[i][0], CASES[i][2] or "null", CASES[i][3].split("@")[0])))
def test_trace_gives_the_real_answer(answered, i):
    cfg_dir, answers, log = answered
    svc, helo, sender, rcpt, daemon_line = CASES[i]
    real = answers[i]
    cfg = load_config(str(cfg_dir))
    tr = evaluate(cfg, Transaction(client_address=CLIENT[0], client_name=CLIENT[1], helo=helo, sender=sender,
                                   recipient=rcpt), service=svc, resolver=machine_resolver())
    assert (tr.code, tr.reply, tr.stage) == (real.code, real.reply, real.stage), (real, tr.answer)
    d = tr.decided_by
    if daemon_line is None:
        assert real.detail != NO_REPLY
        assert d is None or not d.parameter.endswith(" startup"), d
        return
    assert real.detail == NO_REPLY, real
    if daemon_line == "missing":   # smtpd cannot connect to the service, and says so
        daemon = "trivial-rewrite" if svc == "2507" else "cleanup"
        assert d is not None and d.parameter == f"{daemon} service", d
        m = re.search(r'"warning: (connect to subsystem \S+): No such file or directory"', d.detail)
        assert m and re.search(rf"postfix/smtpd\[\d+\]: warning: connect #1 to subsystem "
                               rf"{re.escape(m.group(1).split()[-1])}: No such file", log), (d.detail, log[-2000:])
        assert d.source.kind == "master.cf" and d.source.service == svc, d.source
        assert tr.answer == f"(no reply: smtpd waits for {daemon})"
        return
    daemon, text = FATAL_TEXT[daemon_line]
    # the daemon logged that fatal line, the step quotes it and names the -o line
    assert re.search(rf"postfix/{daemon}\[\d+\]: fatal: {re.escape(text)}$", log, re.M), log[-2000:]
    assert d is not None and d.parameter == f"{daemon} startup", d
    assert text in d.detail
    assert d.source is not None and d.source.kind == "master.cf" and d.source.service == daemon_line, d.source
    assert tr.answer == f"(no reply: smtpd waits for {daemon})"
    ex = explain(tr, cfg)
    assert ex.summary == f"{daemon} refuses to start with this configuration: {text}" and not ex.edits, ex


def test_lint_says_nothing_of_a_main_cf_every_daemon_starts_with(answered):
    """The control service (2509) was accepted: smtpd, trivial-rewrite and
    cleanup all started with this main.cf (compatibility_level = 3.6
    included, which is no number), so lint reports no value there."""
    cfg_dir, answers, _log = answered
    assert [a.code for a, case in zip(answers, CASES) if case[0] == "2509"] == [250]
    said = [w for w in typed_value_warnings(load_config(str(cfg_dir))) if w.where and w.where.startswith("main.cf")]
    assert said == [], said


def test_lint_names_the_list_of_tables_a_waited_for_daemon_refuses(answered):
    """rw2's trivial-rewrite logged that it cannot open transport_maps (the
    case of service 2506): lint says so at that -o line, once, naming the
    smtpd service that waits for it."""
    from tui.core.analysis.lint import startup_warnings

    cfg_dir, _answers, log = answered
    daemon, text = FATAL_TEXT["rw2"]
    assert re.search(rf"postfix/{daemon}\[\d+\]: fatal: {re.escape(text)}$", log, re.M), log[-2000:]
    said = [w for w in startup_warnings(load_config(str(cfg_dir))) if w.param == "transport_maps"]
    assert len(said) == 1 and said[0].severity == "error", said
    w = said[0]
    assert f"{daemon} (master.cf service rw2) exits as it starts ({text}); 2506/inet wait for it" in w.message, w
    master = (cfg_dir / "master.cf").read_text().splitlines()
    assert w.path.endswith("master.cf") and master[w.line - 1].strip() == "-o transport_maps=hash", w


def test_lint_names_a_service_smtpd_cannot_connect_to(answered):
    """2507 and 2508 name services smtpd could not connect to (it logged
    so, and gave no reply): lint says so at their -o lines."""
    from tui.core.analysis.lint import startup_warnings

    cfg_dir, _answers, log = answered
    master = (cfg_dir / "master.cf").read_text().splitlines()
    said = {w.param: w for w in startup_warnings(load_config(str(cfg_dir)))
            if w.param in ("rewrite_service_name", "cleanup_service_name")}
    for param, socket, svc in (("rewrite_service_name", "private/nosuchrw", "2507"),
                               ("cleanup_service_name", "public/rw1", "2508")):
        assert re.search(rf"postfix/smtpd\[\d+\]: warning: connect #1 to subsystem {socket}: ", log), log[-2000:]
        w = said[param]
        assert w.severity == "error" and f"({'connect to subsystem ' + socket}: No such file or directory)" in w.message
        assert f"{svc}/inet wait for it" in w.message, w.message
        assert master[w.line - 1].strip().startswith(f"-o {param}="), w


MAIN_CF_BROKEN = MAIN_CF + "anvil_rate_time_unit = 60x\nresolve_numeric_domain = maybe\n"
MAIN_CF_FATALS = {
    "anvil": ("anvil_rate_time_unit", "parameter anvil_rate_time_unit: bad time value or unit: 60x"),
    "trivial-rewrite": ("resolve_numeric_domain", "bad boolean configuration: resolve_numeric_domain = maybe"),
}
# service -> (-o overrides, the stage left without a reply, the daemon smtpd waits for)
MAIN_CF_SERVICES = {
    "2521": ([], "connect", "anvil"),
    "2522": (["smtpd_client_event_limit_exceptions=192.0.2.0/24"], "mail", "trivial-rewrite"),
    "2523": (["smtpd_client_connection_count_limit=0"], "mail", "trivial-rewrite"),
}


def test_main_cf_values_and_lint():
    """Values in main.cf stop anvil and trivial-rewrite as -o ones do; the
    step and lint name the main.cf line."""
    master_cf = _smtpd_lines({name: overrides for name, (overrides, _s, _d) in MAIN_CF_SERVICES.items()})
    lines = MAIN_CF_BROKEN.splitlines()
    with _instance(MAIN_CF_BROKEN, master_cf) as (cfg_dir, inst):
        real = {svc: inst.query(svc, *CLIENT, "client.example.net", "a@example.net", "postmaster@example.com")
                for svc in MAIN_CF_SERVICES}
        log = inst.log_since(0)
        cfg = load_config(str(cfg_dir))
    for svc, (_o, stage, daemon) in MAIN_CF_SERVICES.items():
        tr = evaluate(cfg, Transaction(client_address=CLIENT[0], client_name=CLIENT[1],
                                       helo="client.example.net", sender="a@example.net",
                                       recipient="postmaster@example.com"),
                      service=svc, resolver=machine_resolver())
        assert (real[svc].code, real[svc].stage, real[svc].detail) == (0, stage, NO_REPLY), (svc, real[svc])
        assert (tr.code, tr.reply, tr.stage) == (0, "", stage), (svc, tr.answer)
        param, text = MAIN_CF_FATALS[daemon]
        assert re.search(rf"postfix/{daemon}\[\d+\]: fatal: {re.escape(text)}$", log, re.M), log[-2000:]
        d = tr.decided_by
        assert d.parameter == f"{daemon} startup" and text in d.detail, d
        assert d.source.kind == "main.cf" and lines[d.source.line - 1].startswith(param), d.source
    for param, text in MAIN_CF_FATALS.values():
        said = [w for w in typed_value_warnings(cfg) if w.param == param]
        assert said and said[0].severity == "error" and text in said[0].message, said


def test_triage_ties_the_daemons_fatal_lines_to_todays_configuration(answered, tmp_path):
    """The fatal lines trivial-rewrite and cleanup logged are groups of
    their own: the same today (named by the smtpd services that wait for
    that daemon), and the daemon starting once its -o value is gone."""
    from tui.core.analysis.content_checks import DIFFERS, SAME, UNDECIDABLE
    from tui.core.analysis.triage import triage

    cfg_dir, _answers, log = answered
    (tmp_path / "maillog").write_text(log)
    waits = {"rw1": "2501, 2502, 2503", "rw2": "2506", "cl1": "2504, 2505"}

    def fatal_groups(d):
        res = triage(load_config(str(d)), [str(tmp_path / "maillog")])
        assert res.unparsed.count == 0, res.unparsed.examples
        return {g.reply: g for g in res.groups if g.kind == "fatal"}

    groups = fatal_groups(cfg_dir)
    for line, (daemon, text) in FATAL_TEXT.items():
        g = groups[text]
        assert (g.today, g.stage, g.service) == (SAME, f"{daemon} startup", waits[line]), g
        assert g.verdict == f"today's configuration makes {daemon} exit the same way"
    fixed = tmp_path / "etc"
    shutil.copytree(cfg_dir, fixed)
    (fixed / "master.cf").write_text(re.sub(r"\n  -o (swap_bangpath=true|always_add_missing_headers=true"
                                            r"|transport_maps=hash)", "", (cfg_dir / "master.cf").read_text()))
    groups = fatal_groups(fixed)
    for line, (daemon, text) in FATAL_TEXT.items():
        g = groups[text]
        if line == "rw2":   # "expecting type:name" names no parameter: which list it was is not known
            assert g.today == UNDECIDABLE, g
        else:
            assert g.today == DIFFERS and g.verdict == f"today {daemon} starts instead", g


# the process limit each daemon insists on (it exits on another)
MAXPROC = {"anvil": "1", "trivial-rewrite": "-", "cleanup": "0"}


def test_a_sample_of_the_data_is_what_each_daemon_reads():
    """What the engine knows of each daemon (tui/core/data/daemon_params_3.7.json)
    asked again: a seeded sample of its yes/no, number and time parameters
    and of the lists of tables it opens, each given a value the daemon does
    not take on a master.cf line of its own, and the daemon started by a
    connection to it: it logs the fatal line the engine says."""
    import random
    import socket
    import time

    from tui.core.config.params import param, param_list
    from tui.core.postfix.mail_conf import first_startup_error, opened_maps, typed_params
    from tui.core.postfix.maps import maps_create_error

    rng = random.Random(3)
    bad_value = {"bool": "true", "int": "1_000", "long": "1x", "time": "5x"}
    probes = []
    for daemon in MAXPROC:
        probes += [(daemon, name, bad_value[kind]) for name, kind, _lo, _hi in rng.sample(typed_params(daemon), 4)]
        probes += [(daemon, name, "nocolon") for name in rng.sample(opened_maps(daemon), min(2, len(opened_maps(daemon))))]
    extra = "".join(f"p{i} unix - - n - {MAXPROC[d]} {d}\n  -o {name}={value}\n"
                    for i, (d, name, value) in enumerate(probes))
    with _instance(MAIN_CF, _smtpd_lines({"2599": []}), extra) as (cfg_dir, inst):
        main = load_config(str(cfg_dir)).params()
        for i, (daemon, name, value) in enumerate(probes):
            at = inst.log_size()
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(inst.queue / "private" / f"p{i}"))   # master starts the daemon
                deadline = time.monotonic() + 10
                while (m := re.search(rf"postfix/{daemon}\[\d+\]: fatal: (.*)", inst.log_since(at))) is None:
                    assert time.monotonic() < deadline, (daemon, name, inst.log_since(at))
                    time.sleep(0.05)

            def value_of(n, name=name, value=value):
                return value if n == name else param(main, n)

            said = first_startup_error(daemon, value_of) or next(
                (p, err) for p in opened_maps(daemon)
                if (err := maps_create_error([value] if p == name else param_list(main, p))) is not None)
            assert said == (name, "fatal: " + m.group(1)), (daemon, name, value)
