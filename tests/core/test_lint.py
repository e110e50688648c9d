"""tui.core.analysis.lint and tui.core.analysis.inventory: configuration warnings.

Every claim a warning makes about Postfix is checked against the real
Postfix 3.7 here:
- the restriction names lint knows are exactly the names the evaluator
  dispatches on, and a real smtpd knows each of them; a name lint calls
  unknown makes the real smtpd log 'unknown smtpd restriction' and answer
  451 4.3.5;
- what follows an unconditional permit/reject is never evaluated by the
  real smtpd (and warn_if_reject lifts that);
- the domains lint says are in two address classes are the domains the real
  trivial-rewrite warns about ("do not list domain X in BOTH A and B").
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tui.core.analysis import inventory, lint
from tui.core.text import scrub
from tui.core.config import load_config
from tui.core.smtpd import RESTRICTIONS, deprecated_names, evaluate
from tui.core.smtpd.registry import DOMAIN, TABLE
from tui.core.trace import Transaction

ACCESS_CHECKS = {n for n, r in RESTRICTIONS.items() if r.arg == TABLE}
DOMAIN_ARG = {n for n, r in RESTRICTIONS.items() if r.arg == DOMAIN}
DEPRECATED = deprecated_names()

MASTER = "smtp inet n - n - - smtpd\n"


def write(d: Path, main_cf: str) -> Path:
    # alias_maps: keep the host's /etc/aliases out of the tests
    (d / "main.cf").write_text(main_cf + "alias_maps =\n")
    (d / "master.cf").write_text(MASTER)
    return d


@pytest.fixture
def public_dir():
    """A scratch config dir the postfix user can read."""
    d = Path(tempfile.mkdtemp(prefix="pfx-lint-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _arg(name: str) -> str:
    """A harmless argument for a restriction that takes one."""
    if name in ACCESS_CHECKS:
        return " static:DUNNO"
    if name in DOMAIN_ARG:
        return " dnsbl.invalid"
    if name == "check_policy_service":
        return " inet:127.0.0.1:9"
    if name == "sleep":
        return " 0"
    return ""


# ---------------------------------------------------------------------------
# One source of truth: lint knows what the evaluator knows


def test_known_names_come_from_the_evaluator():
    known = lint.known_restrictions()
    assert known, "the evaluator's dispatch could not be read"
    # every name the evaluator's tables mention is known, with its argument
    for name in ACCESS_CHECKS:
        assert known.get(name) == 1, name
    for name in DOMAIN_ARG:
        assert known.get(name) == 1, name
    for name in DEPRECATED:
        assert name in known, name
    assert known["check_policy_service"] == 1 and known["sleep"] == 1
    assert known["permit"] == 0 and known["warn_if_reject"] == 0


def test_every_known_name_is_dispatched_by_the_evaluator(tmp_path: Path):
    """For each name lint knows, the evaluator does not answer 'unknown smtpd
    restriction'; for a name lint does not know, it does (451 4.3.5)."""
    known = sorted(lint.known_restrictions())
    classes = {f"k_{i}": n for i, n in enumerate(known)}
    main = ["mynetworks = 127.0.0.0/8",
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
            "smtpd_restriction_classes = " + ", ".join(classes) + ", u_0",
            "u_0 = reject_unknwon_sender_domain"]
    main += [f"{c} = {n}{_arg(n)}" for c, n in classes.items()]
    cfg = load_config(str(write(tmp_path, "\n".join(main) + "\n")))
    for c, n in list(classes.items()) + [("u_0", "reject_unknwon_sender_domain")]:
        # a class reached through an access table result, as in the oracle test below
        view = cfg.params()
        assert view.raw(c) is not None
    lint_unknown = {w.param for w in lint.restriction_warnings(cfg) if w.severity == "error"}
    assert lint_unknown == {"u_0"}
    for c, n in list(classes.items()) + [("u_0", "reject_unknwon_sender_domain")]:
        d = tmp_path / c
        d.mkdir()
        cfg1 = load_config(str(write(d, "\n".join(main) + f"\nsmtpd_recipient_restrictions = {c}, permit\n")))
        tr = evaluate(cfg1, Transaction("127.0.0.1", "localhost", "client.example.com",
                                        "a@example.com", "b@example.com"))
        assert tr.code != 0, tr.config_errors  # smtpd started: the list was evaluated
        said_unknown = any("unknown smtpd restriction" in w for w in tr.warnings)
        assert said_unknown == (c == "u_0"), (n, tr.reply, tr.warnings)
        if c == "u_0":
            assert tr.code == 451 and "4.3.5" in tr.reply


