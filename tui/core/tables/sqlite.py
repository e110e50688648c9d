"""sqlite: tables (sqlite_table(5)) through the standard library.

The database file (`dbpath`) is opened READ-ONLY (URI mode=ro): the explorer
never writes to a user's data. mode=ro does not stop a query from creating
OTHER files (`VACUUM INTO '/x/%s'`, `ATTACH '/x/new.db'` create them), so
an authorizer lets a query read and compute only: any other action refuses
the statement before it runs, and the lookup says so. Same query language as mysql: (sql.py);
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
        self._refused: str | None = None
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
        db.set_authorizer(self._authorize)
        return db

    _READING = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                          getattr(sqlite3, "SQLITE_RECURSIVE", 33)})
    # sqlite3_set_authorizer() action codes, named for the refusal message
    _ACTIONS = dict(enumerate((
        "", "create an index", "create a table", "create a temporary index", "create a temporary table",
        "create a temporary trigger", "create a temporary view", "create a trigger", "create a view",
        "delete from", "drop an index", "drop a table", "drop a temporary index", "drop a temporary table",
        "drop a temporary trigger", "drop a temporary view", "drop a trigger", "drop a view",
        "insert into", "run a PRAGMA", "read", "select", "begin or end a transaction", "update",
        "attach (and create) the database file", "detach a database", "alter a table", "reindex",
        "analyze", "create a virtual table", "drop a virtual table", "call a function",
        "set a savepoint", "recurse")))

    def _authorize(self, action, arg1, arg2, dbname, source):
        if action in self._READING:
            return sqlite3.SQLITE_OK
        if self._refused is None:
            what = self._ACTIONS.get(action, f"take action {action}")
            self._refused = f"{what} {arg1!r}" if arg1 else what
        return sqlite3.SQLITE_DENY

    def _run(self, query: str):
        with self._lock:
            try:
                if self._db is None:
                    self._db = self._open()
                self._refused = None
                cur = self._db.execute(query)
                if cur.description is None:
                    return [], None
                return cur.fetchall(), None
            except sqlite3.Error as exc:
                if self._refused is not None:
                    return [], (f"{self.spec}: query refused: the explorer opens the database read-only "
                                f"and never writes, and this query would {self._refused}")
                return [], f"{self.spec}: SQL query failed: {exc}"

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                except sqlite3.Error:
                    pass
                self._db = None
