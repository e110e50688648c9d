"""Plumbing for the Pilot tests of the app."""
from __future__ import annotations

import html
import io
import os
import re
import tempfile
import zlib
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input

from tui.demo import demo_config_dir

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "screenshots"


@pytest.fixture
def demo_dir() -> Path:
    return demo_config_dir()


@pytest.fixture(autouse=True)
def _fixed_scratch_lock(request):
    """A test module with FIXED (a fixed scratch directory, as the
    screenshot tests use because the pictures show its path) holds a lock
    on it for each test: a test run started beside this one on the same
    machine would otherwise empty and rebuild the same directory under it.
    The wait is bounded; autouse fixtures are set up before the test's own
    fixtures, so the lock is held before the directory is made."""
    fixed = getattr(request.module, "FIXED", None)
    if fixed is None:
        yield
        return
    import fcntl
    import time

    lock = Path(fixed).parent / (Path(fixed).name + ".lock")
    with open(lock, "a") as fh:
        deadline = time.monotonic() + 600
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"{fixed} stayed locked by another test run")
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture
def public_dir():
    """A scratch config dir the postfix user can read (pytest's tmp_path is
    private to root, which a real Postfix instance cannot use)."""
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="pfx-ui-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


async def settle(pilot, cond=None, tries: int = 400) -> bool:
    """Let workers finish: poll COND (default: app.settled) between pauses.
    Bounded, and the caller asserts on the state, never on time."""
    app = pilot.app
    cond = cond or (lambda: app.settled)
    for _ in range(tries):
        if cond():
            await pilot.pause()
            return True
        await pilot.pause(0.05)
    return cond()


def plain(renderable, width: int = 140) -> str:
    """A Rich renderable (what a Static shows) as plain text."""
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def screen_text(app) -> str:
    """Every piece of text on the screen (from the SVG export), unescaped."""
    svg = app.export_screenshot()
    chunks = re.findall(r">([^<>]*)</text>", svg)
    return html.unescape(" ".join(chunks)).replace("\xa0", " ")


def main_cf_line(config_dir: Path, name: str) -> int:
    for no, line in enumerate((Path(config_dir) / "main.cf").read_text().splitlines(), 1):
        if re.match(rf"^{re.escape(name)}\s*=", line):
            return no
    raise AssertionError(f"{name} not in main.cf")


def _normalise(svg: str, name: str) -> str:
    # Textual names the SVG's CSS classes with a number that changes from run
    # to run even when the picture does not; a name-derived one keeps it stable.
    return re.sub(r"terminal-\d+", f"terminal-{zlib.crc32(name.encode())}", svg)


async def snapshot(pilot, name: str) -> Path:
    """Compare the screen with screenshots/NAME (the committed picture):
    fail when the rendering changed. The SVGs in screenshots/ are these
    pictures. After an intended change, rerun with UPDATE_SCREENSHOTS=1 to
    write the new ones, and look at them before committing."""
    app = pilot.app
    for inp in app.query(Input):  # a blinking cursor would make pictures differ
        inp.cursor_blink = False
    app.clear_notifications()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    # the picture once the screen has settled: three exports in a row, a
    # tenth of a second apart, agree (a scrollbar repaints a frame after the
    # scroll that moved it; on a busy machine a table paints its rows late)
    svg = _normalise(app.export_screenshot(title="postfix-explorer"), name)
    same = 0
    for _ in range(60):
        await pilot.pause(0.1)
        again = _normalise(app.export_screenshot(title="postfix-explorer"), name)
        same = same + 1 if again == svg else 0
        svg = again
        if same >= 2:
            break
    out = SCREENSHOTS / name
    update = os.environ.get("UPDATE_SCREENSHOTS") == "1"
    if update or (not out.exists() and os.environ.get("CI") != "true"):
        SCREENSHOTS.mkdir(exist_ok=True)
        out.write_text(svg, encoding="utf-8")
        return out
    assert out.exists(), f"{out} is missing: run with UPDATE_SCREENSHOTS=1 and commit it"
    old = out.read_text(encoding="utf-8")
    if old != svg:
        fail = Path(tempfile.gettempdir()) / "postfix-explorer-snapshots" / name
        fail.parent.mkdir(parents=True, exist_ok=True)
        fail.write_text(svg, encoding="utf-8")
        raise AssertionError(f"the screen differs from {out.name}: the new picture is {fail}; "
                             f"if the change is intended, rerun with UPDATE_SCREENSHOTS=1")
    return out
