"""Mail-log triage against a real smtpd: the log lines are the ones a
scratch Postfix instance writes while test_triage_scenario.SESSIONS drive it
into every reject form that can be produced offline."""
from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from tests.oracle.compile_maps import compile_maps
from tests.conftest import need_postfix
from tests.oracle.test_triage_scenario import SESSIONS, real_maillog

pytestmark = pytest.mark.oracle if hasattr(pytest.mark, "oracle") else []


@pytest.fixture(scope="module")
def real():
    need_postfix()
    with real_maillog() as (d, text, inst):
        yield d, text, inst


@pytest.fixture()
def copy_of(real):
    """A copy of the configuration whose files may be changed."""
    d, text, inst = real
    made = []

    def make() -> Path:
        new = Path(tempfile.mkdtemp(prefix="pfx-triage-copy-"))
        os.chmod(new, 0o755)
        for f in d.iterdir():
            if f.is_file():
                shutil.copy(f, new / f.name)
        main = (new / "main.cf").read_text().replace(str(d), str(new))
        (new / "main.cf").write_text(main)
        made.append(new)
        return new

    yield make
    for m in made:
        shutil.rmtree(m, ignore_errors=True)


def _cli(argv, stdin=None) -> tuple[int, str]:
    from tui.__main__ import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(argv)
    return rc, buf.getvalue()


def _write(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.write_text(text)
    return str(p)


def _rejects(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if re.search(r": (?:reject|reject_warning|milter-reject): ", ln)]


def test_every_logged_reject_is_read_as_the_grammar_reads_it(real):
    from tui.core.analysis.maillog import Reader, parse_line

    _d, text, _inst = real
    rejects = _rejects(text)
    # the log holds every form the sessions aim at
    cmds = {re.search(r"reject(?:_warning)?: (\S+) from", ln).group(1) for ln in rejects}
    assert {"RCPT", "MAIL", "EHLO", "XCLIENT", "DATA", "END-OF-MESSAGE", "ETRN", "VRFY"} <= cmds
    assert any("reject_warning:" in ln for ln in rejects)
    assert any(" 451 4.3.5 " in ln for ln in rejects)
    assert "SASL PLAIN authentication failed" in text
    reader = Reader()
    for ln in text.splitlines():
        rec = reader.record(ln)
        if ln in rejects or "authentication failed" in ln or "lookup error" in ln:
            assert rec is not None, ln
            # the fast path (shape cache) gives what the grammar gives
            assert rec == parse_line(ln), ln
    assert reader.unparsed.count == 0, reader.unparsed.examples


def test_retrace_reproduces_every_logged_reject(real, tmp_path):
    d, text, _inst = real
    log = _write(tmp_path, "mail.log", text)
    rc, out = _cli(["triage", "--config-dir", str(d), "--json", log])
    res = json.loads(out)
    assert rc == 0
    assert res["lines"] == len(text.splitlines())
    assert res["unparsed"]["count"] == 0
    groups = res["groups"]
    counted = sum(g["count"] for g in groups if g["kind"] == "reject")
    assert counted == len(_rejects(text))
    for g in groups:
        assert {"count", "service", "stage", "reply", "decided_by", "today", "examples"} <= set(g)
        if g["kind"] == "reject" and g["stage"] in ("connect", "helo", "mail", "rcpt"):
            assert g["today"] == "same", g
            assert g["decided_by"] is not None, g
            for ex in g["examples"]:
                assert ex["today_reply"] == ex["reply"]
        else:
            assert g["today"] == "undecidable" and g["reason"], g
    services = {g["service"] for g in groups if g["kind"] == "reject"}
    assert services == {"smtp", "submission"}
    stages = {(g["service"], g["stage"]) for g in groups}
    assert {("submission", "connect"), ("submission", "helo"), ("submission", "mail")} <= stages
    assert any(g["action"] == "reject_warning" and g["today"] == "same" for g in groups)


def test_a_configuration_change_is_reported_as_differs(real, copy_of, tmp_path):
    _d, text, _inst = real
    new = copy_of()
    (new / "rcpt_access").write_text("broken@example.test  broken_lookup\n")  # closed@ no longer refused
    (new / "sender_access").write_text("spam.test  554 domain blocked\n")     # bad@spam.test: domain entry now
    compile_maps(new)  # postmap, as the admin would: smtpd reads the indexes
    log = _write(tmp_path, "mail.log", text)
    rc, out = _cli(["triage", "--config-dir", str(new), "--json", log])
    res = json.loads(out)
    assert rc == 1
    differs = [g for g in res["groups"] if g["today"] == "differs"]
    by_reply = {g["reply"]: g for g in differs}
    closed = by_reply["554 5.7.1 <...>: Recipient address rejected: mailbox closed"]
    assert closed["examples"][0]["recipient"] == "closed@example.test"
    blocked = [g for g in differs if g["reply"].endswith("Sender address rejected: sender blocked")]
    assert len(blocked) == 2  # smtp (at RCPT) and submission (at MAIL)
    # what the engine says today is what a real smtpd with the changed files answers
    from tests.oracle import postfix_instance as pi

    with pi.PostfixInstance(new) as inst2:
        for g in differs:
            for ex in g["examples"]:
                helo = ex["helo"] if ex["helo"] is not None else "mail.other.test"
                ans = inst2.query(ex["service"], ex["client_address"], ex["client_name"], helo,
                                  ex["sender"] or "", ex["recipient"] or "alice@example.test")
                assert ex["today_reply"] == ans.reply, (ex, ans)
    # the rest is unchanged
    assert any(g["today"] == "same" and "Relay access denied" in g["reply"] for g in res["groups"])


def _restamp(text: str, form: str) -> str:
    out = []
    pre = re.compile(r"^(\w{3}) (\d\d) (\d\d:\d\d:\d\d) (\S+) (.*)$")
    for ln in text.splitlines():
        m = pre.match(ln)
        assert m, ln
        mon, day, hms, host, rest = m.groups()
        month = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split().index(mon) + 1
        if form == "rsyslog":                      # RSYSLOG_TraditionalFileFormat
            stamp = f"{mon} {int(day):2d} {hms}"
        elif form == "rfc3339":                    # RSYSLOG_FileFormat (Debian 12)
            stamp = f"2026-{month:02d}-{day}T{hms}.123456+01:00"
        elif form == "journal-short":              # journalctl (default -o short)
            stamp = f"{mon} {day} {hms}"
        elif form == "journal-iso":                # journalctl -o short-iso
            stamp = f"2026-{month:02d}-{day}T{hms}+0100"
        elif form == "journal-precise":            # journalctl -o short-precise
            stamp = f"{mon} {day} {hms}.123456"
        else:                                      # journalctl -o short-full
            stamp = f"Sat 2026-{month:02d}-{day} {hms} CET"
        out.append(f"{stamp} {host} {rest}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("form", ["rsyslog", "rfc3339", "journal-short", "journal-iso", "journal-precise",
                                  "journal-full"])
