"""Traces on one Config reuse what they computed before (restriction lists,
address resolution, static tables' answers). A map edited between two traces
must still be seen: the second trace on the reused Config must equal a trace
on a freshly loaded Config, and the map's new answer must be what postmap -q
says the edited file holds."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tui.core import dns
from tui.core.config import load_config
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

MAIN = """\
compatibility_level = 3.6
myhostname = mx.example.com
mydomain = example.com
mydestination = localhost
inet_interfaces = 127.0.0.1
mynetworks = 127.0.0.0/8
smtpd_client_restrictions = check_client_access cidr:{d}/clients
smtpd_sender_restrictions = check_sender_access texthash:{d}/senders
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,
    reject_unlisted_recipient
virtual_mailbox_domains = texthash:{d}/vdomains
virtual_mailbox_maps = texthash:{d}/vmailbox
"""


def _write(d: Path, name: str, text: str) -> None:
    (d / name).write_text(text)


def _postmap_q(d: Path, key: str, spec: str) -> str | None:
    p = subprocess.run(["postmap", "-c", str(d), "-q", key, spec], capture_output=True, text=True,
                       timeout=30)
    return p.stdout.strip() if p.returncode == 0 else None


def _trace(cfg, tx):
    return evaluate(cfg, tx, service="smtp", resolver=dns.StaticResolver(default=dns.NOTFOUND))


@pytest.mark.oracle
def test_edited_maps_are_seen_by_a_reused_config(tmp_path: Path):
    need_postfix()
    d = tmp_path
    _write(d, "main.cf", MAIN.format(d=d))
    _write(d, "master.cf", "smtp inet n - n - - smtpd\n")
    _write(d, "clients", "203.0.113.9/32 REJECT blocked\n")
    _write(d, "senders", "bad@example.net REJECT no\n")
    _write(d, "vdomains", "example.org OK\n")
    _write(d, "vmailbox", "alice@example.org alice/\n")
    tx = Transaction(client_address="192.0.2.7", client_name="h.example.net", helo="h.example.net",
                     sender="someone@example.net", recipient="bob@example.org")
    cfg = load_config(d)
    for _ in range(3):  # warm: everything the reuse keeps is filled
        before = _trace(cfg, tx)
    assert before.code == 550, before.reply  # bob is not in vmailbox yet

    # bob gets a mailbox, the sender gets listed (sizes change, so does the stamp)
    _write(d, "vmailbox", "alice@example.org alice/\nbob@example.org bob/\n")
    assert _postmap_q(d, "bob@example.org", f"texthash:{d}/vmailbox") == "bob/"
    after = _trace(cfg, tx)
    fresh = _trace(load_config(d), tx)
    assert after.to_json() == fresh.to_json()
    assert after.code == 250, after.reply

    _write(d, "senders", "bad@example.net REJECT no\nsomeone@example.net REJECT listed now\n")
    assert _postmap_q(d, "someone@example.net", f"texthash:{d}/senders") == "REJECT listed now"
    after = _trace(cfg, tx)
    assert after.to_json() == _trace(load_config(d), tx).to_json()
    assert after.code == 554 and "listed now" in after.reply, after.reply

    # the address class of a domain (resolution is shared across traces)
    other = Transaction(client_address="192.0.2.7", client_name="h.example.net", helo="h.example.net",
                        sender="a@example.net", recipient="carol@example.com")
    assert _trace(cfg, other).code // 100 in (4, 5)  # not ours: relay access denied
    _write(d, "vdomains", "example.org OK\nexample.com OK\n")
    _write(d, "vmailbox", "alice@example.org alice/\nbob@example.org bob/\ncarol@example.com c/\n")
    assert _postmap_q(d, "example.com", f"texthash:{d}/vdomains") == "OK"
    again = _trace(cfg, other)
    assert again.to_json() == _trace(load_config(d), other).to_json()
    assert again.code == 250, again.reply

    # the client map: cidr, a pattern table whose answers are kept too
    blocked = Transaction(client_address="203.0.113.9", client_name="x.example.net",
                          helo="x.example.net", sender="a@example.net", recipient="alice@example.org")
    assert _trace(cfg, blocked).code == 554
    _write(d, "clients", "# nobody blocked any more\n")
    st = os.stat(d / "clients")
    os.utime(d / "clients", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    again = _trace(cfg, blocked)
    assert again.to_json() == _trace(load_config(d), blocked).to_json()
    assert again.code == 250, again.reply
