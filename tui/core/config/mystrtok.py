"""Postfix's brace-aware tokens (util/mystrtok.c mystrtokq(), util/balpar.c,
util/extpar.c): the `{ ... }` groups of inline tables, per-milter settings
and other lists."""
from __future__ import annotations

_SEP = ", \t\r\n"
_WS = " \t\r\n\f\v"


def split_quoted(text: str, sep: str = " \t\r\n", parens: str = "{}") -> list[tuple[str, int]]:
    """mystrtokq(): tokens split on `sep`, but never inside balanced {}.
    Returns (token, offset) pairs. (Used for list values, not for the files.)"""
    out: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in sep:
            i += 1
        if i >= n:
            return out
        start = i
        level = 0
        while i < n:
            ch = text[i]
            if ch == parens[0]:
                level += 1
            elif level > 0 and ch == parens[1]:
                level -= 1
            elif level == 0 and ch in sep:
                break
            i += 1
        out.append((text[start:i], start))


def tokenize(text: str) -> list[str]:
    """mystrtokq(..., CHARS_COMMA_SP, "{}"): the tokens of a list value."""
    return [t for t, _offset in split_quoted(text, _SEP)]


def balpar(token: str) -> int:
    """Postfix's balpar() with "{}": the length of the balanced group at
    the start of TOKEN, 0 when it does not start with "{" or never closes."""
    if not token.startswith("{"):
        return 0
    depth = 0
    for j, c in enumerate(token):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return 0


def extpar(token: str, strip: bool = True) -> str:
    """Strip the outer braces of "{ text }", and with STRIP the blanks just
    inside them (EXTPAR_FLAG_STRIP). Raises ValueError with extpar()'s words
    on text after the closing brace or a missing brace."""
    if not token.startswith("{"):
        return token
    end = balpar(token)
    if end == 0:
        raise ValueError(f"missing '}}' in \"{token}\"")
    if end != len(token):
        raise ValueError(f"syntax error after '}}' in \"{token}\"")
    inner = token[1:end - 1]
    return inner.strip(_WS) if strip else inner
