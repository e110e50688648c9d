"""The lark parsers are built ahead of time (tui/core/parsers/*.json, written
by scripts/build_parsers.py) and loaded, never built, when a command starts.

- the committed files are what a fresh build of today's grammars gives
  (a grammar edited without running the script fails here);
- a parser loaded from them and one built from the grammar give identical
  results -- trees, positions, transformer output, syntax errors -- on every
  input the grammar tests use (their test modules are run once more with
  both parsers answering every parse) and on the fixture configurations;
- the CLI's commands start without lark building any grammar;
- a grammar that differs from the one a file was built from is built from
  its text instead (what a checkout with an edited grammar sees).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import tui.core.grammar as grammar
from tests.conftest import need
from tui.core.config import load_config

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "config"


def _env(**extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(extra)
    return env


def test_committed_parsers_are_a_fresh_build(tmp_path):
    # another hash seed than this process: the files must not depend on it
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_parsers.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=300, env=_env(PYTHONHASHSEED="12345"))
    assert r.returncode == 0, r.stderr
    grammars = sorted(p.stem for p in (ROOT / "grammars").glob("*.lark"))
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == grammars
    assert sorted(p.stem for p in grammar.prebuilt_dir().glob("*.json")) == grammars, \
        "tui/core/parsers/ holds a file per grammar: run scripts/build_parsers.py"
    for name in grammars:
        fresh = (tmp_path / f"{name}.json").read_text(encoding="utf-8")
        committed = grammar.prebuilt_path(name).read_text(encoding="utf-8")
        assert committed == fresh, f"grammars/{name}.lark changed: run scripts/build_parsers.py"


def test_check_mode_names_a_stale_file(tmp_path):
    for p in grammar.prebuilt_dir().glob("*.json"):
        (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "main_cf.json").write_text("{}\n")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_parsers.py"), "--check",
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=300, env=_env())
    assert r.returncode == 1
    assert "main_cf: grammars/main_cf.lark changed" in r.stderr


def test_parsers_come_from_the_prebuilt_files():
    grammar.parser.cache_clear()
    try:
        for name in ("main_cf", "master_cf", "maillog"):
            assert grammar.parser(name).source_path == "<deserialized>", name
    finally:
        grammar.parser.cache_clear()


def test_an_edited_grammar_is_built_from_its_text(tmp_path, monkeypatch):
    gdir = tmp_path / "grammars"
    gdir.mkdir()
    for p in (ROOT / "grammars").glob("*.lark"):
        (gdir / p.name).write_text(p.read_text())
    (gdir / "main_cf.lark").write_text((gdir / "main_cf.lark").read_text() + "\n// edited\n")
    monkeypatch.setattr(grammar, "grammar_dir", lambda: gdir)
    grammar.parser.cache_clear()
    try:
        assert grammar.parser("main_cf").source_path != "<deserialized>"
        assert grammar.parser("master_cf").source_path == "<deserialized>"
    finally:
        monkeypatch.undo()
        grammar.parser.cache_clear()


# ---------------------------------------------------------------- same answers

def _dump(x):
    """A lark result with everything a caller can see: token types, values
    and positions, rule names, meta positions; other values as they are."""
    from lark import Token, Tree

    if isinstance(x, Token):
        return ("T", x.type, str(x), x.start_pos, x.line, x.column, x.end_line, x.end_column, x.end_pos)
    if isinstance(x, Tree):
        m = x.meta
        meta = None if m.empty else (m.line, m.column, m.end_line, m.end_column, m.start_pos, m.end_pos)
        return ("R", str(x.data), meta, [_dump(c) for c in x.children])
    if isinstance(x, (list, tuple)):
        return [_dump(c) for c in x]
    return x


def _error(exc: Exception):
    return (type(exc).__name__, getattr(exc, "line", None), getattr(exc, "column", None),
            getattr(exc, "pos_in_stream", None), sorted(getattr(exc, "expected", None) or ()),
            sorted(getattr(exc, "allowed", None) or ()), str(getattr(exc, "token", "")),
            str(getattr(exc, "char", "")))


def _outcome(p, text: str, **kw):
    try:
        return ("ok", _dump(p.parse(text, **kw)))
    except Exception as exc:  # noqa: BLE001 - the error is what is compared
        return ("error", _error(exc))


def _both(name: str, transformer=None):
    saved = grammar._prebuilt(name, grammar.source_digest(grammar.grammar_path(name).read_bytes()))
    assert saved is not None, name
    return grammar.load_prebuilt(saved, transformer), grammar.compile_grammar(name, transformer)


def test_prebuilt_and_built_parsers_agree_on_samples():
    from tui.core.config.transformers import MAIN_TRANSFORMER

    samples = {
        "main_cf": ["myhostname = mx.example.org\nrelay_domains=\nx  =  a b  \n", "a = 1\nbad  name\n",
                    "= x\n", "\f a\v=\vb\n", ""],
        "master_cf": ["smtp inet n - n - - smtpd\n", "smtp inet n - n\n",
                      "submission inet n - y - - smtpd -v -o syslog_name=postfix/submission "
                      "-o { smtpd_tls_security_level = encrypt } -oa=b -vo c=d -- {x y} plain\n",
                      "x unix - - n - - pipe argv=/bin/x {unclosed\n", "} { -o\n"],
        "maillog": ["NOQUEUE: reject: RCPT from a[192.0.2.1]: 554 5.7.1 <b@c>: Relay access denied; "
                    "from=<a@b> to=<b@c> proto=ESMTP helo=<h>", "not a log line", ""],
    }
    for name, texts in samples.items():
        for transformer in ([None, MAIN_TRANSFORMER] if name == "main_cf" else [None]):
            pre, built = _both(name, transformer)
            for text in texts:
                for start in grammar.start_rules(name):
                    kw = {"start": start} if len(grammar.start_rules(name)) > 1 else {}
                    assert _outcome(pre, text, **kw) == _outcome(built, text, **kw), (name, start, text)


def test_fixture_configurations_load_alike(monkeypatch):
    """load_config() on every fixture configuration, with the prebuilt
    parsers and then with parsers built from the grammars."""
    def snapshot(d: Path):
        cfg = load_config(d)
        return ([(n, repr(e)) for n, e in cfg.main.items()],
                [repr(s) for s in cfg.services],
                [str(x) for x in cfg.diagnostics])

    dirs = sorted(p for p in FIXTURES.iterdir() if (p / "main.cf").is_file())
    assert len(dirs) > 10
    grammar.parser.cache_clear()
    try:
        pre = {d.name: snapshot(d) for d in dirs}
        monkeypatch.setattr(grammar, "_prebuilt", lambda *a: None)
        grammar.parser.cache_clear()
        assert grammar.parser("master_cf").source_path != "<deserialized>"
        built = {d.name: snapshot(d) for d in dirs}
    finally:
        monkeypatch.undo()
        grammar.parser.cache_clear()
    assert pre == built


# The grammar tests again, with every parser answering twice: the parser
# parser() hands out is the prebuilt one, and each parse() is checked against
# a parser built from the same grammar text.
_PLUGIN = '''
import functools
import tui.core.grammar as g
from tests.core.test_startup_parsers import _outcome

COUNT = [0, 0]   # parses compared, of them answered from a prebuilt file
_orig = g.parser.__wrapped__


class Twice:
    def __init__(self, name, transformer):
        self.first = _orig(name, transformer)
        self.prebuilt = self.first.source_path == "<deserialized>"
        text = g.grammar_path(name).read_text(encoding="utf-8")
        self.second = g.compile_grammar(name, transformer, text)

    def parse(self, text, *args, **kw):
        a = _outcome(self.first, text, **kw)
        b = _outcome(self.second, text, **kw)
        assert a == b, ("prebuilt and built parsers differ", text, a, b)
        COUNT[0] += 1
        COUNT[1] += self.prebuilt
        return self.first.parse(text, *args, **kw)

    def __getattr__(self, name):
        return getattr(self.first, name)


@functools.lru_cache(maxsize=None)
def twice(name, transformer=None):
    return Twice(name, transformer)


g.parser = twice


def pytest_sessionfinish(session, exitstatus):
    with open(session.config.getoption("--twice-count"), "w") as fh:
        fh.write(f"{COUNT[0]} {COUNT[1]}")


def pytest_addoption(parser):
    parser.addoption("--twice-count")
'''


def test_grammar_tests_pass_with_both_parsers_answering(tmp_path):
    (tmp_path / "twice_plugin.py").write_text(textwrap.dedent(_PLUGIN))
    count = tmp_path / "count"
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    # the oracle tests among them hold most master.cf inputs; without a
    # Postfix here (they would fail under CI=true), or in the fast tier
    # (which fails any test asking for Postfix), the others still run
    with_postfix = shutil.which("postconf") and os.environ.get("PFX_FAST_TIER", "") != "1"
    marks = [] if with_postfix else ["-m", "not oracle and not mysql"]
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "twice_plugin",
                        "--twice-count", str(count), "-k", "not wheel and not installed_copy", *marks,
                        "tests/core/test_grammars.py", "tests/core/test_logline.py",
                        "tests/core/test_maillog_reading.py"],
                       cwd=str(ROOT), capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    compared, prebuilt = map(int, count.read_text().split())
    least = 20 if marks else 100   # parses compared: ~27 without the oracle tests, ~270 with them
    assert compared > least and prebuilt > least * 3 // 4, (compared, prebuilt)


# ---------------------------------------------------------------- at start-up

_NO_BUILD = '''
import sys
import lark

def refuse(*args, **kwargs):
    raise SystemExit("lark built a grammar at run time")

lark.Lark.__init__ = refuse
from tui.__main__ import main
sys.exit(main(sys.argv[1:]))
'''


@pytest.mark.parametrize("argv", [
    ["params", "-n"],
    ["trace", "--client-address", "192.0.2.1", "--recipient", "someone@example.com"],
    ["trace", "--from-log", "NOQUEUE: reject: RCPT from a[192.0.2.1]: 554 5.7.1 <b@example.com>: "
                            "Relay access denied; from=<a@example.net> to=<b@example.com> proto=ESMTP helo=<h>"],
])
def test_commands_start_without_building_a_grammar(argv):
    r = subprocess.run([sys.executable, "-c", _NO_BUILD, "--config-dir", str(FIXTURES / "seed")] + argv,
                       capture_output=True, text=True, timeout=120, env=_env(), cwd=str(ROOT))
    assert r.returncode in (0, 1), r.stderr
    assert "built a grammar" not in r.stderr and "Traceback" not in r.stderr
    assert r.stdout.strip()


# ---------------------------------------------------------------- the wheel

def test_the_wheel_ships_the_prebuilt_parsers_and_an_install_uses_them(tmp_path):
    """A real (non-editable) install loads the parsers from its own copy of
    the files, with nothing written next to them."""

    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "wheel"),
                        str(ROOT)], capture_output=True, text=True, timeout=300)
    need(r.returncode == 0, f"cannot build the wheel here: {r.stderr.strip()[-500:]}")
    (wheel,) = (tmp_path / "wheel").glob("postfix_explorer-*.whl")
    z = zipfile.ZipFile(wheel)
    for p in sorted(grammar.prebuilt_dir().glob("*.json")):
        assert z.read(f"tui/core/parsers/{p.name}") == p.read_bytes(), p.name
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--no-compile",
                        "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    before = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
    import lark
    code = ("import json, tui.core.grammar as g\n"
            "print(json.dumps([g.__file__] + [g.parser(n).source_path for n in ('main_cf', 'master_cf', 'maillog')]))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), str(Path(lark.__file__).resolve().parent.parent)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    r = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env,
                       cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    module, *sources = json.loads(r.stdout)
    assert Path(module).resolve().is_relative_to(target.resolve())
    assert sources == ["<deserialized>"] * 3
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == before
