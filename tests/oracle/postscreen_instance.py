"""A scratch Postfix instance with postscreen in front of smtpd, and a tiny
DNS server for postscreen's DNSBL lookups, so that a real postscreen can be
driven into its verdicts on loopback.

`PostscreenInstance(config_dir, dns=None)` is a PostfixInstance (see
postfix_instance.py) that also runs the scenario's master.cf lines for
postscreen: each `inet` service whose command is postscreen listens on a
loopback port (`inst.port(name)`), and the `pass` smtpd, `dnsblog` and
`tlsproxy` services come along with their -o overrides. The scenario's
master.cf needs one plain inet smtpd service besides (the base harness
starts from those), e.g. submission.

DNS without the machine's resolver: dnsblog runs chrooted in the instance's
queue directory, where the C library reads etc/resolv.conf; that file names
only the test's DnsServer (a loopback address of its own, port 53), so
postscreen's DNSBL queries never leave the test. Nothing outside the
instance's temp dir is read or changed.
"""
from __future__ import annotations

import os
import random
import socket
import struct
import threading
from pathlib import Path

from tests.oracle import postfix_instance as pi
from tests.oracle.postfix_instance import (_FORCED_OVERRIDES, HarnessError, PostfixInstance, _format_override,
                                           _free_port, _logical_lines, _parse_override, _split_args)

# services that come along with postscreen, by command
_COMPANIONS = ("dnsblog", "tlsproxy")


class DnsServer:
    """Answers A queries over UDP: `answers` maps a name (no final dot,
    lower case) to an IPv4 address; every other name is NXDOMAIN. Listens on
    port 53 of a loopback address of its own (127.x.y.z), which needs root,
    as the scratch instances do anyway."""

    def __init__(self, answers: dict[str, str]):
        self.answers = {k.lower().rstrip("."): v for k, v in answers.items()}
        self.asked: list[str] = []
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rnd = random.Random()
        for _ in range(50):
            addr = f"127.{rnd.randint(100, 250)}.{rnd.randint(1, 250)}.{rnd.randint(1, 250)}"
            try:
                self.sock.bind((addr, 53))
                break
            except OSError as exc:
                last = exc
        else:
            self.sock.close()
            raise HarnessError(f"cannot listen on port 53 of a loopback address: {last}")
        self.address = addr
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, name="test-dns", daemon=True)

    def __enter__(self) -> "DnsServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                reply = self.answer(data)
            except (IndexError, struct.error, UnicodeDecodeError):
                continue
            if reply:
                self.sock.sendto(reply, peer)

    def answer(self, query: bytes) -> bytes:
        qid, _flags, qdcount = struct.unpack("!HHH", query[:6])
        if qdcount != 1:
            return b""
        labels, i = [], 12
        while query[i]:
            n = query[i]
            labels.append(query[i + 1:i + 1 + n].decode("ascii"))
            i += 1 + n
        qtype, _qclass = struct.unpack("!HH", query[i + 1:i + 5])
        question = query[12:i + 5]
        name = ".".join(labels).lower()
        self.asked.append(name)
        addr = self.answers.get(name)
        flags = 0x8180 | 0x0400  # response, recursion desired+available, authoritative
        if addr is None:
            return struct.pack("!HHHHHH", qid, flags | 3, 1, 0, 0, 0) + question  # NXDOMAIN
        if qtype != 1:  # the name exists, but has no record of that type
            return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + question
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
        return struct.pack("!HHHHHH", qid, flags, 1, 1, 0, 0) + question + rr


class PostscreenInstance(PostfixInstance):
    def __init__(self, config_dir, *, dns: DnsServer | None = None, **kw):
        super().__init__(config_dir, **kw)
        self.dns = dns

    def _build(self) -> None:
        super()._build()
        assert self.etc is not None and self.queue is not None
        lines = []
        for lineno, line in _logical_lines((self.config_dir / "master.cf").read_text()):
            toks = _split_args(line)
            if len(toks) < 8:
                continue
            name, typ, _priv, _unpriv, _chroot, _wakeup, maxproc, command = toks[:8]
            cmd = os.path.basename(command)
            args = toks[8:]
            if typ == "inet" and cmd == "postscreen":
                port = _free_port()
                self.ports[name] = port
                head = f"127.0.0.1:{port} inet n - n - {maxproc} postscreen"
            elif typ == "pass" and cmd == "smtpd":
                head = f"{name} pass - - n - - smtpd"
            elif cmd in _COMPANIONS:
                # dnsblog chrooted: it reads the queue directory's etc/resolv.conf
                chroot = "y" if cmd == "dnsblog" and self.dns is not None else "n"
                head = f"{name} {typ} - - {chroot} - 0 {cmd}"
            else:
                continue
            lines.append(f"# {name} (master.cf line {lineno})")
            lines.append(head)
            i = 0
            while i < len(args):
                if args[i] == "-o" and i + 1 < len(args):
                    k, v = _parse_override(args[i + 1])
                    if k not in pi._DROPPED_OVERRIDES:
                        lines.append(_format_override(k, _FORCED_OVERRIDES.get(k, v)))
                    i += 2
                    continue
                i += 1
        if not any(" postscreen" in ln for ln in lines):
            raise HarnessError(f"{self.config_dir}/master.cf has no inet postscreen service")
        master = self.etc / "master.cf"
        master.write_text(master.read_text() + "\n".join(lines) + "\n")
        if self.dns is not None:
            etc = Path(self.queue) / "etc"
            etc.mkdir(mode=0o755, exist_ok=True)
            (etc / "resolv.conf").write_text(f"nameserver {self.dns.address}\noptions timeout:1 attempts:1\n")
            os.chmod(etc / "resolv.conf", 0o644)

    def connect(self, service: str, source: str = "127.0.0.1", timeout: float | None = None) -> socket.socket:
        """A plain TCP connection to a service, from a loopback source address."""
        return socket.create_connection(("127.0.0.1", self.port(service)), timeout=timeout or self.timeout,
                                        source_address=(source, 0))
