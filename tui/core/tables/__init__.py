"""Postfix lookup tables: one interface over every table family.

    t = open_table("hash:/etc/postfix/access", view)
    t.lookup("user@example.com") -> LookupResult

open_table() never raises for a bad table: the returned Table's `status`
says why it is unusable, and lookup() returns LookupResult(error=...).
A lookup never raises either (a MySQL server that is down, a file that
cannot be read): errors are values.

One module per family:
  files.py    hash, btree, lmdb, cdb, dbm, sdbm (read from the source text
              file beside the compiled one) and texthash
  regexp.py   regexp and pcre (translated to Python `re`)
  cidr.py     cidr
  inline.py   inline:{...}, static:, fail:
  sql.py      the query language shared by mysql.py and sqlite.py
  unix.py     unix:passwd.byname
  compose.py  unionmap:{...} and pipemap:{...}
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from tui.core.model import Diagnostic

# Types the engine knows Postfix has but cannot evaluate from here.
NOT_EVALUATED_TYPES = frozenset({
    "ldap", "pgsql", "memcache", "socketmap", "tcp", "nis", "nisplus",
    "netinfo", "sdbm_remote", "environ", "internal", "randmap",
    "lmdb_remote", "mongodb", "ssl",
})

INDEXED_TYPES = ("hash", "btree", "lmdb", "cdb", "dbm", "sdbm")

State = Literal["ok", "stale", "unreadable", "not evaluated"]


@dataclass(frozen=True)
class TableStatus:
    state: State
    message: str = ""
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic] = field(default_factory=tuple)

    @property
    def usable(self) -> bool:
        return self.state in ("ok", "stale")

    def __str__(self) -> str:
        return f"{self.state}: {self.message}" if self.message else self.state


@dataclass(frozen=True)
class LookupResult:
    found: bool
    value: str | None = None
    error: str | None = None
    key: str = ""
    where: str | None = None


@dataclass(frozen=True)
class Entry:
    key: str
    value: str
    line: int | None = None


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
            from tui.core.tables.inline import inline_rules
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


def open_table(spec: str, view=None, aliases: bool | None = None) -> Table:
    """Open the table `spec` ("type:name"). Never raises: problems are in
    the returned Table's status, and its lookups return errors.

    aliases: read an indexed table's source in aliases(5) format, as
    postalias compiles it (True), postmap's format (False), or decide from
    the view (None): aliases(5) when the spec is named in the view's
    alias_maps or alias_database."""
    fold = Folder(_utf8_from_view(view))
    try:
        if aliases is None:
            aliases = _named_as_alias(spec, view)
        return _open(spec, view, fold, spec, bool(aliases))
    except Exception as exc:  # a bug or an unexpected OS error: still a value
        type_, name = split_spec(spec)
        return UnusableTable(spec, type_ or "?", name, "unreadable", f"cannot open table: {_scrub_exc(exc)}", fold=fold)


# Table types that open_table() builds from the spec, the fold and (indexed
# types) the aliases(5) choice alone: nothing else of the view reaches them.
_VIEW_FREE_TYPES = frozenset(INDEXED_TYPES) | {"texthash", "regexp", "pcre", "cidr", "inline", "static",
                                               "fail"}


def view_signature(spec: str, view):
    """All that open_table(spec, view) takes from `view`, as a hashable
    value, for the table types that take nothing else from it (file maps,
    regexp/pcre, cidr, inline/static): (smtputf8_enable, read as aliases(5)).
    Two views with the same signature get the same table -- the way
    trivial-rewrite and smtpd, each with its own parameters, read the same
    file. None for the types that read more of the view (SQL, unionmap, ...)."""
    inner = spec.strip()
    while True:
        type_, name = split_spec(inner)
        if type_ != "proxy":
            break
        inner = name
    if type_ not in _VIEW_FREE_TYPES:
        return None
    return (_utf8_from_view(view), type_ in INDEXED_TYPES and _named_as_alias(spec, view))


def _named_as_alias(spec: str, view) -> bool:
    """Is the indexed table `spec` named in alias_maps or alias_database
    (as written, or with/without proxy:)?"""
    if view is None:
        return False
    inner = spec.strip()
    while inner.lower().startswith("proxy:"):
        inner = inner[6:]
    if split_spec(inner)[0] not in INDEXED_TYPES:
        return False
    from tui.core.inventory import list_tokens

    for param in ("alias_maps", "alias_database"):
        try:
            items = list_tokens(view, param)
        except Exception:
            continue
        for item in items:
            it = item.strip()
            while it.lower().startswith("proxy:"):
                it = it[6:]
            if it == inner:
                return True
    return False


def _open(spec: str, view, fold: Folder, outer_spec: str, aliases: bool = False) -> Table:
    type_, name = split_spec(spec)
    if not type_:
        return UnusableTable(outer_spec, "?", name, "unreadable",
                             f'"{spec}" is not a lookup table (expected type:name)', fold=fold)
    if type_ == "proxy":
        inner = _open(name, view, fold, outer_spec, aliases)
        return inner
    if type_ in INDEXED_TYPES and aliases:
        from tui.core.tables.files import AliasTable
        return AliasTable(outer_spec, type_, name, fold)
    if type_ in INDEXED_TYPES or type_ == "texthash":
        from tui.core.tables.files import FileTable
        return FileTable(outer_spec, type_, name, fold)
    if type_ in ("regexp", "pcre"):
        from tui.core.tables.regexp import RegexpTable
        return RegexpTable(outer_spec, type_, name, fold, utf8=fold.utf8)
    if type_ == "cidr":
        from tui.core.tables.cidr import CidrTable
        return CidrTable(outer_spec, type_, name, fold)
    if type_ in ("inline", "static", "fail"):
        from tui.core.tables import inline
        return inline.open_inline(outer_spec, type_, name, fold)
    if type_ == "mysql":
        from tui.core.tables.mysql import MysqlTable
        return MysqlTable(outer_spec, type_, name, fold, view)
    if type_ == "sqlite":
        from tui.core.tables.sqlite import SqliteTable
        return SqliteTable(outer_spec, type_, name, fold, view)
    if type_ in ("unionmap", "pipemap"):
        from tui.core.tables.compose import open_composed
        return open_composed(outer_spec, type_, name, fold, view, open_table)
    if type_ == "unix":
        from tui.core.tables.unix import UnixTable
        return UnixTable(outer_spec, type_, name, fold)
    if type_ in NOT_EVALUATED_TYPES:
        return UnusableTable(outer_spec, type_, name, "not evaluated",
                             f"{type_} tables are not evaluated by the explorer "
                             f"(ask the server: postmap -q KEY {spec})",
                             evaluable=False, fold=fold)
    return UnusableTable(outer_spec, type_, name, "unreadable",
                         f'unsupported dictionary type: {type_}', fold=fold)


__all__ = [
    "open_table", "Table", "LookupResult", "Entry", "TableStatus", "Folder",
    "split_spec", "NOT_EVALUATED_TYPES", "INDEXED_TYPES", "view_signature",
]


def source_lines(path: str) -> str:
    """Read a table source as text; undecodable bytes survive round trips."""
    with open(path, "rb") as fh:
        data = fh.read()
    return data.decode("utf-8", "surrogateescape")


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
