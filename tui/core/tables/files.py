"""Indexed tables (hash, btree, lmdb, cdb, dbm, sdbm) and texthash.

Indexed tables are read from their SOURCE text file -- the table name
without suffix, the file `postmap` compiles -- with postmap's rules:

  * blank lines and lines whose first non-blank character is '#' are skipped;
  * a line starting with whitespace continues the previous logical line
    (joined as-is, without the newline), even across comments;
  * key = text up to the first blank, value = the rest, surrounding blanks
    trimmed; a line without a value is ignored ("expected format: key
    whitespace value");
  * keys are folded to lower case (DICT_FLAG_FOLD_FIX);
  * for a duplicate key the FIRST line wins (postmap warns "duplicate
    entry" and keeps the first one: checked against postmap 3.7).

When the compiled file (.db, .lmdb, .cdb, .dir/.pag) is missing or older than
the source, Postfix sees something else than the source says: the status is
"stale" ("run postmap").

Loading is lazy and line-oriented (no grammar per line): the first lookup
reads the file once into a dict key -> line index; values are parsed from
the kept line on demand, so a 1,000,000-line map costs one string per line
and one dict slot per key.
"""
from __future__ import annotations

import os
import re
import threading

from tui.core.model import Diagnostic
from tui.core.tables import Entry, LookupResult, Table, file_mtime

SUFFIXES = {
    "hash": (".db",),
    "btree": (".db",),
    "lmdb": (".lmdb",),
    "cdb": (".cdb",),
    "dbm": (".pag", ".dir"),
    "sdbm": (".pag", ".dir"),
}

_WS = " \t\r\n\f\v"
_KEY_END = " \t\r\n"  # postmap: strcspn(key, CHARS_SPACE)
_KEY_RE = re.compile(r"[^ \t\r\n]*")
_WS_SET = frozenset(_WS)


