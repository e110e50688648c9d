"""A corpus of broken configurations (tests/fixtures/broken/ plus files made
here: a 10 MB line, symlink loops, directories where files belong,
unreadable files). For each: the CLI prints a message naming the file (and
the line where there is one) and what is wrong, never a traceback; the rest
of the configuration still loads; the exit status is 2 where the input is
unusable; and the app opens on it without crashing.

Unreadable files are tested as the unprivileged user `nobody` (root reads
everything whatever the mode).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tests.hostile.util import cli, no_traceback, public_tmpdir, rmtree

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"
SMTP = "smtp      inet  n       -       n       -       -       smtpd\n"
GOOD_MAIN = ("myhostname = mx.example.org\nmydomain = example.org\n"
             "mynetworks = 127.0.0.0/8\n")


def write_base(d: Path, restrictions: str = "", extra: str = "") -> None:
    """A small good configuration; RESTRICTIONS go before reject_unauth_destination."""
    lst = ", ".join(x for x in ("permit_mynetworks", restrictions, "reject_unauth_destination") if x)
    (d / "main.cf").write_text(GOOD_MAIN + extra + f"smtpd_recipient_restrictions = {lst}\n")
    (d / "master.cf").write_text(SMTP)


@dataclass
class Case:
    name: str
    build: Callable[[Path], None]
    argv: Callable[[Path], list[str]]     # the command that must report it
    says: list[str]                       # fragments of the message (after {d} substitution)
    rc: tuple[int, ...]
    user: str | None = None               # run as this user (file modes)
    line: str | None = None               # "FILE, line N" fragment, {d} substituted
    app: bool = True                      # also open the app on it
    also: list[tuple[list[str], tuple[int, ...]]] = field(default_factory=list)  # more commands: argv, rcs


TRACE = ["trace", "--client-address", "192.0.2.9", "--helo", "client.example.net",
         "--sender", "someone@example.net", "--recipient", "user@example.org"]


def _trace(d: Path) -> list[str]:
    return ["--config-dir", str(d), *TRACE]


def _params(*extra: str):
    return lambda d: ["--config-dir", str(d), "params", *extra]


def _lookup(spec: str, *keys: str):
    return lambda d: ["--config-dir", str(d), "lookup", spec.format(d=d), *keys]


def b_main_binary_line(d):
    write_base(d)
    (d / "main.cf").write_bytes((BROKEN / "main-binary-line.cf").read_bytes())


def b_main_all_garbage(d):
    write_base(d)
    (d / "main.cf").write_bytes((BROKEN / "binary-garbage").read_bytes())


def b_main_huge_line(d):
    write_base(d, extra="smtpd_banner = $myhostname ESMTP " + "x" * (10 * 1024 * 1024) + "\n")


def b_map_huge_line(d):
    write_base(d, "check_sender_access texthash:{d}/huge".format(d=d))
    (d / "huge").write_text("someone@example.net REJECT " + "y" * (10 * 1024 * 1024) + "\nother OK\n")


def b_non_utf8(d):
    write_base(d)
    (d / "main.cf").write_bytes((BROKEN / "main-non-utf8.cf").read_bytes())


def b_unterminated(d):
    write_base(d, extra="smtpd_banner = ${myhostname ESMTP\n")


def b_loop(d):
    write_base(d, extra="a = $b\nb = ${c}\nc = $(a)\nsmtpd_helo_restrictions = $a\n")


def b_deep(d):
    write_base(d, extra="smtpd_banner = " + "${myhostname?{" * 300 + "x" + "}}" * 300 + "\n")


def b_master_few_fields(d):
    write_base(d)
    (d / "master.cf").write_text((BROKEN / "master-few-fields.cf").read_text())


def b_master_dangling_o(d):
    write_base(d)
    (d / "master.cf").write_text((BROKEN / "master-dangling-o.cf").read_text())


def b_map_no_value(d):
    write_base(d, f"check_sender_access texthash:{d}/map")
    (d / "map").write_text((BROKEN / "map-no-value").read_text())


def b_bad_regexp(d):
    write_base(d, f"check_sender_access regexp:{d}/bad.regexp")
    (d / "bad.regexp").write_text((BROKEN / "bad.regexp").read_text())


def b_bad_cidr(d):
    write_base(d, f"check_client_access cidr:{d}/bad.cidr")
    (d / "bad.cidr").write_text((BROKEN / "bad.cidr").read_text())


def b_binary_pcre(d):
    write_base(d, f"check_sender_access pcre:{d}/garbage.pcre")
    (d / "garbage.pcre").write_bytes((BROKEN / "binary-garbage").read_bytes())


def b_missing_map(d):
    write_base(d, f"check_sender_access texthash:{d}/missing")


def b_unreadable_map(d):
    write_base(d, f"check_sender_access texthash:{d}/secret-map")
    (d / "secret-map").write_text("someone@example.net REJECT\n")
    (d / "secret-map").chmod(0o600)


def b_unreadable_main(d):
    write_base(d)
    (d / "main.cf").chmod(0o600)


def b_loop_main(d):
    write_base(d)
    (d / "main.cf").unlink()
    (d / "main.cf").symlink_to("main.cf")


def b_loop_map(d):
    write_base(d, f"check_sender_access texthash:{d}/looping")
    (d / "looping").symlink_to("looping2")
    (d / "looping2").symlink_to("looping")


def b_dir_main(d):
    write_base(d)
    (d / "main.cf").unlink()
    (d / "main.cf").mkdir()


def b_dir_master(d):
    write_base(d)
    (d / "master.cf").unlink()
    (d / "master.cf").mkdir()


def b_dir_map(d):
    write_base(d, f"check_sender_access texthash:{d}/adir")
    (d / "adir").mkdir()


CASES = [
    Case("main.cf binary line", b_main_binary_line, _params("-n"),
         ["missing '=' after attribute name"], (0,), line="{d}/main.cf, line 3",
         also=[(TRACE, (1,))]),
    Case("main.cf all binary garbage", b_main_all_garbage, _params("-n"),
         ["{d}/main.cf, line "], (0, 1), also=[(TRACE, (0, 1))]),
    Case("10 MB line in main.cf", b_main_huge_line, _params("-n", "myhostname"),
         ["myhostname = mx.example.org"], (0,), also=[(TRACE, (1,))]),
    Case("10 MB line in a map", b_map_huge_line, _lookup("texthash:{d}/huge", "other"),
         ["OK"], (0,), also=[(TRACE, (1,))]),
    Case("non-UTF-8 bytes", b_non_utf8, _params("-n", "myorigin"),
         ["myorigin = caf"], (0,), also=[(TRACE, (1,))]),
    Case("unterminated ${", b_unterminated, _params("-x", "smtpd_banner"),
         ['truncated macro reference: "${myhostname ESMTP"'], (1,), also=[(TRACE, (1,))]),
    Case("expansion loop", b_loop, _params("-x", "smtpd_helo_restrictions"),
         ["unreasonable macro call nesting"], (1,), also=[(TRACE, (0, 1, 2))]),
    Case("deep expansion nesting", b_deep, _params("-x", "smtpd_banner"),
         ["unreasonable macro call nesting"], (1,), also=[(TRACE, (1,))]),
    Case("master.cf line with too few fields", b_master_few_fields, _params("-n"),
         ["bad field count"], (0, 1, 2), line="{d}/master.cf, line 2", also=[(TRACE, (1,))]),
    Case("master.cf -o without a value", b_master_dangling_o, _params("-n"),
         ['"-o" without a value'], (0,), line="{d}/master.cf, line 2"),
    Case("map line without a value", b_map_no_value, _lookup("texthash:{d}/map", "other@example.org"),
         ["expected format"], (0,), line="{d}/map, line 2", also=[(TRACE, (1,))]),
    Case("invalid regexp", b_bad_regexp, _lookup("regexp:{d}/bad.regexp", "x"),
         ["(unclosed"], (0,), line="{d}/bad.regexp, line 2", also=[(TRACE, (1,))]),
    Case("invalid CIDR", b_bad_cidr, _lookup("cidr:{d}/bad.cidr", "192.0.2.9"),
         ["1.2.3.4/33"], (0,), line="{d}/bad.cidr, line 2", also=[(TRACE, (0, 1))]),
    Case("binary garbage as a pcre map", b_binary_pcre, _lookup("pcre:{d}/garbage.pcre", "x"),
         ["{d}/garbage.pcre, line 1"], (0, 1), also=[(TRACE, (0, 1))]),
    Case("missing map", b_missing_map, _lookup("texthash:{d}/missing", "x"),
         ["{d}/missing", "No such file"], (2,), also=[(TRACE, (1,))]),
    Case("unreadable map (as nobody)", b_unreadable_map, _lookup("texthash:{d}/secret-map", "x"),
         ["{d}/secret-map", "Permission denied"], (2,), user="nobody", app=False),
    Case("unreadable main.cf (as nobody)", b_unreadable_main, _params("-n"),
         ["{d}/main.cf", "Permission denied"], (2,), user="nobody", app=False),
    Case("symlink loop as main.cf", b_loop_main, _params("-n"),
         ["{d}/main.cf", "Too many levels of symbolic links"], (2,)),
    Case("symlink loop as a map", b_loop_map, _lookup("texthash:{d}/looping", "x"),
         ["{d}/looping", "Too many levels of symbolic links"], (2,), also=[(TRACE, (1,))]),
    Case("directory as main.cf", b_dir_main, _params("-n"), ["{d}/main.cf", "Is a directory"], (2,)),
    # postconf -n reads main.cf only: a master.cf it cannot read is a warning
    Case("directory as master.cf", b_dir_master, _params("-n"), ["{d}/master.cf", "Is a directory"], (0,)),
    Case("directory as a map", b_dir_map, _lookup("texthash:{d}/adir", "x"),
         ["{d}/adir", "Is a directory"], (2,), also=[(TRACE, (1,))]),
]


def sub(text: str, d: Path) -> str:
    return text.replace("{d}", str(d))


@pytest.fixture
def confdir():
    d = public_tmpdir()
    yield d
    rmtree(d)




@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_cli_names_the_problem(case: Case, confdir: Path):
    case.build(confdir)
    r = cli(*case.argv(confdir), user=case.user)
    no_traceback(r)
    assert r.rc in case.rc, (r.rc, r.all[-2000:])
    text = r.all
    for frag in case.says:
        assert sub(frag, confdir) in text, (frag, text[-2000:])
    if case.line:
        assert sub(case.line, confdir) in text, text[-2000:]
    for argv, rcs in case.also:
        r2 = cli("--config-dir", str(confdir), *argv, user=case.user)
        no_traceback(r2)
        assert r2.rc in rcs, (argv, r2.rc, r2.all[-2000:])
        if r2.rc == 2:
            assert r2.err.strip(), "exit 2 without a reason"
        if case.line and argv is TRACE:
            # the trace names the broken line too (on stderr, stdout stays the trace)
            assert sub(case.line, confdir) in r2.err, r2.err[-2000:]


@pytest.mark.parametrize("case", [c for c in CASES if c.user], ids=[c.name for c in CASES if c.user])
def test_unreadable_trace_as_nobody(case: Case, confdir: Path):
    case.build(confdir)
    r = cli("--config-dir", str(confdir), *TRACE, user=case.user)
    no_traceback(r)
    if (confdir / "main.cf").stat().st_mode & 0o004 == 0:
        assert r.rc == 2 and f"{confdir}/main.cf" in r.err and "Permission denied" in r.err
    else:  # an unreadable map is a lookup error: smtpd's 451 4.3.5
        assert r.rc == 1
        assert "451 4.3.5" in r.out and f"{confdir}/secret-map" in r.out and "Permission denied" in r.out


def test_rest_of_config_still_loads(confdir: Path):
    """Every per-line problem at once: the good parameters and services are
    all there, each problem is one diagnostic naming file and line."""
    from tui.core.config import load_config

    (confdir / "main.cf").write_bytes(
        GOOD_MAIN.encode() + b"\x00\xff garbage\nsmtpd_banner = ${myhostname\n"
        b"relay_domains = example.net\n= novalue\nmyorigin = caf\xe9.example\n")
    (confdir / "master.cf").write_text(SMTP + "broken inet n\n" + "submission inet n - n - - smtpd\n")
    cfg = load_config(confdir)
    view = cfg.params()
    assert view.raw("relay_domains") == "example.net"
    assert view.raw("myhostname") == "mx.example.org"
    assert [s.key for s in cfg.services] == ["smtp/inet", "submission/inet"]
    where = {(d.path, d.line) for d in cfg.diagnostics}
    assert (str(confdir / "main.cf"), 4) in where
    assert (str(confdir / "main.cf"), 7) in where
    assert (str(confdir / "master.cf"), 2) in where


# ---------------------------------------------------------------------------
# the app opens on each of them


@pytest.mark.parametrize("case", [c for c in CASES if c.app], ids=[c.name for c in CASES if c.app])
async def test_app_opens(case: Case, confdir: Path):
    from tests.ui.conftest import screen_text, settle
    from tui.app import make_app

    case.build(confdir)
    app = make_app(confdir)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await settle(pilot)
        await pilot.press("down", "down", "enter", "down", "question_mark")
        await pilot.pause()
        await pilot.press("escape", "t")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        text = screen_text(app)
        assert app.is_running
        if app.load_error is not None:   # unusable: the reason names the file
            assert str(confdir) in app.load_error or "main.cf" in app.load_error
            assert "internal error" not in app.load_error
        else:
            assert app.model is not None
        assert "Traceback" not in text


EXPANSION_CASES = {
    "unused unterminated": "foo = ${bar\n",
    "unused loop": "foo = $bar\nbar = $foo\n",
    "used loop": "smtpd_banner = $bar\nbar = $smtpd_banner\n",
    "used unterminated": "smtpd_banner = ${myhostname ESMTP\n",
    "loop behind a restriction list": "a = $b\nb = ${c}\nc = $(a)\nsmtpd_helo_restrictions = $a\n",
    "deep nesting": "smtpd_banner = " + "${myhostname?{" * 120 + "x" + "}}" * 120 + "\n",
    "fine": "smtpd_banner = $myhostname ESMTP\n",
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", list(EXPANSION_CASES))
def test_expansion_errors_stop_like_postconf(name, confdir: Path):
    """postconf stops ("macro processing error") when a parameter it knows
    cannot be expanded -- and with it `postfix start`; params does the same
    and the trace warns that Postfix would not start."""
    import subprocess

    from tests.conftest import need_postfix

    need_postfix()
    write_base(confdir, extra=EXPANSION_CASES[name])
    p = subprocess.run(["postconf", "-c", str(confdir), "-n"], capture_output=True, timeout=60)
    r = cli("--config-dir", str(confdir), "params", "-n")
    no_traceback(r)
    assert r.rc == p.returncode, (r.err, p.stderr)
    assert ("macro processing error" in r.err) == (p.returncode != 0)
    t = cli("--config-dir", str(confdir), *TRACE)
    no_traceback(t)
    assert ("would not start" in t.err) == (p.returncode != 0), t.err


BAD_ARGV = [
    (["--config-dir", "/nonexistent/pfx", "params", "-n"], "/nonexistent/pfx/main.cf"),
    (["--config-dir", "/etc/passwd", "params", "-n"], "Not a directory"),
    (["--config-dir", "/etc/passwd", *TRACE], "Not a directory"),
    (["--config-dir", "/nonexistent/pfx", "lint"], "/nonexistent/pfx/main.cf"),
    (["--demo", "trace", "--client-address", "999.1.1.1", "--recipient", "a@b"], "not an IP address"),
    (["--demo", "trace", "--recipient", "a@b"], "--client-address"),
    (["--demo", "trace", "--from-log", "garbage \x1b[2J"], "log line"),
    (["--demo", "trace", "--client-address", "192.0.2.1", "--recipient", "a@b", "--dnsbl-listed", "x"], "WHAT@ZONE"),
    (["--demo", "trace", "--client-address", "192.0.2.1", "--recipient", "a@b", "--policy", "x"], "SERVER=ACTION"),
    (["--demo", "trace", "--client-address", "192.0.2.1", "--recipient", "a@b", "--service", "nosuch"], "nosuch"),
    (["--demo", "params", "--service", "nosuch"], "nosuch"),
    (["--demo", "lookup", "foo", "x"], "not a lookup table"),
    (["--demo", "lookup", "hash:", "x"], "hash:"),
    (["--demo", "lookup", "mysql:/etc/passwd", "x"], "/etc/passwd"),
    (["--demo", "lookup", "nosuchtype:/x", "x"], "unsupported"),
]


@pytest.mark.parametrize("argv,says", BAD_ARGV, ids=[" ".join(a[2:5]) + f" {i}" for i, (a, _s) in enumerate(BAD_ARGV)])
def test_unusable_command_line_is_exit_2(argv, says):
    r = cli(*argv)
    no_traceback(r)
    assert r.rc == 2, (r.rc, r.all[-1500:])
    assert says in r.err, r.err
