"""Address classes and routing against the real trivial-rewrite.

A scratch Postfix instance serves the scenario; its trivial-rewrite service
is asked directly over its UNIX socket (private/rewrite: the attribute
protocol smtpd itself speaks: "rewrite" with rule "local", then "resolve")
and must agree with tui.core.classes.resolve_addr on the resolved
recipient, the address class, sender-specified routing, syntax errors, the
transport and the next hop. Nothing expected is written down here.
"""
from __future__ import annotations

import socket

import pytest

from tests.conftest import need_postfix

pytestmark = pytest.mark.oracle

CLASS_BITS = {1 << 8: "local", 1 << 9: "virtual_alias", 1 << 10: "virtual_mailbox",
              1 << 11: "relay", 1 << 12: "default"}
FLAG_ROUTED = 1 << 1
FLAG_ERROR = 1 << 2

ADDRESSES = {
    "address_classes": [
        "joe@example.com", "Joe@Example.COM", "joe@mx.example.com", "joe@localhost",
        "joe", "joe@[127.0.0.1]", "joe@[192.0.2.25]", "joe@[192.0.2.99]",
        "x@alias.example", "x@vmail.example", "x@relay.example", "x@sub.relay.example",
        "x@other.example", "x%other.example@example.com", "x%other.example@relay.example",
        "x@other.example@relay.example", "other.example!x@example.com", "x@other.example.",
        "postmaster", "MAILER-DAEMON", "x@[999.1.1.1]", "x@bad_dom!.example", "-x@example.com",
        "x@1.2.3.4", "x+tag@vmail.example",
    ],
    "seed_mailman": [
        "someone@outside.example", "test-list@lists.example.org", "alice@example.org",
        "postmaster@example.org", "root@lists.example.org", "x@mail.example.org", "bob+tag@example.net",
        "x@example.org", "lists.example.org!x@lists.example.org",
    ],
}


def _attrs(data: bytes) -> list[tuple[str, str]]:
    parts = data.split(b"\0")
    out = []
    for i in range(0, len(parts) - 1, 2):
        if parts[i] == b"":
            break
        out.append((parts[i].decode(), parts[i + 1].decode(errors="replace")))
    return out


def _quote(addr: str) -> str:
    local, at, dom = addr.rpartition("@")
    if at and any(c in local for c in '@ ()<>,;:\\"[]'):
        return f'"{local}"@{dom}'
    return addr


def _unquote(addr: str) -> str:
    if addr.startswith('"'):
        end = addr.find('"', 1)
        if end > 0:
            return addr[1:end] + addr[end + 1:]
    return addr


class _Rewrite:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(str(path))
        self.buf = b""
        assert ("protocol", "trivial_rewrite_protocol") in self._read()

    def _read(self):
        while b"\0\0" not in self.buf or not self._complete():
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("trivial-rewrite closed the connection")
            self.buf += chunk
        end = self._complete()
        msg, self.buf = self.buf[:end], self.buf[end:]
        return _attrs(msg)

    def _complete(self):
        # a message is name\0value\0 ... \0 : find the terminating empty name
        pos = 0
        while True:
            n = self.buf.find(b"\0", pos)
            if n < 0:
                return 0
            if n == pos:
                return n + 1
            v = self.buf.find(b"\0", n + 1)
            if v < 0:
                return 0
            pos = v + 1

    def ask(self, **attrs):
        self.s.sendall(b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in attrs.items()) + b"\0")
        return self._read()

    def close(self):
        self.s.close()


@pytest.mark.parametrize("name", sorted(ADDRESSES))
def test_resolve_matches_trivial_rewrite(name):
    need_postfix()
    from tests.oracle.conftest import running_scenario
    from tests.oracle.scenarios import load_scenario
    from tui.core.cache import TableCache
    from tui.core.rewrite.resolve import resolve_addr
    from tui.core.config import load_config

    class Env:
        pass

    mismatches = []
    with running_scenario(load_scenario(name)) as (cfg_dir, inst):
        cfg = load_config(cfg_dir)
        env = Env()
        env.view = cfg.params("smtp")
        env.main = cfg.params()
        env.tables = TableCache()
        rw = _Rewrite(inst.queue / "private" / "rewrite")
        try:
            for addr in ADDRESSES[name]:
                # rewrite_clnt_internal(): quote, rewrite, unquote (the service speaks external form)
                rewritten = _unquote(dict(rw.ask(request="rewrite", rule="local", address=_quote(addr)))["address"])
                real = rw.ask(request="resolve", sender="", address=rewritten)
                flags = int([v for k, v in real if k == "flags"][-1])
                d = dict(real)
                real_t = (d["recipient"].lower(),
                          next((c for b, c in CLASS_BITS.items() if flags & b), "?"),
                          bool(flags & FLAG_ROUTED), bool(flags & FLAG_ERROR))
                mine = resolve_addr(env, addr)
                mine_t = (mine.recipient, mine.address_class, mine.routed, mine.error)
                if not real_t[3]:
                    real_t += (d["transport"], d["nexthop"])
                    mine_t += (mine.transport, mine.nexthop)
                if real_t != mine_t:
                    mismatches.append(f"{addr!r}: trivial-rewrite {real_t} engine {mine_t}")
        finally:
            rw.close()
    assert not mismatches, "\n".join(mismatches)


