"""mysql: tables (mysql_table(5)) through pymysql.

hosts: "unix:/path", "inet:host[:port]", "host[:port]"; "localhost" means
the server's default UNIX socket (as libmysqlclient does). UNIX sockets are
tried before TCP hosts (Postfix does so too; among each kind Postfix picks
at random, we keep the written order so results are reproducible).
A host that fails is skipped until `retry_interval` (default 60 s) has
passed, as Postfix marks it down; the connection that works is reused for
later lookups -- by every mysql: table of this process with the same login
(hosts, user, password, database, options). The services' views of one
configuration, its reloads and the changed copies that proofs evaluate
would otherwise each hold connections of their own, and a PostfixAdmin
installation's dozen tables times a few services and copies is more than
a production server's max_connections (151 by default) allows; Postfix's
proxymap likewise opens each table once for all its clients. The whole
table reads of select() (the PostfixAdmin view) have a second connection
of the login, so that lookups meanwhile do not wait for them.
Connect/read/write timeouts are short so a hung server cannot freeze a
caller, and a host that hung once is not waited on again at every lookup
of a trace. pymysql's timeouts are per read: a server that drips one
byte a second would keep it reading forever, so the whole of one lookup
(every host tried, the handshake, the query and its rows) also has a
deadline, LOOKUP_TIMEOUT: a watchdog shuts the socket down when it passes.

The password is kept in a _Secret whose repr()/str() hide it, and is scrubbed from every error text.
"""
from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import weakref

from tui.core.model import Diagnostic
from tui.core.tables.sql import CfError, SqlTable, mysql_quote
from tui.core.text import scrub_assignments

DEFAULT_SOCKETS = ("/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock", "/tmp/mysql.sock")
CONNECT_TIMEOUT = 3
IO_TIMEOUT = 5
LOOKUP_TIMEOUT = CONNECT_TIMEOUT + IO_TIMEOUT  # one whole lookup, every host included


class _Watchdog:
    """Shuts a socket down when a deadline passes, so that a read blocked
    on it returns at once (pymysql then raises a connection error)."""

    def __init__(self):
        self._timer: threading.Timer | None = None
        self.fired = False

    def arm(self, sock, seconds: float) -> None:
        self.cancel()
        self.fired = False
        self._timer = threading.Timer(max(0.0, seconds), self._fire, (sock,))
        self._timer.daemon = True
        self._timer.start()

    def _fire(self, sock) -> None:
        self.fired = True
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _Link:
    """The connection that the mysql: tables with one login share (see the
    module's docstring), the host it reached, and the lock a lookup holds
    (one connection runs one query at a time). A forked process makes its
    own: it never speaks on its parent's connection."""

    __slots__ = ("conn", "host", "lock", "pid", "users", "__weakref__")

    def __init__(self):
        self.conn = None
        self.host: str | None = None
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.users = 0   # tables attached and not closed: the last close() closes the connection


_LINKS: "weakref.WeakValueDictionary[tuple, _Link]" = weakref.WeakValueDictionary()
_LINKS_LOCK = threading.Lock()


def _link(key: tuple) -> _Link:
    """The _Link of this login in this process (kept while a table uses
    it), with one more user."""
    with _LINKS_LOCK:
        got = _LINKS.get(key)
        if got is None or got.pid != os.getpid():
            got = _LINKS[key] = _Link()
        got.users += 1
        return got


