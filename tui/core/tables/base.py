"""What every lookup table is: Table, its status, lookup results, entries, and
the text helpers the table families share."""
from __future__ import annotations

import os
from itertools import islice
from typing import Iterable, Literal

from tui.core import safeio
from tui.core.model import Diagnostic, FrozenRecord
from tui.core.tables.inline_syntax import inline_rules

# Types the engine knows Postfix has but cannot evaluate from here.
NOT_EVALUATED_TYPES = frozenset({
    "ldap", "pgsql", "memcache", "socketmap", "tcp", "nis", "nisplus",
    "netinfo", "sdbm_remote", "environ", "internal", "randmap",
    "lmdb_remote", "mongodb", "ssl",
})

INDEXED_TYPES = ("hash", "btree", "lmdb", "cdb", "dbm", "sdbm")

State = Literal["ok", "stale", "unreadable", "not evaluated"]


_set = object.__setattr__


class TableStatus(FrozenRecord):
    __slots__ = _fields = ("state", "message", "diagnostics")
    state: State
    message: str
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]

    def __init__(self, state: State, message: str = "",
                 diagnostics: tuple[Diagnostic, ...] | list[Diagnostic] = ()):
        _set(self, "state", state)
        _set(self, "message", message)
        _set(self, "diagnostics", diagnostics)

    @property
    def usable(self) -> bool:
        return self.state in ("ok", "stale")

    def __str__(self) -> str:
        return f"{self.state}: {self.message}" if self.message else self.state


class LookupResult(FrozenRecord):
    __slots__ = _fields = ("found", "value", "error", "key", "where")
    found: bool
    value: str | None
    error: str | None
    key: str
    where: str | None

    def __init__(self, found: bool, value: str | None = None, error: str | None = None, key: str = "",
                 where: str | None = None):
        _set(self, "found", found)
        _set(self, "value", value)
        _set(self, "error", error)
        _set(self, "key", key)
        _set(self, "where", where)


class Entry(FrozenRecord):
    __slots__ = _fields = ("key", "value", "line")
    key: str
    value: str
    line: int | None

    def __init__(self, key: str, value: str, line: int | None = None):
        _set(self, "key", key)
        _set(self, "value", value)
        _set(self, "line", line)


OK = TableStatus("ok", "")


class Table:
    """Base of every table. Subclasses implement _lookup (and, for tables
    with enumerable contents, _count/_entries)."""

    type: str = ""
    is_pattern: bool = False
    evaluable: bool = True

    def __init__(self, spec: str, type_: str, name: str, fold: "Folder | None" = None):
        self.spec = spec
        self.type = type_
        self.name = name
        self.fold = fold or Folder(utf8=True)
        self._status: TableStatus = OK

    # -- status ---------------------------------------------------------
    @property
    def status(self) -> TableStatus:
        return self._status

    def _set_status(self, state: State, message: str, diagnostics=()) -> None:
        self._status = TableStatus(state, message, tuple(diagnostics))

    def _rule_source(self, name: str, text: str | None) -> str | None:
        """The rule text of a pattern table (regexp, pcre, cidr): TEXT when
        given, the rules of an inline `{ ... }` name, or the file NAME.
        Sets self.path to what diagnostics should name. On failure the
        status says why and None is returned."""
        self.path = name
        if name.startswith("{"):
            try:
                text = "\n".join(inline_rules(name))
            except ValueError as exc:
                self._set_status("unreadable", f"{self.spec}: {exc}")
                return None
            self.path = self.spec
        if text is None:
            try:
                text = source_lines(name)
            except OSError as exc:
                self._set_status("unreadable", f"cannot read {name}: {exc.strerror or exc}")
                return None
        return text

    # -- lookups --------------------------------------------------------
    def lookup(self, key: str) -> LookupResult:
        try:
            if self.fold.utf8 and not key.isascii() and not _valid_utf8(key):
                # Postfix with smtputf8: 'non-UTF-8 key "...": malformed UTF-8
                # or invalid codepoint' -- not found, whatever the table type
                return LookupResult(False, None, None, key, "not looked up: the key is not valid UTF-8")
            return self._lookup(key)
        except Exception as exc:  # never raise out of a lookup
            return LookupResult(False, None, f"{self.spec}: lookup failed: {_scrub_exc(exc)}", key)

    def _lookup(self, key: str) -> LookupResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def count(self) -> int | None:
        try:
            return self._count()
        except Exception:
            return None

    def _count(self) -> int | None:
        return None

    def entries(self, offset: int = 0, limit: int = 100, search: str | None = None) -> list[Entry]:
        try:
            return self._entries(max(0, offset), max(0, limit), search)
        except Exception:
            return []

    def _entries(self, offset: int, limit: int, search: str | None) -> list[Entry]:
        return []

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec!r} {self._status.state}>"

    __str__ = __repr__

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Folder:
    """Case folding of fixed-string keys (DICT_FLAG_FOLD_FIX), as postmap
    does it: ASCII lower case, or full Unicode case folding when
    smtputf8_enable is on (Postfix then folds with casefold_utf8)."""

    def __init__(self, utf8: bool = True):
        self.utf8 = utf8

    def __call__(self, key: str) -> str:
        if key.isascii():
            return key.lower()
        if self.utf8:
            return key.casefold()
        return key.encode("utf-8", "surrogateescape").lower().decode("utf-8", "surrogateescape")


