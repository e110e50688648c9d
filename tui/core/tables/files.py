"""Indexed tables (hash, btree, lmdb, cdb, dbm, sdbm) and texthash.

Lookups answer from the file Postfix reads: for hash, btree, lmdb and cdb
that is the INDEX postmap/postalias built (NAME.db, NAME.lmdb, NAME.cdb;
read by tui/core/tables/indexed), never the source text. As in smtpd:

  * a missing or unreadable index makes every lookup fail ("hash:NAME is
    unavailable. open database NAME.db: No such file or directory"; smtpd
    then answers 451 4.3.5 for an access map, 451 4.3.0 elsewhere);
  * an index older than its source still answers with the old contents;
  * an index built by the wrong tool (postmap on an aliases file: keys
    "postmaster:") answers with what it holds.
In each of these cases the table's status says so (state "stale", or
"unreadable" when neither file can be read) and names the one command that
fixes it; the detail is also a status diagnostic, so every trace that
consulted the table shows it.

The SOURCE text file -- the table name without suffix -- is still read,
for the entries shown with their line numbers and to find where an answer
comes from, with postmap's rules:

  * blank lines and lines whose first non-blank character is '#' are skipped;
  * a line starting with whitespace continues the previous logical line
    (joined as-is, without the newline), even across comments;
  * key = text up to the first blank, value = the rest, surrounding blanks
    trimmed; a line without a value is ignored ("expected format: key
    whitespace value");
  * keys are folded to lower case (DICT_FLAG_FOLD_FIX);
  * for a duplicate key the FIRST line wins (postmap warns "duplicate
    entry" and keeps the first one: checked against postmap 3.7).

dbm and sdbm (not built into Debian's Postfix) and texthash are answered
from the source; for dbm/sdbm a missing or older .dir/.pag makes the status
"stale".

Alias databases (AliasTable, for tables named in alias_maps/alias_database
or opened with aliases=True) are compiled by postalias from aliases(5)
source instead; see AliasTable (tables/aliases.py) for its rules. Opening
the index and checking it against the source (the table's status) is
IndexStatus, FileTable's base (tables/index_status.py).

Loading is lazy and line-oriented (no grammar per line): the first lookup
reads the file once as bytes and indexes it with one regex scan into a dict
folded-key -> byte offset; values and line numbers are computed on demand
from the kept bytes, so a 1,000,000-line map costs the file's bytes plus one
key and one int per entry, and entries() pages without building objects
for the whole table.
"""
from __future__ import annotations

import re
import threading
from itertools import islice

from tui.core import safeio
from tui.core.model import Diagnostic
from tui.core.tables.base import Entry, LookupResult, entries_page
from tui.core.tables.index_status import IndexStatus, file_stamp, shorten
from tui.core.tables.indexed import IndexFormatError, decode_key, decode_value, dict_get, open_index

_WS = " \t\r\n\f\v"
_KEY_END = " \t\r\n"  # postmap: strcspn(key, CHARS_SPACE)
_KEY_RE = re.compile(r"[^ \t\r\n]*")
_WS_SET = frozenset(_WS)