class _Secret:
    """Holds a password; repr/str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def __call__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__

    def __reduce__(self):  # never pickled along with a table
        raise TypeError("a password is not serialisable")


_secret = _Secret


def parse_hosts(text: str) -> list[tuple[str, str, int | None]]:
    """[(kind, host_or_path, port)], unix sockets first."""
    unix, inet = [], []
    for item in text.replace(",", " ").split():
        if item.startswith("unix:"):
            unix.append(("unix", item[5:], None))
            continue
        if item.startswith("inet:"):
            item = item[5:]
        host, port = item, None
        if item.startswith("["):
            end = item.find("]")
            host = item[1:end]
            rest = item[end + 1:]
            if rest.startswith(":") and rest[1:].isdigit():
                port = int(rest[1:])
        elif item.count(":") == 1:
            h, _, p = item.partition(":")
            if p.isdigit():
                host, port = h, int(p)
        if host == "localhost":
            sock = next((s for s in DEFAULT_SOCKETS if os.path.exists(s)), DEFAULT_SOCKETS[0])
            unix.append(("unix", sock, None))
        else:
            inet.append(("inet", host, port or 3306))
    return unix + inet


class MysqlTable(SqlTable):
    label = "MySQL"
    quote = staticmethod(mysql_quote)
    raw_bytes = True

    def __init__(self, spec, type_, name, fold, view=None):
        self._login: tuple = ()
        self._shared = _Link()   # replaced by the login's once configured
        self._bulk: _Link | None = None   # select()'s, once it is used
        self._down: dict[str, tuple[float, str]] = {}  # host label -> (retry at, why)
        self.retry_interval = 60.0
        self._pw = _secret("")
        self._file_pws: list[_Secret] = []  # passwords in the option_file
        self.hosts: list[tuple[str, str, int | None]] = []
        self.user = ""
        self.dbname = ""
        self._extra: dict = {}
        super().__init__(spec, type_, name, fold, view)

    def _configure(self, view) -> None:
        super()._configure(view)
        p = self.params
        self.hosts = parse_hosts(p.get("hosts", "localhost"))
        if not self.hosts:
            raise CfError("no hosts")
        self.user = p.get("user", "")
        try:
            self.retry_interval = float(p.get("retry_interval", "60") or 60)
        except ValueError:
            self.retry_interval = 60.0
        self._pw = _secret(p.pop("password", ""))
        self.dbname = p.get("dbname", "")
        if not self.dbname:
            raise CfError('missing "dbname" parameter')
        # option_file/option_group (my.cnf [client] settings) and tls_* map
        # onto pymysql's equivalents; settings in the .cf win over the file.
        self._extra: dict = {}
        if p.get("option_file"):
            from tui.core.safeio import check_regular
            try:
                check_regular(p["option_file"])  # pymysql would wait on a FIFO
            except FileNotFoundError:
                pass  # libmysqlclient skips a missing option file; so does pymysql
            except OSError as exc:
                raise CfError(f"option_file {p['option_file']}: {exc.strerror or exc}") from None
            else:
                self._file_pws = _option_file_passwords(p["option_file"])
            self._extra["read_default_file"] = p["option_file"]
            self._extra["read_default_group"] = p.get("option_group") or "client"
        tls = {"tls_CAfile": "ssl_ca", "tls_CApath": "ssl_capath", "tls_cert_file": "ssl_cert",
               "tls_key_file": "ssl_key"}
        for name, kw in tls.items():
            if p.get(name):
                self._extra[kw] = p[name]
        if p.get("tls_verify_cert"):
            self._extra["ssl_verify_cert"] = p["tls_verify_cert"].lower() in ("yes", "true", "1")
        # the password enters the key only as a digest
        self._login = (tuple(self.hosts), self.user, hashlib.sha256(self._pw().encode()).hexdigest(),
                       self.dbname, tuple(sorted(self._extra.items())))
        self._shared = _link(self._login)
        ignored = [k for k in p if k == "tls_ciphers" and p[k]]
        if ignored:
            self._diags.append(Diagnostic(
                "warning", "tls_ciphers: not applied by the explorer (it uses the default ciphers)",
                self.path, self.param_lines.get("tls_ciphers")))

    def _describe(self) -> str:
        where = ", ".join(h if k == "unix" else f"{h}:{p}" for k, h, p in self.hosts)
        return f"MySQL database {self.dbname!r} on {where} as user {self.user!r} ({self.path})"

    def _scrub(self, text: str) -> str:
        """An error text with every password this table knows hidden: the
        .cf's, the option_file's, and any `password=...` a library quoted."""
        for secret in sorted([self._pw, *self._file_pws], key=lambda s: -len(s())):
            pw = secret()
            if pw and pw in text:
                text = text.replace(pw, "********")
        return scrub_assignments(text)

    def _connect(self, deadline: float, watchdog: _Watchdog):
        import pymysql

        errors = []
        for kind, host, port in self.hosts:
            kw = dict(user=self.user, password=self._pw(), database=self.dbname,
                      connect_timeout=CONNECT_TIMEOUT, read_timeout=IO_TIMEOUT,
                      write_timeout=IO_TIMEOUT, charset="utf8mb4", collation="utf8mb4_general_ci", conv=_text_conv(),
                      autocommit=True, local_infile=False,  # no stale snapshot on reuse
                      **self._extra)
            if kind == "unix":
                kw["unix_socket"] = host
                label = f"unix:{host}"
            else:
                kw["host"] = host
                kw["port"] = port
                label = f"inet:{host}:{port}"
            down = self._down.get(label)
            if down is not None and down[0] > time.monotonic():
                errors.append(f"{label}: not retried for {down[0] - time.monotonic():.0f} s "
                              f"(retry_interval) after: {down[1]}")
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                errors.append(f"{label}: not tried, the lookup's {LOOKUP_TIMEOUT} s had run out")
                continue
            sock = None
            try:
                conn = pymysql.connect(defer_connect=True, **kw)  # reads the option_file
                sock = _open_socket(kind, host, port, min(CONNECT_TIMEOUT, left))
                watchdog.arm(sock, deadline - time.monotonic())
                try:
                    conn.connect(sock)
                finally:
                    watchdog.cancel()
            except Exception as exc:  # pymysql.err.*, OSError
                if sock is None and isinstance(exc, OSError):
                    # pymysql's own words when it opens the socket itself
                    shown = "localhost" if kind == "unix" else host
                    exc = pymysql.err.OperationalError(2003, f"Can't connect to MySQL server on {shown!r} ({exc})")
                elif sock is not None:
                    sock.close()
                why = self._scrub(_exc_text(exc))
                if watchdog.fired:
                    why = f"no answer within {LOOKUP_TIMEOUT} s (the server is too slow: {why})"
                self._mark_down(label, why)
                errors.append(f"{label}: {why}")
                continue
            self._down.pop(label, None)
            return conn, label
        return None, "cannot connect to any MySQL server: " + "; ".join(errors)

    def _here(self, link: _Link | None, key: tuple) -> _Link:
        """LINK, or this process's link of KEY when there is none yet or
        LINK is the parent's (forked: the parent's connection is not ours)."""
        return link if link is not None and link.pid == os.getpid() else _link(key)

    def _run_select(self, query: str):
        self._bulk = self._here(self._bulk, self._login + ("select()",))
        return self._run(query, self._bulk)

    def _run(self, query: str, link: _Link | None = None):
        deadline = time.monotonic() + LOOKUP_TIMEOUT
        watchdog = _Watchdog()
        if link is None:
            link = self._shared = self._here(self._shared, self._login)
        with link.lock:
            for attempt in (1, 2):
                if link.conn is None:
                    conn, got = self._connect(deadline, watchdog)
                    if conn is None:
                        return [], f"{self.spec}: {got}"
                    link.conn, link.host = conn, got
                try:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("no time left")
                    watchdog.arm(link.conn._sock, left)
                    try:
                        with link.conn.cursor() as cur:
                            # bytes: a key that is not UTF-8 (smtputf8_enable = no) reaches
                            # the server byte for byte, as with Postfix's C strings
                            cur.execute(query.encode("utf-8", "surrogateescape"))
                            rows = cur.fetchall() if cur.description is not None else None
                    finally:
                        watchdog.cancel()
                    if rows is None:
                        if self.params.get("require_result_set", "yes").lower() in ("no", "false", "0"):
                            return [], None
                        return [], f"{self.spec}: query did not return a result set"
                    return list(rows), None
                except Exception as exc:
                    text = self._scrub(_exc_text(exc))
                    if watchdog.fired or isinstance(exc, TimeoutError):
                        text = f"no complete answer within {LOOKUP_TIMEOUT} s (the server is too slow)"
                        _close(link)
                        self._mark_down(link.host, text)
                        return [], f"{self.spec}: query failed on {link.host}: {text}"
                    stale = _is_connection_error(exc)
                    _close(link)
                    if stale and attempt == 1:
                        continue  # the reused connection died: reconnect once
                    if stale:
                        self._mark_down(link.host, text)
                    return [], f"{self.spec}: query failed on {link.host}: {text}"
        return [], f"{self.spec}: query failed"

    def _mark_down(self, label: str | None, why: str) -> None:
        if label:
            self._down[label] = (time.monotonic() + self.retry_interval, why)

    def close(self) -> None:
        """Leave the login's connections; the last table to leave closes
        them (a table dropped unclosed leaves them open until the last one
        is gone)."""
        links = [link for link in (self._shared, self._bulk) if link is not None]
        self._shared, self._bulk = _Link(), None
        for link in links:
            with link.lock:
                link.users -= 1
                if link.users <= 0:
                    _close(link)


def _close(link: _Link) -> None:
    """Close LINK's connection (the caller holds its lock); in a forked
    process only forget it: closing would end the parent's session."""
    conn, link.conn = link.conn, None
    if conn is not None and link.pid == os.getpid():
        try:
            conn.close()
        except Exception:
            pass


