"""The `{ ... }` syntax of inline tables and inline pattern rules (Postfix's
mystrtokq() with "{}" and extpar())."""
from __future__ import annotations

_SEP = ", \t\r\n"
_WS = " \t\r\n\f\v"


def tokenize(text: str) -> list[str]:
    """Postfix's mystrtokq(..., ", \\t\\r\\n", "{}"): separator-delimited
    tokens where a {...} group (nesting) is kept whole."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in _SEP:
            i += 1
        if i >= n:
            break
        start = i
        depth = 0
        while i < n:
            c = text[i]
            if c == "{":
                depth += 1
            elif c == "}":
                if depth > 0:
                    depth -= 1
            elif depth == 0 and c in _SEP:
                break
            i += 1
        out.append(text[start:i])
    return out


def extpar(token: str) -> str:
    """Strip the outer braces of "{ text }" and the blanks just inside them.
    Raises ValueError on text after the closing brace or a missing brace."""
    if not token.startswith("{"):
        return token
    depth = 0
    for j, c in enumerate(token):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                if j != len(token) - 1:
                    raise ValueError(f"syntax error after '}}' in \"{token}\"")
                return token[1:j].strip(_WS)
    raise ValueError(f"missing '}}' in \"{token}\"")


def split_nameval(text: str) -> tuple[str, str]:
    s = text.strip(_WS)
    j = 0
    while j < len(s) and s[j] not in _WS and s[j] != "=":
        j += 1
    name = s[:j]
    rest = s[j:].lstrip(_WS)
    if not rest.startswith("="):
        raise ValueError("missing '=' after attribute name")
    return name, rest[1:].strip(_WS)


def inline_rules(name: str) -> list[str]:
    """The rules of "{ {rule-1}, {rule-2} }" (cidr/regexp/pcre inline form)."""
    if not (name.startswith("{") and name.endswith("}")):
        raise ValueError("bad syntax: need {...}")
    body = name[1:-1]
    return [extpar(tok) for tok in tokenize(body)]