def entries_page(entries: Iterable[Entry], offset: int, limit: int) -> list[Entry]:
    """Entries offset .. offset + limit - 1 of ENTRIES (already filtered by
    the search), reading no further than that."""
    return list(islice(entries, offset, offset + max(limit, 0)))


def _valid_utf8(key: str) -> bool:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes that were not UTF-8
        return False
    return True


def _scrub_exc(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text


def split_spec(spec: str) -> tuple[str, str]:
    """"type:name" -> (type, name). A bare "/path" is not a table spec."""
    spec = spec.strip()
    i = spec.find(":")
    if i <= 0:
        return "", spec
    return spec[:i].lower(), spec[i + 1:]


def _utf8_from_view(view) -> bool:
    if view is None:
        return True
    try:
        return bool(view.get_bool("smtputf8_enable"))
    except Exception:
        return True


class UnusableTable(Table):
    """A table that cannot be used at all: lookups return the reason."""

    def __init__(self, spec, type_, name, state: State, message: str, diagnostics=(), evaluable=True, fold=None):
        super().__init__(spec, type_, name, fold)
        self.evaluable = evaluable
        self._set_status(state, message, diagnostics)

    def _lookup(self, key: str) -> LookupResult:
        return LookupResult(False, None, f"{self.spec}: {self._status.message}", key)

    def _count(self):
        return None


def source_lines(path: str) -> str:
    """Read a table source as text; undecodable bytes survive round trips."""
    return safeio.read_text(path)  # a FIFO or a device is refused, not waited on


def logical_lines(text: str):
    """Yield (line_number, logical_line) with Postfix's readllines() rules:
    comments (first non-blank '#') and blank lines are skipped, a line that
    starts with whitespace continues the previous logical line (appended
    as-is, without the newline), even across comment/blank lines. A leading
    continuation line with nothing to continue is yielded with number
    -lineno so callers can warn about it."""
    cur = None
    cur_no = 0
    for no, line in enumerate(text.split("\n"), 1):
        s = line.lstrip(" \t\r\f\v")
        if not s or s[0] == "#":
            continue
        if line[0] in " \t\r\f\v":
            if cur is None:
                yield -no, line
                continue
            cur += line
            continue
        if cur is not None:
            yield cur_no, cur
        cur, cur_no = line, no
    if cur is not None:
        yield cur_no, cur


def strip_ws(s: str) -> str:
    return s.strip(" \t\r\n\f\v")


def file_mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


# Tables that open other tables (an SQL table's domain = type:table) call
# open_table() below; tui.core.tables.open registers the real opener when it
# is imported (tui.core.tables imports it), so the table families need not
# import the module that imports them.
_OPENER: list = []


def open_table(spec: str, view=None, aliases: bool | None = None) -> Table:
    """tui.core.tables.open_table (see there)."""
    return _OPENER[0](spec, view, aliases)
