"""What Postfix can read of an indexed table: the index, checked against its source.

IndexStatus is the part of FileTable that opens the index (NAME.db,
NAME.lmdb, NAME.cdb; dbm/sdbm .pag/.dir) as smtpd would and says in the
table's status when Postfix cannot use it or answers otherwise than the
source says: missing or unreadable index, index older than its source,
index built by the other tool (postmap/postalias), index and source holding
different entries ("stale"). It opens the index again when it is rebuilt
while the explorer runs. The entries themselves are read by FileTable
(tables/files.py).
"""
from __future__ import annotations

import os
import threading
from typing import Any

from tui.core import safeio
from tui.core.model import Diagnostic
from tui.core.tables.base import Table, file_mtime
from tui.core.tables.indexed import IndexFormatError, decode_key, decode_value, open_index

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
# an index up to this size is compared key by key with its source when the
# source is first read (~0.5 s for 32 MB, a 200,000-entry map), and what was
# read of it then answers its lookups (bdb.HashReader.snapshot); a bigger
# one is not compared, and each lookup searches the file
_COMPARE_MAX_BYTES = 32 << 20


def file_stamp(path: str):
    """What dates a file: (inode, size, mtime) or None when it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def shorten(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[:n] + "..."


def read_error(path: str) -> str:
    try:
        safeio.check_regular(path)  # opening a FIFO would wait for a writer
        with open(path, "rb"):
            return "ok"
    except OSError as exc:
        return exc.strerror or str(exc)


class IndexStatus(Table):
    """The index Postfix reads, and whether it says what the source says
    (the base of FileTable, which reads the source)."""

    path: str
    builder: str
    _builder_keys: frozenset[bytes]
    _lock: threading.Lock
    _diags: list[Diagnostic]
    _index_diags: list[Diagnostic]
    index_path: str | None
    _reader: Any
    _index_error: str | None
    _compared: bool
    _index_stamp: Any
    _src_index: dict[bytes, int] | None
    _data: bytes
    _order: list[bytes] | None
    _load_error: str | None

    @property
    def reads_index(self) -> bool:
        """Does Postfix answer from an index file the explorer reads?"""
        return self.type in INDEX_READ_TYPES

    def fix_command(self) -> str:
        """The one command that makes the index what the source says."""
        return f"{self.builder} {self.type}:{self.path}"

    def _source_items(self):  # FileTable, AliasTable say
        raise NotImplementedError

    def _source_pairs(self):  # _source_items() without the line numbers (the compare's)
        raise NotImplementedError

    # -- status -----------------------------------------------------------
    def _check_files(self) -> None:
        if self.reads_index:
            self._check_index()
            return
        src = self.path
        src_m = file_mtime(src)
        if src_m is None or not os.access(src, os.R_OK):
            if self.type == "texthash":
                self._set_status("unreadable", f"cannot read {src}: {read_error(src)}")
                return
            compiled = [src + s for s in SUFFIXES[self.type]]
            if any(file_mtime(c) is not None for c in compiled):
                self._set_status("unreadable",
                                 f"source file {src} is missing or unreadable ({read_error(src)}); "
                                 f"only the compiled {compiled[0]} exists, which the explorer cannot read")
            else:
                self._set_status("unreadable", f"cannot read {src}: {read_error(src)}")
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
        self._index_stamp = file_stamp(idx)
        try:
            self._reader = open_index(self.type, src)
        except OSError as exc:
            self._index_error = f"open database {idx}: {exc.strerror or exc}"
        except IndexFormatError as exc:
            # Berkeley DB/LMDB/cdb refuse such a file ("Invalid argument" and
            # the like); say why
            self._index_error = f"open database {idx}: {shorten(str(exc), 200)}"
        src_m = file_mtime(src)
        src_ok = src_m is not None and os.access(src, os.R_OK)
        fix = self.fix_command()
        if self._reader is None:
            if not src_ok:
                self._set_status("unreadable", f"{self._index_error}; cannot read the source file "
                                 f"{src} either: {read_error(src)}")
                return
            what = "missing index" if file_mtime(idx) is None else "unusable index"
            self._stale(f"{what}: {self._index_error} -- Postfix cannot use this table "
                        f"(every lookup fails: smtpd answers 451 4.3.5 for an access map, "
                        f"451 4.3.0 elsewhere); run {fix}", idx)
            return
        if not src_ok:
            self._set_status("ok", f"read from {idx} (the source file {src} cannot be read: "
                             f"{read_error(src)}; entries are shown from the index, without line numbers)")
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
            if file_stamp(self.index_path or "") == self._index_stamp:
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

    # -- comparing index and source ---------------------------------------
    def _compare(self) -> None:
        """The index and its (older) source should hold the same entries;
        when they do not -- built from another file, by the other tool, or
        the source edited within the same second -- say so. Skipped for
        very big indexes (it reads every entry)."""
        if self._compared or self._reader is None or self._reader.size > _COMPARE_MAX_BYTES:
            return
        self._compared = True
        try:
            builder = self._builder_keys
            theirs = {decode_key(k): decode_value(v) for k, v in self._reader.snapshot() if k not in builder}
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
        only_src: list[str] = []
        differ: list[str] = []
        take = theirs.pop
        for k, v in self._source_pairs():
            got = take(k, None)
            if got is None:
                only_src.append(k)
            elif got != v:
                differ.append(k)
        only_idx = list(theirs)   # what no source entry took
        if not (only_idx or only_src or differ):
            return
        parts = []
        if only_idx:
            parts.append(f"{len(only_idx)} key(s) only in the index (e.g. \"{shorten(only_idx[0])}\")")
        if only_src:
            parts.append(f"{len(only_src)} key(s) only in the source (e.g. \"{shorten(only_src[0])}\")")
        if differ:
            parts.append(f"{len(differ)} value(s) differ (e.g. \"{shorten(differ[0])}\")")
        self._stale(f"stale index: {self.index_path} does not hold what {self.path} says: "
                    f"{'; '.join(parts)} -- Postfix answers from the index; run {self.fix_command()}",
                    self.index_path or self.path)
