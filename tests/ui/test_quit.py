"""Quitting in a real terminal: the process ends, even while a table read
is stuck, and prints no traceback."""
from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(config_dir: Path, keys: bytes) -> tuple[int | None, str]:
    """Start the app on a pseudo-terminal, wait for its first screen, type
    KEYS; return its exit status (None: still running after a minute)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, as a user starts it
        os.environ["TERM"] = "xterm-256color"
        os.environ["PYTHONPATH"] = str(REPO)
        os.execv(sys.executable, [sys.executable, "-m", "tui", "--config-dir", str(config_dir)])
    out = b""

    def read_for(seconds: float) -> None:
        nonlocal out
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    out += os.read(fd, 65536)
                except OSError:
                    return

    deadline = time.monotonic() + 60
    while b"Quit" not in out and time.monotonic() < deadline:  # the footer is drawn
        read_for(0.2)
    for key in keys:
        os.write(fd, bytes([key]))
        read_for(0.3)
    status = None
    deadline = time.monotonic() + 60  # a bound for a hang, not a speed test
    while time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
        read_for(0.2)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.close(fd)
    return status, out.decode(errors="replace")


@pytest.fixture
def stuck_config(tmp_path: Path):
    fifo = tmp_path / "stuck"
    os.mkfifo(fifo)
    (tmp_path / "main.cf").write_text(f"smtpd_client_restrictions = check_client_access texthash:{fifo}\n")
    (tmp_path / "master.cf").write_text("smtp inet n - y - - smtpd\n")
    yield tmp_path


@pytest.mark.parametrize("keys", [b"q", b"\x03\x03"], ids=["q", "two-ctrl-c"])
def test_quitting_ends_the_process_while_a_table_is_stuck(stuck_config: Path, keys: bytes):
    status, out = _run(stuck_config, keys)
    # 130: the second Ctrl-C arrived while the app was restoring the terminal
    assert status in (0, 130), (status, out[-2000:])
    assert "Traceback" not in out
