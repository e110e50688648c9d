"""Plumbing for the hostile-input tests: run the real CLI in a child
process (optionally as the unprivileged user `nobody`), snapshot a
directory tree, build scratch configuration directories."""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNPRIV = ("nobody", "nogroup")


@dataclass
class Run:
    rc: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + "\n" + self.err


def cli(*args: str, user: str | None = None, stdin: bytes | None = None, env: dict | None = None,
        timeout: float = 120) -> Run:
    """`postfix-explorer ARGS` in a child process; user="nobody" drops root
    (setpriv) so file modes apply."""
    cmd = [sys.executable, "-m", "tui", *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={UNPRIV[1]}", "--clear-groups", *cmd]
    e = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO))
    e.pop("PYTHONWARNINGS", None)
    if env:
        e.update(env)
    r = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, cwd="/", env=e)
    return Run(r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace"))


def no_traceback(r: Run) -> None:
    assert "Traceback" not in r.all, r.all[-3000:]


def public_tmpdir(prefix: str = "pfx-hostile-") -> Path:
    """A scratch directory `nobody` may enter (pytest's tmp_path is private)."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    return d


def rmtree(d: Path) -> None:
    for root, dirs, _files in os.walk(d):
        for x in dirs:
            try:
                os.chmod(os.path.join(root, x), 0o755)
            except OSError:
                pass
    shutil.rmtree(d, ignore_errors=True)


def snapshot(root: Path) -> dict:
    """Every entry under ROOT: type, mode, size, mtime_ns, content hash (or
    link target). The directory listing is the key set."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p), st.st_mtime_ns)
            elif os.path.isdir(p):
                out[rel] = ("dir", st.st_mode, st.st_mtime_ns)
            else:
                with open(p, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                out[rel] = ("file", st.st_mode, st.st_size, st.st_mtime_ns, digest)
    st = os.stat(root)
    out["."] = ("dir", st.st_mode, st.st_mtime_ns)
    return out


def closed_port() -> int:
    """A loopback port nothing listens on (connecting is refused); one no
    scratch smtpd of a parallel test worker can be given (see free_port)."""
    from tests.oracle.postfix_instance import free_port

    return free_port()


def mariadb(sql: str, db: str | None = None) -> str:
    cmd = ["mariadb", "-uroot", "--batch", "--skip-column-names"] + ([db] if db else [])
    r = subprocess.run(cmd, input=sql.encode(), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode()


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never says a word (a hung
    MySQL server). `accepted` counts connections."""

    def __init__(self):
        import threading

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.conns: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            self.accepted += 1

    def close(self):
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            c.close()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TcpProxy:
    """A TCP proxy on 127.0.0.1 in front of TARGET (host, port); kill()
    drops every connection and stops listening: a server that dies in the
    middle of a session."""

    def __init__(self, target: tuple[str, int]):
        import threading

        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.conns: list[socket.socket] = []
        self._threads = []
        t = threading.Thread(target=self._serve, daemon=True)
        t.start()
        self._threads.append(t)

    def _serve(self):
        import threading

        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.target, timeout=5)
                up.settimeout(None)
            except OSError:
                c.close()
                continue
            self.accepted += 1
            self.conns += [c, up]
            for a, b in ((c, up), (up, c)):
                t = threading.Thread(target=self._pipe, args=(a, b), daemon=True)
                t.start()
                self._threads.append(t)

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def kill(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


class ScriptedServer:
    """A TCP server on 127.0.0.1 that plays a MySQL server badly: for each
    connection, `behaviour(conn)` runs in its own thread (drip bytes, send
    an error packet, ...). close() stops it."""

    def __init__(self, behaviour):
        import threading

        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        import threading

        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._play, args=(c,), daemon=True).start()

    def _play(self, c):
        try:
            self.behaviour(c, self.stop)
        except OSError:
            pass

    def close(self):
        self.stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def mysql_handshake() -> bytes:
    """A MySQL protocol-10 greeting packet (sequence 0)."""
    body = (b"\x0a" + b"5.5.5-10.11.6-MariaDB\x00" + (7).to_bytes(4, "little") + b"abcdefgh\x00"
            + (0xF7FE).to_bytes(2, "little") + b"\x21" + (2).to_bytes(2, "little")
            + (0x81BF).to_bytes(2, "little") + b"\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00"
            + b"mysql_native_password\x00")
    return len(body).to_bytes(3, "little") + b"\x00" + body


def drip(conn, stop, interval: float = 2.0) -> None:
    """Send a greeting, then a packet that never ends, one byte per INTERVAL."""
    data = mysql_handshake()[:-8]
    i = 0
    while not stop.wait(interval):
        conn.sendall(data[i:i + 1] if i < len(data) else b"x")
        i += 1


def error_packet(message: bytes):
    """A server that answers every connection with MySQL error 1040 carrying
    MESSAGE (as a server that is out of connections does, before any
    greeting)."""
    def play(conn, stop):
        body = b"\xff" + (1040).to_bytes(2, "little") + message
        conn.sendall(len(body).to_bytes(3, "little") + b"\x00" + body)
        stop.wait(30)
    return play


def _packet(seq: int, body: bytes) -> bytes:
    return len(body).to_bytes(3, "little") + bytes([seq & 0xFF]) + body


def _read_packet(conn) -> tuple[int, bytes]:
    head = b""
    while len(head) < 4:
        more = conn.recv(4 - len(head))
        if not more:
            raise OSError("closed")
        head += more
    n = int.from_bytes(head[:3], "little")
    body = b""
    while len(body) < n:
        more = conn.recv(n - len(body))
        if not more:
            raise OSError("closed")
        body += more
    return head[3], body


def drip_on_select(conn, stop, interval: float = 2.0) -> None:
    """Greet, accept any login and any statement, but answer a SELECT one
    byte per INTERVAL, without end: a server that hangs mid-answer."""
    conn.sendall(mysql_handshake())
    ok = b"\x00\x00\x00\x02\x00\x00\x00"
    while True:
        seq, body = _read_packet(conn)
        if b"SELECT" in body.upper():
            break
        conn.sendall(_packet(seq + 1, ok))
    while not stop.wait(interval):
        conn.sendall(b"\x01")
