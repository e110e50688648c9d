"""Asking tables as the Postfix library does (global/maps.c, util/dict.h).

The library functions here and trivial-rewrite (tui.core.rewrite) ask
tables through a `Tables` value their caller passes in; they never open,
keep or forget a table themselves. tui.core.cache.TableCache is the one
the engine passes (it keeps tables open and answers remembered); anything
with the same two members will do.
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence

# (found, value, error): value is the table's str when found, else None
LookupAnswer = tuple[bool, Any, "str | None"]


def maps_create_error(specs: Sequence[str]) -> str | None:
    """The fatal message of maps_create() (dict_open()) for a list of
    tables: a daemon that opens them exits on the first entry that is not
    type:name with both parts. None when every entry is (an unknown type
    or a missing file is a lookup error later, not an exit)."""
    for spec in specs:
        kind, colon, name = spec.partition(":")
        if not colon:
            return f'fatal: open dictionary: expecting "type:name" form instead of "{spec}"'
        if not kind or not name:
            return f'fatal: open dictionary: expecting "type:name" form instead of "{kind}:{name}"'
    return None


class TableFailure(Exception):
    """A table lookup failed (Postfix: dict->error != 0)."""

    def __init__(self, table: str, message: str, lookups: list | None = None):
        super().__init__(f"{table}: {message}")
        self.table = table
        self.message = message
        self.lookups = lookups or []


class Tables(Protocol):
    """What the library functions need of the tables.

    lookup(): one dict_get() of the table SPEC as VIEW's process opens it;
    records a Lookup in LOOKUPS and returns (found, value, error).
    partial=True is Postfix's DICT_FLAG_FIXED query: a pattern table
    (regexp, pcre, cidr) is not asked (not found, nothing recorded).

    config_memo: a dict kept as long as the configuration, for what the
    configuration alone decides (tui.core.postfix.addr_conf)."""

    config_memo: dict

    def lookup(self, view: Any, spec: str, key: str, lookups: list,
               partial: bool = False) -> LookupAnswer: ...


def is_table(item: str) -> bool:
    """Is a list item a type:table (match_list.c MATCH_DICTIONARY)?"""
    return not item.startswith("[") and ":" in item


def maps_find(tables: Tables, view, specs: Sequence[str], key: str, lookups: list,
              partial: bool = False):
    """maps_find(): each table in order; (value, None, spec) of the first
    hit, (None, error, spec) of the first error, else (None, None, None)."""
    lookup = tables.lookup
    for spec in specs:
        found, value, err = lookup(view, spec, key, lookups, partial)
        if found:
            return value, None, spec
        if err:
            return None, err, spec
    return None, None, None