EXPANSION_CONFIG = {'main.cf': 'compatibility_level = 3.6\n'
            'myhostname = mail.example.com\n'
            'mydomain = example.com\n'
            'myorigin = $mydomain\n'
            'mydestination = $myhostname, localhost\n'
            'inet_interfaces = 127.0.0.1\n'
            'mynetworks = 127.0.0.0/8\n'
            'alias_maps =\n'
            'local_recipient_maps =\n'
            'recipient_delimiter = +\n'
            'virtual_alias_domains = alias.example, team.example\n'
            'virtual_alias_maps = hash:__DIR__/valias\n'
            'virtual_mailbox_domains = box.example\n'
            'virtual_mailbox_maps = hash:__DIR__/vbox\n'
            'virtual_transport = lmtp:unix:private/dovecot-lmtp\n'
            'smtpd_client_restrictions = check_client_access inline:{127.0.0.1=HOLD}\n',
 'master.cf': 'smtp inet n - n - - smtpd\n',
 'transactions.tsv': 'service\tclient_address\tclient_name\thelo\tsender\trecipient\tsasl_login\t'
                     'note\n',
 'valias': 'info@alias.example\tsales@team.example, boss@box.example\n'
           'sales@team.example\tann@box.example, bob@box.example, sales@team.example\n'
           'ann@box.example\tann@box.example, ann-copy@box.example\n'
           '@team.example\tcatch@box.example\n'
           'loop1@alias.example\tloop2@alias.example\n'
           'loop2@alias.example\tloop1@alias.example\n'
           'plus@alias.example\tplain@box.example\n'
           'user\tlocal@box.example\n',
 'vbox': 'boss@box.example x\n'
         'ann@box.example x\n'
         'bob@box.example x\n'
         'catch@box.example x\n'
         'ann-copy@box.example x\n'
         'plain@box.example x\n'}
EXPANSION_ADDRESSES = ["info@alias.example", "x@team.example", "boss@box.example", "loop1@alias.example",
                       "plus+tag@alias.example", "ANN@box.example"]


def test_virtual_alias_expansion_matches_cleanup(tmp_path):
    """route()'s final recipients = what the real cleanup queues (mail held by an access HOLD)."""
    need_postfix()
    import json
    import subprocess
    import time

    from tests.oracle.conftest import running_scenario
    from tests.oracle.postfix_instance import _Smtp
    from tests.oracle.scenarios import Scenario
    from tui.core.rewrite.route import route
    from tui.core.config import load_config
    from tui.core.dns import OfflineResolver
    from tui.core.smtpd import Evaluator
    from tui.core.trace import Transaction

    src = tmp_path / "expansion"
    src.mkdir()
    for fname, text in EXPANSION_CONFIG.items():
        (src / fname).write_text(text)
    real: dict[str, object] = {}
    with running_scenario(Scenario("expansion", src, [], {})) as (cfg_dir, inst):
        queued = {}
        for addr in EXPANSION_ADDRESSES:
            s = _Smtp(inst.port("smtp"), 20)
            try:
                s.read_reply()
                for cmd in ("HELO client.example", "MAIL FROM:<s@example.net>", f"RCPT TO:<{addr}>", "DATA"):
                    s.command(cmd)
                code, text = s.command(f"Subject: {addr}\r\n\r\nhello\r\n.")
                if code == 250:
                    queued[text.rsplit(" ", 1)[-1]] = addr
                else:
                    real[addr] = text
                s.command("QUIT")
            finally:
                s.close()
        deadline = time.monotonic() + 30
        while True:
            out = subprocess.run(["postqueue", "-c", str(inst.etc), "-j"], capture_output=True, text=True).stdout
            held = {j["queue_id"]: j for j in map(json.loads, out.splitlines())}
            if all(q in held for q in queued) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for qid, addr in queued.items():
            real[addr] = sorted(r["address"] for r in held[qid]["recipients"])
        cfg = load_config(cfg_dir)
        ev = Evaluator(cfg, Transaction("127.0.0.1"), "smtp", OfflineResolver())
        mismatches = []
        for addr in EXPANSION_ADDRESSES:
            r = route(ev, addr)
            if isinstance(real[addr], str):      # cleanup refused the message
                ok = any(real[addr][4:] in n for n in r.notes)
                mine = list(r.notes)
            else:
                mine = sorted(t.address for t in r.targets)
                ok = mine == real[addr]
            if not ok:
                mismatches.append(f"{addr}: postfix {real[addr]!r} engine {mine!r}")
    assert not mismatches, "\n".join(mismatches)
