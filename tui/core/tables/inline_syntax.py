"""The `{ ... }` syntax of inline tables and inline pattern rules: their
entries (name = value) and rules, in Postfix's tokens (config.mystrtok)."""
from __future__ import annotations

from tui.core.config.mystrtok import _WS, extpar, tokenize


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
