"""Text from outside, made safe to show.

Much of what the explorer prints was written by someone else: a remote
client chose the HELO name in a log line, a database row holds a map
value, a file name came from a colleague's main.cf. Printed raw, an ESC
starts a terminal escape sequence (OSC 2 retitles the window, CSI moves
the cursor or hides text), and a raw byte 0x9b is a CSI of its own on
8-bit terminals.

visible(text) spells every such character out: C0 controls (except TAB),
DEL and C1 controls as ``\\x1b``-style escapes, bytes that were not UTF-8
(kept by the "surrogateescape" error handler) as ``\\xNN``, and Unicode line
separators and bidirectional overrides, which reorder or break what a
reader sees, as ``\\u202e``. Everything else, backslashes included, is left
as it is, so ordinary values read as written.

Postfix's own messages do the same job with printable(), which turns each
such byte into "?": `replacement="?"` gives that form.

scrub(text, secrets) hides secrets in text about to be shown: the known
secret values given, and the value of any password assignment a library
quoted back in an error message.

Pure: no project imports, no terminal library.
"""
from __future__ import annotations

import re

# C0 but TAB and LF, DEL, C1; lone surrogates (undecodable bytes); line and
# paragraph separators; bidi embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_NO_LF = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _spell(m: re.Match) -> str:
    c = m.group()
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # surrogateescape: the byte o - 0xDC00
        return f"\\x{o - 0xDC00:02x}"
    if o <= 0xFF:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}"


def visible(text: str, replacement: str | None = None, keep_newlines: bool = False) -> str:
    """TEXT with every control character made visible and harmless.

    replacement: None spells each one out (``\\x1b``); a string ("?", as
    Postfix's printable() does) replaces each instead.
    keep_newlines: leave LF as it is (for a block of several lines whose
    line breaks are the caller's own)."""
    if not isinstance(text, str):
        text = str(text)
    rx = _UNSAFE_NO_LF if keep_newlines else _UNSAFE
    if rx.search(text) is None:
        return text
    if replacement is not None:
        return rx.sub(replacement, text)
    return rx.sub(_spell, text)


def is_visible(text: str) -> bool:
    """Does TEXT hold nothing that visible() would change?"""
    return _UNSAFE.search(text) is None


# `password = x`, `password: x`, `passwd=x`, `pw=x` in a setting or in a
# library's error text (a parser quoting the line it could not read, a DSN)
_ASSIGNED_SECRET = re.compile(r"(?i)((?:password|passwd|bind_pw|pw)\s*[=:]\s*)('[^']*'?|\"[^\"]*\"?|[^\s'\"\\]+)")


def scrub_assignments(text: str) -> str:
    """TEXT with the value of every password assignment in it hidden."""
    if not text or "p" not in text.lower():
        return text
    return _ASSIGNED_SECRET.sub(r"\1********", text)


def scrub(text: str, secrets: set[str] | frozenset[str] = frozenset()) -> str:
    """TEXT with the known secret values and password assignments hidden."""
    if not text:
        return text
    for s in sorted(secrets, key=len, reverse=True):
        if s:
            text = text.replace(s, "********")
    return scrub_assignments(text)
