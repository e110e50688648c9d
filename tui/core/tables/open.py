"""Opening a table: one spec ("type:name") -> the Table of its family.

Each family's module is imported when a table of that family is first
opened: a configuration without SQL tables never loads sqlite3 or the
MySQL client code, one without regexp tables not the regexp compiler
(start-up time of the command line).
"""
from __future__ import annotations

from tui.core.config.params import param_list
from tui.core.tables import base as _base
from tui.core.tables.base import (INDEXED_TYPES, NOT_EVALUATED_TYPES, Folder, Table, UnusableTable,
                                  _scrub_exc, _utf8_from_view, split_spec)


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
    for param in ("alias_maps", "alias_database"):
        for item in param_list(view, param):
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
        from tui.core.tables.aliases import AliasTable

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
        from tui.core.tables.inline import open_inline

        return open_inline(outer_spec, type_, name, fold)
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


_base._OPENER[:] = [open_table]
