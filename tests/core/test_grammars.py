"""The configuration files are parsed through the lark grammars in grammars/.

- the grammars load (LALR, positions) and parse samples;
- the loader's result really comes from the grammar files (a changed grammar
  changes what load_config() sees);
- syntax errors are the project's own values (SyntaxDiagnostic: Postfix's
  message and line, plus the column and physical line where the grammar
  stopped), worded as the real postconf words them;
- master.cf forms (-o name=value, -o { name = value }, -oname=value,
  -vo name=value, "--", braced arguments, unclosed braces) give what the real
  postconf -M / -P shows;
- the wheel ships grammars/ as tui/grammars, and an installed (non-editable)
  copy finds and uses them.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tui.core.grammar as grammar_mod
from tests.conftest import need, need_postfix
from tui.core.config import SyntaxDiagnostic, load_config, split_nameval
from tui.core.grammar import grammar_dir, parser
from tui.core.model import Diagnostic

ROOT = Path(__file__).resolve().parents[2]


def write(d: Path, main: str, master: str = "") -> Path:
    (d / "main.cf").write_text(main)
    (d / "master.cf").write_text(master)
    return d


def postconf_exe() -> str:
    return shutil.which("postconf") or "/usr/sbin/postconf"


# ------------------------------------------------------------ the grammars

def test_grammar_files_are_in_grammars_dir():
    assert grammar_dir() == ROOT / "grammars"
    for name in ("main_cf", "master_cf"):
        assert (ROOT / "grammars" / f"{name}.lark").is_file()
        assert parser(name) is parser(name)          # built once per process


def test_main_cf_grammar_parses_name_value_with_positions():
    tree = parser("main_cf").parse("myhostname = mx.example.org\nrelay_domains=\nx  =  a b  \n")
    settings = list(tree.find_data("setting"))
    assert len(settings) == 3
    got = [[(t.type, str(t), t.line, t.column) for t in s.children] for s in settings]
    assert got == [
        [("NAME", "myhostname", 1, 1), ("VALUE", "mx.example.org", 1, 14)],
        [("NAME", "relay_domains", 2, 1)],
        [("NAME", "x", 3, 1), ("VALUE", "a b", 3, 7)],
    ]
    assert settings[2].meta.line == 3 and settings[2].meta.column == 1


def test_master_cf_grammar_parses_fields_options_and_args():
    line = ("submission inet n - y - - smtpd -v -o syslog_name=postfix/submission "
            "-o { smtpd_tls_security_level = encrypt } -oa=b -vo c=d -- {x y} plain\n")
    tree = parser("master_cf").parse(line)
    entry = next(tree.find_data("entry"))
    kinds = [c.data for c in entry.children]
    assert kinds == ["plain"] * 8 + ["flag", "option_separate", "option_separate",
                                     "option_joined", "option_separate",
                                     "plain", "braced", "plain"]
    braced = next(entry.children[10].find_data("braced"))
    assert braced.meta.column == line.index("{ smtpd_tls") + 1


def test_loader_uses_the_grammar_files(tmp_path, monkeypatch):
    """Change the grammars: load_config() follows them."""
    gdir = tmp_path / "grammars"
    shutil.copytree(ROOT / "grammars", gdir)
    main = (gdir / "main_cf.lark").read_text()
    # names may not contain "-" in this changed grammar
    main = main.replace(r"NAME: /[^ \t\r\v\f\n=]+/", r"NAME: /[^ \t\r\v\f\n=\-]+/")
    assert "=\\-]+/" in main
    (gdir / "main_cf.lark").write_text(main)
    master = (gdir / "master_cf.lark").read_text()
    # a ninth word is required in this changed grammar
    master = master.replace("entry: word _S word", "entry: word _S word _S word", 1)
    (gdir / "master_cf.lark").write_text(master)
    d = write(tmp_path, "a = 1\nmy-param = 2\n", "smtp inet n - n - - smtpd\nx unix - - n - - pipe argv\n")

    monkeypatch.setattr(grammar_mod, "grammar_dir", lambda: gdir)
    parser.cache_clear()
    try:
        cfg = load_config(d)
        errors = [(Path(x.path).name, x.line, x.message) for x in cfg.diagnostics if x.severity == "error"]
        assert ("main.cf", 2, "missing '=' after attribute name: \"my-param = 2\"") in errors
        assert ("master.cf", 1, "bad field count") in errors
        assert [s.key for s in cfg.services] == ["x/unix"]
    finally:
        monkeypatch.undo()
        parser.cache_clear()
    cfg = load_config(d)  # the real grammars again
    assert not [x for x in cfg.diagnostics if x.severity == "error"]
    assert cfg.main["my-param"].value == "2"
    assert [s.key for s in cfg.services] == ["smtp/inet", "x/unix"]


def test_missing_grammar_is_a_config_error(tmp_path, monkeypatch):
    from tui.core.config import ConfigError
    d = write(tmp_path, "a = 1\n", "smtp inet n - n - - smtpd\n")
    empty = tmp_path / "nogrammars"
    empty.mkdir()
    monkeypatch.setattr(grammar_mod, "grammar_dir", lambda: empty)
    parser.cache_clear()
    try:
        with pytest.raises(ConfigError) as exc:
            load_config(d)
        assert "main_cf.lark" in str(exc.value)
    finally:
        monkeypatch.undo()
        parser.cache_clear()


def test_split_nameval_is_the_grammar():
    assert split_nameval("  a  =  b c  ") == ("a", "b c")
    assert split_nameval("a=") == ("a", "")
    assert split_nameval("a={ b = c }") == ("a", "{ b = c }")
    assert split_nameval("=b") == "missing attribute name"
    assert split_nameval("") == "missing attribute name"
    assert split_nameval("a b = c") == "missing '=' after attribute name"


# ------------------------------------------------------------ syntax errors

def test_syntax_errors_carry_path_line_column_and_text(tmp_path):
    d = write(tmp_path, "a = 1\nbad\n  name\n= x\nlast = ok\n",
              "smtp inet n - n\n  - -\nok unix - - n - - smtp\n")
    cfg = load_config(d)
    errs = [x for x in cfg.diagnostics if x.severity == "error"]
    assert all(isinstance(x, SyntaxDiagnostic) and isinstance(x, Diagnostic) for x in errs)
    by = {(Path(x.path).name, x.line): x for x in errs}
    e = by[("main.cf", 2)]
    assert e.message == "missing '=' after attribute name: \"bad  name\""
    # where "=" was wanted: the white space that starts the continuation line
    assert (e.error_line, e.column, e.text) == (3, 1, "bad  name")
    e = by[("main.cf", 4)]
    assert e.message == 'missing attribute name: "= x"' and (e.error_line, e.column) == (4, 1)
    e = by[("master.cf", 1)]
    assert e.message == "bad field count" and e.text == "smtp inet n - n  - -"
    assert (e.error_line, e.column) == (2, 6)  # the end of "  - -", where a word is missing
    assert str(e) == f"error: {d / 'master.cf'}, line 1: bad field count"
    assert cfg.main["last"].value == "ok" and [s.key for s in cfg.services] == ["ok/unix"]


@pytest.mark.oracle
def test_syntax_error_messages_are_postconfs(tmp_path):
    """postconf stops at the first error; each case on its own, run side by side."""
    need_postfix()
    cases = {
        "cont": ("a = 1\nbad\n  name\n", "smtp inet n - n - - smtpd\n"),
        "noname": ("a = 1\n= x\n", "smtp inet n - n - - smtpd\n"),
        "fields": ("a = 1\n", "smtp inet n - n\n  - -\n"),
        "brace": ("a = 1\n", "smtp inet n - {n - - smtpd\n"),
    }
    procs = {}
    for name, (main, master) in cases.items():
        (tmp_path / name).mkdir()
        d = write(tmp_path / name, main, master)
        procs[name] = (d, subprocess.Popen([postconf_exe(), "-c", str(d), "-n"],
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for name, (d, proc) in procs.items():
        _, stderr = proc.communicate(timeout=60)
        fatal = re.search(r"fatal: (.*)", stderr)
        assert fatal, (name, stderr)
        cfg = load_config(d)
        ours = {f"{x.path}, line {x.line}: {x.message}" for x in cfg.diagnostics} | \
               {f"file {x.path}: line {x.line}: {x.message}" for x in cfg.diagnostics}
        assert fatal.group(1) in ours, (name, fatal.group(1), sorted(ours))


# ------------------------------------------------------------ master.cf forms

MASTER_FORMS = """\
smtp      inet  n       -       n       -       -       smtpd
submission inet n       -       n       -       -       smtpd -v
  -o syslog_name=postfix/submission
  -o { smtpd_tls_security_level = encrypt }
  -o {smtpd_client_restrictions=permit_sasl_authenticated,reject}
  -osmtpd_sasl_auth_enable=yes -o{ smtpd_tls_ask_ccert = yes }
  -vo smtpd_banner=x -Do smtpd_delay_reject=no
  -o { smtpd_reject_footer = see {https://example.net/help} }
  -- -o {q r}s
weird     unix  -       n       n       -       -       pipe
  flags=R user=nobody argv=/bin/echo { arg with spaces } ${nexthop}
odd1      unix  n       -       n       -       -       smtpd -v{x}o smtpd_soft_error_limit=9 -D
odd3      unix  n       -       n       -       -       smtpd -osyslog_name=x -o{ smtpd_helo_required = yes }
  - -o -oa=b --o -o c=d
odd2      unix  n       -       n       -       -       smtpd -o { nope } -o {a = b
tailed    unix  n       -       n       -       -       pipe argv=/bin/x {unclosed arg
dangling  unix  -       -       n       -       -       smtp -o smtp_helo_name=h -o
"""


@pytest.mark.oracle
def test_master_cf_forms_match_postconf(tmp_path):
    need_postfix()
    d = write(tmp_path, "compatibility_level = 3.7\n", MASTER_FORMS)
    # side by side: postconf pauses after some warnings
    runs = [subprocess.Popen([postconf_exe(), "-c", str(d), flag], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for flag in ("-M", "-P")]
    m, p = (subprocess.CompletedProcess(r.args, 0, *r.communicate(timeout=60)) for r in runs)
    assert [r.returncode for r in runs] == [0, 0], m.stderr + p.stderr
    cfg = load_config(d)
    assert not [x for x in cfg.diagnostics if x.severity == "error"]
    # postconf -M: the eight fields, then the arguments; postconf puts some
    # arguments with white space in braces, so compare without braces
    def flat(text: str) -> str:
        return " ".join(text.replace("{", " ").replace("}", " ").split())

    want_m = [line.split(None, 8) for line in m.stdout.splitlines()]
    want_m = [w[:8] + [flat(w[8]) if len(w) > 8 else ""] for w in want_m]
    ours_m = [[s.name, s.type, s.private, s.unpriv, s.chroot, s.wakeup, s.maxproc, s.command,
               flat(" ".join(s.args))] for s in cfg.services]
    assert ours_m == want_m
    # postconf -P: every -o setting, with its value (postconf folds white space)
    ours_p = sorted(" ".join(f"{s.key}/{n} = {v}".split())
                    for s in cfg.services for n, (v, _) in s.overrides.items())
    assert ours_p == sorted(" ".join(line.split()) for line in p.stdout.splitlines())
    # the warnings about braces and -o syntax, in postconf's words
    want_w = sorted(set(re.findall(r"warning: (master\.cf: .*)", m.stderr)))
    ours_w = sorted({x.message for x in cfg.diagnostics if x.message.startswith("master.cf: ")})
    assert ours_w == want_w
    # and where they are: the physical line of the -o value / argument
    by_msg = {x.message: x.line for x in cfg.diagnostics}
    assert by_msg["master.cf: missing '=' after attribute name: \"nope\""] == 15
    assert by_msg["master.cf: syntax error after '}' in \"{q r}s\""] == 9
    src = cfg.service("submission").overrides["smtpd_tls_ask_ccert"][1]
    assert (src.kind, src.line, src.service) == ("master.cf", 6, "submission")
    # Postfix splits "-o..." at a later "o" and stops taking -o at a "--" split off "--o"
    assert cfg.service("odd3").overrides.keys() == {"g_name", "_required", "a"}
    assert "smtpd_helo_required" not in cfg.service("submission").overrides


# ------------------------------------------------------------ the wheel

@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=300)
    need(r.returncode == 0, f"cannot build the wheel here: {r.stderr.strip()[-500:]}")
    wheels = list(out.glob("postfix_explorer-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.slow
def test_wheel_ships_the_grammars(built_wheel):
    names = set(zipfile.ZipFile(built_wheel).namelist())
    for name in ("main_cf", "master_cf", "maillog"):
        assert f"tui/grammars/{name}.lark" in names
    shipped = zipfile.ZipFile(built_wheel).read("tui/grammars/main_cf.lark").decode()
    assert shipped == (ROOT / "grammars" / "main_cf.lark").read_text()


@pytest.mark.slow
def test_installed_copy_finds_and_uses_its_grammars(built_wheel, tmp_path):
    """pip install --target (a real, non-editable install), then run it with
    site processing off, so the editable install of the checkout is not seen."""
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                        "--no-compile", "--target", str(target), str(built_wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    import lark
    lark_site = Path(lark.__file__).resolve().parent.parent
    conf = write(tmp_path, "myhostname = mx.example.org\nbroken line\n",
                 "smtp inet n - n - - smtpd\nsub inet n - n - - smtpd -o { smtpd_helo_required = yes }\n")
    code = (
        "import json, sys\n"
        "import tui.core.grammar as g\n"
        "from tui.core.config import load_config\n"
        "cfg = load_config(sys.argv[1])\n"
        "print(json.dumps({'module': g.__file__, 'dir': str(g.grammar_dir()),\n"
        "  'tree': g.parser('main_cf').parse('a = b\\n').pretty(),\n"
        "  'host': cfg.params().raw('myhostname'),\n"
        "  'helo': cfg.params('sub').raw('smtpd_helo_required'),\n"
        "  'errors': [(d.line, d.message, d.column) for d in cfg.diagnostics if d.severity == 'error']}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join([str(target), str(lark_site)])
    r = subprocess.run([sys.executable, "-S", "-c", code, str(conf)], capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert Path(got["module"]).resolve().is_relative_to(target.resolve())
    assert Path(got["dir"]).resolve() == (target / "tui" / "grammars").resolve()
    assert "setting" in got["tree"]
    assert got["host"] == "mx.example.org" and got["helo"] == "yes"
    assert got["errors"] == [[2, "missing '=' after attribute name: \"broken line\"", 7]]


@pytest.mark.oracle
def test_c_white_space_is_white_space_like_postconf(tmp_path):
    """readllines() and split_nameval() use C's isspace(): \\f and \\v too."""
    need_postfix()
    import contextlib
    import io

    from tui.__main__ import main as cli_main
    d = write(tmp_path, "myhostname\f=\vmx.example\f\nmydomain = a\n\fb.example\n"
                        "smtpd_banner =\t$myhostname\r\n  \v# comment between\n\tESMTP\n", "")
    want = subprocess.run([postconf_exe(), "-c", str(d), "-n"], capture_output=True, text=True, timeout=60)
    assert want.returncode == 0, want.stderr
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli_main(["params", "--config-dir", str(d), "-n"]) == 0
    assert out.getvalue() == want.stdout
    cfg = load_config(d)
    assert cfg.params().raw("myhostname") == "mx.example"
    assert cfg.params().raw("mydomain") == "a\fb.example"


# random option words, compared with postconf -P (values with white space folded,
# as postconf prints them) and postconf's warnings
_ATOMS = ["-o", "x=1", "a = b", "{", "}", "{ a = b }", "-vo", "-v", "--", "-ox=2", "o", "\n  ", "\n\t",
          "\f", "\t", " ", " ", "-", "syslog_name=z", "c=d", "{ e = f }", "g", "-o {x\ty}", "\r"]


@pytest.mark.oracle
def test_random_master_cf_options_match_postconf(tmp_path):
    """60 seeded random master.cf files; postconf runs side by side (it
    pauses after some warnings)."""
    need_postfix()
    import random
    rnd = random.Random(20261127)
    procs = []
    for n in range(60):
        d = tmp_path / str(n)
        d.mkdir()
        text = "".join(f"s{k} unix - - n - - smtpd "
                       + "".join(rnd.choice(_ATOMS) for _ in range(rnd.randint(0, 10))) + "\n"
                       for k in range(rnd.randint(1, 3)))
        write(d, "compatibility_level = 3.7\n", text)
        procs.append((d, text, subprocess.Popen([postconf_exe(), "-c", str(d), "-P"], stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE, text=True)))
    for d, text, proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, (text, stderr)
        cfg = load_config(d)
        ours = sorted(" ".join(f"{s.key}/{n} = {v}".split())
                      for s in cfg.services for n, (v, _) in s.overrides.items())
        assert ours == sorted(" ".join(line.split()) for line in stdout.split("\n") if line), text
        want_w = sorted(set(re.findall(r"warning: (master\.cf: .*)", stderr)))
        ours_w = sorted({x.message for x in cfg.diagnostics if x.message.startswith("master.cf: ")})
        assert ours_w == want_w, text


# main.cf lines of the plain shape skip lark (config/main_cf.py's expression made of the
# grammar's terminals); whatever the line, the answer must be lark's own.
_LINE_CHARS = st.sampled_from(list("ab_=.$ {}#\t\r\v\f-:/,") + ["\u00e9", "\x00"])


@given(st.lists(st.text(_LINE_CHARS, max_size=12), min_size=1, max_size=6))
@settings(max_examples=400, deadline=None)
def test_main_cf_fast_lines_are_what_lark_reads(texts):
    from tui.core.config.main_cf import _main_finish, _main_parser, _nameval_error, _parse_settings
    from tui.core.config.syntax import _error_offset, _parse_lines

    texts = [t.replace("\n", "") for t in texts]
    fast, fast_err = _parse_settings(texts)
    slow, slow_err = _parse_lines(_main_parser(), texts, _main_finish)
    assert fast == slow
    assert sorted(fast_err) == sorted(slow_err)
    # what is made of an error: Postfix's words and the column
    assert ([(_nameval_error(fast_err[k]), _error_offset(fast_err[k], texts[k])) for k in sorted(fast_err)]
            == [(_nameval_error(slow_err[k]), _error_offset(slow_err[k], texts[k])) for k in sorted(slow_err)])


def test_main_cf_plain_line_is_the_grammars_expression():
    """The plain-line expression written out in config/main_cf.py is the one
    made of main_cf.lark's terminals (the same regular expression, parsed),
    and it was checked against this very grammar text. After an edit of the
    grammar, write the expression again and set PLAIN_LINE_GRAMMAR to the
    new digest; until then main.cf lines are read with the grammar's own."""
    from tui.core.config.main_cf import _PLAIN_LINE, PLAIN_LINE_GRAMMAR, _line_regex, _main_parser, _plain_line_regex
    from tui.core.grammar import grammar_path, source_digest

    made = _line_regex(_main_parser())
    assert made.flags == _PLAIN_LINE.flags
    assert repr(re._parser.parse(made.pattern, made.flags).data) == \
        repr(re._parser.parse(_PLAIN_LINE.pattern, _PLAIN_LINE.flags).data)
    assert source_digest(grammar_path("main_cf").read_bytes()) == PLAIN_LINE_GRAMMAR
    assert _plain_line_regex() is _PLAIN_LINE


def test_plain_configurations_load_without_lark(tmp_path):
    """main.cf and master.cf lines of the common shape are read without
    lark, whose import is most of a command's start-up: the seed's and the
    demo's configurations load, and lint and a trace run on them, in a
    process that never imports it. A line of another shape still goes to
    lark (here a master.cf entry with a flag and a braced option)."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.cf").write_text("myhostname = mx.example.org\n")
    (other / "master.cf").write_text("smtp inet n - n - - smtpd -v -o { smtpd_helo_required = yes }\n")
    code = "\n".join([
        "import sys",
        "from tui.core.analysis.lint import lint",
        "from tui.core.config import load_config",
        "from tui.core.smtpd import evaluate",
        "from tui.core.trace import Transaction",
        "from tui.demo import demo_config_dir",
        f"for d in ({str(ROOT / 'tests/fixtures/config/seed')!r}, str(demo_config_dir())):",
        "    cfg = load_config(d)",
        "    lint(cfg)",
        "    evaluate(cfg, Transaction(client_address='192.0.2.1', client_name='unknown', helo='x.example',",
        "                              sender='a@example.net', recipient='b@example.org'))",
        "print('lark' in sys.modules)",
        f"cfg = load_config({str(other)!r})",
        "print('lark' in sys.modules, cfg.service('smtp').overrides['smtpd_helo_required'][0])",
    ])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["False", "True yes"], r.stdout


# master.cf lines of the common shape skip lark too (config/master_cf.py's
# _plain_entry); whatever the line, the entry must be lark's own. Eight
# fields, then options and arguments, drawn so that about a third of the
# lines take the fast path.
_MASTER_FIELDS = st.sampled_from(["smtp", "inet", "n", "-", "y", "1", "-o", "--", "x=y", "\u00e9", "\v", "{ a }"])
_MASTER_REST = st.sampled_from(["-o", "a=b", "-o", "x", "${r}", "a{b{c}}", "}x{y}", "x}", "{x}", "-d", "--", "-",
                                "o", "a{b", "-vo", "-ox", "{", "{ a = b }", "-o{x}", "-v"])
_MASTER_SPACE = st.sampled_from([" ", "  ", "\t", " \r "])


@given(st.lists(st.tuples(st.lists(_MASTER_FIELDS, min_size=6, max_size=9), st.lists(_MASTER_REST, max_size=8),
                          st.lists(_MASTER_SPACE, min_size=17, max_size=17), st.sampled_from(["", " "]),
                          st.booleans()), min_size=1, max_size=4))
@settings(max_examples=1000, deadline=None)
def test_master_cf_plain_lines_are_what_lark_reads(lines):
    from tui.core.config.master_cf import _lark_master_lines, _parse_master_lines

    texts = []
    for fields, rest, spaces, lead, trailing in lines:
        text = lead + "".join(w + sp for w, sp in zip(fields + rest, spaces))
        texts.append(text if trailing else text.rstrip(" \t\r"))
    fast, fast_err = _parse_master_lines(texts)
    slow, slow_err = _lark_master_lines(texts)
    assert fast == slow
    assert sorted(fast_err) == sorted(slow_err)


def test_master_cf_plain_path_follows_this_grammar():
    """_plain_entry() was checked against this master_cf.lark. After an edit
    of the grammar, check it again (the property test above, with words the
    change is about) and set PLAIN_ENTRY_GRAMMAR to the new digest; until
    then every line goes to lark."""
    from tui.core.config.master_cf import PLAIN_ENTRY_GRAMMAR, _plain_path
    from tui.core.grammar import grammar_path, source_digest

    assert source_digest(grammar_path("master_cf").read_bytes()) == PLAIN_ENTRY_GRAMMAR
    assert _plain_path()


def test_master_cf_plain_lines_cover_the_seed():
    """The fast path is taken for every entry of the seed's master.cf (so
    that a change to it that quietly sends everything to lark shows)."""
    from tui.core.config.master_cf import _plain_entry
    from tui.core.config.syntax import read_logical_lines

    text = (ROOT / "tests/fixtures/config/seed/master.cf").read_text()
    lines = read_logical_lines(text, "master.cf", [])
    assert lines and all(_plain_entry(ll.text) is not None for ll in lines)
