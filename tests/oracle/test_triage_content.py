"""Mail-log triage of cleanup's header_checks / body_checks lines, against a
real Postfix.

A scratch instance has header_checks and body_checks, each a regexp: and a
pcre: table; SMTP sessions send it messages that trip them. The lines its
cleanup writes ("QUEUEID: reject: header Subject: ... from c[a]; from=<s>
to=<r> proto=ESMTP helo=<h>: 5.7.1 text") are what triage reads:

- every group answers "same", with the reply cleanup logged (and smtpd
  gave the client) and the rule of today's table that matches the logged
  line; a line cut at cleanup's 200-byte limit is "undecidable";
- after the header_checks file changes (one rule's text, one rule removed)
  the real Postfix, reloaded and asked again, answers otherwise, and triage
  of the old log says "differs" with what the real Postfix now answers; the
  same when receive_override_options = no_header_body_checks turns the
  checks off;
- with header_checks and nested_header_checks that differ, a header one
  refuses and the other accepts cannot be decided from the log.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack, redirect_stdout
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.oracle import postfix_instance as pi

pytestmark = pytest.mark.oracle

_BASE_CF = """\
compatibility_level = 3.6
myhostname = mx.example.test
mydestination = example.test
local_transport = discard
alias_maps =
alias_database =
local_recipient_maps =
"""
MAIN_CF = _BASE_CF + """\
header_checks = regexp:__DIR__/header_checks, pcre:__DIR__/header_checks.pcre
body_checks = regexp:__DIR__/body_checks, pcre:__DIR__/body_checks.pcre
"""

MASTER_CF = """\
smtp      inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
"""

HEADER_CHECKS = """\
# header_checks, regexp
/^Subject:.*cheap pills/      REJECT no pills here
/^X-Mailer: BadMailer/        REJECT
/^X-Watch:/                   WARN watched header
/^Content-Type:.*x-evil/      REJECT 5.7.3 that type is refused
/^Subject: ünï/               REJECT unicode subject
"""
HEADER_CHECKS_PCRE = """\
/^Subject:.*pcre-only (\\w+)/  REJECT 4.7.0 later, $1
"""
BODY_CHECKS = """\
/bad\\.example\\.test/        REJECT body link refused
"""
BODY_CHECKS_PCRE = """\
/^CODE-(\\d+)/                REJECT 5.7.1 code $1 refused
"""

# (client address, sender, header lines, body lines): each message trips one rule
LONG = "Subject: cheap pills " + "x" * 300
MESSAGES = [
    ("203.0.113.10", "a@other.test", ["Subject: cheap pills today"], ["hello"]),
    ("203.0.113.11", "b@other.test", ["Subject: more cheap pills"], ["hello"]),
    ("203.0.113.10", "a@other.test", ["Subject: hi", "X-Mailer: BadMailer 2.0"], ["hello"]),
    ("203.0.113.12", "c@other.test", ["Subject: pcre-only trigger"], ["hello"]),
    ("203.0.113.13", "d@other.test", ["Subject: link"], ["see http://bad.example.test/now"]),
    ("203.0.113.14", "e@other.test", ["Subject: code"], ["CODE-12345 inside"]),
    ("203.0.113.15", "f@other.test", ["Subject: mime", "MIME-Version: 1.0",
                                      "Content-Type: application/x-evil"], ["hello"]),
    ("203.0.113.16", "g@other.test", ["Subject: folded cheap pills", "\tcontinued here"], ["hello"]),
    ("203.0.113.17", "h@other.test", [LONG], ["hello"]),
    ("203.0.113.18", "i@other.test", ["Subject: watch", "X-Watch: yes"], ["hello"]),
    ("203.0.113.19", "j@other.test", ["Subject: ünïcode here"], ["hello"]),
    # cut at 200 bytes inside a two-byte character (cleanup writes its first byte as "?")
    ("203.0.113.20", "k@other.test", ["Subject: cheap pills " + "é" * 100], ["hello"]),
]
CLEANUP_LINE = re.compile(r" postfix/cleanup\[\d+\]: [0-9A-F]+: (reject|warning): (header|body) (.*) from "
                          r"(\S+); from=<[^>]*> to=<[^>]*>(?: proto=ESMTP helo=<[^>]*>)?: (.*)$")


def _send(port: int, client: str, sender: str, headers: list[str], body: list[str]):
    """One SMTP session with one message; the reply to its end of data."""
    smtp = pi._Smtp(port, 20)
    try:
        assert smtp.read_reply()[0] == 220
        for cmd in (f"XCLIENT ADDR={client} NAME=mail.other.test REVERSE_NAME=mail.other.test",
                    "EHLO mail.other.test", f"MAIL FROM:<{sender}>", "RCPT TO:<rcpt@example.test>"):
            code, text = smtp.command(cmd)
            assert code in (220, 250), (cmd, text)
        assert smtp.command("DATA")[0] == 354
        smtp.sock.sendall(("\r\n".join(headers) + "\r\n\r\n" + "\r\n".join(body) + "\r\n.\r\n").encode())
        reply = smtp.read_reply()
        smtp.command("QUIT")
        return reply
    finally:
        smtp.close()


def _cleanup_lines(inst, offset: int, count: int, timeout: float = 20.0) -> list[str]:
    """The cleanup header/body lines logged after OFFSET, once COUNT are there."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [ln for ln in inst.log_since(offset).splitlines() if CLEANUP_LINE.search(ln)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _triage(config_dir: Path, text: str) -> tuple[int, dict]:
    from tui.__main__ import main

    fd, log = tempfile.mkstemp(prefix="pfx-content-", suffix=".log")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = main(["triage", "--config-dir", str(config_dir), "--json", log])
        return rc, json.loads(buf.getvalue())
    finally:
        os.unlink(log)