class FileTable(Table):
    is_pattern = False

    def __init__(self, spec, type_, name, fold):
        super().__init__(spec, type_, name, fold)
        self.path = name
        self._lock = threading.Lock()
        self._lines: list[str] | None = None
        self._index: dict[str, int] | None = None
        self._order: list[str] | None = None  # keys in file order (first occurrence)
        self._load_error: str | None = None
        self._diags: list[Diagnostic] = []
        self._check_files()

    # -- status -----------------------------------------------------------
    def _check_files(self) -> None:
        src = self.path
        src_m = file_mtime(src)
        if src_m is None or not os.access(src, os.R_OK):
            if self.type == "texthash":
                self._set_status("unreadable", f"cannot read {src}: {_oserr(src)}")
                return
            compiled = [src + s for s in SUFFIXES[self.type]]
            if any(file_mtime(c) is not None for c in compiled):
                self._set_status("unreadable",
                                 f"source file {src} is missing or unreadable ({_oserr(src)}); "
                                 f"only the compiled {compiled[0]} exists, which the explorer cannot read")
            else:
                self._set_status("unreadable", f"cannot read {src}: {_oserr(src)}")
            return
        if self.type == "texthash":
            self._set_status("ok", f"read from {src}")
            return
        compiled = [src + s for s in SUFFIXES[self.type]]
        mtimes = [file_mtime(c) for c in compiled]
        if any(m is None for m in mtimes):
            missing = [c for c, m in zip(compiled, mtimes) if m is None]
            self._set_status("stale",
                             f"{missing[0]} is missing: Postfix cannot use this table "
                             f"(run postmap {self.type}:{src}); showing the source file {src}")
        elif any(m < src_m for m in mtimes):
            self._set_status("stale",
                             f"{compiled[0]} is older than {src}: Postfix still uses the old "
                             f"contents (run postmap {self.type}:{src}); showing the source file")
        else:
            self._set_status("ok", f"read from the source file {src}")

    # -- loading ----------------------------------------------------------
    def _load(self) -> bool:
        if self._index is not None:
            return True
        if self._load_error is not None:
            return False
        with self._lock:
            if self._index is not None:
                return True
            try:
                with open(self.path, "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                self._load_error = f"cannot read {self.path}: {exc.strerror or exc}"
                self._set_status("unreadable", self._load_error)
                return False
            text = data.decode("utf-8", "surrogateescape")
            del data
            self._parse(text)
            return True

    def _parse(self, text: str) -> None:
        self._has_cont = text[:1] in _WS_SET or any(("\n" + c) in text for c in " \t\r\f\v")
        lines = text.split("\n")
        del text
        if lines and lines[-1] == "":
            lines.pop()
        index: dict[str, int] = {}
        diags = self._diags
        fold = self.fold
        path = self.path
        n = len(lines)
        dup_warn = self.type == "texthash"
        i = 0
        key_end = _KEY_RE.match
        _key_end = key_end
        # A line starting with whitespace anywhere means continuations may
        # exist: then every logical line looks ahead. The common case does not.
        has_cont = self._has_cont
        started = False
        while i < n:
            line = lines[i]
            i += 1
            if not line:
                continue
            c = line[0]
            if c == "#" or c in _WS:
                s = line.lstrip(_WS)
                if not s or s[0] == "#" or started:
                    continue  # comment, blank, or continuation of a logical line
                diags.append(Diagnostic("warning", "logical line must not start with whitespace: "
                                        f'"{_short(line)}"', path, i))
                continue
            started = True
            # key: up to the first of " \t\r\n"; value: the rest, trimmed
            kend = _key_end(line).end()
            key = line[:kend]
            if has_cont:
                logical = _logical_from(lines, i - 1)
                has_value = bool(logical[kend:].strip(_WS))
            else:
                has_value = bool(line[kend:].strip(_WS))
            if not has_value:
                diags.append(Diagnostic("warning", "expected format: key whitespace value "
                                        "-- ignoring this line", path, i))
                continue
            fkey = fold(key)
            if fkey in index:
                diags.append(Diagnostic("warning", f'duplicate entry: "{fkey}" (the first one, line '
                                        f'{index[fkey] + 1}, wins)', path, i))
                continue
            index[fkey] = i - 1
        self._lines = lines
        self._index = index
        if diags:
            st = self._status
            self._set_status(st.state, st.message, diags)

    # -- access -----------------------------------------------------------
    def _value_at(self, idx: int) -> str:
        logical = _logical_from(self._lines, idx)
        return _kv(logical)[1]

    def _lookup(self, key: str) -> LookupResult:
        if not self._load():
            return LookupResult(False, None, self._load_error, key)
        fkey = self.fold(key)
        idx = self._index.get(fkey)
        if idx is None:
            return LookupResult(False, None, None, key)
        return LookupResult(True, self._value_at(idx), None, key, f"{self.path}:{idx + 1}")

    def _count(self) -> int | None:
        if not self._load():
            return None
        return len(self._index)

    def _entries(self, offset, limit, search):
        if not self._load():
            return []
        out: list[Entry] = []
        if search:
            s = search.lower()
            skipped = 0
            for k, idx in self._index.items():
                if s in k:
                    v = self._value_at(idx)
                else:
                    v = self._value_at(idx)
                    if s not in v.lower():
                        continue
                if skipped < offset:
                    skipped += 1
                    continue
                out.append(Entry(k, v, idx + 1))
                if len(out) >= limit:
                    break
            return out
        if self._order is None or len(self._order) != len(self._index):
            # a list of keys in file order makes deep pages O(limit)
            self._order = list(self._index)
        for k in self._order[offset:offset + limit]:
            idx = self._index[k]
            out.append(Entry(k, self._value_at(idx), idx + 1))
        return out

    def close(self) -> None:
        self._lines = None
        self._index = None
        self._order = None


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[:n] + "..."


def _oserr(path: str) -> str:
    try:
        with open(path, "rb"):
            return "ok"
    except OSError as exc:
        return exc.strerror or str(exc)


def _split_exact(line: str) -> tuple[str, bool]:
    j = 0
    n = len(line)
    while j < n and line[j] not in _KEY_END:
        j += 1
    rest = line[j:].strip(_WS)
    return line[:j], bool(rest)


def _kv(logical: str) -> tuple[str, str]:
    j = 0
    n = len(logical)
    while j < n and logical[j] not in _KEY_END:
        j += 1
    return logical[:j], logical[j:].strip(_WS)


def _logical_from(lines: list[str], idx: int) -> str:
    """The logical line that starts at lines[idx] (continuations joined)."""
    out = lines[idx]
    j = idx + 1
    n = len(lines)
    while j < n:
        line = lines[j]
        if not line:
            j += 1
            continue
        c = line[0]
        s = line.lstrip(_WS)
        if not s or s[0] == "#":
            j += 1
            continue
        if c in _WS:
            out += line
            j += 1
            continue
        break
    return out
