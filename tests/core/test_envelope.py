"""The envelope address reader's shortcut: text with none of the characters
the SMTP tokenizer or the RFC 822 parser treat specially is taken as it
is. That must be what the long way (tui.core.smtpd.envelope._parsed, a
port of smtpd_token.c and tok822_parse.c checked against a real smtpd by
the address_syntax oracle scenario) makes of it. Also: nothing a client
can send makes the reader raise or loop."""
from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tui.core.smtpd.envelope import _NEEDS_PARSING, _parsed, extract_addr

PLAIN = st.text(alphabet=st.sampled_from(list("abcXYZ019.-_+=@%!|:/'éß\u00ff") + ["\udcff"]), max_size=40)


@settings(max_examples=400)
@given(PLAIN, st.booleans(), st.sampled_from(["MAIL", "RCPT"]))
def test_the_shortcut_is_the_long_way(text, strict, command):
    if _NEEDS_PARSING(text):
        return
    assert extract_addr(text, strict, command) == _parsed(text, strict, command)


@settings(max_examples=400)
@given(st.text(alphabet=st.sampled_from(list('ab@.<>"()[]\\,;: \t%!|') + ["\x00", "\udcff"]), max_size=40),
       st.booleans(), st.sampled_from(["MAIL", "RCPT"]))
def test_any_text_gives_an_answer(text, strict, command):
    got = extract_addr(text, strict, command)
    assert isinstance(got.address, str)
    assert got.error is None or isinstance(got.error, str)


@settings(max_examples=300)
@given(st.lists(st.sampled_from(list('ab.-[]:_\\<>" \t') + ["é", "\x01", "to:", "FROM:"]), max_size=20).map("".join),
       st.sampled_from([0, 12, 2048]))
@example("to:x", 2048)
def test_the_helo_shortcut_is_the_long_way(helo, limit):
    """helo_argument() takes a one-word name as it is; the long way (the
    line split into words, as smtpd_token.c does) must say the same."""
    from tui.core.smtpd.envelope import helo_argument, smtp_words

    line = "EHLO " + helo
    if limit and len(line.encode("utf-8", "surrogateescape")) > limit:
        line = line.encode("utf-8", "surrogateescape")[:limit].decode("utf-8", "surrogateescape")
    words = smtp_words(line)
    expected = " ".join(w for w, _ in words[1:]) if len(words) >= 2 else None
    assert helo_argument(helo, limit) == expected
