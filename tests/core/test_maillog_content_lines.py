"""cleanup's header/body checks lines in a mail log: cut, malformed, binary
or hostile ones never stop the reader or the triage, and the triage's fast
path reads what the grammar reads. (The lines a real cleanup writes, and
what triage makes of them, are tested in tests/oracle/test_triage_content.py.)"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tui.core.analysis.maillog import LogLineError, Reader, parse_line
from tui.core.analysis.content_checks import CONTENT_LIMIT
from tui.core.analysis.triage import Triage
from tui.core.config import load_config

PREFIX = "Dec 05 10:44:06 mx postfix/cleanup[28704]: "
WHOLE = [
    "9547320C443: reject: header Subject: this is forbidden from mail.other.test[203.0.113.5]; "
    "from=<a@other.test> to=<b@example.test> proto=ESMTP helo=<mail.other.test>: 5.7.1 no forbidden subjects",
    "99DD620C445: reject: header Subject: local from local; from=<root@x.test> to=<b@example.test>: 5.7.1 no",
    "97D1E20C114: reject: body    indented; from=<x> from c[1.2.3.4]; from=<> to=<r@x.test> proto=SMTP: "
    "4.7.0 later; from x[1.1.1.1]; y",
    "97D1E20C115: reject: body  from unknown[2001:db8::1]; from=<> proto=SMTP: 5.7.1 empty body line",
    "964DC20C114: warning: header X-Warn: y from mail.other.test[203.0.113.5]; from=<a@other.test> "
    "to=<b@example.test> proto=ESMTP helo=<mail.other.test>: watch this",
    "964DC20C116: warning: header X-Warn: y from mail.other.test[203.0.113.5]; from=<a@other.test> "
    "to=<b@example.test> proto=ESMTP helo=<mail.other.test>",
]


@pytest.mark.parametrize("msg", WHOLE)
def test_the_fast_path_reads_what_the_grammar_reads(msg):
    line = PREFIX + msg
    rec = Reader().record(line)
    assert rec is not None and rec.content_check
    assert rec == parse_line(line)
    assert rec.command in ("header", "body") and rec.action in ("reject", "warning")
    assert rec.queue_id == msg.split(":", 1)[0]


def test_content_and_envelope_are_split_at_the_last_origin():
    rec = Reader().record(PREFIX + WHOLE[2])
    assert rec.text == "   indented; from=<x>"  # a body line keeps its leading white space
    assert (rec.client_name, rec.client_address) == ("c", "1.2.3.4")
    assert rec.sender == "" and rec.recipient == "r@x.test" and rec.helo is None
    assert rec.reply == "4.7.0 later; from x[1.1.1.1]; y"
    rec = Reader().record(PREFIX + WHOLE[1])
    assert rec.client_name == "local" and rec.client_address == "" and rec.proto is None
    rec = Reader().record(PREFIX + WHOLE[3])
    assert rec.text == "" and rec.client_address == "2001:db8::1"


def test_other_actions_are_not_refusals():
    """hold:, discard:, redirect: ... parse, but the triage does not count them
    (it never looks at a line without "reject" or "warning:")."""
    for action in ("hold", "discard", "redirect", "filter", "prepend", "info"):
        line = PREFIX + f"9632B20C114: {action}: header X-Reject: y from c[192.0.2.1]; from=<a@b> to=<c@d>: text"
        r = Reader()
        assert r.record(line) is None and r.unparsed.count == 0 and r.ignored == 1
        assert parse_line(line).action == action


def cuts(msg: str):
    for n in range(len(msg) + 1):
        yield msg[:n]


@pytest.mark.parametrize("msg", WHOLE[:3])
def test_a_line_cut_anywhere_is_read_or_counted_never_fatal(msg):
    r = Reader()
    for cut in cuts(msg):
        line = PREFIX + cut
        rec = r.record(line)
        if rec is not None:
            assert rec.kind == "reject"
        try:
            parse_line(line)
        except LogLineError:
            pass
    # a line cut before its envelope is "not understood", not silently dropped
    assert r.unparsed.count > 0
    assert all(why == "message not understood" for _f, _n, why, _t in r.unparsed.examples)


def test_hostile_and_binary_content_never_stops_the_triage(tmp_path):
    d = Path(tempfile.mkdtemp(dir=tmp_path))
    (d / "main.cf").write_text(f"header_checks = regexp:{d}/h, hash:{d}/missing\n"
                               f"body_checks = pcre:{d}/nosuchfile\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\ncleanup unix n - n - 0 cleanup\n")
    (d / "h").write_text("/^Subject: (a|a)*$/ REJECT runaway\n/^X-Ok:/ DUNNO\n/^X-Bad:/ BOGUS action\n")
    contents = ["Subject: " + "a" * 60 + "!", "X-Ok: 1", "X-Bad: 1", "Subject: \x00\x01\x7f", "\ufffd\ufffd",
                "Subject: " + "é" * 120, "x" * CONTENT_LIMIT, "Subject: q?? folded? x", "X-Unknown: y",
                "Subject: \u202e rtl", ""]
    lines = []
    for i, c in enumerate(contents):
        for cls in ("header", "body"):
            lines.append(PREFIX + f"ABCDE{i:04d}{cls[0]}: reject: {cls} {c} from c[192.0.2.{i}]; from=<a@b> "
                         f"to=<c@d> proto=ESMTP helo=<h>: 5.7.1 text {i}")
    lines += [PREFIX + "ABCDEF: reject: header", PREFIX + "ABCDEF: reject: body x from", "\xff\xfe garbage",
              PREFIX + "ABCDEF: reject: header X: y from c[1.2.3.4]; from=<a@b> to=<c",
              PREFIX + "ABCDEF: warning: body " + "z" * 70000]
    log = d / "mail.log"
    log.write_text("\n".join(lines) + "\n", errors="surrogateescape")
    t = Triage(load_config(d))
    t.read(str(log))
    res = t.finish()
    content = [g for g in res.groups if g.stage in ("header", "body")]
    assert sum(g.count for g in content) == 2 * len(contents)
    assert all(g.today in ("same", "differs", "undecidable") for g in content)
    # the lines cut at cleanup's limit are never decided
    cut = [g for g in content if any(len(o.record.text.encode()) >= CONTENT_LIMIT for o in g.occurrences)]
    assert cut and all(g.today == "undecidable" for g in cut)
    assert res.unparsed.count >= 3
    res.to_json()


def test_a_rule_the_explorer_cannot_translate_before_the_hit_is_not_decided(tmp_path):
    """The explorer skips a pcre rule it cannot translate (Postfix does not):
    an answer found past it is not known."""
    d = Path(tempfile.mkdtemp(dir=tmp_path))
    (d / "main.cf").write_text(f"header_checks = pcre:{d}/h\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\ncleanup unix n - n - 0 cleanup\n")
    (d / "h").write_text("/^Subject: (?R)x/ REJECT recursion\n/^Subject:.*forbidden/ REJECT no\n")
    (d / "mail.log").write_text(PREFIX + WHOLE[0] + "\n")
    t = Triage(load_config(d))
    t.read(str(d / "mail.log"))
    (g,) = t.finish().groups
    assert g.today == "undecidable" and "line 1" in g.reason and "cannot be evaluated by the explorer" in g.reason
