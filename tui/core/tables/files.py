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
source instead; see AliasTable for its rules.

Loading is lazy and line-oriented (no grammar per line): the first lookup
reads the file once as bytes and indexes it with one regex scan into a dict
folded-key -> byte offset; values and line numbers are computed on demand
from the kept bytes, so a 1,000,000-line map costs the file's bytes plus one
key and one int per entry, and entries() pages without building objects
for the whole table.
"""
from __future__ import annotations

import os
import re
import threading

from tui.core import safeio
from tui.core.model import Diagnostic
from tui.core.tables.base import Entry, LookupResult, Table, file_mtime, logical_lines
from tui.core.tables.indexed import IndexFormatError, decode_key, decode_value, dict_get, open_index

SUFFIXES = {
    "hash": (".db",),
    "btree": (".db",),
    "lmdb": (".lmdb",),
    "cdb": (".cdb",),
    "dbm": (".pag", ".dir"),
    "sdbm": (".pag", ".dir"),
}

# types whose index the explorer reads (tui/core/tables/indexed)
INDEX_READ_TYPES = frozenset({"hash", "btree", "lmdb", "cdb"})
# an index this big is not compared key by key with its source when loaded
_COMPARE_MAX_BYTES = 8 << 20

_WS = " \t\r\n\f\v"
_KEY_END = " \t\r\n"  # postmap: strcspn(key, CHARS_SPACE)
_KEY_RE = re.compile(r"[^ \t\r\n]*")
_WS_SET = frozenset(_WS)


class FileTable(Table):
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

    @property
    def reads_index(self) -> bool:
        """Does Postfix answer from an index file the explorer reads?"""
        return self.type in INDEX_READ_TYPES

    def fix_command(self) -> str:
        """The one command that makes the index what the source says."""
        return f"{self.builder} {self.type}:{self.path}"

    # -- status -----------------------------------------------------------
    def _check_files(self) -> None:
        if self.reads_index:
            self._check_index()
            return
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
                             f"(run {self.fix_command()}); showing the source file {src}")
        elif any(m is not None and m < src_m for m in mtimes):
            self._set_status("stale",
                             f"{compiled[0]} is older than {src}: Postfix still uses the old "
                             f"contents (run {self.fix_command()}); showing the source file")
        else:
            self._set_status("ok", f"read from the source file {src}")

    def _check_index(self) -> None:
        """Open the index as smtpd would, and compare its date with the
        source's (Postfix: "database X.db is older than source file X")."""
        src = self.path
        idx: str = src + SUFFIXES[self.type][0]
        self.index_path = idx
        self._index_stamp = _stamp(idx)
        try:
            self._reader = open_index(self.type, src)
        except OSError as exc:
            self._index_error = f"open database {idx}: {exc.strerror or exc}"
        except IndexFormatError as exc:
            # Berkeley DB/LMDB/cdb refuse such a file ("Invalid argument" and
            # the like); say why
            self._index_error = f"open database {idx}: {_short(str(exc), 200)}"
        src_m = file_mtime(src)
        src_ok = src_m is not None and os.access(src, os.R_OK)
        fix = self.fix_command()
        if self._reader is None:
            if not src_ok:
                self._set_status("unreadable", f"{self._index_error}; cannot read the source file "
                                 f"{src} either: {_oserr(src)}")
                return
            what = "missing index" if file_mtime(idx) is None else "unusable index"
            self._stale(f"{what}: {self._index_error} -- Postfix cannot use this table "
                        f"(every lookup fails: smtpd answers 451 4.3.5 for an access map, "
                        f"451 4.3.0 elsewhere); run {fix}", idx)
            return
        if not src_ok:
            self._set_status("ok", f"read from {idx} (the source file {src} cannot be read: "
                             f"{_oserr(src)}; entries are shown from the index, without line numbers)")
            return
        if self._reader.mtime < src_m:
            self._stale(f"stale index: database {idx} is older than source file {src} -- Postfix "
                        f"answers from the old contents; run {fix}", src)
            return
        problem = self._index_problem()
        if problem:
            self._stale(problem, idx)
            return
        self._set_status("ok", f"read from {idx} (source {src})")

    def _index_problem(self) -> str | None:
        """A cheap check, at open, that the index is what the builder makes
        of this source (AliasTable: was it built by postalias?)."""
        return None

    def _stale(self, message: str, path: str) -> None:
        """State "stale": lint and the table's detail show the message; the
        same words as a diagnostic reach every trace that used the table."""
        d = Diagnostic("warning", message, path, None)
        if d not in self._diags:
            self._diags.insert(0, d)
            self._index_diags.append(d)
        self._set_status("stale", message, self._diags)

    def _index_changed(self) -> None:
        """The index was rebuilt, removed or created since it was opened
        (postmap run while the explorer is open): open it again and say
        anew what Postfix sees. One stat() a lookup."""
        with self._lock:
            if _stamp(self.index_path or "") == self._index_stamp:
                return
            # not closed here: a lookup in another thread may still be
            # reading it; the old reader closes its file when dropped
            self._reader = None
            self._index_error = None
            self._compared = False
            # the source was most likely edited too: read it again when needed
            self._src_index = None
            self._data = b""
            self._order = None
            self._load_error = None
            self._diags = []
            self._index_diags = []
            self._check_index()

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

    def _source_get(self, fkey: str) -> tuple[str, int | None] | None:
        if self._src_index is None:
            return None
        off = self._src_index.get(fkey.encode("utf-8", "surrogateescape"))
        if off is None:
            return None
        return self._value_at(off), self._line_of(off)

    def _compare(self) -> None:
        """The index and its (older) source should hold the same entries;
        when they do not -- built from another file, by the other tool, or
        the source edited within the same second -- say so. Skipped for
        very big indexes (it reads every entry)."""
        if self._compared or self._reader is None or self._reader.size > _COMPARE_MAX_BYTES:
            return
        self._compared = True
        try:
            theirs = {decode_key(k): decode_value(v) for k, v in self._reader.items()
                      if k not in self._builder_keys}
        except (IndexFormatError, OSError) as exc:
            self._stale(f"error reading {self.index_path}: {exc} -- run {self.fix_command()}",
                        self.index_path or self.path)
            return
        if self.builder == "postmap" and self._reader.get(b"YP_LAST_MODIFIED") is not None \
                and "@" in theirs:
            # postalias's marks: an aliases database used as a postmap table
            self._stale(f"{self.index_path} was built by postalias (an aliases database) but is used "
                        f"here as a postmap table: Postfix answers from the index, keys without "
                        f"their colon", self.index_path or self.path)
            return
        ours = {k: v for k, v, _line in self._source_items()}
        only_idx = [k for k in theirs if k not in ours]
        only_src = [k for k in ours if k not in theirs]
        differ = [k for k in ours if k in theirs and theirs[k] != ours[k]]
        if not (only_idx or only_src or differ):
            return
        parts = []
        if only_idx:
            parts.append(f"{len(only_idx)} key(s) only in the index (e.g. \"{_short(only_idx[0])}\")")
        if only_src:
            parts.append(f"{len(only_src)} key(s) only in the source (e.g. \"{_short(only_src[0])}\")")
        if differ:
            parts.append(f"{len(differ)} value(s) differ (e.g. \"{_short(differ[0])}\")")
        self._stale(f"stale index: {self.index_path} does not hold what {self.path} says: "
                    f"{'; '.join(parts)} -- Postfix answers from the index; run {self.fix_command()}",
                    self.index_path or self.path)

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
                    diags.append(Diagnostic("warning", f'non-UTF-8 input "{_short(_dec(line))}" -- '
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
                                    f'"{_short(_dec(m.group(1)))}" -- ignoring this line', self.path,
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
        if _stamp(self.index_path or "") != self._index_stamp:
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
        out: list[Entry] = []
        s = search.lower() if search else None
        skipped = 0
        try:
            for k, v in self._reader.items():
                key, value = decode_key(k), decode_value(v)
                if s and s not in key.lower() and s not in value.lower():
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                if len(out) >= limit:
                    break
                out.append(Entry(key, value, None))
        except (IndexFormatError, OSError):
            pass
        return out

    def _entries(self, offset, limit, search):
        if not self._load():
            return self._index_entries(offset, limit, search)
        out: list[Entry] = []
        if search:
            s = search.lower().encode("utf-8", "surrogateescape")
            skipped = 0
            data = self._data
            for kb, off in self._src_index.items():
                if s not in kb:
                    end = data.find(b"\n", off)
                    if s not in data[off:end if end >= 0 else len(data)].lower():
                        continue
                if skipped < offset:
                    skipped += 1
                    continue
                out.append(Entry(_dec(kb), self._value_at(off), self._line_of(off)))
                if len(out) >= limit:
                    break
            return out
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


def _stamp(path: str):
    """What dates a file: (inode, size, mtime) or None when it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


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


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[:n] + "..."


def _oserr(path: str) -> str:
    try:
        safeio.check_regular(path)  # opening a FIFO would wait for a writer
        with open(path, "rb"):
            return "ok"
    except OSError as exc:
        return exc.strerror or str(exc)




# ---------------------------------------------------------------- aliases(5)

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
                                        f'"{_short(line.strip(_WS))}" -- ignoring this line',
                                        self.path, -no))
                continue
            if utf8 and not line.isascii() and not _str_is_utf8(line):
                shown = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\ufffd", "?")
                diags.append(Diagnostic("warning", f'non-UTF-8 input "{_short(shown)}" -- '
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
        out: list[Entry] = []
        s = search.lower() if search else None
        skipped = 0
        for key, (value, line) in self._aliases.items():
            if s and s not in key and s not in value.lower():
                continue
            if skipped < offset:
                skipped += 1
                continue
            if len(out) >= limit:
                break
            out.append(Entry(key, value, line))
        return out

    def close(self) -> None:
        super().close()
        self._aliases = {}


def _str_is_utf8(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped bytes that were not UTF-8
        return False
    return True


# RFC 822 tokens as Postfix's tok822_scan() makes them: (type, text) with
# type one of the operator characters, or "atom", "qstring", "comment",
# "domlit". A comment keeps its parentheses (Postfix stores it in external
# form); quoted strings and domain literals are kept unquoted.
_TOK_OPCHARS = frozenset('|%!"(),.:;<>@[]')
_TOK_SPACE = frozenset(" \t\n\v\f\r")
_NON_OPERATOR = frozenset({"atom", "qstring", "comment", "domlit"})


def tok822_scan(s: str) -> list[tuple[str, str]]:
    toks: list[tuple[str, str]] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        i += 1
        if ch in _TOK_SPACE:
            continue
        if ch == "(":
            buf = ["("]
            level = 1
            while i < n:
                c = s[i]
                buf.append(c)
                i += 1
                if c == "(":
                    level += 1
                elif c == ")":
                    level -= 1
                    if level == 0:
                        break
                elif c == "\\":
                    if i >= n:
                        break
                    buf.append(s[i])
                    i += 1
            toks.append(("comment", "".join(buf)))
        elif ch == "[" or ch == '"':
            leave = "]" if ch == "[" else '"'
            buf = []
            while i < n:
                c = s[i]
                i += 1
                if c == leave:
                    break
                if c == "\\":
                    if i >= n:
                        break
                    c = s[i]
                    i += 1
                buf.append(c)
            toks.append(("domlit" if ch == "[" else "qstring", "".join(buf)))
        elif ch != "\\" and ch in _TOK_OPCHARS:
            toks.append((ch, ch))
        else:
            i -= 1
            buf = []
            while i < n:
                c = s[i]
                if c == "\\":
                    i += 1
                    if i >= n:
                        break
                    c = s[i]
                elif c in _TOK_SPACE or c in _TOK_OPCHARS:
                    break
                buf.append(" " if c in " \t\r\n" else c)
                i += 1
            atom = "".join(buf)
            # an atom with characters that need quoting becomes a quoted string
            quoted = any(c == " " or c in _TOK_OPCHARS or ord(c) < 32 or ord(c) == 127 for c in atom)
            toks.append(("qstring" if quoted else "atom", atom))
    return toks


def _tok_space(toks, i: int) -> bool:
    """A blank after token i? Always after a comma (even the last token),
    else Postfix's tok822_append_space()."""
    t = toks[i][0]
    if t == ",":
        return True
    if i + 1 >= len(toks):
        return False
    nxt = toks[i + 1][0]
    if nxt == "<":
        return True
    return t in _NON_OPERATOR and nxt in _NON_OPERATOR


def tok822_internalize(toks) -> str:
    out = []
    for i, (t, text) in enumerate(toks):
        out.append(f"[{text}]" if t == "domlit" else text)
        if _tok_space(toks, i):
            out.append(" ")
    return "".join(out)


def tok822_externalize(toks) -> str:
    out = []
    for i, (t, text) in enumerate(toks):
        if t == "qstring":
            out.append('"' + "".join("\\" + c if c in '"\\\r\n' else c for c in text) + '"')
        elif t == "domlit":
            out.append("[" + "".join("\\" + c if c in "\\\r\n" else c for c in text) + "]")
        else:
            out.append(text)
        if _tok_space(toks, i):
            out.append(" ")
    return "".join(out)