class FileTable(IndexStatus):
    is_pattern = False
    _fast_lookup = True  # lookup() may read _index itself (not AliasTable)
    builder = "postmap"  # the command that compiles the source (status messages)
    _builder_keys: frozenset[bytes] = frozenset()  # entries the builder adds on its own

    def __init__(self, spec, type_, name, fold):
        super().__init__(spec, type_, name, fold)
        self.path = name
        self._lock = threading.Lock()
        self._data: bytes = b""
        self._checkpoints: list[int] = [0]
        self._src_index: dict[bytes, int] | None = None  # folded key -> byte offset of its line
        self._order: list[bytes] | None = None  # keys in file order (first occurrence)
        self._load_error: str | None = None
        self._diags: list[Diagnostic] = []
        # the index Postfix reads (hash, btree, lmdb, cdb): its reader, or
        # why Postfix cannot open it (Postfix's words)
        self.index_path: str | None = None
        self._reader = None
        self._index_error: str | None = None
        self._compared = False
        self._index_stamp = None
        self._index_diags: list[Diagnostic] = []  # the ones _check_index/_compare added
        self._check_files()

    @property
    def _index(self):
        """The source's key index, when the source is what Postfix reads
        (texthash, dbm, sdbm): the shortcut FileTable.lookup() and the
        engine's table cache take. None for a table Postfix reads from its
        index, so that no shortcut answers from the source."""
        return None if self.reads_index else self._src_index

    # -- loading ----------------------------------------------------------
    def _load(self) -> bool:
        """Read the source (entries with line numbers, where answers come
        from). False when it cannot be read."""
        if self._src_index is not None:
            return True
        if self._load_error is not None:
            return False
        with self._lock:
            if self._src_index is not None:
                return True
            try:
                data = safeio.read_bytes(self.path)  # a FIFO or a device is refused
            except OSError as exc:
                self._load_error = f"cannot read {self.path}: {exc.strerror or exc}"
                if self._reader is None:
                    self._set_status("unreadable", self._load_error)
                return False
            self._parse(data)
            if self._reader is not None and self._status.state == "ok":
                self._compare()
            return True

    def _source_items(self):
        """(folded key, value, line) of every source entry, in file order."""
        for kb, off in self._src_index.items():
            yield _dec(kb), self._value_at(off), self._line_of(off)

    def _source_pairs(self):
        value_at = self._value_at
        for kb, off in self._src_index.items():
            yield _dec(kb), value_at(off)

    def _source_get(self, fkey: str) -> tuple[str, int | None] | None:
        if self._src_index is None:
            return None
        off = self._src_index.get(fkey.encode("utf-8", "surrogateescape"))
        if off is None:
            return None
        return self._value_at(off), self._line_of(off)

    def _parse(self, data: bytes) -> None:
        """Index the source: folded key (bytes) -> byte offset of its line.

        The hot path is bytes.split() per line ("key<blank>value" on one
        physical line); the rare lines that need more (value only on
        continuation lines, no value, form feeds) get an exact second look."""
        self._data = data
        # newline counts at every 2 KiB: a line number costs a 2 KiB scan
        # at most, not 1 MiB (it was a quarter of a trace's time)
        self._checkpoints = [0]
        cnt = 0
        for start in range(0, len(data), _LINE_STEP):
            cnt += data.count(b"\n", start, start + _LINE_STEP)
            self._checkpoints.append(cnt)
        index: dict[bytes, int] = {}
        dups: list[tuple[int, bytes, int]] = []
        setdefault = index.setdefault
        utf8 = self.fold.utf8
        fold = self.fold
        diags = self._diags
        slow: list[int] = []  # offsets of lines that need the exact parser
        skip = _SKIP_FIRST
        n = len(data)
        pos = 0
        # Work through ~1 MiB pieces cut at line ends: the transient list of
        # lines stays small however big the file is.
        while pos < n:
            cut = data.find(b"\n", min(pos + _CHUNK, n - 1))
            cut = n if cut < 0 else cut + 1
            chunk = data[pos:cut]
            exact = b"\f" in chunk or b"\v" in chunk  # bytes.split() would split there
            check_utf8 = False
            if utf8 and not chunk.isascii():
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError:
                    check_utf8 = True  # some line here is not UTF-8: postmap ignores it
            off = pos
            for line in chunk.split(b"\n"):
                if check_utf8 and line and line[0] not in skip and not _is_utf8(line):
                    diags.append(Diagnostic("warning", f'non-UTF-8 input "{shorten(_dec(line))}" -- '
                                            "ignoring this line", self.path, self._line_of(off)))
                    off += len(line) + 1
                    continue
                if line and line[0] not in skip:
                    parts = line.split(None, 1)
                    if len(parts) == 2 and not exact:
                        kb = parts[0]
                        kb = kb.lower() if kb.isascii() else _fold_bytes(kb, fold, utf8)
                        if setdefault(kb, off) != off:
                            dups.append((off, kb, index[kb]))
                    else:
                        slow.append(off)
                off += len(line) + 1
            pos = cut
        late = False
        for off in slow:
            logical = _logical_at(data, off)
            kend = _key_end(logical)
            if not logical[kend:].strip(_WS_B):
                diags.append(Diagnostic("warning", "expected format: key whitespace value "
                                        "-- ignoring this line", self.path, self._line_of(off)))
                continue
            kb = _fold_bytes(logical[:kend], fold, utf8)
            prev = index.get(kb)
            if prev is None or prev > off:
                index[kb] = off
                late = True
                if prev is not None:
                    dups.append((prev, kb, off))
            else:
                dups.append((off, kb, prev))
        if late:
            index = dict(sorted(index.items(), key=lambda kv: kv[1]))
        m = _LEADING_RE.match(data)
        if m:
            diags.append(Diagnostic("warning", "logical line must not start with whitespace: "
                                    f'"{shorten(_dec(m.group(1)))}" -- ignoring this line', self.path,
                                    self._line_of(m.start(1))))
        for off, kb, first in dups[:_MAX_DIAGS]:
            diags.append(Diagnostic("warning", f'duplicate entry: "{_dec(kb)}" (the first one, line '
                                    f'{self._line_of(first)}, wins)', self.path, self._line_of(off)))
        if len(dups) > _MAX_DIAGS:
            diags.append(Diagnostic("warning", f"{len(dups) - _MAX_DIAGS} more duplicate entries",
                                    self.path, None))
        diags.sort(key=lambda d: d.line or 0)
        self._src_index = index
        if diags:
            st = self._status
            self._set_status(st.state, st.message, diags)

    def _line_of(self, off: int) -> int:
        step = off // _LINE_STEP
        return self._checkpoints[step] + self._data.count(b"\n", step * _LINE_STEP, off) + 1

    # -- access -----------------------------------------------------------
    def _value_at(self, off: int) -> str:
        logical = _entry_at(self._data, off)
        kend = _key_end(logical)
        return _dec(logical[kend:].strip(_WS_B))

    def _fkey(self, key: str) -> bytes:
        return self.fold(key).encode("utf-8", "surrogateescape")

    def lookup(self, key: str) -> LookupResult:
        # the common case without the generic wrapper's extra calls: loaded,
        # an ASCII key (nothing to validate as UTF-8), found or not
        index = self._index
        if index is None or not key.isascii() or not self._fast_lookup:
            return super().lookup(key)
        off = index.get(self.fold(key).encode("ascii"))
        if off is None:
            return LookupResult(False, None, None, key)
        try:
            return LookupResult(True, self._value_at(off), None, key, f"{self.path}:{self._line_of(off)}")
        except Exception:
            return super().lookup(key)

    def _lookup(self, key: str) -> LookupResult:
        if self.reads_index:
            return self._index_lookup(key)
        if not self._load() or self._src_index is None:
            return LookupResult(False, None, self._load_error, key)
        off = self._src_index.get(self._fkey(key))
        if off is None:
            return LookupResult(False, None, None, key)
        return LookupResult(True, self._value_at(off), None, key, f"{self.path}:{self._line_of(off)}")

    def _index_lookup(self, key: str) -> LookupResult:
        """dict_get() as smtpd does it, on the index."""
        if file_stamp(self.index_path or "") != self._index_stamp:
            self._index_changed()
        elif self._reader is None and self._index_error is None:
            self._reopen()   # closed, and asked again
        if self._reader is None:
            return LookupResult(False, None, f"{self.type}:{self.path} is unavailable. {self._index_error}", key)
        fkey = self.fold(key)
        try:
            value = dict_get(self._reader, fkey)
        except (IndexFormatError, OSError) as exc:
            return LookupResult(False, None, f"error reading {self.index_path}: {exc}", key)
        if value is None:
            return LookupResult(False, None, None, key)
        return LookupResult(True, value, None, key, self._where(fkey, value))

    def _where(self, fkey: str, value: str) -> str:
        """The source line an index answer came from, when the source says
        the same (else the index file itself)."""
        if self._load():
            got = self._source_get(fkey)
            if got is not None and got[0] == value and got[1] is not None:
                return f"{self.path}:{got[1]}"
        return self.index_path or self.path

    def _count(self) -> int | None:
        if not self._load() or self._src_index is None:
            return self._index_count()
        return len(self._src_index)

    def _index_count(self) -> int | None:
        if self._reader is None:
            return None
        try:
            return sum(1 for _ in self._reader.items())
        except (IndexFormatError, OSError):
            return None

    def _index_entries(self, offset, limit, search) -> list[Entry]:
        """Entries from the index (no source to show): no line numbers."""
        if self._reader is None:
            return []
        s = search.lower() if search else None
        out: list[Entry] = []
        rows = (Entry(decode_key(k), decode_value(v), None) for k, v in self._reader.items())
        try:
            # extend() keeps what was read before an error in the index
            out.extend(islice((e for e in rows if not s or s in e.key.lower() or s in e.value.lower()),
                              offset, offset + max(limit, 0)))
        except (IndexFormatError, OSError):
            pass
        return out

    def _entries(self, offset, limit, search):
        if not self._load():
            return self._index_entries(offset, limit, search)
        out: list[Entry] = []
        if search:
            s = search.lower().encode("utf-8", "surrogateescape")
            data = self._data

            def matches(kb: bytes, off: int) -> bool:
                if s in kb:
                    return True
                end = data.find(b"\n", off)
                return s in data[off:end if end >= 0 else len(data)].lower()

            return entries_page((Entry(_dec(kb), self._value_at(off), self._line_of(off))
                                 for kb, off in self._src_index.items() if matches(kb, off)), offset, limit)
        if self._order is None or len(self._order) != len(self._src_index):
            # a list of keys in file order makes deep pages O(limit)
            self._order = list(self._src_index)
        for kb in self._order[offset:offset + limit]:
            off = self._src_index[kb]
            out.append(Entry(_dec(kb), self._value_at(off), self._line_of(off)))
        return out

    def close(self) -> None:
        self._data = b""
        self._src_index = None
        self._order = None
        r, self._reader = self._reader, None
        if r is not None:
            r.close()   # a later lookup opens the index again (_reopen)

    def _reopen(self) -> None:
        with self._lock:
            if self._reader is not None or self._index_error is not None:
                return
            try:
                self._reader = open_index(self.type, self.path)
            except (OSError, IndexFormatError) as exc:
                self._index_error = f"open database {self.index_path}: {getattr(exc, 'strerror', None) or exc}"


