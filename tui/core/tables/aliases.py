"""Alias databases: aliases(5) source compiled by postalias (AliasTable).

Its rules are postalias's; the index is read, checked and answered from as
for any FileTable (tables/files.py). postalias splits each line with
Postfix's RFC 822 tokenizer (tui.core.tok822).
"""
from __future__ import annotations

from tui.core.model import Diagnostic
from tui.core.tok822 import externalize as tok822_externalize, internalize as tok822_internalize, \
    scan as tok822_scan
from tui.core.tables.base import Entry, LookupResult, _valid_utf8, entries_page, logical_lines
from tui.core.tables.files import _MAX_DIAGS, _WS, FileTable
from tui.core.tables.index_status import shorten
from tui.core.tables.indexed import IndexFormatError, dict_get

class AliasTable(FileTable):
    """An alias database: aliases(5) source compiled by postalias.

    Postfix cannot tell from the .db which tool built it; the explorer reads
    a source as aliases(5) when the table is named in alias_maps or
    alias_database, or when asked to (open_table(..., aliases=True)).
    postalias's rules (checked against postalias 3.7.11 by
    tests/oracle/test_postalias.py):

      * logical lines, comments and continuation lines as for postmap;
      * with smtputf8 on, a logical line that is not UTF-8 is ignored;
      * the line is split into RFC 822 tokens (atoms, "quoted strings",
        (comments), [domain literals], and the operators |%!"(),.:;<>@[]);
        a backslash quotes the next character;
      * the name is everything before the FIRST ':' token -- so a quoted
        name may contain blanks, colons or '@' -- and the value everything
        after it; no ':', nothing before it, nothing after it or a ',' in
        the name is "need name:value pair" (the line is ignored); an '@' or '%' token
        in the name is "name must be local" (ignored);
      * the name is stored unquoted (tokens joined, a blank between two
        words), the value re-quoted (tokens joined with ", " after commas
        and a blank between two words or before '<'), so "a,   b" is
        "a, b" and "|cmd arg" keeps its quotes;
      * names are folded to lower case; for a duplicate name the FIRST one
        wins (postalias warns "duplicate entry");
      * postalias adds the entry "@" -> "@" (Sendmail's completeness mark)
        unless the source defines "@" itself (a quoted "@" name).
    """

    _fast_lookup = False  # its entries are in _aliases, not _index

    builder = "postalias"
    # postalias's NIS entries (stored without a NUL; a lookup, folded to
    # lower case, never finds them)
    _builder_keys = frozenset({b"YP_LAST_MODIFIED", b"YP_MASTER_NAME"})

    def _parse(self, data: bytes) -> None:
        self._data = b""  # values are kept parsed; the bytes are not needed
        text = data.decode("utf-8", "surrogateescape")
        fold = self.fold
        utf8 = fold.utf8
        index: dict[str, tuple[str, int | None]] = {}
        diags = self._diags
        dups = 0
        for no, line in logical_lines(text):
            if no < 0:
                diags.append(Diagnostic("warning", "logical line must not start with whitespace: "
                                        f'"{shorten(line.strip(_WS))}" -- ignoring this line',
                                        self.path, -no))
                continue
            if utf8 and not line.isascii() and not _valid_utf8(line):
                shown = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\ufffd", "?")
                diags.append(Diagnostic("warning", f'non-UTF-8 input "{shorten(shown)}" -- '
                                        "ignoring this line", self.path, no))
                continue
            toks = tok822_scan(line)
            if not toks:
                continue
            colon = next((i for i, t in enumerate(toks) if t[0] == ":"), None)
            if (colon is None or colon == 0 or colon == len(toks) - 1
                    or any(t[0] == "," for t in toks[:colon])):  # one name, not a list
                diags.append(Diagnostic("warning", "need name:value pair -- ignoring this line",
                                        self.path, no))
                continue
            if any(t[0] in ("@", "%") for t in toks[:colon]):
                diags.append(Diagnostic("warning", "name must be local -- ignoring this line",
                                        self.path, no))
                continue
            key = fold(tok822_internalize(toks[:colon]))
            value = tok822_externalize(toks[colon + 1:])
            first = index.get(key)
            if first is not None:
                dups += 1
                if dups <= _MAX_DIAGS:
                    diags.append(Diagnostic("warning", f'duplicate entry: "{key}" (the first one, '
                                            f"line {first[1]}, wins)", self.path, no))
                continue
            index[key] = (value, no)
        if dups > _MAX_DIAGS:
            diags.append(Diagnostic("warning", f"{dups - _MAX_DIAGS} more duplicate entries",
                                    self.path, None))
        if "@" in index:  # a quoted "@" name: postalias's own "@: @" entry is the duplicate
            diags.append(Diagnostic("warning", 'duplicate entry: "@" (the one on line '
                                    f'{index["@"][1]} wins over the "@: @" entry postalias adds)',
                                    self.path, index["@"][1]))
        index.setdefault("@", ("@", None))  # postalias's "@:@" entry
        diags.sort(key=lambda d: d.line or 0)
        self._aliases = index
        self._src_index = {}  # marks the table loaded (FileTable._load)
        if diags:
            st = self._status
            self._set_status(st.state, st.message, diags)

    def _index_problem(self) -> str | None:
        # postalias always stores "@" -> "@" (Sendmail's completeness mark);
        # an index without it was not built by postalias -- most often
        # `postmap` run on the aliases file, whose keys keep their colon
        # ("postmaster:"), so no alias is found by its name
        try:
            if dict_get(self._reader, "@") is not None:
                return None
        except (IndexFormatError, OSError) as exc:
            return f"error reading {self.index_path}: {exc} -- run {self.fix_command()}"
        return (f"{self.index_path} was not built by postalias (it lacks the \"@\" entry postalias "
                f"adds; built by postmap, its keys keep the colon, e.g. \"postmaster:\") -- Postfix "
                f"answers from this index; run {self.fix_command()}")

    def _source_items(self):
        for key, (value, line) in self._aliases.items():
            yield key, value, line

    def _source_pairs(self):
        for key, (value, _line) in self._aliases.items():
            yield key, value

    def _source_get(self, fkey: str):
        return self._aliases.get(fkey)

    def _lookup(self, key: str) -> LookupResult:
        if self.reads_index:
            return self._index_lookup(key)
        if not self._load():
            return LookupResult(False, None, self._load_error, key)
        hit = self._aliases.get(self.fold(key))
        if hit is None:
            return LookupResult(False, None, None, key)
        value, line = hit
        where = f"{self.path}:{line}" if line is not None else \
            f'{self.path}: the "@: @" entry postalias adds'
        return LookupResult(True, value, None, key, where)

    def _where(self, fkey: str, value: str) -> str:
        if self._load():
            got = self._aliases.get(fkey)
            if got is not None and got[0] == value:
                return f"{self.path}:{got[1]}" if got[1] is not None else \
                    f'{self.path}: the "@: @" entry postalias adds'
        return self.index_path or self.path

    def _count(self) -> int | None:
        if not self._load():
            return self._index_count()
        return len(self._aliases)

    def _entries(self, offset, limit, search):
        if not self._load():
            return self._index_entries(offset, limit, search)
        s = search.lower() if search else None
        return entries_page((Entry(key, value, line) for key, (value, line) in self._aliases.items()
                             if not s or s in key or s in value.lower()), offset, limit)

    def close(self) -> None:
        super().close()
        self._aliases = {}