def scratch_config(stack: ExitStack, prefix: str, main_cf: str = MAIN_CF) -> Path:
    """A configuration directory with MAIN_CF and MASTER_CF, readable by
    Postfix's daemons, removed when STACK closes."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(d, 0o755)
    stack.callback(shutil.rmtree, d, True)
    (d / "main.cf").write_text(main_cf.replace("__DIR__", str(d)))
    (d / "master.cf").write_text(MASTER_CF)
    return d


def _write_checks(d: Path, header_checks: str) -> None:
    (d / "header_checks").write_text(header_checks)
    (d / "header_checks.pcre").write_text(HEADER_CHECKS_PCRE)
    (d / "body_checks").write_text(BODY_CHECKS)
    (d / "body_checks.pcre").write_text(BODY_CHECKS_PCRE)


@pytest.fixture(scope="module")
def content():
    """(config dir, running instance, [(message, SMTP reply)], the cleanup lines they caused, the whole log)."""
    need_postfix()
    with ExitStack() as stack:
        d = scratch_config(stack, "pfx-content-")
        _write_checks(d, HEADER_CHECKS)
        inst = stack.enter_context(pi.PostfixInstance(d))
        port = inst.port("smtp")
        start = inst.log_size()
        replies = [(m, _send(port, *m)) for m in MESSAGES]
        lines = _cleanup_lines(inst, start, len(MESSAGES))
        time.sleep(0.2)
        yield d, inst, replies, lines, inst.log_since(start)


def test_the_real_postfix_logged_one_line_per_message(content):
    _d, _inst, replies, lines, _text = content
    assert len(lines) == len(MESSAGES), lines
    # one session after the other: cleanup's lines are in the order of the messages
    for ((_client, sender, headers, body), (code, text)), ln in zip(replies, lines):
        action, cls, line, origin, reply = CLEANUP_LINE.search(ln).groups()
        assert f"from=<{sender}>" in ln and origin == "mail.other.test[" + _client + "]", ln
        assert line[:20] in "\n".join(headers + body), (line, headers, body)
        if action == "reject":  # what cleanup logged is what smtpd told the client
            assert text == f"{code} {reply}", (text, ln)
        else:  # WARN: logged, and the message accepted
            assert (action, code, reply) == ("warning", 250, "watched header"), ln


def test_triage_reads_every_cleanup_line_as_the_grammar_does(content):
    from tui.core.analysis.maillog import Reader, parse_line

    _d, _inst, _replies, lines, text = content
    reader = Reader()
    for ln in text.splitlines():
        rec = reader.record(ln)
        if ln in lines:
            assert rec is not None and rec.content_check, ln
            assert rec == parse_line(ln), ln
            m = CLEANUP_LINE.search(ln)
            assert (rec.action, rec.command, rec.text, rec.reply) == (m.group(1), m.group(2), m.group(3),
                                                                       m.group(5))
            assert rec.client == m.group(4)
    assert reader.unparsed.count == 0, reader.unparsed.examples


def _groups(res: dict, **want) -> list[dict]:
    return [g for g in res["groups"] if g["stage"] in ("header", "body")
            and all(g.get(k) == v for k, v in want.items())]


def test_triage_answers_the_same_as_the_real_cleanup(content):
    d, _inst, _replies, lines, text = content
    rc, res = _triage(d, text)
    assert res["unparsed"]["count"] == 0, res["unparsed"]
    groups = _groups(res)
    assert sum(g["count"] for g in groups) == len(lines)
    for g in groups:
        assert {"count", "service", "stage", "reply", "decided_by", "today", "examples"} <= set(g)
        assert g["service"] == "cleanup" and g["kind"] == "reject", g
    logged = [CLEANUP_LINE.search(ln).group(3) for ln in lines]
    # cleanup cut the long header at its limit, and wrote the folded one's line break as "??"
    assert any(len(x.encode()) == 200 for x in logged) and any("??" in x for x in logged), logged
    assert any(len(x.encode()) == 200 and x.endswith("é?") for x in logged), logged
    rules = {rule.split()[0]: n for n, rule in enumerate(HEADER_CHECKS.splitlines(), 1) if rule.startswith("/")}
    for ln in lines:
        action, cls, line, origin, reply = CLEANUP_LINE.search(ln).groups()
        mine = [g for g in groups if g["stage"] == cls and g["action"] == action and g["reply"] == reply
                and any(ex["text"] == line for ex in g["examples"])]
        assert len(mine) == 1, (ln, groups)
        g = mine[0]
        if len(line.encode()) >= 200:
            # cut at cleanup's limit: the rest of the header is not known
            assert g["today"] == "undecidable" and "200 bytes" in g["reason"], g
            assert g["decided_by"] is None
            continue
        assert g["today"] == "same", g
        dj = g["decided_by"]
        assert dj is not None, g
        # the table and line whose rule decided (the files this test wrote)
        if line.startswith("Content-Type:"):
            assert dj["parameter"] == "mime_header_checks", dj   # a MIME header: mime_header_checks
        elif cls == "header":
            assert dj["parameter"] == "header_checks", dj
        else:
            assert dj["parameter"] == "body_checks", dj
        if "pcre-only" in line:
            assert dj["table"] == f"pcre:{d}/header_checks.pcre" and dj["source"].endswith(":1"), dj
        elif "CODE-" in line:
            assert dj["table"] == f"pcre:{d}/body_checks.pcre", dj
        elif cls == "header":
            pattern = next(p for p in rules if re.search(p.strip("/"), line.replace("??", "\n\t"), re.I))
            assert dj["source"] == f"{d}/header_checks:{rules[pattern]}", dj
            assert dj["entry"].startswith(pattern), dj
    # the two "cheap pills" messages (two clients) and the folded one: one group, one rule
    pills = _groups(res, reply="5.7.1 no pills here", today="same")
    assert len(pills) == 1 and pills[0]["count"] == 3, pills
    assert len(pills[0]["top_clients"]) == 3
    assert rc == 0  # nothing differs


CHANGED = HEADER_CHECKS.replace("REJECT no pills here", "REJECT 5.7.1 pills are not welcome").replace(
    "/^X-Mailer: BadMailer/        REJECT\n", "")


def test_a_changed_header_checks_differs_and_the_real_postfix_agrees(content):
    d, inst, replies, lines, text = content
    assert CHANGED != HEADER_CHECKS
    _write_checks(d, CHANGED)
    try:
        r = subprocess.run([pi.POSTFIX, "-c", str(inst.etc), "reload"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        port = inst.port("smtp")
        pills, before = next((m, r) for m, r in replies if m[2] == ["Subject: cheap pills today"])
        mailer = next(m for m, _r in replies if "X-Mailer: BadMailer 2.0" in m[2])
        # cleanup processes read their tables when they start: after the
        # reload, new ones answer (bounded wait for the old ones to go)
        deadline = time.monotonic() + 30
        while True:
            now_pills = _send(port, *pills)
            if now_pills != before or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        now_mailer = _send(port, *mailer)
        # the real Postfix answers differently now
        assert now_pills[0] == 550 and now_pills[1] != before[1], now_pills
        assert now_mailer[0] == 250, now_mailer
        rc, res = _triage(d, text)
        assert rc == 1
        g = [g for g in _groups(res, reply="5.7.1 no pills here") if g["today"] != "undecidable"]
        assert len(g) == 1 and g[0]["today"] == "differs" and g[0]["count"] == 3, g
        # today's answer is what the real smtpd now replies (without its SMTP code)
        assert now_pills[1] == "550 " + g[0]["today_reply"], (now_pills, g[0])
        assert g[0]["decided_by"]["entry"].endswith("REJECT 5.7.1 pills are not welcome")
        g = _groups(res, reply="5.7.1 message content rejected")
        assert len(g) == 1 and g[0]["today"] == "differs" and g[0]["decided_by"] is None, g
        assert "no rule of header_checks matches" in g[0]["today_reply"]
        # the other tables did not change: their groups still answer the same
        for reply in ("4.7.0 later, trigger", "5.7.1 body link refused", "5.7.1 code 12345 refused",
                      "5.7.3 that type is refused"):
            g = _groups(res, reply=reply)
            assert len(g) == 1 and g[0]["today"] == "same", (reply, res["groups"])
    finally:
        _write_checks(d, HEADER_CHECKS)
        subprocess.run([pi.POSTFIX, "-c", str(inst.etc), "reload"], capture_output=True, timeout=60)


def test_a_message_from_pickup(content):
    """sendmail -> pickup -> cleanup: the origin is "local", no proto= or helo=."""
    d, inst, _replies, _lines, _text = content
    start = inst.log_size()
    sendmail = shutil.which("sendmail") or "/usr/sbin/sendmail"
    r = subprocess.run([sendmail, "-C", str(inst.etc), "-f", "local-user@example.test", "rcpt@example.test"],
                       input=b"Subject: cheap pills by pickup\n\nhello\n", capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = _cleanup_lines(inst, start, 1)
    assert len(lines) == 1 and " from local; from=<local-user@example.test> to=<rcpt@example.test>: " in lines[0]
    rc, res = _triage(d, lines[0] + "\n")
    g = _groups(res)
    assert len(g) == 1 and g[0]["today"] == "same" and g[0]["reply"] == "5.7.1 no pills here", g
    assert g[0]["decided_by"]["parameter"] == "header_checks" and g[0]["top_clients"] == [["local", 1]], g
    ex = g[0]["examples"][0]
    assert (ex["client_name"], ex["client_address"], ex["helo"], ex["sender"]) == (
        "local", "", None, "local-user@example.test")


def test_no_header_body_checks_in_receive_override_options_differs(content):
    """smtpd hands cleanup the mail without asking for the checks: the real
    Postfix accepts what it refused, and triage says so."""
    d, inst, replies, lines, text = content
    main = (d / "main.cf").read_text()
    try:
        _reload(inst, "receive_override_options = no_header_body_checks")
        (d / "main.cf").write_text(main + "receive_override_options = no_header_body_checks\n")
        pills = next(m for m, _r in replies if m[2] == ["Subject: cheap pills today"])
        assert _until(lambda: _send(inst.port("smtp"), *pills), 250)[0] == 250
        rc, res = _triage(d, text)
        assert rc == 1
        assert len(_groups(res)) >= 6
        for g in _groups(res):  # the cut header too: no header is checked
            assert g["today"] == "differs" and "receive_override_options" in g["today_reply"], g
    finally:
        (d / "main.cf").write_text(main)
        _reload(inst, "receive_override_options =")


# ---------------------------------------------------------------- where in the message the header was

NESTED_MAIN_CF = _BASE_CF + """\
header_checks = regexp:__DIR__/header_checks
nested_header_checks = regexp:__DIR__/nested_header_checks
mime_header_checks =
"""


def _with_attachment(inner: str) -> tuple[list[str], list[str]]:
    """Headers and body of a message that carries a message/rfc822 part whose header is INNER."""
    return (["Subject: outer", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="BB"'],
            ["--BB", "Content-Type: text/plain", "", "hello", "--BB", "Content-Type: message/rfc822", "",
             inner, "From: x@other.test", "", "inner body", "--BB--"])


def _reload(inst, *settings: str) -> None:
    if settings:
        r = subprocess.run([pi.POSTCONF, "-c", str(inst.etc), "-e", *settings], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
    r = subprocess.run([pi.POSTFIX, "-c", str(inst.etc), "reload"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def _until(send, want, timeout: float = 30.0):
    """send() until its reply code is WANT (cleanup processes started before a
    reload may answer a little longer with the old tables)."""
    deadline = time.monotonic() + timeout
    while True:
        got = send()
        if got[0] == want or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_header_checks_and_nested_header_checks_that_differ(tmp_path):
    """The log does not say whether a header was the message's own or an
    attached message's: with different header_checks and
    nested_header_checks, a header that one refuses and the other accepts
    cannot be decided -- the real cleanup accepts the very same header in
    the other place. With nested_header_checks empty, only header_checks
    can have logged it."""
    need_postfix()
    with ExitStack() as stack:
        d = scratch_config(stack, "pfx-nested-", NESTED_MAIN_CF)
        (d / "header_checks").write_text("/^Subject:.*outer-bad/ REJECT outer refused\n")
        (d / "nested_header_checks").write_text("/^Subject:.*inner-bad/ REJECT inner refused\n")
        inst = stack.enter_context(pi.PostfixInstance(d))
        port = inst.port("smtp")
        start = inst.log_size()
        client = ("203.0.113.40", "n@other.test")
        inner = _send(port, *client, *_with_attachment("Subject: inner-bad here"))
        outer = _send(port, *client, ["Subject: outer-bad here"], ["hello"])
        # the same headers in the other place: accepted
        assert _send(port, *client, ["Subject: inner-bad here"], ["hello"])[0] == 250
        assert _send(port, *client, *_with_attachment("Subject: outer-bad here"))[0] == 250
        assert (inner, outer) == ((550, "550 5.7.1 inner refused"), (550, "550 5.7.1 outer refused"))
        lines = _cleanup_lines(inst, start, 2)
        assert [CLEANUP_LINE.search(ln).group(3) for ln in lines] == ["Subject: inner-bad here",
                                                                      "Subject: outer-bad here"], lines
        _rc, res = _triage(d, "\n".join(lines) + "\n")
        groups = _groups(res)
        assert len(groups) == 2, groups
        for g in groups:
            assert g["today"] == "undecidable" and g["decided_by"] is None, g
            assert "header_checks" in g["reason"] and "nested_header_checks" in g["reason"], g

        # nested_header_checks empty: an attached message's headers are not checked
        _reload(inst, "nested_header_checks =")
        (d / "main.cf").write_text(NESTED_MAIN_CF.replace("__DIR__", str(d)).replace(
            f"nested_header_checks = regexp:{d}/nested_header_checks", "nested_header_checks ="))
        assert _until(lambda: _send(port, *client, *_with_attachment("Subject: inner-bad here")), 250)[0] == 250
        start = inst.log_size()
        assert _send(port, *client, ["Subject: outer-bad here"], ["hello"]) == (550, "550 5.7.1 outer refused")
        lines = _cleanup_lines(inst, start, 1)
        assert len(lines) == 1, lines
        _rc, res = _triage(d, lines[0] + "\n")
        g = _groups(res)
        assert len(g) == 1 and g[0]["today"] == "same", g
        assert g[0]["decided_by"]["parameter"] == "header_checks", g