_CHUNK = 1 << 20
_LINE_STEP = 1 << 11  # a found key's line number counts at most 2 KiB of newlines
_MAX_DIAGS = 100
_WS_B = b" \t\r\n\f\v"
# first bytes of lines that start no entry: blanks (continuations), comments
_SKIP_FIRST = frozenset(b" \t\r\f\v#")
_KEY_END_B = re.compile(rb"[^ \t\r\n]*")
# continuation-looking text before the first logical line of the file
_LEADING_RE = re.compile(rb"(?:[ \t\r\f\v]*(?:#[^\n]*)?\n)*([ \t\r\f\v]+[^\s#][^\n]*)")


def _key_end(logical: bytes) -> int:
    """Where the key of a logical line ends (postmap: the first blank)."""
    m = _KEY_END_B.match(logical)
    return m.end() if m else 0


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _dec(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _fold_bytes(kb: bytes, fold, utf8: bool) -> bytes:
    if kb.isascii():
        return kb.lower()
    if not utf8:
        return kb.lower()  # bytes.lower(): ASCII letters only, like Postfix's lowercase()
    return fold(_dec(kb)).encode("utf-8", "surrogateescape")


# first bytes of a line that may continue the logical line above it, or
# (blank lines, comments) let a later line continue it
_MAY_CONTINUE = frozenset(b" \t\r\f\v#\n")


def _entry_at(data: bytes, off: int) -> bytes:
    """_logical_at(data, off), without its loop in the common case: the
    next line starts another entry."""
    end = data.find(b"\n", off)
    if end >= 0 and end + 1 < len(data) and data[end + 1] not in _MAY_CONTINUE:
        return data[off:end]
    return _logical_at(data, off)


def _logical_at(data: bytes, off: int) -> bytes:
    """The logical line starting at data[off] (continuations joined as-is)."""
    end = data.find(b"\n", off)
    if end < 0:
        return data[off:]
    out = [data[off:end]]
    pos = end + 1
    n = len(data)
    while pos < n:
        nxt = data.find(b"\n", pos)
        line = data[pos:nxt if nxt >= 0 else n]
        s = line.lstrip(_WS_B)
        if s and s[:1] != b"#":
            if line[:1] in (b" ", b"\t", b"\r", b"\f", b"\v"):
                out.append(line)
            else:
                break
        if nxt < 0:
            break
        pos = nxt + 1
    return b"".join(out)
