"""Mail-log triage on the forms a real Postfix writes beyond smtpd's own
restrictions (those are in test_triage_oracle.py):

- milter-reject at CONNECT, EHLO, MAIL, RCPT and DATA from a real smtpd
  talking to the test's own milter (tests/oracle/milter.py), and at
  END-OF-MESSAGE from cleanup;
- deliveries deferred by the real smtp client (a closed loopback port:
  "Connection refused"; a remote server that says 450) and bounced (it says
  550), see tests/oracle/remote_smtp.py;
- 451 4.3.0 Temporary lookup failure (a missing relay_domains table makes
  trivial-rewrite fail, a missing alias_maps table fails the local
  recipient lookup);
- postscreen's verdicts from a real postscreen on loopback: PREGREET,
  DNSBL rank (postscreen's dnsblog asks the test's own DNS server, never
  the machine's resolver), NON-SMTP COMMAND, BARE NEWLINE, COMMAND
  PIPELINING, HANGUP, DENYLISTED, COMMAND COUNT/LENGTH/TIME LIMIT, its own
  NOQUEUE: reject: lines, and an smtpd behind it (see
  tests/oracle/postscreen_instance.py).

Every line triage reads here was written by a real Postfix at test time; the
tests check what triage makes of each form: the group's service, stage,
reply and rule, and the verdict for today ("same" only where the real smtpd's
logged answer is reproduced, "undecidable" with the reason named where the
answer came from outside the configuration).
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
from contextlib import ExitStack, redirect_stdout
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.oracle import postfix_instance as pi
from tests.oracle.compile_maps import compile_maps
from tests.oracle.milter import Milter
from tests.oracle.remote_smtp import RemoteSmtp

pytestmark = pytest.mark.oracle


# ---------------------------------------------------------------- plumbing

def _cli(argv) -> tuple[int, dict]:
    from tui.__main__ import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(argv)
    return rc, json.loads(buf.getvalue())


def _triage(config_dir: Path, text: str, tmp: Path) -> tuple[int, dict]:
    log = tmp / "mail.log"
    log.write_text(text)
    return _cli(["triage", "--config-dir", str(config_dir), "--json", str(log)])


def _scratch_dir(stack: ExitStack, prefix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(d, 0o755)
    stack.callback(shutil.rmtree, d, True)
    return d


def _keep_syslog_names(stack: ExitStack) -> None:
    """The harness drops -o syslog_name; here the process names matter."""
    saved = pi._DROPPED_OVERRIDES
    pi._DROPPED_OVERRIDES = set()
    stack.callback(setattr, pi, "_DROPPED_OVERRIDES", saved)


def _smtp(port: int, commands, *, source: str = "127.0.0.1", xclient: str | None = None,
          body: str | None = None, pregreet: str | None = None, timeout: float = 20.0):
    """One SMTP session; the replies, in order (None: the connection closed).
    pregreet: sent before the greeting is read; body: sent after a 354."""
    smtp = pi._Smtp(port, timeout, source)
    out = []
    try:
        if pregreet is not None:
            smtp.sock.sendall(pregreet.encode())
        out.append(smtp.read_reply())
        if xclient is not None:
            out.append(smtp.command("XCLIENT " + xclient))
        for c in commands:
            if out[-1] is None:
                break
            if isinstance(c, bytes):  # raw bytes, e.g. a bare newline or two commands at once
                smtp.sock.sendall(c)
                r = smtp.read_reply()
            else:
                r = smtp.command(c)
            out.append(r)
            if r is not None and r[0] == 354:
                smtp.sock.sendall((body or "Subject: test\r\n\r\nhello\r\n").encode() + b".\r\n")
                out.append(smtp.read_reply())
    finally:
        smtp.close()
    return out


def _lines(text: str, pattern: str) -> list[str]:
    return [ln for ln in text.splitlines() if re.search(pattern, ln)]


def _groups(res: dict, **want) -> list[dict]:
    return [g for g in res["groups"] if all(g.get(k) == v for k, v in want.items())]


def _read_as_the_grammar_reads(text: str, wanted: list[str]) -> None:
    """Every wanted line is read, and the fast path gives what the grammar gives."""
    from tui.core.analysis.maillog import Reader, parse_line

    reader = Reader()
    for ln in text.splitlines():
        rec = reader.record(ln)
        if ln in wanted:
            assert rec is not None, ln
            assert rec == parse_line(ln), ln
    assert reader.unparsed.count == 0, reader.unparsed.examples


# ---------------------------------------------------------------- smtpd: milter, deliveries, lookups

MAIN_CF = """\
compatibility_level = 3.6
myhostname = mx.example.test
mydomain = example.test
mydestination = $myhostname, localhost
mynetworks = 192.0.2.0/24
virtual_mailbox_domains = example.test, refused.test, said.test
virtual_mailbox_maps = hash:__DIR__/vmailbox
virtual_transport = discard
transport_maps = hash:__DIR__/transport
# neither table exists (no source, no index): relaying and local recipients
# get 451 4.3.0 Temporary lookup failure
relay_domains = hash:__DIR__/relay_domains
alias_maps = hash:__DIR__/aliases
smtpd_milters = __MILTER__
"""

MASTER_CF = """\
smtp      inet  n       -       n       -       -       smtpd
gate      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/gate
  -o smtpd_milters=__GATE_MILTER__
