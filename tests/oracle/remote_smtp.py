"""The far end of a delivery: a loopback SMTP server that answers RCPT TO
from a table, so that a real Postfix smtp client (transport_maps pointing
at `smtp:[127.0.0.1]:PORT`) logs what remote servers make it log:
status=deferred / status=bounced "(host ... said: 450 ...)".

    with RemoteSmtp({"<later@said.test>": "450 4.2.0 try again later"}) as r:
        r.port ...

Recipients not in the table get "250 2.1.5 Ok"; a message is taken and
thrown away. The greeting names a host other than the instance's
myhostname (the smtp client refuses to talk to itself).
"""
from __future__ import annotations

import socket

from tests.oracle.loopback import LoopbackServer


class RemoteSmtp(LoopbackServer):
    name = "test-remote-smtp"

    def __init__(self, rcpt_replies: dict[str, str], hostname: str = "remote.test"):
        self.rcpt_replies = {k.lower(): v for k, v in rcpt_replies.items()}
        self.hostname = hostname
        self.commands: list[str] = []
        super().__init__()

    def _client(self, conn: socket.socket) -> None:
        f = None
        try:
            conn.settimeout(30)
            f = conn.makefile("rb")
            conn.sendall(f"220 {self.hostname} ESMTP\r\n".encode())
            in_data = False
            for raw in f:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if in_data:
                    if line == ".":
                        in_data = False
                        conn.sendall(b"250 2.0.0 Ok: thrown away\r\n")
                    continue
                self.commands.append(line)
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    reply = f"250 {self.hostname}"
                elif verb in ("MAIL", "RSET", "NOOP"):
                    reply = "250 2.0.0 Ok"
                elif verb == "RCPT":
                    addr = line.partition(":")[2].strip().split(" ")[0].lower()
                    reply = self.rcpt_replies.get(addr, "250 2.1.5 Ok")
                elif verb == "DATA":
                    in_data = True
                    reply = "354 End data with <CR><LF>.<CR><LF>"
                elif verb == "QUIT":
                    conn.sendall(b"221 2.0.0 Bye\r\n")
                    return
                else:
                    reply = "502 5.5.2 Error: command not recognized"
                conn.sendall(reply.encode() + b"\r\n")
        except OSError:
            pass
        finally:
            if f is not None:
                f.close()
            conn.close()
