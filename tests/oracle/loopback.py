"""The base of the test suite's small TCP servers (a milter, a remote SMTP
server): it listens on a free port of 127.0.0.1, one thread accepts, and
each client is served by `_client(conn)` in a thread of its own.

    class Echo(LoopbackServer):
        name = "test-echo"
        def _client(self, conn): ...

    with Echo() as s:      # s.port
        ...
"""
from __future__ import annotations

import socket
import threading


class LoopbackServer:
    name = "test-server"   # the accepting thread's name

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        raise NotImplementedError
