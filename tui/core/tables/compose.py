"""unionmap:{t1, t2, ...} and pipemap:{t1, t2, ...} (Postfix 3.0+).

unionmap: every table is asked; the non-empty results of those that found
the key are joined with commas (in table order). pipemap: the key goes to the
first table, each result is the key of the next, the last one's result is
the answer; no result anywhere means not found. An error in any table is
the error of the whole lookup.
"""
from __future__ import annotations

from tui.core.tables.base import LookupResult, Table, UnusableTable
from tui.core.config.mystrtok import tokenize


class ComposedTable(Table):
    def __init__(self, spec, type_, name, fold, view, opener):
        super().__init__(spec, type_, name, fold)
        self.tables: list[Table] = []
        if not (name.startswith("{") and name.endswith("}")) or not tokenize(name[1:-1]):
            self._set_status("unreadable", f'bad syntax: "{spec}"; need "{type_}:{{type:name...}}"')
            return
        for tok in tokenize(name[1:-1]):
            self.tables.append(opener(tok, view))
        self.is_pattern = any(t.is_pattern for t in self.tables)
        self.evaluable = all(t.evaluable for t in self.tables)
        bad = [t for t in self.tables if not t.status.usable]
        if bad:
            worst = bad[0].status
            self._set_status(worst.state, f"{bad[0].spec}: {worst.message}")
        else:
            stale = [t for t in self.tables if t.status.state == "stale"]
            self._set_status("stale" if stale else "ok",
                             f"{stale[0].spec}: {stale[0].status.message}" if stale else
                             f"{len(self.tables)} tables")

    def _lookup(self, key: str) -> LookupResult:
        if not self.tables:
            return LookupResult(False, None, f"{self.spec}: {self.status.message}", key)
        if self.type == "unionmap":
            values, wheres = [], []
            for t in self.tables:
                r = t.lookup(key)
                if r.error:
                    return LookupResult(False, None, r.error, key, t.spec)
                if r.found and r.value:  # empty results are left out (postmap 3.7)
                    values.append(r.value)
                    wheres.append(r.where or t.spec)
            if not values:
                return LookupResult(False, None, None, key)
            return LookupResult(True, ",".join(values), None, key, "; ".join(wheres))
        # pipemap
        cur, wheres = key, []
        for t in self.tables:
            r = t.lookup(cur)
            if r.error:
                return LookupResult(False, None, r.error, key, t.spec)
            if not r.found:
                return LookupResult(False, None, None, key, f"{t.spec}: no result for {cur!r}")
            cur = r.value or ""
            wheres.append(r.where or t.spec)
        return LookupResult(True, cur, None, key, " -> ".join(wheres))

    def close(self) -> None:
        for t in self.tables:
            t.close()


def open_composed(spec, type_, name, fold, view, opener) -> Table:
    try:
        return ComposedTable(spec, type_, name, fold, view, opener)
    except Exception as exc:  # pragma: no cover - defensive
        return UnusableTable(spec, type_, name, "unreadable", str(exc), fold=fold)
