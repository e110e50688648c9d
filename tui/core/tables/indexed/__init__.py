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

from tui.core.tables.indexed.bdb import BtreeReader, HashReader
from tui.core.tables.indexed.cdb import CdbReader
from tui.core.tables.indexed.lmdb import LmdbReader
from tui.core.tables.indexed.reader import SUFFIX, TRY0NULL, TRY1NULL, IndexFormatError, IndexReader

__all__ = ["SUFFIX", "IndexFormatError", "IndexReader", "index_path", "open_index", "dict_get",
           "decode_value", "decode_key"]


def index_path(type_: str, name: str) -> str:
    return name + SUFFIX[type_]


def open_index(type_: str, name: str) -> IndexReader:
    """The reader of the file Postfix opens for TYPE:NAME. Raises OSError
    (missing, unreadable) or IndexFormatError (not such an index)."""
    path = index_path(type_, name)
    if type_ == "hash":
        return HashReader(path)
    if type_ == "btree":
        return BtreeReader(path)
    if type_ == "lmdb":
        return LmdbReader(path)
    if type_ == "cdb":
        return CdbReader(path)
    raise ValueError(f"no index reader for {type_}")


def dict_get(reader: IndexReader, key: str) -> str | None:
    """Postfix's dict_{db,lmdb,cdb}_lookup on an already folded key: the key
    with one trailing NUL (how postmap writes hash, btree and lmdb on Linux),
    then without (how it writes cdb, or any table built with -n); the value
    ends at its first NUL (vstring_strncpy / a C string). As in Postfix, the
    first key found decides for the rest of the table's life which of the two
    is tried (DICT_FLAG_TRY1NULL / DICT_FLAG_TRY0NULL): a miss then costs
    one look instead of two."""
    kb = key.encode("utf-8", "surrogateescape")
    flags = reader.null_flags
    if flags & TRY1NULL:
        v = reader.get(kb + b"\0")
        if v is not None:
            reader.null_flags = flags & ~TRY0NULL
            return decode_value(v)
    if flags & TRY0NULL:
        v = reader.get(kb)
        if v is not None:
            reader.null_flags = flags & ~TRY1NULL
            return decode_value(v)
    return None


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
