"""sqlite: tables (sqlite_table(5)) through the standard library.

The database file (`dbpath`) is opened READ-ONLY (URI mode=ro): the explorer
never writes to a user's data. Same query language as mysql: (sql.py);
quoting is sqlite3_mprintf("%q") (single quotes doubled).
"""
from __future__ import annotations

import os
import sqlite3
import threading
import urllib.parse

from tui.core.tables.sql import CfError, SqlTable, sqlite_quote


class SqliteTable(SqlTable):
    label = "SQLite"
    all_columns = False  # dict_sqlite reads column 0 of each row only
    quote = staticmethod(sqlite_quote)

    def __init__(self, spec, type_, name, fold, view=None):
        self._db = None
        self._lock = threading.Lock()
        self.dbpath = ""
        super().__init__(spec, type_, name, fold, view)

    def _configure(self, view) -> None:
        super()._configure(view)
        self.dbpath = self.params.get("dbpath", "")
        if not self.dbpath:
            raise CfError('missing "dbpath" parameter')
        if not os.path.exists(self.dbpath):
            raise CfError(f"database {self.dbpath} does not exist")
        from tui.core.safeio import check_regular
        try:
            check_regular(self.dbpath)  # sqlite would wait on a FIFO
        except OSError as exc:
            raise CfError(f"database {self.dbpath}: {exc.strerror or exc}") from None

    def _describe(self) -> str:
        return f"SQLite database {self.dbpath} (read-only; {self.path})"

    def _open(self):
        uri = "file:" + urllib.parse.quote(os.path.abspath(self.dbpath)) + "?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=2, check_same_thread=False)
        db.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
        return db

    def _run(self, query: str):
        with self._lock:
            try:
                if self._db is None:
                    self._db = self._open()
                cur = self._db.execute(query)
                if cur.description is None:
                    return [], None
                return cur.fetchall(), None
            except sqlite3.Error as exc:
                return [], f"{self.spec}: SQL query failed: {exc}"

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                except sqlite3.Error:
                    pass
                self._db = None
