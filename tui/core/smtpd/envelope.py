"""The address in MAIL FROM:<...> / RCPT TO:<...> as smtpd extracts it
(smtpd.c extract_addr() with the RFC 822 tokenizer of global/tok822_parse.c).

smtpd parses the text between the brackets with its RFC 822 address parser,
then works with the address in *internal* form: quotes and backslash
escapes removed (`"root"@example.com` is `root@example.com`, `"a b"@x` is
`a b@x`), comments dropped, a source route (`@a,@b:user@dom`) cut off.
Table lookups, recipient validation and the replies all use that form.

What is refused (501 5.1.7 at MAIL, 501 5.1.3 at RCPT):
- more than one address (`a, b@example.com`);
- with strict_rfc821_envelopes = yes: anything but an address (a comment),
  or an address that starts with "@" once extracted;
- two words side by side (`a b@example.com` unquoted, `a"b"c@example.com`).
The rest (the empty recipient, a bad domain) is smtpd_check_addr(), which
the evaluator applies to the internal form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 822 specials as tok822 sees them ('.' and '@' are kept in the address)
_SPECIALS = set('()<>@,;:\\".[]')


_NEEDS_PARSING = re.compile(r'^@|[\s"()<>,;\\\[\]]').search


@dataclass(frozen=True)
class Extracted:
    address: str          # internal form ("" when there is none)
    error: str | None     # why smtpd refuses the syntax (None: accepted so far)


def _tokens(text: str):
    """(kind, value) tokens: atom, quoted, literal, comment, or a special char."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            yield "quoted", "".join(buf)
            i = j + 1
            continue
        if c == "(":
            depth, j = 1, i + 1
            while j < n and depth:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                j += 1
            yield "comment", text[i:j]
            i = j
            continue
        if c == "[":
            j = text.find("]", i + 1)
            j = n if j < 0 else j
            yield "literal", "[" + text[i + 1:j] + "]"
            i = j + 1
            continue
        if c in _SPECIALS:
            yield c, c
            i += 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in _SPECIALS:
            j += 1
        yield "atom", text[i:j]
        i = j


def extract_addr(text: str, strict_rfc821: bool) -> Extracted:
    """The address between MAIL FROM:< and >, as smtpd takes it."""
    if not _NEEDS_PARSING(text):
        return Extracted(text, None)  # a plain address is its own internal form
    if len(text) >= 2 and text[0] == "<" and text[-1] == ">":
        text = text[1:-1]
    if text.startswith("@") and ":" in text:
        text = text.split(":", 1)[1]  # deprecated source route
    naddr = 0
    non_addr = 0
    cur: list[tuple[str, str]] = []
    addrs: list[list[tuple[str, str]]] = []
    for kind, value in _tokens(text):
        if kind == "comment":
            non_addr += 1
            continue
        if kind in ("<", ">"):
            continue
        if kind == ",":
            if cur:
                addrs.append(cur)
            cur = []
            continue
        cur.append((kind, value))
    if cur:
        addrs.append(cur)
    naddr = len(addrs)
    toks = addrs[-1] if addrs else []
    # two words side by side ("a b@x", 'a"b"c@x'): not one address
    glued = any(a[0] in ("atom", "quoted") and b[0] in ("atom", "quoted")
                for a, b in zip(toks, toks[1:]))
    address = "".join(v for _k, v in toks)
    if naddr > 1:
        return Extracted(address, "more than one address")
    if strict_rfc821 and non_addr:
        return Extracted(address, "strict_rfc821_envelopes: text that is not an address (a comment)")
    if glued:
        return Extracted(address, "two words side by side are not one address")
    if strict_rfc821 and address.startswith("@"):
        return Extracted(address, "strict_rfc821_envelopes: the address starts with @")
    return Extracted(address, None)
