"""What a node of the configuration tree stands for, and the small text
helpers its labels share."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAGE = 100
# main.cf parameters shown at once; more are reached with / (a main.cf with
# 200,000 parameters must not become 200,000 nodes)
PARAM_PAGE = 500

STATE_STYLE = {
    "ok": "green",
    "stale": "yellow",
    "unreadable": "bold red",
    "error": "bold red",
    "not evaluated": "dim",
    "checking": "dim italic",
}


# A glyph in front of each table, so its state shows even in a narrow tree.
STATE_GLYPH = {
    "ok": "●",
    "stale": "▲",
    "unreadable": "✗",
    "error": "✗",
    "not evaluated": "○",
    "checking": "…",
}


# what a filter keeps whenever it matched: the leaves (a section or group
# stays when one of them does)
KEPT_KINDS = ("table", "param", "override", "entry", "more", "message", "pfa-item", "class-item",
              "table-link", "warning")


@dataclass
class NodeRef:
    """What a tree node stands for."""

    kind: str          # section, param, allparams, service, override, table, entry, more,
                       # pfa, pfa-group, pfa-item, class, class-item, message
    key: str = ""      # parameter name, service name, table spec, ...
    extra: Any = None  # kind-specific payload
    search: str | None = None
    loaded: int = 0    # table nodes: entries shown so far
    children_built: bool = False
    service: str | None = None
    tags: list[str] = field(default_factory=list)


def short(value: str, n: int = 48) -> str:
    value = " ".join(value.split())
    return value if len(value) <= n else value[: n - 1] + "…"


def reason(message: str) -> str:
    """The most specific part of an error message (after its file/spec prefix)."""
    parts = [p.strip() for p in message.split(": ") if p.strip()]
    tail = [p for p in parts if not p.startswith(("/", "proxy:", "mysql:", "sqlite:"))]
    return ": ".join(tail[-2:]) if tail else message


def matches(text: str, needle: str | None) -> bool:
    return not needle or needle.lower() in text.lower()


def same(a: NodeRef, b: NodeRef) -> bool:
    return a.kind == b.kind and a.key == b.key and a.service == b.service
