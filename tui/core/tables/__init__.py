"""Postfix lookup tables: one interface over every table family.

    t = open_table("hash:/etc/postfix/access", view)
    t.lookup("user@example.com") -> LookupResult

open_table() never raises for a bad table: the returned Table's `status`
says why it is unusable, and lookup() returns LookupResult(error=...).
A lookup never raises either (a MySQL server that is down, a file that
cannot be read): errors are values.

base.py holds what every table is (Table, LookupResult, ...), open.py
opens a spec with its family's module. One module per family:
  files.py    hash, btree, lmdb, cdb (answered from the index smtpd reads,
              NAME.db/.lmdb/.cdb, through indexed/; the source text gives
              entries and line numbers), dbm, sdbm and texthash (the source)
  regexp.py   regexp and pcre (translated to Python `re`)
  cidr.py     cidr
  inline.py   inline:{...}, static:, fail:
  sql.py      the query language shared by mysql.py and sqlite.py
  unix.py     unix:passwd.byname
  compose.py  unionmap:{...} and pipemap:{...}
"""
from __future__ import annotations

from tui.core.tables.base import (INDEXED_TYPES, NOT_EVALUATED_TYPES, OK, Entry, Folder, LookupResult,
                                  Table, TableStatus, UnusableTable, file_mtime, logical_lines,
                                  source_lines, split_spec, strip_ws)
from tui.core.tables.open import open_table, view_signature

__all__ = [
    "open_table", "Table", "LookupResult", "Entry", "TableStatus", "Folder", "UnusableTable",
    "split_spec", "NOT_EVALUATED_TYPES", "INDEXED_TYPES", "OK", "view_signature", "file_mtime",
    "logical_lines", "source_lines", "strip_ws",
]
