"""The envelope address reader's shortcut: text with none of the characters
the SMTP tokenizer or the RFC 822 parser treat specially is taken as it
is. That must be what the long way (tui.core.smtpd.envelope._parsed, a
port of smtpd_token.c and tok822_parse.c checked against a real smtpd by
the address_syntax oracle scenario) makes of it. Also: nothing a client
can send makes the reader raise or loop."""
from __future__ import annotations

from hypothesis import given, settings
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
