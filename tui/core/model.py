"""Small value types shared by every part of the engine.

Every value the explorer shows says where it came from (a Source), and every
problem found while loading is a Diagnostic naming file and line: errors are
values, never tracebacks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Source:
    """Where a parameter value (or a list entry) came from.

    kind:
      "main.cf"   -- path/line of the `name = value` line in main.cf
      "master.cf" -- path/line of the `-o` in master.cf; service names it
      "default"   -- Postfix's built-in default (postconf -d)
      "host"      -- a default that Postfix computes from this host
                     (myhostname, mydomain, mynetworks, ...)
    """

    kind: Literal["main.cf", "master.cf", "default", "host"]
    path: str | None = None
    line: int | None = None
    service: str | None = None
    note: str | None = None  # e.g. "compatibility_level 0"

    def __str__(self) -> str:
        if self.kind == "main.cf":
            return f"main.cf:{self.line}"
        if self.kind == "master.cf":
            return f"master.cf:{self.line} (-o on {self.service})"
        if self.kind == "host":
            return "default (computed from this host)"
        if self.note:
            return f"default ({self.note})"
        return "default"

    def to_json(self) -> dict:
        d: dict[str, object] = {"kind": self.kind, "text": str(self)}
        if self.path is not None:
            d["path"] = self.path
        if self.line is not None:
            d["line"] = self.line
        if self.service is not None:
            d["service"] = self.service
        return d


@dataclass(frozen=True)
class Diagnostic:
    """A problem found while loading or evaluating: file, line, message."""

    severity: Literal["error", "warning"]
    message: str
    path: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f", line {self.line}" if self.line else "") + ": "
        return f"{self.severity}: {where}{self.message}"


class ExplorerError(Exception):
    """Base of the project's own errors; anything else escaping is a bug."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f", line {self.line}" if self.line else "") + ": "
        return where + self.message