"""

VMAILBOX = ("alice@example.test", "milter-reject@example.test", "milter-tempfail@example.test",
            "milter-text@example.test", "someone@refused.test", "later@said.test", "gone@said.test")

# what the test's milter answers, stage by stage
MILTER_RULES = {
    "helo": lambda t: "reject" if t == "milter-helo.test" else None,
    "mail": lambda t: "tempfail" if t == "<milter-mail@other.test>" else None,
    "rcpt": lambda t: {"<milter-reject@example.test>": "reject", "<milter-tempfail@example.test>": "tempfail",
                       "<milter-text@example.test>": "550 5.7.1 not wanted by the milter"}.get(t),
    "data": lambda t: "reject" if t == "<milter-data@other.test>" else None,
    "eom": lambda t: "554 5.7.1 message content refused by the milter" if "MILTER-EOM" in t else None,
}
GATE_RULES = {"connect": lambda t: "reject"}


@pytest.fixture(scope="module")
def smtpd_forms():
    """(config dir, mail log text, milter specs {service: spec}) of a real
    smtpd driven into milter rejects, failed lookups and deliveries."""
    need_postfix()
    with ExitStack() as stack:
        _keep_syslog_names(stack)
        d = _scratch_dir(stack, "pfx-forms-")
        milter = stack.enter_context(Milter(MILTER_RULES))
        gate = stack.enter_context(Milter(GATE_RULES))
        remote = stack.enter_context(RemoteSmtp({"<later@said.test>": "450 4.2.0 <later@said.test>: try again later",
                                                 "<gone@said.test>": "550 5.1.1 <gone@said.test>: no such user"}))
        closed = pi._free_port()  # nothing listens there
        (d / "main.cf").write_text(MAIN_CF.replace("__DIR__", str(d)).replace("__MILTER__", milter.spec))
        (d / "master.cf").write_text(MASTER_CF.replace("__GATE_MILTER__", gate.spec))
        (d / "vmailbox").write_text("".join(f"{a}  x\n" for a in VMAILBOX))
        (d / "transport").write_text(f"refused.test  smtp:[127.0.0.1]:{closed}\n"
                                     f"said.test  smtp:[127.0.0.1]:{remote.port}\n")
        inst = stack.enter_context(pi.PostfixInstance(d))
        port = inst.port("smtp")

        def xc(addr: str) -> str:
            return f"ADDR={addr} NAME=mail.other.test REVERSE_NAME=mail.other.test"

        # milter: RCPT (reject, tempfail, its own reply), EHLO, MAIL, DATA, END-OF-MESSAGE
        _smtp(port, ["EHLO mail.other.test", "MAIL FROM:<a@other.test>", "RCPT TO:<milter-reject@example.test>",
                     "RCPT TO:<milter-tempfail@example.test>", "RCPT TO:<milter-text@example.test>"],
              xclient=xc("203.0.113.20"))
        _smtp(port, ["EHLO milter-helo.test"], xclient=xc("203.0.113.21"))
        _smtp(port, ["EHLO mail.other.test", "MAIL FROM:<milter-mail@other.test>"], xclient=xc("203.0.113.22"))
        _smtp(port, ["EHLO mail.other.test", "MAIL FROM:<milter-data@other.test>", "RCPT TO:<alice@example.test>",
                     "DATA"], xclient=xc("203.0.113.23"))
        _smtp(port, ["EHLO mail.other.test", "MAIL FROM:<a@other.test>", "RCPT TO:<alice@example.test>", "DATA"],
              xclient=xc("203.0.113.24"), body="Subject: test\r\n\r\nMILTER-EOM: refuse me\r\n")
        # milter at CONNECT (the gate service's milter refuses every client)
        _smtp(inst.port("gate"), ["EHLO localhost"])
        # 451 4.3.0 Temporary lookup failure: relaying (relay_domains), a local recipient (alias_maps)
        _smtp(port, ["EHLO mail.other.test", "MAIL FROM:<a@other.test>", "RCPT TO:<x@elsewhere.test>",
                     "RCPT TO:<nosuch@mx.example.test>"], xclient=xc("203.0.113.30"))
        # deliveries: a closed port (deferred), a remote server that says 450 (deferred) and 550 (bounced)
        _smtp(port, ["EHLO client.example.test", "MAIL FROM:<>", "RCPT TO:<someone@refused.test>",
                     "RCPT TO:<later@said.test>", "RCPT TO:<gone@said.test>", "DATA"], xclient=xc("192.0.2.10"))
        inst.wait_for_log("<someone@refused.test>, relay=", "<later@said.test>, relay=",
                          "<gone@said.test>, relay=", "END-OF-MESSAGE from", timeout=20)
        time.sleep(0.2)
        text = inst.maillog.read_text(errors="replace")
        yield d, text, {"smtp": milter.spec, "gate": gate.spec}


@pytest.fixture(scope="module")
def smtpd_triage(smtpd_forms, tmp_path_factory):
    d, text, specs = smtpd_forms
    rc, res = _triage(d, text, tmp_path_factory.mktemp("forms"))
    return rc, res


MILTER_LINE = r": milter-reject: (\S+) from \S+: (.*?); "


def test_milter_rejects_are_undecidable_and_name_the_milter(smtpd_forms, smtpd_triage):
    d, text, specs = smtpd_forms
    rc, res = smtpd_triage
    logged = _lines(text, MILTER_LINE)
    commands = {re.search(MILTER_LINE, ln).group(1) for ln in logged}
    # the real smtpd logged a milter-reject at every stage the milter was asked to refuse
    assert {"CONNECT", "EHLO", "RCPT", "MAIL", "DATA", "END-OF-MESSAGE"} <= commands, logged
    groups = _groups(res, action="milter-reject")
    assert sum(g["count"] for g in groups) == len(logged)
    stages = {"CONNECT": "connect", "EHLO": "helo", "MAIL": "mail", "RCPT": "rcpt", "DATA": "data",
              "END-OF-MESSAGE": "end-of-message"}
    seen = set()
    for ln in logged:
        cmd, reply = re.search(MILTER_LINE, ln).groups()
        # cleanup logs the refusal of a message's content; it does not say which service received it
        service = {"postfix/gate/smtpd": "gate", "postfix/cleanup": "postfix/cleanup"}.get(
            re.search(r" (\S+)\[\d+\]: ", ln).group(1), "smtp")
        g = [g for g in groups if g["service"] == service and g["stage"] == stages[cmd]
             and g["reply"] == re.sub(r"<[^<>]*>", "<...>", reply)]
        assert len(g) == 1, (ln, groups)
        g = g[0]
        assert g["today"] == "undecidable" and g["decided_by"] is None
        # the reason names the milter, as the service's smtpd_milters says
        assert "milter" in g["reason"] and specs.get(service, specs["smtp"]) in g["reason"], g
        seen.add(cmd)
    assert seen == commands
    # as Postfix words it: cleanup's refusal has no SMTP code
    eom = [g for g in groups if g["stage"] == "end-of-message"]
    assert [g["reply"] for g in eom] == ["5.7.1 message content refused by the milter"], eom


def test_deliveries_deferred_and_bounced(smtpd_forms, smtpd_triage):
    _d, text, _specs = smtpd_forms
    rc, res = smtpd_triage
    deferred = _lines(text, r"status=deferred")
    bounced = _lines(text, r"status=bounced")
    # what the real smtp client logged
    assert any("<someone@refused.test>" in ln and "Connection refused" in ln for ln in deferred), deferred
    assert any("<later@said.test>" in ln and "said: 450 4.2.0" in ln for ln in deferred), deferred
    assert any("<gone@said.test>" in ln and "said: 550 5.1.1" in ln for ln in bounced), bounced
    groups = _groups(res, kind="delivery")
    assert sum(g["count"] for g in groups if g["action"] == "deferred") == len(deferred)
    assert sum(g["count"] for g in groups if g["action"] == "bounced") == len(bounced)
    for g in groups:
        assert g["service"] == "postfix/smtp" and g["stage"] == "delivery", g
        assert g["today"] == "undecidable" and "deliver" in g["reason"], g
        assert g["reply"].startswith(f"status={g['action']} dsn="), g
    refused = [g for g in groups if "Connection refused" in g["reply"]]
    assert len(refused) == 1 and refused[0]["action"] == "deferred"
    assert refused[0]["examples"][0]["recipient"] == "someone@refused.test"
    said = {g["action"]: g for g in groups if "said:" in g["reply"]}
    assert said["deferred"]["reply"].startswith("status=deferred dsn=4.2.0 ")
    assert said["bounced"]["reply"].startswith("status=bounced dsn=5.1.1 ")


TEMPFAIL = r": reject: RCPT from \S+: 451 4\.3\.0 <[^>]*>: Temporary lookup failure;"


def test_temporary_lookup_failure_is_reproduced_while_the_table_is_missing(smtpd_forms, smtpd_triage):
    _d, text, _specs = smtpd_forms
    rc, res = smtpd_triage
    logged = _lines(text, TEMPFAIL)
    rcpts = {re.search(r"to=<([^>]*)>", ln).group(1) for ln in logged}
    assert rcpts == {"x@elsewhere.test", "nosuch@mx.example.test"}, logged
    groups = _groups(res, reply="451 4.3.0 <...>: Temporary lookup failure")
    assert sum(g["count"] for g in groups) == len(logged)
    for g in groups:
        # the tables are still missing: today's configuration answers as the real smtpd did
        assert g["today"] == "same" and g["decided_by"] is not None, g
        for ex in g["examples"]:
            assert ex["today_reply"] == ex["reply"]
    # the failing tables themselves, in Postfix's words
    tables = {g["reply"].split(" ", 1)[0] for g in _groups(res, kind="table")}
    assert {t for t in tables if t.endswith(("/relay_domains", "/aliases"))} == {
        f"hash:{_d}/relay_domains", f"hash:{_d}/aliases"}, tables
    assert all(g["today"] == "undecidable" for g in _groups(res, kind="table"))
    # a list's table (trivial-rewrite's relay_domains): the line names the parameter
    problem = f"relay_domains: hash:{_d}/relay_domains: table lookup problem"
    logged = _lines(text, r"postfix/trivial-rewrite\[\d+\]: warning: " + re.escape(problem) + "$")
    assert logged, text
    g = _groups(res, kind="table", reply=problem)
    assert len(g) == 1 and g[0]["count"] == len(logged) and g[0]["service"] == "postfix/trivial-rewrite", g
    assert "(relay_domains)" in g[0]["reason"]


def test_temporary_lookup_failure_once_the_tables_are_back(smtpd_forms, tmp_path):
    d, text, _specs = smtpd_forms
    new = Path(tempfile.mkdtemp(prefix="pfx-forms-copy-"))
    try:
        for f in d.iterdir():
            if f.is_file():
                shutil.copy(f, new / f.name)
        (new / "main.cf").write_text((new / "main.cf").read_text().replace(str(d), str(new)))
        (new / "relay_domains").write_text("other.test  OK\n")
        (new / "aliases").write_text("postmaster: root\n")
        compile_maps(new)  # postmap / postalias, as the admin would
        rc, res = _triage(new, text, tmp_path)
    finally:
        shutil.rmtree(new, ignore_errors=True)
    groups = _groups(res, reply="451 4.3.0 <...>: Temporary lookup failure")
    assert sum(g["count"] for g in groups) == len(_lines(text, TEMPFAIL))
    for g in groups:
        # the tables answer now; what failed at the time cannot be known
        assert g["today"] == "undecidable" and "table lookup failed" in g["reason"], g


def test_every_smtpd_form_is_read(smtpd_forms, smtpd_triage):
    _d, text, _specs = smtpd_forms
    rc, res = smtpd_triage
    assert res["unparsed"]["count"] == 0, res["unparsed"]
    assert res["lines"] == len(text.splitlines())
    wanted = _lines(text, r": (?:reject|milter-reject): |status=(?:deferred|bounced)| lookup error for "
                          r"|: table lookup problem$")
    _read_as_the_grammar_reads(text, wanted)
    counted = sum(g["count"] for g in res["groups"] if g["kind"] in ("reject", "delivery"))
    assert counted == len(_lines(text, r": (?:reject|milter-reject): |status=(?:deferred|bounced)"))
    assert rc == 0  # nothing answers differently today


# ---------------------------------------------------------------- postscreen

PS_MAIN_CF = """\
compatibility_level = 3.6
myhostname = mx.example.test
mydomain = example.test
mydestination = $myhostname, localhost
mynetworks = 192.0.2.0/24
virtual_mailbox_domains = example.test
virtual_mailbox_maps = hash:__DIR__/vmailbox
virtual_transport = discard
postscreen_access_list = cidr:__DIR__/postscreen_access
postscreen_denylist_action = enforce
postscreen_command_count_limit = 6
postscreen_command_time_limit = 2s
postscreen_greet_wait = 1s
postscreen_greet_action = enforce
postscreen_dnsbl_sites = bl.test=127.0.0.2*3
postscreen_dnsbl_threshold = 3
postscreen_dnsbl_action = enforce
postscreen_pipelining_enable = yes
postscreen_pipelining_action = enforce
postscreen_non_smtp_command_enable = yes
postscreen_non_smtp_command_action = drop
postscreen_bare_newline_enable = yes
postscreen_bare_newline_action = enforce
"""

# postscreen in front of smtpd, as in Debian's master.cf
PS_MASTER_CF = """\
smtp      inet  n       -       n       -       1       postscreen
smtpd     pass  -       -       n       -       -       smtpd
  -o smtpd_client_restrictions=check_client_access,cidr:__DIR__/pass_clients
