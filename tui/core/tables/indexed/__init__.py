"""Read-only readers of the indexed files Postfix builds with postmap/postalias.

smtpd never reads the source text of a `hash:`, `btree:`, `lmdb:` or `cdb:`
table: it opens the file postmap (or postalias) compiled from it --
`NAME.db` (Berkeley DB hash or btree), `NAME.lmdb`, `NAME.cdb`. These
readers answer from that file, as Postfix 3.7 does:

    r = open_index("hash", "/etc/postfix/access")   # reads access.db
    r.get(b"example.com\\0")  -> b"OK\\0" | None
    dict_get(r, "example.com") -> "OK" | None        # Postfix's dict_*_lookup

Every reader is pure Python, opens the file read-only, takes no lock (a
running Postfix is never disturbed), never maps it into memory (a file
truncated under us by a rebuild gives short reads, not SIGBUS), and bounds
everything it reads by the file's size: a corrupt or hostile file raises
IndexFormatError (a ValueError), never hangs or crashes.
"""
from __future__ import annotations

import os

SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb"}


class IndexFormatError(ValueError):
    """The file is not a valid index of the expected kind (or is damaged)."""


class IndexReader:
    """Base: a file opened read-only, read with pread(), bounded."""

    kind = ""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None
        # O_RDONLY, no O_CREAT, no lock: postmap/postalias and smtpd are
        # never disturbed; O_NOFOLLOW is not used (Postfix follows links)
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(self._fd)
            self.size = st.st_size
            self.mtime = st.st_mtime
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _read(self, off: int, n: int) -> bytes:
        if off < 0 or n < 0 or off + n > self.size:
            raise IndexFormatError(f"{self.path}: offset {off}+{n} is outside the file ({self.size} bytes)")
        fd = self._fd
        if fd is None:
            raise IndexFormatError(f"{self.path}: closed")
        data = os.pread(fd, n, off)
        if len(data) != n:
            raise IndexFormatError(f"{self.path}: short read at offset {off} (the file changed?)")
        return data

    def get(self, key: bytes) -> bytes | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def items(self):  # pragma: no cover - abstract
        """Every (key, value) pair, as stored (bytes), in the file's order."""
        raise NotImplementedError

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def index_path(type_: str, name: str) -> str:
    return name + SUFFIX[type_]


def open_index(type_: str, name: str) -> IndexReader:
    """The reader of the file Postfix opens for TYPE:NAME. Raises OSError
    (missing, unreadable) or IndexFormatError (not such an index)."""
    path = index_path(type_, name)
    if type_ == "hash":
        from tui.core.tables.indexed.bdb import HashReader
        return HashReader(path)
    if type_ == "btree":
        from tui.core.tables.indexed.bdb import BtreeReader
        return BtreeReader(path)
    if type_ == "lmdb":
        from tui.core.tables.indexed.lmdb import LmdbReader
        return LmdbReader(path)
    if type_ == "cdb":
        from tui.core.tables.indexed.cdb import CdbReader
        return CdbReader(path)
    raise ValueError(f"no index reader for {type_}")


def dict_get(reader: IndexReader, key: str) -> str | None:
    """Postfix's dict_{db,lmdb,cdb}_lookup on an already folded key: the key
    with one trailing NUL (how postmap writes hash, btree and lmdb on Linux),
    then without (how it writes cdb, or any table built with -n); the value
    ends at its first NUL (vstring_strncpy / a C string)."""
    kb = key.encode("utf-8", "surrogateescape")
    v = reader.get(kb + b"\0")
    if v is None:
        v = reader.get(kb)
        if v is None:
            return None
    return decode_value(v)


def decode_value(v: bytes) -> str:
    i = v.find(b"\0")
    if i >= 0:
        v = v[:i]
    return v.decode("utf-8", "surrogateescape")


def decode_key(k: bytes) -> str:
    """A stored key as Postfix shows it (postmap -s): without its NUL."""
    if k.endswith(b"\0"):
        k = k[:-1]
    return k.decode("utf-8", "surrogateescape")


__all__ = ["IndexReader", "IndexFormatError", "open_index", "index_path", "dict_get",
           "decode_value", "decode_key", "SUFFIX"]
