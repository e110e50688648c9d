"""Terminals: the app starts and is usable with TERM=xterm, a minimal
vt100, at 80x24, with NO_COLOR, and survives a resize to 40x10 and back
(Pilot); and the real `postfix-explorer --demo` command runs in tmux under
TERM=vt100 and NO_COLOR: it draws, answers keys, survives a resize, quits
with status 0, and draws no colours."""
from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import need
from tests.ui.conftest import screen_text, settle
from tui.app import make_app
from tui.demo import demo_config_dir


@pytest.fixture
def demo_dir():
    return demo_config_dir()


GRAY_SGR = {30, 37, 39, 40, 47, 49, 90, 97, 100, 107}
GRAY_256 = {0, 7, 8, 15, 16, 231} | set(range(232, 256))


def chromatic(screen: str) -> list[str]:
    """SGR colours that are not black, white or gray. Textual's NO_COLOR is
    monochrome: grays stay, hues go."""
    bad = []
    for seq in re.findall(r"\x1b\[([0-9;]*)m", screen):
        parts = [int(x) if x else 0 for x in seq.split(";")]
        i = 0
        while i < len(parts):
            c = parts[i]
            if c in (38, 48) and i + 1 < len(parts):
                if parts[i + 1] == 5 and i + 2 < len(parts):
                    if parts[i + 2] not in GRAY_256:
                        bad.append(seq)
                    i += 3
                    continue
                if parts[i + 1] == 2 and i + 4 < len(parts):
                    r, g, b = parts[i + 2:i + 5]
                    if not (r == g == b):
                        bad.append(seq)
                    i += 5
                    continue
            if (30 <= c <= 49 or 90 <= c <= 107) and c not in GRAY_SGR:
                bad.append(seq)
            i += 1
    return bad


@pytest.mark.parametrize("term,no_color", [("xterm", False), ("vt100", False), ("vt100", True),
                                           ("xterm-256color", True), ("dumb", False)])
async def test_usable_and_survives_resizes(demo_dir, monkeypatch, term, no_color):
    monkeypatch.setenv("TERM", term)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(demo_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await settle(pilot)
        assert "main.cf" in screen_text(app)
        if no_color:
            assert app.no_color
        await pilot.press("down", "down")
        line = app.tree.cursor_line
        await pilot.resize_terminal(40, 10)
        await pilot.pause()
        assert app.size == (40, 10)
        await pilot.press("down")
        await pilot.pause()
        assert app.tree.cursor_line == line + 1
        await pilot.press("question_mark")
        await pilot.pause()
        screen_text(app)  # renders at 40x10
        await pilot.press("escape", "t")
        await pilot.pause()
        assert app.query_one("#switcher").current == "trace"
        await pilot.resize_terminal(20, 5)  # smaller still: nothing to show, nothing to crash
        await pilot.pause()
        screen_text(app)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.query_one("#switcher").current == "explore"
        assert "main.cf" in screen_text(app)
        assert app.is_running


_SERVERS = itertools.count()


class Tmux:
    """A private tmux server (own socket) running one command."""

    def __init__(self, command: str, width: int = 80, height: int = 24):
        # a socket of its own each time: the server of a previous test may
        # still be going away when the next one starts
        self.sock = f"pfx-hostile-{os.getpid()}-{next(_SERVERS)}"
        r = subprocess.run(["tmux", "-L", self.sock, "new-session", "-d", "-s", "t", "-x", str(width),
                            "-y", str(height), command], capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr

    def run(self, *args: str) -> str:
        r = subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, timeout=30)
        return r.stdout.decode("utf-8", "replace")

    def screen(self, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "t")

    def wait_for(self, pattern: str, tries: int = 300) -> str:
        """Poll the screen until PATTERN shows (bounded; asserts on content only)."""
        text = ""
        for _ in range(tries):
            text = self.screen()
            if re.search(pattern, text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} never showed:\n{text}\n{self.run('list-windows')}")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "t", *keys)

    def close(self) -> None:
        self.run("kill-server")


@pytest.mark.parametrize("term", ["vt100", "xterm"])
def test_real_command_in_tmux(term):
    need(shutil.which("tmux") is not None, "tmux is not installed")
    # a clean environment: what an admin's shell has, not pytest's
    cmd = (f"env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 TERM={term} NO_COLOR=1 "
           f"{sys.executable} -m tui --demo; "
           "echo EXIT=$?; sleep 60")
    t = Tmux(cmd)
    try:
        t.wait_for(r"main\.cf")
        t.wait_for(r"Quit")
        colours = chromatic(t.screen(True))
        assert not colours, colours[:5]
        t.keys("?")
        t.wait_for(r"filter the tree")           # the help screen's key table
        t.keys("Escape")
        t.wait_for(r"▼ main\.cf")                # help closed
        time.sleep(0.3)  # a lone ESC, not the start of an escape sequence
        t.keys("t")
        t.wait_for(r"Fill in the form")          # the trace pane
        t.run("resize-window", "-t", "t", "-x", "40", "-y", "10")
        t.wait_for(r"postfix-explorer — de…")    # redrawn at 40x10 (the title is cut)
        t.keys("Escape")
        t.wait_for(r"▼ main\.cf")                # back in the tree, still 40x10
        t.run("resize-window", "-t", "t", "-x", "80", "-y", "24")
        t.wait_for(r"Parameters set in main\.cf, in file order")  # redrawn at 80x24
        t.keys("Down", "Down")
        t.wait_for(r"Quit")
        t.keys("q")
        text = t.wait_for(r"EXIT=\d+")
        assert "EXIT=0" in text
        assert "Traceback" not in text
    finally:
        t.close()
