"""Terminal escapes in what the CLI prints.

ESC/OSC/CSI sequences, other C0 and C1 controls and DEL, put where a
colleague or a remote client can put them -- a main.cf value, a map key
and value, a file name, a MySQL error message, a HELO name -- must never
reach a terminal raw. The text commands spell them out (tui.core.text);
into a pipe, `params` and `lookup` stay byte-identical with postconf and
postmap (asked at test time), which write such bytes as they are.
"""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest

from tests.conftest import need_postfix
from tests.hostile.util import REPO, ScriptedServer, cli, error_packet
from tui.core.text import is_visible, visible

ESC_VALUE = "mail\x1b]2;owned\x07.example\x1b[2J.org\x7f\x9b"
RAW_BAD = ("\x1b", "\x07", "\x7f", "\x9b", "\x85")


def _no_raw(text: str) -> None:
    for c in RAW_BAD:
        assert c not in text, (c, text)


def test_visible_spells_out_every_control_character():
    for o in list(range(0x20)) + list(range(0x7f, 0xa0)):
        c = chr(o)
        out = visible(f"a{c}b")
        if c == "\t":
            assert out == "a\tb"
        else:
            assert out == f"a\\x{o:02x}b" and is_visible(out)
    assert visible("x\udc9by") == "x\\x9by"  # a byte 0x9b that was not UTF-8
    assert visible("a\u202eb\u2028c") == "a\\u202eb\\u2028c"
    assert visible("plain ascii \\d+ jöse@example.org") == "plain ascii \\d+ jöse@example.org"
    assert visible("a\x1b[31mb", replacement="?") == "a?[31mb"
    assert visible("l1\nl2\x1b", keep_newlines=True) == "l1\nl2\\x1b"


@pytest.fixture()
def escdir(tmp_path):
    d = tmp_path
    acc = d / "acc\x1b]2;t\x07ess"
    acc.write_text("evil\x1b[31m@example.org REJECT go away \x1b]2;pwned\x07\n"
                   "evil@example.org REJECT go away \x1b]2;pwned\x07\n"
                   "k\x1bey value\x9b\x1b[2J\n")
    (d / "main.cf").write_text(
        "compatibility_level = 3.6\n"
        f"myorigin = {ESC_VALUE}\n"
        "mydestination = example.org\n"
        f"smtpd_recipient_restrictions = check_recipient_access texthash:{acc}, "
        "reject_unknwon\x1b[8m_sender, reject_unauth_destination\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return d, acc


def _on_tty(*args: str) -> str:
    """Run the CLI with stdout on a pseudo-terminal; what the terminal got."""
    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.Popen([sys.executable, "-m", "tui", *args], stdout=slave, stderr=slave,
                         stdin=subprocess.DEVNULL, env=env, cwd="/")
    os.close(slave)
    chunks = []
    while True:
        r, _, _ = select.select([master], [], [], 120)
        if not r:
            p.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "surrogateescape")


def test_params_on_a_terminal_spells_out_controls(escdir):
    d, _ = escdir
    for args in (["-n"], ["-nx"], ["myorigin"]):
        shown = _on_tty("params", "--config-dir", str(d), *args)
        _no_raw(shown)
        assert "mail\\x1b]2;owned\\x07.example" in shown


def test_params_into_a_pipe_is_byte_identical_with_postconf(escdir):
    need_postfix()
    d, _ = escdir
    for args in (["-n", "myorigin"], ["-nx", "myorigin"]):
        want = subprocess.run(["postconf", "-c", str(d), *args], capture_output=True, timeout=60).stdout
        got = subprocess.run([sys.executable, "-m", "tui", "params", "--config-dir", str(d), *args],
                             capture_output=True, timeout=60, cwd="/",
                             env=dict(os.environ, PYTHONPATH=str(REPO))).stdout
        assert got == want


def test_params_json_escapes(escdir):
    d, _ = escdir
    r = cli("params", "--config-dir", str(d), "--json", "myorigin")
    _no_raw(r.out)
    assert "\\u001b]2;owned" in r.out


def test_lookup_on_a_terminal_and_in_a_pipe(escdir):
    need_postfix()
    d, acc = escdir
    spec = f"texthash:{acc}"
    keys = ["evil\x1b[31m@example.org", "k\x1bey"]
    shown = _on_tty("lookup", "--config-dir", str(d), "--where", spec, *keys)
    _no_raw(shown)
    assert "go away \\x1b]2;pwned\\x07" in shown and "value\\xc2\\x9b" not in shown
    assert "value\\x9b\\x1b[2J" in shown
    # into a pipe: exactly what postmap -q - writes
    want = subprocess.run(["postmap", "-c", str(d), "-q", "-", spec], capture_output=True, timeout=60,
                          input="".join(k + "\n" for k in keys).encode()).stdout
    got = subprocess.run([sys.executable, "-m", "tui", "lookup", "--config-dir", str(d), spec, *keys],
                         capture_output=True, timeout=60, cwd="/",
                         env=dict(os.environ, PYTHONPATH=str(REPO))).stdout
    assert got == want


def test_lookup_error_naming_a_file_with_escapes(tmp_path):
    r = cli("lookup", f"texthash:{tmp_path}/no\x1b]2;x\x07such", "k")
    assert r.rc == 2
    _no_raw(r.all)
    assert "no\\x1b]2;x\\x07such" in r.err


def test_trace_spells_out_lookup_lines_and_replies(escdir):
    d, acc = escdir
    r = cli("trace", "--config-dir", str(d), "--client-address", "192.0.2.7",
            "--helo", "h\x1b]2;helo\x07", "--sender", "s@example.com",
            "--recipient", "evil@example.org")  # smtpd refuses an ESC in an address before any lookup
    assert r.rc == 1, r.all
    _no_raw(r.all)
    assert "go away \\x1b]2;pwned\\x07" in r.out
    assert "acc\\x1b]2;t\\x07ess" in r.out
    assert "h\\x1b]2;helo\\x07" in r.out


def test_lint_spells_out_names_and_paths(escdir):
    d, _ = escdir
    r = cli("lint", "--config-dir", str(d), "--no-database")
    assert r.rc == 1, r.all
    _no_raw(r.all)
    assert "reject_unknwon\\x1b[8m_sender" in r.out


def test_mysql_error_message_is_spelled_out(tmp_path):
    """MariaDB spells out control characters in its own messages; a server
    (or a proxy) that does not must not reach the terminal either."""
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\n")
    with ScriptedServer(error_packet(b"Too many \x1b]2;owned\x07connections\x9b")) as srv:
        cf = tmp_path / "e.cf"
        cf.write_text(f"hosts = inet:127.0.0.1:{srv.port}\nuser = u\ndbname = d\nquery = SELECT 1\n")
        r = cli("lookup", "--config-dir", str(tmp_path), f"mysql:{cf}", "k")
        assert r.rc == 2
        _no_raw(r.err)
        assert "Too many \\x1b]2;owned\\x07connections" in r.err, r.err
