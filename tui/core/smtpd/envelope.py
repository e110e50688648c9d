"""The address in MAIL FROM:<...> / RCPT TO:<...>, and the HELO name, as
smtpd reads them from the command line.

A transaction's sender and recipient are what a client puts between the
brackets of `MAIL FROM:<...>` and `RCPT TO:<...>`. smtpd first splits the
command line into words (smtpd_token.c: a `<...>` or `"..."` group is one
word, brackets nest, a backslash escapes), then reads the address word
with its RFC 822 parser (smtpd.c extract_addr(), tui.core.tok822) and
works with the address in *internal* form: quotes and backslash escapes
removed (`"root"@example.com` is `root@example.com`, `"a b"@x` is `a b@x`),
comments dropped, a source route (`@a,@b:user@dom`) cut off, and no blank
put back inside `<...>` (`<a b@x>` is `ab@x`). Table lookups, recipient
validation and the replies all use that form.

What is refused (501 5.1.7 at MAIL, 501 5.1.3 at RCPT):
- a quote or bracket left open (the word never ends), also when the
  command line is longer than line_length_limit: smtpd reads that many
  bytes of it and skips the rest;
- more than one address (`a, b@example.com`, or two words side by side:
  `a b@example.com` unquoted is the addresses `a` and `b@example.com`);
- with strict_rfc821_envelopes = yes: anything but an address (a comment,
  a phrase before `<...>`), or an address that starts with "@" once
  extracted.
Text after a `>` that closes the brackets early is read as command
parameters: `555 5.5.4 Unsupported option: ...` for one smtpd does not
know; the syntax of those it knows (NOTIFY=, SIZE=, ...) is not checked
here, and the trace warns about them. The rest
(the empty recipient, a bad domain) is smtpd_check_addr(), which the
evaluator applies to the internal form.

The HELO/EHLO line is split into words the same way; the words after the
command are the name, joined with one blank (`EHLO a  b` is `a b`; no word
at all is 501 Syntax). smtpd checks that name when it checks at once, and
stores it with control characters and ` <>()\\";@` made "?" for the checks
it makes later and for its replies.
"""
from __future__ import annotations

import re

from tui.core import tok822
from tui.core.model import FrozenRecord

# text that is its own internal form and one word: no blank, quote,
# bracket, comment, list or group character (the RFC 822 operators ".",
# "@", "%", "!" and ":" alone make one address that reads back the same)
_NEEDS_PARSING = re.compile(r'^@|[\s"()<>,;\\\[\]]').search

_BLANKS = " \t\r\n\v\f"   # ISSPACE

# the parameters smtpd reads after the address (smtpd.c mail_cmd, rcpt_cmd):
# exact words, then prefixes
_PARAMETERS = {
    "MAIL": (("BODY=8BITMIME", "BODY=7BIT", "SMTPUTF8", "XVERP"), ("SIZE=", "AUTH=", "RET=", "ENVID=", "XVERP=")),
    "RCPT": ((), ("NOTIFY=", "ORCPT=")),
}


_set = object.__setattr__


class Extracted(FrozenRecord):
    __slots__ = _fields = ("address", "error", "unsupported", "parameters")
    address: str          # internal form ("" when there is none)
    error: str | None     # why smtpd refuses the syntax (None: accepted so far)
    # the words after the address word, when the brackets closed early:
    # (the first one smtpd does not know -- its 555 reply names it -- or
    # None when every one is a parameter smtpd knows, all of them)
    unsupported: str | None
    parameters: tuple[str, ...]

    def __init__(self, address: str, error: str | None, unsupported: str | None = None,
                 parameters: tuple[str, ...] = ()) -> None:
        _set(self, "address", address)
        _set(self, "error", error)
        _set(self, "unsupported", unsupported)
        _set(self, "parameters", parameters)


def smtp_words(line: str) -> list[tuple[str, bool]]:
    """smtpd_token(): the words of a command line, each with "was it left
    open" (SMTPD_TOK_ERROR: a quote or bracket never closed)."""
    words: list[tuple[str, bool]] = []
    i, n = 0, len(line)
    while True:
        buf: list[str] = []
        bad = False
        while i < n:
            c = line[i]
            i += 1
            if c in _BLANKS:
                while i < n and line[i] in _BLANKS:
                    i += 1
                if buf:
                    break
            elif c == "<" or c == '"':
                i, left_open = _quoted(line, i, buf, c, ">" if c == "<" else '"')
                bad = bad or left_open
            elif c == ":":
                buf.append(c)
                word = "".join(buf).lower()
                if word in ("to:", "from:"):
                    break
            else:
                if c == "\\":
                    buf.append(c)
                    if i >= n:
                        break
                    c = line[i]
                    i += 1
                buf.append(c)
        if not buf:
            return words
        words.append(("".join(buf), bad))


