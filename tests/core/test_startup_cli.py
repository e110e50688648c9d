"""Start-up of the command line: each command imports what it uses and no
more, and the app refuses to start without a terminal.

- `params -n` and `trace` load neither Textual nor rich nor pymysql, and
  params not the restriction evaluator; trace loads the log-line grammar's
  module only for --from-log, and a table family's module only when the
  configuration has such a table;
- without a terminal (cron, `ssh host postfix-explorer` without -t) the app
  does not start: one line naming the commands for scripts, exit status 2.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import tui.__main__ as cli

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "fixtures" / "config" / "seed"

_MODULES = '''
import json, sys
from tui.__main__ import main
try:
    rc = main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as fh:
        json.dump(sorted(sys.modules), fh)
sys.exit(rc)
'''

TRACE = ["trace", "--client-address", "127.0.0.1", "--client-name", "localhost", "--helo", "mail.example.org",
         "--sender", "test-list-bounces@lists.example.org", "--recipient", "someone@outside.example"]
LOG = ("May 11 09:06:42 gabble postfix/smtpd[8390]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: "
       "554 5.7.1 <someone@outside.example>: Relay access denied; from=<a@lists.example.org> "
       "to=<someone@outside.example> proto=ESMTP helo=<mail.example.org>")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _modules(tmp_path: Path, argv: list[str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    out = tmp_path / "modules.json"
    r = subprocess.run([sys.executable, "-c", _MODULES, str(out), "--config-dir", str(SEED)] + argv,
                       capture_output=True, text=True, timeout=120, env=_env(), cwd=str(tmp_path),
                       stdin=subprocess.DEVNULL)
    return r, set(json.loads(out.read_text()))


def _top(mods: set[str], *names: str) -> set[str]:
    return {m for m in mods if m.split(".")[0] in names}


def _under(mods: set[str], *prefixes: str) -> set[str]:
    return {m for m in mods if any(m == p or m.startswith(p + ".") for p in prefixes)}


def _named(mods: set[str], *names: str) -> set[str]:
    """Project modules called NAME wherever they live in the package (the
    engine's modules move between subpackages; what they are stays)."""
    return {m for m in mods if m.startswith("tui.") and set(m.split(".")[1:]) & set(names)}


def test_params_imports_no_ui_no_database_driver_no_evaluator(tmp_path):
    r, mods = _modules(tmp_path, ["params", "-n"])
    assert r.returncode == 0, r.stderr
    assert "alias_maps = hash:/etc/aliases" in r.stdout
    assert not _top(mods, "textual", "rich", "pymysql", "sqlite3")
    # nor what only an evaluation needs: the file watch (ctypes; finding libc
    # once ran ldconfig through subprocess), name resolution (socket)
    assert not _top(mods, "ctypes", "subprocess", "socket")
    assert not _named(mods, "restrictions", "smtpd", "classes", "explain", "maillog", "app", "widgets")
    assert not _under(mods, "tui.cli.trace", "tui.cli.lookup", "tui.cli.lint")


def test_trace_imports_no_ui_and_no_database_driver(tmp_path):
    r, mods = _modules(tmp_path, TRACE)
    assert r.returncode in (0, 1), r.stderr
    assert "Answer at" in r.stdout
    assert not _top(mods, "textual", "rich", "pymysql", "sqlite3", "subprocess")
    assert not _under(mods, "tui.app", "tui.widgets", "tui.cli.params", "tui.cli.lookup", "tui.cli.lint")
    # the seed has no regexp, cidr, unionmap or sqlite tables: their modules stay unloaded
    assert not _named(mods, "regexp", "cidr", "compose", "sqlite")
    assert not _named(mods, "maillog")  # only --from-log needs it
    # the engine's value classes are Records, not dataclasses: the dataclasses
    # module (inspect, ast, dis, tokenize with it) costs ~8 ms of every start
    assert not _top(mods, "dataclasses", "inspect")
    r, mods = _modules(tmp_path, ["trace", "--from-log", LOG])
    assert r.returncode == 1, r.stderr
    assert "Relay access denied" in r.stdout
    assert _named(mods, "maillog") and not _top(mods, "textual", "rich", "pymysql")


def test_trace_run_as_the_program_opens_no_file_watch(tmp_path):
    """It evaluates once: stat() answers for the map files, no inotify
    (whose ctypes import alone costs a few ms). Called from Python code
    (as above), main() leaves the process's watch alone."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "tui", "--config-dir", str(SEED)] + TRACE,
                       capture_output=True, text=True, timeout=120, env=_env(), cwd=str(tmp_path),
                       stdin=subprocess.DEVNULL)
    assert r.returncode in (0, 1) and "Answer at" in r.stdout, r.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "tui.core.filewatch" in imported and "tui.core.smtpd.evaluator" in imported
    assert not _top(imported, "ctypes", "subprocess")


def test_triage_run_as_the_program_keeps_its_file_watch(tmp_path):
    """triage evaluates once per distinct logged transaction: the watch
    spares each evaluation a stat() per map file (ctypes is loaded)."""
    log = tmp_path / "mail.log"
    log.write_text(LOG + "\n")
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "tui", "--config-dir", str(SEED), "triage",
                        str(log)], capture_output=True, text=True, timeout=120, env=_env(), cwd=str(tmp_path),
                       stdin=subprocess.DEVNULL)
    assert r.returncode in (0, 1) and "1 distinct transactions re-traced" in r.stdout, r.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert _top(imported, "ctypes")


def test_a_disabled_watch_never_opens():
    from tui.core.filewatch import FileWatch

    w = FileWatch()
    w.disable()
    w.drain()
    assert not w.active and w.arm(str(SEED / "main.cf")) is None


def test_help_imports_no_command(tmp_path):
    r, mods = _modules(tmp_path, ["--help"])
    assert r.returncode == 0
    for name in cli.SUBCOMMANDS:
        assert name in r.stdout
    assert not _under(mods, "tui.cli", "tui.core")


def test_a_command_gets_its_own_options_and_help(tmp_path):
    r = subprocess.run([sys.executable, "-m", "tui", "params", "--help"], capture_output=True, text=True,
                       timeout=60, env=_env(), cwd=str(tmp_path))
    assert r.returncode == 0 and "postconf -x" in r.stdout
    # options of the top level, given before or after the command
    for argv in (["--config-dir", str(SEED), "params", "-n", "myhostname"],
                 ["params", "--config-dir", str(SEED), "-n", "myhostname"],
                 ["--conf", str(SEED), "params", "-n", "myhostname"]):
        r = subprocess.run([sys.executable, "-m", "tui"] + argv, capture_output=True, text=True,
                           timeout=60, env=_env(), cwd=str(tmp_path))
        assert (r.returncode, r.stdout) == (0, "myhostname =\n"), (argv, r.stderr)
    r = subprocess.run([sys.executable, "-m", "tui", "nosuchcommand"], capture_output=True, text=True,
                       timeout=60, env=_env(), cwd=str(tmp_path))
    assert r.returncode == 2 and "invalid choice" in r.stderr


# ---------------------------------------------------------------- no terminal

@pytest.mark.parametrize("argv", [[], ["--demo"]])
def test_app_without_a_terminal_says_so_and_exits_2(tmp_path, argv):
    """stdin and stdout are pipes here, as under cron or ssh without -t."""
    out = tmp_path / "modules.json"
    r = subprocess.run([sys.executable, "-c", _MODULES, str(out), "--config-dir", str(SEED)] + argv,
                       capture_output=True, text=True, timeout=120, env=_env(), cwd=str(tmp_path),
                       stdin=subprocess.PIPE)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert "needs a terminal" in lines[0]
    for name in cli.SUBCOMMANDS:
        assert name in lines[0]
    assert not _top(set(json.loads(out.read_text())), "textual", "rich")


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize("stdin_tty, stdout_tty, started", [
    (True, True, True), (False, True, False), (True, False, False), (False, False, False),
])
def test_the_app_starts_only_with_both_ends_on_a_terminal(monkeypatch, stdin_tty, stdout_tty, started):
    ran = []
    fake_app = types.ModuleType("tui.app")
    fake_app.run_app = lambda args: ran.append(args.config_dir) or 0
    monkeypatch.setitem(sys.modules, "tui.app", fake_app)
    monkeypatch.setattr(sys, "stdin", _Stream(stdin_tty))
    monkeypatch.setattr(sys, "stdout", _Stream(stdout_tty))
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    rc = cli.main(["--config-dir", str(SEED)])
    if started:
        assert (rc, ran, err.getvalue()) == (0, [str(SEED)], "")
    else:
        assert rc == 2 and ran == [] and "needs a terminal" in err.getvalue()