def test_restriction_names_are_case_insensitive_classes_are_not(tmp_path: Path):
    cfg = load_config(str(write(tmp_path,
                                "smtpd_restriction_classes = MyClass\nMyClass = permit\n"
                                "smtpd_recipient_restrictions = PERMIT_MYNETWORKS, MyClass, myclass,\n"
                                "    Reject_Unauth_Destination\n")))
    msgs = [w.message for w in lint.restriction_warnings(cfg)]
    assert msgs == ["smtpd_recipient_restrictions: 'myclass' is not a restriction Postfix knows "
                    "(smtpd answers 451 4.3.5 Server configuration error when it gets there)"]
    items = lint.restriction_items(cfg.params(), "smtpd_recipient_restrictions", lint.restriction_classes(cfg))
    assert [n for _p, _t, n in items] == ["", "restriction class", "unknown to Postfix", ""]


def test_unreachable_entries_and_warn_if_reject(tmp_path: Path):
    cfg = load_config(str(write(tmp_path,
                                "smtpd_recipient_restrictions = warn_if_reject reject, permit_mynetworks,\n"
                                "    reject_rbl_client zen.example, reject, reject_unauth_destination\n"
                                "smtpd_helo_restrictions = Permit, reject\n")))
    ws = lint.restriction_warnings(cfg)
    assert [(w.param, w.message) for w in ws] == [
        ("smtpd_helo_restrictions", "smtpd_helo_restrictions: 'reject' can never be reached: it comes "
                                    "after the unconditional 'Permit'"),
        ("smtpd_recipient_restrictions", "smtpd_recipient_restrictions: 'reject_unauth_destination' can "
                                         "never be reached: it comes after the unconditional 'reject'"),
    ]
    assert all(w.path == str(tmp_path / "main.cf") and w.line in (1, 3) for w in ws)
    items = lint.restriction_items(cfg.params(), "smtpd_recipient_restrictions")
    assert [t for _p, t, _n in items] == ["warn_if_reject", "reject", "permit_mynetworks",
                                         "reject_rbl_client zen.example", "reject", "reject_unauth_destination"]
    assert items[-1][2] == "never reached (after reject)" and items[1][2] == ""


def test_master_cf_overrides_are_checked(tmp_path: Path):
    (tmp_path / "main.cf").write_text("\n")
    (tmp_path / "master.cf").write_text(MASTER + "submission inet n - n - - smtpd\n"
                                        "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject,permit\n")
    cfg = load_config(str(tmp_path))
    ws = lint.restriction_warnings(cfg)
    assert len(ws) == 1
    assert ws[0].message.startswith("smtpd_client_restrictions (-o on submission): 'permit' can never")
    assert ws[0].path == str(tmp_path / "master.cf") and ws[0].line == 3  # the -o line


# ---------------------------------------------------------------------------
# Inventory


def test_collect_tables_skips_non_table_arguments(tmp_path: Path):
    (tmp_path / "access").write_text("x OK\n")
    cfg = load_config(str(write(tmp_path,
                                f"smtpd_sender_restrictions = check_sender_access hash:{tmp_path}/access,\n"
                                "    check_policy_service inet:127.0.0.1:10023, reject_rbl_client zen.example\n"
                                f"virtual_alias_maps = proxy:mysql:{tmp_path}/v.cf, inline:{{a=b}}\n")))
    refs = {r.spec: r for r in inventory.collect_tables(cfg)}
    assert f"hash:{tmp_path}/access" in refs
    assert "inet:127.0.0.1:10023" not in refs  # a policy server, not a table
    r = refs[f"proxy:mysql:{tmp_path}/v.cf"]
    assert r.type == "mysql" and r.path == f"{tmp_path}/v.cf"
    # virtual_alias_domains defaults to $virtual_alias_maps: the same table
    assert r.used_by == [("virtual_alias_maps", "main.cf:3"), ("virtual_alias_domains", "default")]
    assert r.sources[0].line == 3
    assert refs["inline:{a=b}"].path is None