def test_time_stamp_forms(real, tmp_path, form):
    from tui.core.analysis.maillog import PREFIX, parse_line
    from tui.core.grammar import parser

    d, text, _inst = real
    restamped = _restamp(text, form)
    for ln in restamped.splitlines()[:5] + _rejects(restamped)[:3]:
        m = PREFIX.match(ln)
        assert m is not None, ln
        # the grammar's prefix rule agrees with the fast path's expression
        tree = parser("maillog").parse(ln, start="line") if ": reject" in ln else None
        if tree is not None:
            stamp = str(tree.children[0].children[0])
            assert stamp == m.group(1)
            assert parse_line(ln).time == m.group(1)
    base = json.loads(_cli(["triage", "--config-dir", str(d), "--json", _write(tmp_path, "a.log", text)])[1])
    rc, out = _cli(["triage", "--config-dir", str(d), "--json", _write(tmp_path, "b.log", restamped)])
    res = json.loads(out)
    assert rc == 0 and res["unparsed"]["count"] == 0
    key = lambda g: (g["service"], g["stage"], g["reply"], g["today"], g["count"])  # noqa: E731
    assert sorted(map(key, res["groups"])) == sorted(map(key, base["groups"]))


def test_bad_lines_never_stop_a_triage(real, tmp_path):
    d, text, _inst = real
    rejects = _rejects(text)
    junk = (b"\x00\x01\x02binary\xff\xfe garbage\n"
            + rejects[0][: len(rejects[0]) // 2].encode() + b"\n"          # truncated
            + b"Dec 05 05:05:44 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from \xff\xfe[\n"
            + b"x" * (3 * 1024 * 1024) + b"\n"                              # enormous
            + rejects[1].encode() + b"\x00\x1b[31m\n"                       # control characters
            + b"\n\n")
    p = tmp_path / "mixed.log"
    p.write_bytes(text.encode() + junk + text.encode())
    rc, out = _cli(["triage", "--config-dir", str(d), "--json", str(p)])
    res = json.loads(out)
    assert rc == 0
    assert res["unparsed"]["count"] >= 4
    whys = " ".join(e["why"] for e in res["unparsed"]["examples"])
    assert "longer than" in whys
    counted = sum(g["count"] for g in res["groups"] if g["kind"] == "reject")
    assert counted >= 2 * len(rejects)
    # the text report makes control characters visible
    rc, out = _cli(["triage", "--config-dir", str(d), str(p)])
    assert "\x1b" not in out and "\x00" not in out


def test_gzip_several_files_and_stdin(real, tmp_path, monkeypatch):
    d, text, _inst = real
    gz = tmp_path / "mail.log.1.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write(text)
    plain = _write(tmp_path, "mail.log", text)
    rc, out = _cli(["triage", "--config-dir", str(d), "--json", str(gz), plain])
    res = json.loads(out)
    assert res["lines"] == 2 * len(text.splitlines())
    assert sum(g["count"] for g in res["groups"] if g["kind"] == "reject") == 2 * len(_rejects(text))

    class In:
        buffer = io.BytesIO(text.encode())
    monkeypatch.setattr("sys.stdin", In)
    rc, out = _cli(["triage", "--config-dir", str(d), "--json", "-"])
    assert json.loads(out)["lines"] == len(text.splitlines())


def test_batch_answers_as_the_real_smtpd(real, tmp_path):
    d, _text, inst = real
    lines, answers = [], {}
    for i, (svc, addr, name, helo, sender, rcpt, _note) in enumerate(SESSIONS):
        ans = inst.query(svc, addr, name, helo, sender, rcpt)
        answers[f"t{i}"] = ans
        obj = {"id": f"t{i}", "service": svc, "client_address": addr, "client_name": name,
               "helo": helo, "sender": sender, "recipient": rcpt}
        lines.append(json.dumps(obj))
    lines.insert(3, "{not json")
    rc, out = _cli(["trace", "--config-dir", str(d), "--batch", _write(tmp_path, "in.jsonl", "\n".join(lines))])
    assert rc == 2  # one unusable line, reported, the batch went on
    outs = [json.loads(x) for x in out.splitlines()]
    assert len(outs) == len(lines)
    assert "error" in outs[3] and outs[3]["id"] == 4
    for o in outs:
        if "error" in o:
            continue
        a = answers[o["id"]]
        assert (o["code"], o["reply"]) == (a.code, a.reply), o["id"]
        assert "steps" in o and "explanation" in o


def test_trace_from_log_uses_the_mail_log_grammar(real):
    d, text, _inst = real
    line = next(ln for ln in _rejects(text) if "postfix/submission/smtpd" in ln and "MAIL from" in ln)
    rc, out = _cli(["trace", "--config-dir", str(d), "--from-log", line, "--recipient", "alice@example.test",
                    "--json"])
    res = json.loads(out)
    assert rc == 1
    assert res["service"] == "submission"
    assert res["reply"] == res["log_reply"]


def test_forked_workers_answer_as_one_process(real, tmp_path):
    """Re-tracing in worker processes beside the reading gives the same groups
    (run in a fresh single-threaded process: the test process has threads)."""
    import subprocess
    import sys

    d, text, _inst = real
    log = _write(tmp_path, "mail.log", text)
    code = (
        "import json, sys\n"
        "from tui.core.analysis.triage import Triage\n"
        "from tui.core.config import load_config\n"
        "out = []\n"
        "for w in (1, 2):\n"
        "    t = Triage(load_config(sys.argv[1]), workers=w)\n"
        "    t.pool.batch_size = 2\n"
        "    t.read(sys.argv[2])\n"
        "    forked = t.pool.forked\n"
        "    res = t.finish()\n"
        "    out.append([forked, sorted([g.service, g.stage, g.reply, g.today, g.count, str(g.decided_by)]\n"
        "                               for g in res.groups)])\n"
        "print(json.dumps(out))\n")
    r = subprocess.run([sys.executable, "-c", code, str(d), log], capture_output=True, text=True, timeout=120,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr
    (f1, g1), (f2, g2) = json.loads(r.stdout)
    assert not f1 and f2  # the second really forked
    assert g1 == g2
