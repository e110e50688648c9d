"""Postfix 3.7 with maillog_file: a main.cf setting written twice can hang
every Postfix process that logs.

Each Postfix process logs "overriding earlier entry" as it reads such a
main.cf. With maillog_file, they log through postlogd's datagram socket,
and postlogd itself reads main.cf, and logs that warning through the same
socket, before it begins to read from it (postlogd.c: it turns to writing
the file itself only after its configuration is read). The kernel queues 10
datagrams on a socket: when the processes starting beside it have filled
the queue, postlogd waits for itself, and every process that logs next
(smtpd's "connect from") waits for it: clients get no greeting. Seen by
chance in the oracle harness (4 instances of 6 hung); here made certain:
master is held (SIGSTOP), postlogd left to exit (max_idle) and its socket
filled, then master is let go, so that the postlogd it starts finds the
queue full.

The same steps with the setting written once: postlogd starts, drains the
queue, and smtpd greets. lint says it of a configuration with both.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, scratch_instance, scratch_master_cf
from tui.core.analysis.lint import postlog_warnings
from tui.core.config import load_config

pytestmark = pytest.mark.oracle

MASTER_CF = scratch_master_cf(())
ONCE = SCRATCH_MAIN_CF + "smtpd_banner = $myhostname ESMTP\n"
TWICE = ONCE + "smtpd_banner = $myhostname ESMTP again\n"


def _processes(etc: Path, name: str | None) -> list[int]:
    """The pids of the instance's processes called NAME (None: all of them;
    known by the MAIL_CONFIG master and its children have)."""
    want = f"MAIL_CONFIG={etc}".encode()
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes().split(b"\0")
            cmd = (d / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if want in env and name in (None, os.path.basename(cmd.decode(errors="replace"))):
            out.append(int(d.name))
    return out


def _kill(etc: Path, name: str | None) -> None:
    for pid in _processes(etc, name):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _greeting(port: int, wait: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        try:
            return s.recv(512)
        except socket.timeout:
            return b""


def _no_postlogd(etc: Path) -> None:
    """Wait until no postlogd runs, and none has appeared for half a second:
    a child that master forked just before it was stopped may still become
    one (until it execs, it is called master), and it would read main.cf
    as it was."""
    deadline = time.monotonic() + 30
    quiet_since = None
    while True:
        now = time.monotonic()
        assert now < deadline, "postlogd did not exit after max_idle"
        if _processes(etc, "postlogd"):   # it exits after max_idle without a message
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= 0.5:
            return
        time.sleep(0.1)


def _full_socket_then_start(inst, append: bool) -> bytes:
    """Hold master (no postlogd can start now), let the running postlogd
    exit (max_idle), write the setting a second time into the instance's
    main.cf when APPEND (processes started from now on read it), fill
    postlogd's socket, let master go; what a new client then gets as a
    greeting within 8 s (b"": none)."""
    etc = inst.etc
    master = inst.master_pid
    assert master is not None
    os.kill(master, signal.SIGSTOP)
    try:
        _no_postlogd(etc)
        if append:
            with open(etc / "main.cf", "a") as fh:
                fh.write("smtpd_banner = $myhostname ESMTP again\n")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.setblocking(False)
        sent = 0
        try:
            while sent < 1000:
                try:
                    s.sendto(b"<22>Dec  6 00:00:00 mx pfx-test: filler", str(inst.queue / "public" / "postlog"))
                except OSError as exc:
                    if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                        break
                    raise
                sent += 1
        finally:
            s.close()
        assert 0 < sent < 1000, sent   # the queue took some and then no more
    finally:
        os.kill(master, signal.SIGCONT)
    time.sleep(1)   # master starts postlogd for the waiting datagrams
    return _greeting(inst.port("smtp"), 8)


@pytest.mark.parametrize("twice", [True, False], ids=["twice", "once"])
def test_a_setting_written_twice_hangs_postfix_with_maillog_file(twice):
    # postlogd exits when idle for max_idle (cleanly: master logs nothing)
    with scratch_instance("pfx-postlog-", ONCE + "max_idle = 2s\n", MASTER_CF) as (cfg, inst):
        try:
            greeting = _full_socket_then_start(inst, twice)
            # Under a loaded machine's timing the hang was once missed (the
            # client was greeted by an smtpd that had read the setting
            # twice); the claim is that it happens, so it may take another
            # try on the same instance (main.cf already has the setting twice)
            tries = 2 if twice else 0
            while greeting and tries:
                tries -= 1
                greeting = _full_socket_then_start(inst, False)
            if twice:
                assert greeting == b"", greeting
                assert _processes(inst.etc, "postlogd"), "postlogd should be running, waiting for itself"
            else:
                assert greeting.startswith(b"220 "), greeting
        finally:
            if twice:
                # nothing drains the socket now, and master would wait too as
                # it logs a child's end: every process of the instance goes
                # (postfix stop then finds it stopped)
                _kill(inst.etc, None)


def test_lint_says_it_where_maillog_file_is_set(tmp_path):
    (tmp_path / "master.cf").write_text(MASTER_CF)
    (tmp_path / "main.cf").write_text(TWICE + "maillog_file = /var/log/postfix.log\n")
    got = postlog_warnings(load_config(str(tmp_path)))
    assert len(got) == 1 and got[0].param == "smtpd_banner" and got[0].line == TWICE.count("\n"), got
    assert "maillog_file" in got[0].message and "hang" in got[0].message
    (tmp_path / "main.cf").write_text(TWICE)
    assert postlog_warnings(load_config(str(tmp_path))) == []
    (tmp_path / "main.cf").write_text(ONCE + "maillog_file = /var/log/postfix.log\n")
    assert postlog_warnings(load_config(str(tmp_path))) == []