def _open_socket(kind: str, host: str, port: int | None, timeout: float):
    """The connected socket pymysql would open (it takes ours, so that the
    watchdog can reach it during the handshake)."""
    if kind == "unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(host)
        except OSError:
            sock.close()
            raise
        return sock
    sock = socket.create_connection((host, port or 3306), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    return sock


def _text_conv() -> dict:
    """pymysql converters that keep every column as the server's text (as
    Postfix sees it: 1, 2000-01-01 00:00:00, ...): the Python-type encoders
    stay, the MySQL-field-type decoders (int keys) go."""
    from pymysql.converters import conversions
    return {k: v for k, v in conversions.items() if not isinstance(k, int)}


def _option_file_passwords(path: str) -> list[_Secret]:
    """The values of `password` lines of a my.cnf-style option file, in any
    section or none, quoted or not, to be hidden from error texts."""
    from tui.core.safeio import read_text

    try:
        text = read_text(path, limit=1 << 20)
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        name, eq, value = line.partition("=")
        if eq and name.strip().lower() in ("password", "pass", "passwd"):
            v = value.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            if v:
                out.append(_secret(v))
    return out


def _exc_text(exc: BaseException) -> str:
    import configparser

    if isinstance(exc, configparser.Error):
        # configparser quotes the line it could not read: never show it
        where = getattr(exc, "source", None) or "option_file"
        if isinstance(exc, configparser.MissingSectionHeaderError):
            return f"{where}, line {exc.lineno}: a setting before any [section] (line not shown)"
        if isinstance(exc, configparser.ParsingError):
            lines = ", ".join(str(n) for n, _l in exc.errors) or "?"
            return f"{where}: cannot parse line {lines} (not shown)"
        return f"{where}: {type(exc).__name__} (the file's text is not shown)"
    args = getattr(exc, "args", ())
    if len(args) == 2 and isinstance(args[0], int):
        return f"{args[1]} (error {args[0]})"
    return str(exc) or type(exc).__name__


def _is_connection_error(exc: BaseException) -> bool:
    try:
        import pymysql
    except ImportError:  # pragma: no cover
        return False
    if isinstance(exc, (pymysql.err.InterfaceError, OSError)):
        return True
    if isinstance(exc, pymysql.err.OperationalError):
        code = exc.args[0] if exc.args else 0
        return code in (2006, 2013, 2014, 2055)
    return False