def _quoted(line: str, i: int, buf: list[str], start: str, last: str) -> tuple[int, bool]:
    """smtp_quoted(): a <...> or "..." group from START on; brackets nest,
    quotes inside brackets take precedence. Returns (where it ended, was it
    left open)."""
    stack = [last]
    buf.append(start)
    n = len(line)
    while i < n:
        c = line[i]
        i += 1
        buf.append(c)
        if c == "\\":
            if i >= n:
                break
            buf.append(line[i])
            i += 1
        elif c == stack[-1]:
            if len(stack) == 1:
                return i, False
            stack.pop()
        elif c == '"':
            stack.append('"')
        elif c == "<" and stack[-1] == ">":
            stack.append(">")
    return i, True


def extract_addr(text: str, strict_rfc821: bool, command: str = "MAIL", line_limit: int = 2048) -> Extracted:
    """The address a client sends as `MAIL FROM:<TEXT>` (COMMAND "RCPT":
    `RCPT TO:<TEXT>`), as smtpd takes it. smtpd reads at most LINE_LIMIT
    bytes of a command line (line_length_limit) and skips the rest."""
    if not _NEEDS_PARSING(text):
        line = _command_line(text, command)
        if _cut(line, line_limit) is line:
            return Extracted(text, None)  # a plain address is its own internal form
    return _parsed(text, strict_rfc821, command, line_limit)


def _command_line(text: str, command: str) -> str:
    return f"{command} {'FROM' if command == 'MAIL' else 'TO'}:<{text}>"


def _cut(line: str, limit: int) -> str:
    """LINE as smtpd reads it: its first LIMIT bytes (line_length_limit;
    smtp_get() skips the rest), or LINE itself when it fits."""
    if limit <= 0 or len(line) * 4 <= limit:   # UTF-8: at most 4 bytes a character
        return line
    raw = line.encode("utf-8", "surrogateescape")
    return line if len(raw) <= limit else raw[:limit].decode("utf-8", "surrogateescape")


def _parsed(text: str, strict_rfc821: bool, command: str, line_limit: int = 2048) -> Extracted:
    """extract_addr() the long way: the command line cut at LINE_LIMIT
    bytes (smtp_get() with SMTP_GET_FLAG_SKIP), split into words, the
    address word parsed."""
    words = smtp_words(_cut(_command_line(text, command), line_limit))
    if len(words) < 3:
        return Extracted("", "the command line is cut before the address (line_length_limit)")
    arg, left_open = words[2]
    if left_open:
        return Extracted("", "a quote or bracket is never closed")
    # smtpd.c extract_addr()
    inner = arg[1:-1] if len(arg) >= 2 and arg[0] == "<" and arg[-1] == ">" else arg
    if inner.startswith("@") and ":" in inner:
        inner = inner.split(":", 1)[1]  # deprecated source route
    tree = tok822.parse(inner)
    addrs = [v for t, v in tree if t == "addr"]
    non_addr = sum(1 for t, _v in tree if t not in ("addr", "<", ">"))
    address = tok822.internalize(addrs[-1], owned=True) if addrs else ""
    error = None
    if len(addrs) > 1:
        error = "more than one address"
    elif strict_rfc821 and non_addr:
        error = "strict_rfc821_envelopes: text that is not an address (a comment or a phrase)"
    elif strict_rfc821 and address.startswith("@"):
        error = "strict_rfc821_envelopes: the address starts with @"
    extra = tuple(w for w, _bad in words[3:])
    unsupported = None
    if extra and error is None:
        exact, prefixes = _PARAMETERS[command]
        unsupported = next((w for w in extra if w.upper() not in exact
                            and not w.upper().startswith(prefixes)), None)
    return Extracted(address, error, unsupported, extra)


def helo_argument(helo: str, line_limit: int = 2048) -> str | None:
    """The name a client sends as `EHLO HELO` (or `HELO HELO`), as smtpd
    takes it: the line cut at LINE_LIMIT bytes, split into words as any
    command line is, the words after the command joined with one blank
    (collapse_args). None when there is no word after the command (smtpd:
    501 Syntax: EHLO hostname)."""
    line = _cut("EHLO " + helo, line_limit)
    if not _HELO_NEEDS_SPLITTING(line, 5):
        return line[5:] if len(line) > 5 else None
    words = smtp_words(line)
    if len(words) < 2:
        return None
    return " ".join(w for w, _open in words[1:])


# a HELO name that is one word as it is: no blank, quote or bracket, and
# no colon (smtpd_token.c ends a word after "to:" or "from:")
_HELO_NEEDS_SPLITTING = re.compile(r'[\s"<:]').search


# smtpd.c NEUTER_CHARACTERS: what the stored HELO name may not hold
_NEUTER = str.maketrans({c: "?" for c in ' <>()\\";@'})


def neuter(name: str) -> str:
    """neuter(name, NEUTER_CHARACTERS, '?'): how smtpd stores a HELO name
    (for the checks made later, and for replies and logs)."""
    return name.translate(_NEUTER)
