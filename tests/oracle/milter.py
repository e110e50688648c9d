"""A tiny milter for the test suite: the Sendmail milter protocol (version 6)
over a loopback TCP socket, just enough for a real smtpd to talk to it
(`smtpd_milters = inet:127.0.0.1:PORT`).

    with Milter(rules) as m:        # m.spec == "inet:127.0.0.1:PORT"
        ...

rules maps a protocol stage to a function of that stage's argument text
that returns None (continue) or what the milter answers:

- "reject": SMFIR_REJECT (smtpd: 5xx, "Command rejected" / "Message rejected")
- "tempfail": SMFIR_TEMPFAIL (smtpd: 4xx "Service unavailable - try again later")
- a reply text such as "550 5.7.1 go away": SMFIR_REPLYCODE

Stages and the text the function sees: "connect" (client name and address,
"name [addr]"), "helo" (the HELO argument), "mail" and "rcpt" (the address
with its angle brackets), "data" (the sender of the transaction, as at
"mail"), "eom" (the message body, as sent).

Each packet is a 4-byte length (network order, the command byte included),
one command byte and its data. The milter offers every event and replies to
each one that needs a reply; macros, abort and quit need none.
"""
from __future__ import annotations

import socket
import struct
from typing import Callable

from tests.oracle.loopback import LoopbackServer

Rule = Callable[[str], "str | None"]

_NO_REPLY = {b"D", b"A", b"Q", b"K"}  # macros, abort, quit, quit-new-connection
_STAGE = {b"C": "connect", b"H": "helo", b"M": "mail", b"R": "rcpt", b"T": "data", b"E": "eom"}


def _packet(cmd: bytes, data: bytes = b"") -> bytes:
    return struct.pack("!I", len(data) + 1) + cmd + data


class Milter(LoopbackServer):
    name = "test-milter"

    def __init__(self, rules: dict[str, Rule]):
        self.rules = rules
        self.seen: list[tuple[str, str]] = []   # (stage, text) of every event asked about
        super().__init__()
        self.spec = f"inet:127.0.0.1:{self.port}"

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            data = conn.recv(n - len(buf))
            if not data:
                raise EOFError
            buf += data
        return buf

    def _client(self, conn: socket.socket) -> None:
        body = b""
        sender = ""
        try:
            conn.settimeout(30)
            while not self._stop.is_set():
                (size,) = struct.unpack("!I", self._read(conn, 4))
                if size < 1 or size > 1 << 20:
                    return
                pkt = self._read(conn, size)
                cmd, data = pkt[:1], pkt[1:]
                if cmd == b"O":  # option negotiation: version 6, no actions, every event with a reply
                    conn.sendall(_packet(b"O", struct.pack("!III", 6, 0, 0)))
                    continue
                if cmd == b"Q":
                    return
                if cmd in _NO_REPLY:
                    if cmd == b"A":
                        body = b""
                    continue
                if cmd == b"B":
                    body += data
                    conn.sendall(_packet(b"c"))
                    continue
                stage = _STAGE.get(cmd)
                text = ""
                if stage == "connect":  # host name \0, family, port, address \0
                    name, _, rest = data.partition(b"\0")
                    addr = rest[3:].rstrip(b"\0").decode(errors="replace")
                    text = f"{name.decode(errors='replace')} [{addr}]"
                elif stage in ("helo", "mail", "rcpt"):
                    text = data.split(b"\0")[0].decode(errors="replace")
                    if stage == "mail":
                        sender = text
                elif stage == "data":
                    text = sender
                elif stage == "eom":
                    text = body.decode(errors="replace")
                    body = b""
                answer = None
                if stage is not None:
                    self.seen.append((stage, text))
                    rule = self.rules.get(stage)
                    answer = rule(text) if rule is not None else None
                if answer is None:
                    conn.sendall(_packet(b"c"))
                elif answer == "reject":
                    conn.sendall(_packet(b"r"))
                elif answer == "tempfail":
                    conn.sendall(_packet(b"t"))
                else:
                    conn.sendall(_packet(b"y", answer.encode() + b"\0"))
        except (OSError, EOFError, struct.error):
            pass
        finally:
            conn.close()
