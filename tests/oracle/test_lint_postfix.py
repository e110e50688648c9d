"""Lint says what Postfix says: each warning checked against the real
postconf, smtpd and trivial-rewrite at test time.

- a parameter that refers to itself: the real postconf stops with
  `unreasonable macro call nesting: "NAME"`, and lint reports those words;
- a domain in a virtual class and in relay_domains: the domains and class
  pairs lint names are those the real trivial-rewrite logs
  ("do not list domain X in BOTH A and B");
- a table whose file is missing: the reply lint announces is the real
  smtpd's;
- a table type the installed Postfix does not support: exactly the types
  `postconf -m` does not list; with no postconf, lint says it could not
  check;
- `params -x` keeps blanks inside an expansion as `postconf -x` does.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tui.core.analysis import inventory, lint
from tui.core.config import load_config

pytestmark = pytest.mark.oracle

POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
MASTER = "smtp inet n - n - - smtpd\n"


@pytest.fixture
def scratch():
    top = Path(tempfile.mkdtemp(prefix="pfx-lint-"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


def write(d: Path, main_cf: str) -> Path:
    (d / "main.cf").write_text(main_cf)
    (d / "master.cf").write_text(MASTER)
    return d


@pytest.mark.parametrize("main_cf", [
    "relay_domains = $relay_domains, example.com\n",
    "mydestination = $myhostname, localhost\nmyhostname = $mydestination\n",
    "a = $b\nb = $a\nmydestination = $a\n",
    "smtpd_recipient_restrictions = permit_mynetworks, $smtpd_recipient_restrictions\n",
])
def test_self_reference_is_postconfs_error(scratch, main_cf):
    need_postfix()
    write(scratch, main_cf)
    r = subprocess.run([POSTCONF, "-c", str(scratch), "-n"], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    real = re.findall(r"warning: (unreasonable macro call nesting: \"[^\"]+\")", r.stderr)
    assert real, r.stderr
    ws = [w for w in lint.lint(load_config(scratch)) if "macro call nesting" in w.message]
    assert ws and all(w.severity == "error" for w in ws)
    assert any(real[0] in w.message for w in ws), (real, [w.message for w in ws])


def test_no_expansion_warning_when_postconf_is_happy(scratch):
    need_postfix()
    write(scratch, "relay_domains = $mydestination, example.com\nmydestination = $myhostname, localhost\n")
    r = subprocess.run([POSTCONF, "-c", str(scratch), "-n"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert not [w for w in lint.lint(load_config(scratch)) if "macro call nesting" in w.message]


def test_relay_overlaps_are_the_ones_trivial_rewrite_logs(scratch):
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    (scratch / "vmailbox").write_text("u@a.example x\nu@b.example x\nu@t.example x\nu@s.sub.example x\n")
    (scratch / "valias").write_text("u@v.example u@a.example\n")
    (scratch / "relay").write_text("t.example OK\n")
    write(scratch, "mynetworks = 127.0.0.0/8\n"
                   "mydestination = localhost, l.example\n"
                   "virtual_alias_domains = v.example\n"
                   f"virtual_alias_maps = texthash:{scratch}/valias\n"
                   "virtual_mailbox_domains = a.example, b.example, t.example, s.sub.example\n"
                   f"virtual_mailbox_maps = texthash:{scratch}/vmailbox\n"
                   f"relay_domains = a.example, v.example, l.example, sub.example, texthash:{scratch}/relay\n"
                   "local_recipient_maps =\nalias_maps =\n"
                   "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
    domains = ["a.example", "b.example", "v.example", "l.example", "t.example", "s.sub.example"]
    cfg = load_config(scratch)
    ours = {(w.domain, w.message.rsplit("in BOTH ", 1)[1])
            for w in lint.class_overlaps(lint.address_classes(cfg, domains))}
    with PostfixInstance(scratch) as inst:
        at = inst.log_size()
        for d in domains:
            inst.query("smtp", "127.0.0.1", "localhost", "client.example.com", "a@example.com", f"u@{d}")
        log = inst.log_since(at)
    real = {(d.lower(), f"{a} and {b}")
            for d, a, b in re.findall(r"do not list domain (\S+) in BOTH (\S+) and (\S+)", log)}
    assert any("relay_domains" in pair for _d, pair in real), log[-2000:]
    assert ours == real


@pytest.mark.parametrize("param, value", [
    ("virtual_alias_maps", "texthash:{d}/no_such_valias"),
    ("smtpd_sender_restrictions", "check_sender_access texthash:{d}/no_such_access"),
    ("smtpd_recipient_restrictions", "permit_sasl_authenticated, check_recipient_access hash:{d}/no_such_rcpt, "
                                     "permit_mynetworks, reject_unauth_destination"),
])
def test_missing_table_reply_is_smtpds(scratch, param, value):
    need_postfix()
    from tests.oracle.postfix_instance import PostfixInstance

    main = {"mynetworks": "127.0.0.0/8", "mydestination": "example.com", "local_recipient_maps": "",
            "alias_maps": "", "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination"}
    main[param] = value.format(d=scratch)
    write(scratch, "".join(f"{k} = {v}\n" for k, v in main.items()))
    ws = [w for w in lint.lint(load_config(scratch)) if w.table and "every lookup fails" in w.message]
    assert len(ws) == 1, [w.message for w in lint.lint(load_config(scratch))]
    with PostfixInstance(scratch) as inst:
        got = inst.query("smtp", "127.0.0.1", "localhost", "client.example.com", "a@example.net",
                         "u@example.com")
    code, dsn = got.reply.split()[:2]
    assert f"smtpd answers {code} {dsn}" in ws[0].message, (got, ws[0].message)


def test_unsupported_map_types_are_those_postconf_m_does_not_list(scratch):
    need_postfix()
    types = sorted(t for t in inventory.DICT_TYPES if t not in ("proxy",))
    main = "mynetworks = 127.0.0.0/8\nsmtpd_sender_restrictions = " + ", ".join(
        f"check_sender_access {t}:{scratch}/t_{t}" for t in types) + "\n"
    write(scratch, main)
    r = subprocess.run([POSTCONF, "-c", str(scratch), "-m"], capture_output=True, text=True, timeout=60)
    supported = set(r.stdout.split())
    assert supported
    cfg = load_config(scratch)
    refs = inventory.collect_tables(cfg)
    ws = lint.map_type_warnings(refs, config_dir=str(scratch))
    flagged = {re.search(r"unsupported dictionary type: (\S+)", w.message).group(1) for w in ws}
    assert flagged == {t for t in types if t not in supported}
    # without a postconf to ask: nothing claimed, and lint says it could not check
    none = lint.map_type_warnings(refs, supported=None, config_dir=None)
    assert len(none) == 1 and "could not check" in none[0].message


def test_params_x_keeps_blanks_as_postconf(scratch):
    need_postfix()
    write(scratch, "a = x\n"
                   "mydestination = ${a?{x }}, y\n"
                   "relay_domains = ${a:{x }}, y, ${a?{ p }} ,q\n"
                   "myorigin = ${a?{x\t}}, q\n"
                   "mynetworks = $a , 127.0.0.0/8\n")
    names = ["mydestination", "relay_domains", "myorigin", "mynetworks"]
    real = subprocess.run([POSTCONF, "-c", str(scratch), "-x", *names], capture_output=True, text=True,
                          timeout=60)
    ours = subprocess.run([sys.executable, "-m", "tui", "params", "--config-dir", str(scratch), "-x", *names],
                          capture_output=True, text=True, timeout=120)
    assert real.returncode == 0 and ours.returncode == 0, (real.stderr, ours.stderr)
    assert ours.stdout == real.stdout


@pytest.mark.parametrize("main_cf, master_cf, args", [
    ("relay_domains = $relay_domains, example.com\n", MASTER, ["-x", "relay_domains"]),
    ("smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n",
     MASTER + "  -o smtpd_recipient_restrictions=$smtpd_recipient_restrictions,reject\n",
     ["-x", "--service", "smtp", "smtpd_recipient_restrictions"]),
])
def test_params_x_says_the_nesting_error_once_as_postconf(scratch, main_cf, master_cf, args):
    need_postfix()
    (scratch / "main.cf").write_text(main_cf)
    (scratch / "master.cf").write_text(master_cf)
    pc_args = ["-Px", "smtp/inet/smtpd_recipient_restrictions"] if "--service" in args else args
    real = subprocess.run([POSTCONF, "-c", str(scratch), *pc_args], capture_output=True, text=True, timeout=60)
    ours = subprocess.run([sys.executable, "-m", "tui", "params", "--config-dir", str(scratch), *args],
                          capture_output=True, text=True, timeout=120)
    assert real.returncode != 0 and ours.returncode != 0

    def warnings(stderr: str) -> list[str]:
        return [ln.split("warning: ", 1)[1] for ln in stderr.splitlines() if "warning: " in ln]

    assert warnings(ours.stderr) == warnings(real.stderr), (ours.stderr, real.stderr)


def test_postfixadmin_backup_mx_domain_in_both_classes(scratch):
    """PostfixAdmin's default virtual domain query (POSTFIX_CONF.txt:
    `... WHERE domain='%s' AND active = '1'`) answers for backup-MX domains
    too, which its relay_domains query lists: the real trivial-rewrite
    warns about each such domain, and `lint` names the same ones (it asks
    the class tables about the domains it reads from PostfixAdmin)."""
    need_postfix()
    import sqlite3
    from importlib import resources

    from tests.oracle.postfix_instance import PostfixInstance

    db = scratch / "postfixadmin.sqlite"
    con = sqlite3.connect(str(db))
    con.executescript(resources.files("tui.demo").joinpath("postfixadmin_schema.sql").read_text())
    con.executemany("INSERT INTO domain (domain, backupmx, active) VALUES (?, ?, 1)",
                    [("served.example", 0), ("backup.example", 1), ("backup2.example", 1)])
    con.commit()
    con.close()
    db.chmod(0o644)
    (scratch / "vdomains.cf").write_text(f"dbpath = {db}\n"
                                         "query = SELECT domain FROM domain WHERE domain='%s' AND active = '1'\n")
    (scratch / "relay.cf").write_text(f"dbpath = {db}\nquery = SELECT domain FROM domain WHERE domain='%s' "
                                      "AND active = '1' AND backupmx = '1'\n")
    write(scratch, "mynetworks = 127.0.0.0/8\nmydestination = localhost\n"
                   f"virtual_mailbox_domains = sqlite:{scratch}/vdomains.cf\n"
                   "virtual_mailbox_maps = static:ok\nvirtual_transport = error\n"
                   f"relay_domains = sqlite:{scratch}/relay.cf\n"
                   "local_recipient_maps =\nalias_maps =\n"
                   "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
    r = subprocess.run([sys.executable, "-m", "tui", "lint", "--config-dir", str(scratch), "--json"],
                       capture_output=True, text=True, timeout=120)
    import json
    ours = {w["domain"] for w in json.loads(r.stdout) if "in BOTH" in w["message"]}
    with PostfixInstance(scratch) as inst:
        at = inst.log_size()
        for d in ("served.example", "backup.example", "backup2.example"):
            inst.query("smtp", "127.0.0.1", "localhost", "client.example.com", "a@example.com", f"u@{d}")
        log = inst.log_since(at)
    real = set(re.findall(r"do not list domain (\S+) in BOTH virtual_mailbox_domains and relay_domains", log))
    assert real == {"backup.example", "backup2.example"}, log[-2000:]
    assert ours == real, r.stdout


def test_stale_index_advice_names_the_tool_that_fixes_it(scratch):
    """One warning per table, naming one tool; running that tool (as the
    real postmap/postalias) makes the warning go away."""
    need_postfix()
    POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"
    (scratch / "aliases").write_text("postmaster: root\nroot: admin@example.com\n")
    (scratch / "acc").write_text("a@b.example OK\n")
    write(scratch, "mynetworks = 127.0.0.0/8\n"
                   f"alias_maps = hash:{scratch}/aliases\nalias_database = hash:{scratch}/aliases\n"
                   f"smtpd_sender_restrictions = check_sender_access hash:{scratch}/acc\n")
    # the classic mistakes: postmap on an aliases file, a source edited after postmap
    subprocess.run([POSTMAP, "-c", str(scratch), f"hash:{scratch}/aliases"], capture_output=True, timeout=60)
    subprocess.run([POSTMAP, "-c", str(scratch), f"hash:{scratch}/acc"], check=True, timeout=60)
    import os
    import time
    old = time.time() - 60
    os.utime(scratch / "acc.db", (old, old))
    ws = [w for w in lint.lint(load_config(scratch)) if w.table]
    assert sorted(w.table for w in ws) == [f"hash:{scratch}/acc", f"hash:{scratch}/aliases"], ws
    for w in ws:
        tools = re.findall(r"\brun (postmap|postalias|newaliases) (\S+)", w.message)
        assert len(tools) == 1, w.message
        tool, spec = tools[0]
        assert spec == w.table
        exe = shutil.which(tool) or f"/usr/sbin/{tool}"
        subprocess.run([exe, "-c", str(scratch), spec], check=True, capture_output=True, timeout=60)
    assert not [w for w in lint.lint(load_config(scratch)) if w.table], \
        [w.message for w in lint.lint(load_config(scratch))]


@pytest.mark.parametrize("setting, daemon, socket_path", [
    ("resolve_dequoted_address = true", "trivial-rewrite", "private/rewrite"),
    ("allow_percent_hack = 1", "trivial-rewrite", "private/rewrite"),
    ("append_dot_mydomain = on", "trivial-rewrite", "private/rewrite"),   # its default depends on compatibility_level
    ("always_add_missing_headers = true", "cleanup", "public/cleanup"),
    ("hopcount_limit = 0", "cleanup", "public/cleanup"),              # a number out of cleanup's range
    ("anvil_status_update_time = 0", "anvil", "private/anvil"),       # a time out of anvil's range
])
def test_a_typed_value_no_reader_takes_is_the_daemons_fatal(setting, daemon, socket_path):
    """lint's error for a yes/no or number parameter of another daemon than
    smtpd quotes the fatal line that daemon logs when it starts (started
    here by a connection to its socket)."""
    import socket

    from tests.oracle.conftest import SCRATCH_MAIN_CF, scratch_instance

    with scratch_instance("pfx-lint-typed-", SCRATCH_MAIN_CF + setting + "\n", MASTER) as (cfg, inst):
        name = setting.split(" =")[0]
        ws = [w for w in lint.lint(load_config(str(cfg))) if w.param == name]
        assert len(ws) == 1 and ws[0].severity == "error", ws
        quoted = re.search(r'\("fatal: (.*)"\)$', ws[0].message).group(1)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(inst.queue / socket_path))   # master starts the daemon
            # (nothing else in this instance has a fatal: to log)
            text = inst.wait_for_log(f"postfix/{daemon}[", ": fatal: ")
        fatals = re.findall(rf"postfix/{daemon}\[\d+\]: fatal: (.*)", text)
        assert fatals == [quoted], (fatals, quoted)
