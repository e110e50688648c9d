"""inline:{...}, static:value and fail:name tables.

inline:{ k=v, { k = v with spaces } }  -- elements are separated by commas
or whitespace; an element in braces may contain whitespace; each element is
name=value (blanks around '=' allowed inside braces). Keys are folded to
lower case; a duplicate key: the LAST one wins (postmap 3.7 does so,
silently). A syntax error makes the whole table unusable, as in Postfix
("need inline:{name=value...}").

static:value, static:{ value with spaces }: every key finds that value.
fail:name: every lookup fails with an error.
"""
from __future__ import annotations

from tui.core.tables.base import Entry, LookupResult, Table, UnusableTable
from tui.core.config.mystrtok import _WS, extpar, tokenize
from tui.core.tables.inline_syntax import split_nameval

class InlineTable(Table):
    is_pattern = False

    def __init__(self, spec, type_, name, fold):
        super().__init__(spec, type_, name, fold)
        self.items: dict[str, str] = {}
        self._set_status("ok", "inline table")
        if not (name.startswith("{") and name.endswith("}")) or not name[1:-1].strip(_WS):
            self._set_status("unreadable", f'bad syntax: "{spec}"; need "inline:{{name=value...}}"')
            return
        try:
            for tok in tokenize(name[1:-1]):
                k, v = split_nameval(extpar(tok))
                self.items[fold(k)] = v
        except ValueError as exc:
            self.items = {}
            self._set_status("unreadable", f'{exc}: "{spec}"; need "inline:{{name=value...}}"')

    def _lookup(self, key):
        if not self.status.usable:
            return LookupResult(False, None, self.status.message, key)
        v = self.items.get(self.fold(key))
        if v is None:
            return LookupResult(False, None, None, key)
        return LookupResult(True, v, None, key, self.spec)

    def _count(self):
        return len(self.items)

    def _entries(self, offset, limit, search):
        items = [(k, v) for k, v in self.items.items()
                 if not search or search.lower() in (k + " " + v).lower()]
        return [Entry(k, v, None) for k, v in items[offset:offset + limit]]


class StaticTable(Table):
    is_pattern = False

    def __init__(self, spec, type_, name, fold, value):
        super().__init__(spec, type_, name, fold)
        self.value = value
        self._set_status("ok", "every key finds the same value")

    def _lookup(self, key):
        return LookupResult(True, self.value, None, key, self.spec)

    def _count(self):
        return None

    def _entries(self, offset, limit, search):
        if offset == 0 and limit > 0 and (not search or search.lower() in self.value.lower()):
            return [Entry("*", self.value, None)]
        return []


class FailTable(Table):
    def __init__(self, spec, type_, name, fold):
        super().__init__(spec, type_, name, fold)
        self._set_status("ok", "every lookup fails (fail: table)")

    def _lookup(self, key):
        return LookupResult(False, None, f"table {self.spec}: query error: Application error", key, self.spec)


def open_inline(spec: str, type_: str, name: str, fold) -> Table:
    if type_ == "inline":
        return InlineTable(spec, type_, name, fold)
    if type_ == "fail":
        if not name:
            return UnusableTable(spec, type_, name, "unreadable",
                                 f'expecting "type:name" form instead of "{spec}"', fold=fold)
        return FailTable(spec, type_, name, fold)
    # static
    if not name:
        return UnusableTable(spec, type_, name, "unreadable",
                             f'expecting "type:name" form instead of "{spec}"', fold=fold)
    if name.startswith("{"):
        if not name.endswith("}"):
            return UnusableTable(spec, type_, name, "unreadable",
                                 f'bad static:name syntax: missing \'}}\' in "{name}"', fold=fold)
        value = name[1:-1].strip(_WS)
    else:
        value = name
    return StaticTable(spec, type_, name, fold, value)