def test_world_readable_secret_and_scrub(tmp_path: Path):
    cf = tmp_path / "v.cf"
    cf.write_text("hosts = 127.0.0.1\nuser = u\n\npassword = Hunter2-secret\ndbname = d\nquery = SELECT 1\n")
    cf.chmod(0o644)
    cfg = load_config(str(write(tmp_path, f"virtual_alias_maps = mysql:{cf}\n")))
    refs = inventory.collect_tables(cfg)
    secrets = inventory.cf_secrets(refs)
    assert secrets == {"Hunter2-secret"}
    ws = lint.table_warnings(refs[0], None)
    assert len(ws) == 1 and "world-readable (mode 0644)" in ws[0].message
    assert (ws[0].path, ws[0].line) == (str(cf), 4)  # the password's line
    assert "Hunter2-secret" not in repr(ws)
    cf.chmod(0o640)
    assert lint.table_warnings(refs[0], None) == []
    assert scrub("x Hunter2-secret y password = abc", secrets) == "x ******** y password = ********"


@pytest.mark.oracle
def test_stale_map_is_what_postmap_would_rebuild(tmp_path: Path):
    need_postfix()
    import os
    import time

    access = tmp_path / "access"
    access.write_text("example.com OK\n")
    write(tmp_path, f"smtpd_sender_restrictions = check_sender_access hash:{access}\n")
    r = subprocess.run(["postmap", "-c", str(tmp_path), f"hash:{access}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cfg = load_config(str(tmp_path))
    assert not [w for w in lint.lint(cfg) if w.table]
    access.write_text("example.com OK\nexample.net REJECT\n")
    later = time.time() + 60
    os.utime(access, (later, later))
    # the real postmap -q still answers from the old .db: the new line is not there
    q = subprocess.run(["postmap", "-c", str(tmp_path), "-q", "example.net", f"hash:{access}"],
                       capture_output=True, text=True)
    assert q.returncode == 1 and q.stdout == ""
    ws = [w for w in lint.lint(cfg) if w.table]
    assert len(ws) == 1 and "postmap" in ws[0].message
    assert (ws[0].path, ws[0].line) == (str(tmp_path / "main.cf"), 1)


# ---------------------------------------------------------------------------
# Against the real smtpd and trivial-rewrite


def _session_log(inst, at: int) -> str:
    """The log since offset `at`, once smtpd has logged the end of the
    session: postlogd writes asynchronously, and a warning read too early
    would be counted for the next session (this test was flaky so)."""
    import time

    deadline = time.monotonic() + 10
    text = inst.log_since(at)
    while "disconnect from" not in text and time.monotonic() < deadline:
        time.sleep(0.02)
        text = inst.log_since(at)
    return text


@pytest.mark.oracle
def test_real_smtpd_agrees_on_names_and_reachability(public_dir: Path):
    """Each restriction sits in its own restriction class, chosen per
    recipient by an access table: one Postfix instance answers them all."""
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    known = sorted(lint.known_restrictions())
    classes = {f"k_{i}": f"{n}{_arg(n)}" for i, n in enumerate(known)}
    classes.update({
        "u_typo": "reject_unknwon_sender_domain",
        "u_addrmap": "check_address_map static:DUNNO",  # an old hand-written list knew this one
        "t_permit": "permit, reject",
        "t_upper": "PERMIT, reject",
        "t_warn": "warn_if_reject reject, reject",
    })
    (public_dir / "pick").write_text("".join(f"{c}@example.com {c}\n" for c in classes))
    write(public_dir, "mynetworks = 127.0.0.0/8\n"
                      "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
                      "smtpd_restriction_classes = " + ", ".join(classes) + "\n"
                      + "".join(f"{c} = {v}\n" for c, v in classes.items())
                      + f"smtpd_recipient_restrictions = check_recipient_access texthash:{public_dir}/pick, permit\n")
    cfg = load_config(str(public_dir))
    warned_unknown = {w.param for w in lint.restriction_warnings(cfg) if w.severity == "error"}
    warned_unreachable = {w.param for w in lint.restriction_warnings(cfg) if "never be reached" in w.message}
    assert warned_unknown == {"u_typo", "u_addrmap"}
    assert warned_unreachable == {"t_permit", "t_upper"}

    answers, logs = {}, {}
    with PostfixInstance(public_dir) as inst:
        for c in classes:
            at = inst.log_size()
            answers[c] = inst.query("smtp", "127.0.0.1", "localhost", "client.example.com",
                                    "a@example.com", f"{c}@example.com")
            logs[c] = _session_log(inst, at)
    real_unknown = {c for c in classes if re.search(r"warning: unknown smtpd restriction", logs[c])}
    assert real_unknown == warned_unknown, {c: answers[c] for c in real_unknown ^ warned_unknown}
    for c in warned_unknown:
        assert answers[c].code == 451 and "4.3.5" in answers[c].reply, answers[c]
    assert answers["t_permit"].code == 250 and answers["t_upper"].code == 250
    assert answers["t_warn"].code == 554 and "Access denied" in answers["t_warn"].reply


@pytest.mark.oracle
def test_domains_in_two_classes_are_the_ones_trivial_rewrite_warns_about(public_dir: Path):
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    (public_dir / "vmailbox").write_text("u@a.example x\nu@b.example x\nu@m.example x\n")
    (public_dir / "valias").write_text("u@b.example u@m.example\n")
    (public_dir / "vdomains").write_text("m.example OK\nd.example OK\n")
    write(public_dir, "mynetworks = 127.0.0.0/8\n"
                      "mydestination = localhost, a.example, c.example, D.example\n"
                      "virtual_alias_domains = b.example\n"
                      f"virtual_alias_maps = texthash:{public_dir}/valias\n"
                      f"virtual_mailbox_domains = a.example, b.example, texthash:{public_dir}/vdomains\n"
                      f"virtual_mailbox_maps = texthash:{public_dir}/vmailbox\n"
                      "relay_domains = c.example\n"
                      "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
    cfg = load_config(str(public_dir))
    domains = ["a.example", "b.example", "c.example", "d.example", "m.example"]
    ws = lint.class_overlaps(lint.address_classes(cfg, domains))
    ours = {(w.domain, w.message.split(": ", 1)[1].split(";")[0]) for w in ws}
    with PostfixInstance(public_dir) as inst:
        at = inst.log_size()
        for d in domains:
            inst.query("smtp", "127.0.0.1", "localhost", "client.example.com", "a@example.com", f"u@{d}")
        log = inst.log_since(at)
    real = set(re.findall(r"do not list domain (\S+) in BOTH (\S+) and (\S+)", log))
    assert real, log[-2000:]
    names = {"mydestination": "local (mydestination)",
             "virtual_alias_domains": "virtual alias (virtual_alias_domains)",
             "virtual_mailbox_domains": "virtual mailbox (virtual_mailbox_domains)"}
    expected = {(d.lower(), f"{names[a]} and {names[b]}") for d, a, b in real}
    assert ours == expected


# ---------------------------------------------------------------------------
# CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui", "lint", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_lint(tmp_path: Path):
    cf = tmp_path / "v.cf"
    cf.write_text("hosts = inet:127.0.0.1:1\nuser = u\npassword = Pw-Never-Printed-9\ndbname = d\n"
                  "query = SELECT goto FROM alias WHERE address='%s'\n")
    cf.chmod(0o644)
    write(tmp_path, "smtpd_recipient_restrictions = permit_mynetworks, reject_unknwon_sender_domain,\n"
                    "    permit, reject_unauth_destination\n"
                    f"virtual_alias_maps = mysql:{cf}\n")
    r = _cli("--config-dir", str(tmp_path))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    main_cf = tmp_path / "main.cf"
    assert lines == [
        f"{main_cf}:1: error: smtpd_recipient_restrictions: 'reject_unknwon_sender_domain' is not a "
        "restriction Postfix knows (smtpd answers 451 4.3.5 Server configuration error when it gets there)",
        f"{main_cf}:1: warning: smtpd_recipient_restrictions: 'reject_unauth_destination' can never be "
        "reached: it comes after the unconditional 'permit'",
        # compatibility_level 0: smtpd_relay_restrictions is empty, and the permit hides the rest
        f"{main_cf}:1: error: smtp/inet: smtpd exits as it starts (in parameter smtpd_relay_restrictions or "
        "smtpd_recipient_restrictions, specify at least one working instance of: reject_unauth_destination, "
        "defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains): clients see the "
        "connection closed without a greeting",
        f"{cf}:3: warning: {cf} holds a password and is world-readable (mode 0644); chmod 640 and chgrp postfix",
    ]
    assert "Pw-Never-Printed-9" not in r.stdout + r.stderr
    j = _cli("--config-dir", str(tmp_path), "--json")
    assert j.returncode == 1
    items = json.loads(j.stdout)
    assert [i["severity"] for i in items] == ["error", "warning", "error", "warning"]
    assert items[0]["param"] == "smtpd_recipient_restrictions" and items[0]["line"] == 1
    assert "Pw-Never-Printed-9" not in j.stdout + j.stderr


def test_cli_lint_clean_and_unusable(tmp_path: Path):
    write(tmp_path, "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
    r = _cli("--config-dir", str(tmp_path))
    assert (r.returncode, r.stdout) == (0, "")
    r = _cli("--config-dir", str(tmp_path / "nope"))
    assert r.returncode == 2 and r.stdout == "" and "main.cf" in r.stderr


def test_secrets_of_tables_configured_in_main_cf(tmp_path: Path):
    """mysql:NAME (no path) takes its settings from main.cf's NAME_* parameters."""
    cfg = load_config(str(write(tmp_path, "pfa_hosts = inet:127.0.0.1:1\npfa_user = u\n"
                                          "pfa_password = Main-Cf-Secret-7\npfa_dbname = d\n"
                                          "pfa_query = SELECT 1 FROM domain WHERE domain='%s'\n"
                                          "virtual_mailbox_domains = proxy:mysql:pfa\n")))
    refs = inventory.collect_tables(cfg)
    assert inventory.cf_secrets(refs) == set()  # no view: nothing to read
    assert inventory.cf_secrets(refs, cfg.params()) == {"Main-Cf-Secret-7"}
    r = _cli("--config-dir", str(tmp_path), "--json")
    assert "Main-Cf-Secret-7" not in r.stdout + r.stderr


def test_typed_values_no_reader_takes_are_errors_where_they_are_set(tmp_path: Path):
    """yes/no, number and time parameters (their defaults say which) set to
    what Postfix's readers refuse; smtpd's own are reported per smtpd
    service instead (startup_warnings), not twice."""
    write(tmp_path, "resolve_dequoted_address = true\nbiff = YES\nmaximal_queue_lifetime = 5x\n"
                    "bounce_queue_lifetime = 5d\nqmgr_message_active_limit = 1_000\n"
                    "header_size_limit = 2147483648\nsmtpd_delay_reject = 1\n"
                    # defaults that are expressions: by compatibility_level, another parameter
                    "append_dot_mydomain = on\nlmtp_connect_timeout = 30 s\nlmtp_data_done_timeout = 5m\n")
    ws = lint.typed_value_warnings(load_config(tmp_path))
    assert {w.param: w.line for w in ws} == {"resolve_dequoted_address": 1, "maximal_queue_lifetime": 3,
                                             "qmgr_message_active_limit": 5, "append_dot_mydomain": 8,
                                             "lmtp_connect_timeout": 9}, ws
    assert all(w.severity == "error" for w in ws)
    assert any(w.message.endswith('("fatal: parameter maximal_queue_lifetime: bad time value or unit: 5x")')
               for w in ws), ws