dnsblog   unix  -       -       n       -       0       dnsblog
tlsproxy  unix  -       -       n       -       0       tlsproxy
submission inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
"""

ENVELOPE = ["EHLO client.test", "MAIL FROM:<a@other.test>", "RCPT TO:<alice@example.test>", "QUIT"]


@pytest.fixture(scope="module")
def postscreen_forms():
    """(config dir, mail log text) of a real postscreen driven into its verdicts."""
    from tests.oracle.postscreen_instance import DnsServer, PostscreenInstance

    need_postfix()
    with ExitStack() as stack:
        _keep_syslog_names(stack)
        d = _scratch_dir(stack, "pfx-postscreen-")
        (d / "main.cf").write_text(PS_MAIN_CF.replace("__DIR__", str(d)))
        (d / "master.cf").write_text(PS_MASTER_CF.replace("__DIR__", str(d)))
        (d / "vmailbox").write_text("alice@example.test  x\n")
        (d / "pass_clients").write_text("127.0.0.1  REJECT not through the pass service\n")
        (d / "postscreen_access").write_text("127.0.0.8/32  reject\n")
        dns = stack.enter_context(DnsServer({"2.0.0.127.bl.test": "127.0.0.2"}))
        inst = stack.enter_context(PostscreenInstance(d, dns=dns))
        port = inst.port("smtp")

        def hangup() -> None:
            s = inst.connect("smtp", "127.0.0.7")
            s.recv(100)  # the first half of the greeting
            s.close()

        def idle() -> None:  # past postscreen_command_time_limit
            s = inst.connect("smtp", "127.0.0.11")
            inst.wait_for_log("COMMAND TIME LIMIT from [127.0.0.11]", timeout=20)
            s.close()

        # one client address per test: postscreen remembers who passed
        sessions = [
            lambda: _smtp(port, ENVELOPE, source="127.0.0.2"),                                  # DNSBL
            lambda: _smtp(port, ENVELOPE[1:], source="127.0.0.3", pregreet="EHLO early.test\r\n"),  # PREGREET
            lambda: _smtp(port, [b"GET / HTTP/1.0\r\n"], source="127.0.0.4"),                   # NON-SMTP COMMAND
            lambda: _smtp(port, [b"EHLO client.test\n"] + ENVELOPE[1:], source="127.0.0.5"),    # BARE NEWLINE
            lambda: _smtp(port, [b"EHLO client.test\r\nMAIL FROM:<a@other.test>\r\n"] + ENVELOPE[2:],
                          source="127.0.0.6"),                                                  # PIPELINING
            hangup,                                                                             # HANGUP
            lambda: _smtp(port, ENVELOPE, source="127.0.0.8"),                                  # DENYLISTED
            lambda: _smtp(port, ["NOOP"] * 8, source="127.0.0.9"),                              # COUNT LIMIT
            lambda: _smtp(port, ["EHLO " + "x" * 3000], source="127.0.0.10"),                   # LENGTH LIMIT
            idle,                                                                               # TIME LIMIT
            lambda: _smtp(port, ENVELOPE, source="127.0.0.1"),  # passes: 450 4.3.2, come back later
        ]
        threads = [threading.Thread(target=s) for s in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        # passed the tests: handed to smtpd (the pass service) now
        _smtp(port, ENVELOPE, source="127.0.0.1")
        inst.wait_for_log("PASS OLD [127.0.0.1]", "HANGUP after", timeout=20)
        text = inst.wait_for_log("Client host rejected: not through the pass service", timeout=20)
        yield d, text


@pytest.fixture(scope="module")
def postscreen_triage(postscreen_forms, tmp_path_factory):
    d, text = postscreen_forms
    return _triage(d, text, tmp_path_factory.mktemp("postscreen"))


VERDICTS = {  # what postscreen logs -> (the group's reply, its stage, what its reason must say)
    r"\]: PREGREET \d+ after \S+ from \[127\.0\.0\.3\]:\d+: EHLO early\.test\\r\\n$":
        ("PREGREET", "connect", "postscreen_greet_action"),
    r"\]: DNSBL rank 3 for \[127\.0\.0\.2\]:\d+$": ("DNSBL rank 3", "connect", "postscreen_dnsbl_sites"),
    r"\]: NON-SMTP COMMAND from \[127\.0\.0\.4\]:\d+ after CONNECT: GET / HTTP/1\.0$":
        ("NON-SMTP COMMAND", "connect", "postscreen_non_smtp_command_enable"),
    r"\]: BARE NEWLINE from \[127\.0\.0\.5\]:\d+ after EHLO client\.test$":
        ("BARE NEWLINE", "helo", "postscreen_bare_newline_enable"),
    r"\]: COMMAND PIPELINING from \[127\.0\.0\.6\]:\d+ after EHLO: MAIL FROM:<a@other\.test>\\r\\n$":
        ("COMMAND PIPELINING", "helo", "postscreen_pipelining_enable"),
    r"\]: HANGUP after \S+ from \[127\.0\.0\.7\]:\d+ in tests before SMTP handshake$":
        ("HANGUP", "connect", "hung up"),
    r"\]: DENYLISTED \[127\.0\.0\.8\]:\d+$": ("DENYLISTED", "connect", "postscreen_access_list"),
    r"\]: COMMAND COUNT LIMIT from \[127\.0\.0\.9\]:\d+ after NOOP$":
        ("COMMAND COUNT LIMIT", "noop", "postscreen_command_count_limit"),
    r"\]: COMMAND LENGTH LIMIT from \[127\.0\.0\.10\]:\d+ after CONNECT$":
        ("COMMAND LENGTH LIMIT", "connect", "line_length_limit"),
    r"\]: COMMAND TIME LIMIT from \[127\.0\.0\.11\]:\d+ after CONNECT$":
        ("COMMAND TIME LIMIT", "connect", "postscreen_command_time_limit"),
}


def test_postscreen_verdicts(postscreen_forms, postscreen_triage):
    _d, text = postscreen_forms
    rc, res = postscreen_triage
    groups = _groups(res, kind="postscreen")
    for pattern, (reply, stage, why) in VERDICTS.items():
        logged = _lines(text, pattern)
        assert len(logged) == 1, (pattern, text)  # the real postscreen logged it
        g = [g for g in groups if g["reply"] == reply]
        assert len(g) == 1, (reply, groups)
        g = g[0]
        assert g["count"] == 1 and g["service"] == "smtp" and g["stage"] == stage, g
        assert g["action"] == reply.split(" rank")[0], g
        assert g["today"] == "undecidable" and why in g["reason"], g
        assert g["decided_by"] is None
    dnsbl = [g for g in groups if g["reply"].startswith("DNSBL")][0]
    assert "DNS" in dnsbl["reason"]
    assert sum(g["count"] for g in groups) == len(VERDICTS)


def test_postscreen_rejects(postscreen_forms, postscreen_triage):
    _d, text = postscreen_forms
    rc, res = postscreen_triage
    logged = _lines(text, r"postfix/postscreen\[\d+\]: NOQUEUE: reject: RCPT from \[[\d.]+\]:\d+: ")
    assert len(logged) == 6, logged  # DNSBL, PREGREET, BARE NEWLINE, PIPELINING, DENYLISTED: 550; passed: 450
    groups = [g for g in _groups(res, kind="reject") if g["service"] == "smtp"]
    assert sum(g["count"] for g in groups) == len(logged)
    by_reply = {g["reply"]: g for g in groups}
    assert by_reply["550 5.5.1 Protocol error"]["count"] == 3
    for g in groups:
        assert g["stage"] == "rcpt" and g["today"] == "undecidable" and "postscreen" in g["reason"], g
        assert g["decided_by"] is None
        assert g["top_clients"] and all(c.startswith("[127.0.0.") for c, _n in g["top_clients"]), g
    blocked = [g for r, g in by_reply.items() if "blocked using bl.test" in r]
    assert len(blocked) == 1 and "DNS" in blocked[0]["reason"] and "postscreen_dnsbl_sites" in blocked[0]["reason"]
    passed = by_reply["450 4.3.2 Service currently unavailable"]
    assert "deep protocol tests" in passed["reason"]
    assert "postscreen_access_list" in by_reply["550 5.3.2 Service currently unavailable"]["reason"]


def test_smtpd_behind_postscreen_is_the_pass_service(postscreen_forms, postscreen_triage):
    """The smtpd postscreen hands clients to logs as postfix/smtpd, as the
    smtp service would: its restrictions are the pass service's."""
    d, text = postscreen_forms
    rc, res = postscreen_triage
    logged = _lines(text, r"postfix/smtpd\[\d+\]: NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 ")
    assert len(logged) == 1, text
    g = _groups(res, kind="reject", service="smtpd")
    assert len(g) == 1, res["groups"]
    g = g[0]
    assert g["today"] == "same", g
    assert g["examples"][0]["today_reply"] == g["examples"][0]["reply"]
    assert g["decided_by"]["parameter"] == "smtpd_client_restrictions"
    assert "master.cf" in g["decided_by"]["source"], g["decided_by"]
    assert rc == 0


def test_every_postscreen_form_is_read(postscreen_forms, postscreen_triage):
    _d, text = postscreen_forms
    rc, res = postscreen_triage
    assert res["unparsed"]["count"] == 0, res["unparsed"]
    wanted = _lines(text, r"\]: (?:NOQUEUE: reject: |PREGREET |DNSBL rank |NON-SMTP COMMAND |BARE NEWLINE |"
                          r"COMMAND (?:PIPELINING|TIME LIMIT|COUNT LIMIT|LENGTH LIMIT) |HANGUP |DENYLISTED )")
    _read_as_the_grammar_reads(text, wanted)
    assert sum(g["count"] for g in res["groups"]) == len(wanted)
