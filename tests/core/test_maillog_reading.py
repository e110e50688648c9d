"""How mail logs are cut into lines: binary, truncated and enormous input
never stops the reader (the Postfix-written lines themselves are tested in
tests/oracle/test_triage_oracle.py)."""
from __future__ import annotations

import io

from tui.core.analysis import maillog
from tui.core.analysis.maillog import CHUNK, MAX_LINE, iter_blocks, iter_lines


def lines_of(data: bytes) -> list:
    return list(iter_lines(io.BytesIO(data)))


def test_lines_and_last_line_without_newline():
    assert lines_of(b"a\nb\nc") == ["a", "b", "c"]
    assert lines_of(b"a\n\nb\n") == ["a", "", "b"]
    assert lines_of(b"") == []


def test_bad_utf8_is_replaced_not_fatal():
    out = lines_of(b"ok\n\xff\xfe\x00bin\nok2\n")
    assert out[0] == "ok" and out[2] == "ok2"
    assert "\ufffd" in out[1] and "\x00" in out[1]


def test_a_line_longer_than_max_line_is_none():
    out = lines_of(b"a\n" + b"x" * (MAX_LINE + 10) + b"\nb\n")
    assert out == ["a", None, "b"]


def test_a_line_longer_than_a_chunk_is_never_held_whole():
    big = b"y" * (3 * CHUNK + 5)
    blocks = list(iter_blocks(io.BytesIO(b"a\n" + big + b"\nb\n")))
    assert None in blocks
    assert all(b is None or len(b) < 2 * CHUNK for b in blocks)
    assert lines_of(b"a\n" + big + b"\nb\n") == ["a", None, "b"]
    assert lines_of(b"a\n" + big) == ["a", None]


def test_unparsable_lines_are_counted_with_examples():
    r = maillog.Reader()
    for ln in ["\x00\x01 junk", "", "no prefix at all: reject: RCPT from x[1.2.3.4]: 554 x; proto=SMTP"]:
        assert r.record(ln) is None
    assert r.unparsed.count == 2 and r.ignored == 1
    assert r.unparsed.examples[0][2].startswith("no time stamp")


def test_a_new_connection_port_makes_no_new_transaction():
    """postscreen names the client with its port; two connections of one
    client that differ only in port, pid and time are one transaction."""
    from tui.core.analysis.maillog import Reader, ident

    r = Reader()
    lines = ["Dec  5 07:00:00 mx postfix/postscreen[123]: PREGREET 11 after 0.01 from [192.0.2.9]:41234: EHLO x\\r\\n",
             "Dec  5 07:00:09 mx postfix/postscreen[124]: PREGREET 11 after 0.02 from [192.0.2.9]:41299: EHLO x\\r\\n",
             "Dec  5 07:00:09 mx postfix/postscreen[124]: PREGREET 11 after 0.02 from [192.0.2.8]:41299: EHLO x\\r\\n"]
    a, b, c = (ident(r.scan(x)) for x in lines)
    assert a == b and a != c


def test_a_line_without_prefix_among_refusals_is_unparsed():
    """Refusals carry "]: " twice (after the process and after the client):
    a line without any beside them is still counted as not understood."""
    from tui.core.analysis.triage import Triage
    from tui.core.config import load_config
    from tui.demo import demo_config_dir

    refusal = ("Dec  5 07:00:0{} mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from a.test[192.0.2.{}]: 554 5.7.1 "
               "<x@elsewhere.test>: Relay access denied; from=<a@b.test> to=<x@elsewhere.test> proto=ESMTP "
               "helo=<a.test>")
    block = "\n".join([refusal.format(1, 1), "a line with no prefix", refusal.format(2, 2), "", refusal.format(3, 3)])
    t = Triage(load_config(str(demo_config_dir())))
    t.read_blocks([block], "mail.log")
    assert t.reader.lines == 5
    assert t.reader.unparsed.count == 1 and t.reader.ignored == 1
    assert t.reader.unparsed.examples[0][:2] == ("mail.log", 2)
