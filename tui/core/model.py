"""Small value types shared by every part of the engine.

Every value the explorer shows says where it came from (a Source), and every
problem found while loading is a Diagnostic naming file and line: errors are
values, never tracebacks.
"""
from __future__ import annotations

from operator import attrgetter
from typing import Any, ClassVar, Literal


class Record:
    """Base of the engine's small value classes: a subclass names its fields
    in `_fields` (after its bases' fields) and writes its __init__; equality,
    repr and (FrozenRecord) hash and immutability are the ones a dataclass
    would generate. A dataclass costs ~0.4 ms at import (it compiles its
    methods); the command line creates dozens of these classes at start-up.

    Equal when of the same class and equal field by field; a Record is
    unhashable (it can change), a FrozenRecord hashes its fields."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _all_fields: ClassVar[tuple[str, ...]] = ()
    _values: ClassVar[Any]   # instance -> the tuple of its fields' values

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("_fields", ()):
                if name not in names:
                    names.append(name)
        cls._all_fields = tuple(names)
        if len(names) > 1:
            cls._values = attrgetter(*names)        # the fields' values as a tuple
        else:
            cls._values = lambda self: tuple(getattr(self, name) for name in names)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(self._values(self) == self._values(other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (self.__class__.__qualname__ + "("
                + ", ".join(f"{name}={getattr(self, name)!r}" for name in self._all_fields) + ")")

    def replace(self, **changes: Any) -> Any:
        """A copy with CHANGES (dataclasses.replace for a Record; every
        subclass's __init__ takes its fields by name)."""
        values = {name: getattr(self, name) for name in self._all_fields}
        values.update(changes)
        return self.__class__(**values)


class FrozenRecord(Record):
    """A Record whose fields cannot be assigned after __init__ (which sets
    them with object.__setattr__, as a frozen dataclass does)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values(self))

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError   # (the module costs ~8 ms at import)

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")


_set = object.__setattr__


class Source(FrozenRecord):
    """Where a parameter value (or a list entry) came from.

    kind:
      "main.cf"   -- path/line of the `name = value` line in main.cf
      "master.cf" -- path/line of the `-o` in master.cf; service names it
      "default"   -- Postfix's built-in default (postconf -d)
      "host"      -- a default that Postfix computes from this host
                     (myhostname, mydomain, mynetworks, ...)
    """

    __slots__ = _fields = ("kind", "path", "line", "service", "note")
    kind: Literal["main.cf", "master.cf", "default", "host"]
    path: str | None
    line: int | None
    service: str | None
    note: str | None  # e.g. "compatibility_level 0"

    def __init__(self, kind: Literal["main.cf", "master.cf", "default", "host"], path: str | None = None,
                 line: int | None = None, service: str | None = None, note: str | None = None):
        _set(self, "kind", kind)
        _set(self, "path", path)
        _set(self, "line", line)
        _set(self, "service", service)
        _set(self, "note", note)

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


class Diagnostic(FrozenRecord):
    """A problem found while loading or evaluating: file, line, message."""

    __slots__ = ("severity", "message", "path", "line")
    _fields: ClassVar[tuple[str, ...]] = __slots__
    severity: Literal["error", "warning"]
    message: str
    path: str | None
    line: int | None

    def __init__(self, severity: Literal["error", "warning"], message: str, path: str | None = None,
                 line: int | None = None):
        _set(self, "severity", severity)
        _set(self, "message", message)
        _set(self, "path", path)
        _set(self, "line", line)

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
