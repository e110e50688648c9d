"""Differential tests: alias databases against the real postalias.

A source in aliases(5) format is compiled with `postalias -c DIR TYPE:FILE`;
every key is asked with `postalias -q -` and `postmap -q -` and must give
what our AliasTable gives (open_table(..., aliases=True), and open_table
deciding from alias_maps/alias_database in the view), with smtputf8 on
(compatibility_level 3.6) and off (level 0). The warnings postalias prints
(need name:value pair, name must be local, non-UTF-8 input, duplicate
entry) must be our diagnostics, line for line; the whole database
(`postmap -s`) must be our entries().
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import need_postfix
from tests.oracle.test_postmap_support import (
    diff, make_config_dir, ours_batch, postmap_batch, postmap_bin, settle, table_answers, view_for,
)

pytestmark = pytest.mark.oracle

MAIN_CF = {
    "utf8": "compatibility_level = 3.6\n",
    "noutf8": "compatibility_level = 0\nsmtputf8_enable = no\n",
}

# One line per rule under test (bytes: some lines are not UTF-8).
SOURCE = b"\n".join([
    b"# a comment",
    b"root: admin",
    b"Upper: upper-case name",
    b"MiXeD: Someone@Example.COM",
    b'"quoted name": with a blank',
    b'"a:b": colon in a quoted name',
    b'"x@y": at in a quoted name',
    b'"k\\"q": escaped quote in a name',
    b"nospace:value",
    b"multi: a,   b,c",
    b"  , continued",
    b"# comment between continuation lines",
    b"\td",
    b"inc: :include:/etc/postfix/list",
    b"empty:",
    b'emptyq: ""',
    b"no colon on this line",
    b"user@dom: not local",
    b"pct%x: not local either",
    b"@: not local",
    b'"@": quoted at',
    b"root: second root",
    b"ROOT: third root",
    b'pipe: "|/usr/bin/foo bar"',
    b"cmt: a (a comment (nested)) b",
    b"two words: tw",
    b'a"b c": mixed',
    b"dom: [1.2.3.4]",
    b"angle: Foo <foo@bar>",
    b"spaces:    trailing   ",
    b"bs\\x: backslash",
    b"esc: a\\ b, c\\,d, \"e\\\\f\"",
    b"dot.ted: d . e",
    b": no name",
    b"file: /var/mail/x",
    b"comma: x,",
    b"a,b: list name",
    b"v9:a:b:c",
    b"ops: a|b a!b a%b a=b a;b",
    b"unterminated: \"open",
    b"\xc3\xa9t\xc3\xa9: ete",
    b"\xc3\x89T\xc3\x89: ETE",
    b"J\xc3\xbcrgen: juergen",
    b"bad\xffname: not utf8",
    b"val: v\xe9",
    b"(c) k2: comment first",
    b'tabq: "x\ty", "a\\\tb"',
    b"ebs: a\\\\b",
    b"last: no newline at the end",
])

EXTRA_KEYS = [
    "root", "ROOT", "root:", "Root", "upper", "UPPER", "mixed", "quoted name", '"quoted name"',
    "quotedname", "a:b", "x@y", 'k"q', "nospace", "nospace:value", "multi", "inc", "empty",
    "emptyq", "no colon on this line", "no", "user@dom", "pct%x", "@", "pipe", "cmt", "two words",
    "twowords", "a b c", "dom", "angle", "spaces", "bs\\x", "bsx", "esc", "dot.ted", "file",
    "comma", "a,b", "a", "b", "v9", "ops", "unterminated", "été", "ÉTÉ", "Été", "jürgen", "JÜRGEN",
    "Jürgen", "badname", "val", "(c) k2", "k2", "last", "nosuch", "YP_MASTER_NAME",
    "yp_master_name", "YP_LAST_MODIFIED", "# a comment", "continued", "tabq", "ebs",
]


def postalias_bin() -> str:
    return shutil.which("postalias") or "/usr/sbin/postalias"


def postalias(confdir, *args, stdin: bytes | None = None):
    r = subprocess.run([postalias_bin(), "-c", str(confdir), *args], input=stdin,
                       capture_output=True, timeout=120)
    return r.returncode, r.stdout.decode("utf-8", "surrogateescape"), r.stderr.decode("utf-8", "replace")


@pytest.fixture(params=sorted(MAIN_CF))
def confdir(request, tmp_path):
    need_postfix()
    return make_config_dir(tmp_path / "etc", MAIN_CF[request.param])


def _build(confdir, type_="hash", source=SOURCE, name="aliases"):
    src = confdir / name
    src.write_bytes(source)
    settle(src)
    rc, _out, err = postalias(confdir, f"{type_}:{src}")
    assert rc == 0, err
    return f"{type_}:{src}", err


def _dump(confdir, spec) -> dict[str, str]:
    """The whole database as postmap -s shows it (postalias's YP_* NIS
    stamps are stored unfolded, so no folded lookup can reach them)."""
    r = subprocess.run([postmap_bin(), "-c", str(confdir), "-s", spec], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.decode("utf-8", "surrogateescape").split("\n"):
        if "\t" in line:
            k, _, v = line.partition("\t")
            if not k.startswith("YP_"):
                out[k] = v
    return out


def _keys(dump) -> list[str]:
    keys = list(dict.fromkeys([k for k in dump if k and "\n" not in k and "\t" not in k] + EXTRA_KEYS))
    return keys + [k.upper() for k in keys if k.upper() not in keys]


def _postalias_batch(confdir, spec, keys) -> dict[str, str]:
    data = "".join(k + "\n" for k in keys).encode("utf-8", "surrogateescape")
    _rc, out, err = postalias(confdir, "-q", "-", spec, stdin=data)
    assert "fatal" not in err, err
    found = {}
    for line in out.split("\n"):
        if ":\t" in line:  # postalias -q - prints "key:<TAB>value"
            k, _, v = line.partition(":\t")
            found[k] = v
    return found


@pytest.mark.parametrize("type_", ["hash", "lmdb", "cdb"])
def test_lookups_match_postalias_and_postmap(confdir, type_):
    spec, _err = _build(confdir, type_)
    # every stored key (cdb cannot list its keys: ask a hash build of the same source)
    keys = _keys(_dump(confdir, _build(confdir, "hash", name="aliases.keys")[0]))
    theirs_pa = _postalias_batch(confdir, spec, keys)
    theirs_pm, _ = postmap_batch(confdir, spec, keys)
    assert theirs_pa == theirs_pm, diff(theirs_pa, theirs_pm)
    assert theirs_pm.get("root") == "admin" and theirs_pm.get("quoted name"), theirs_pm

    from tui.core.tables import open_table

    view = view_for(confdir)
    t = open_table(spec, view, aliases=True)
    try:
        ours = table_answers(t, keys)
    finally:
        t.close()
    d = diff(ours, theirs_pm)
    assert not d, "\n".join(d)


def test_alias_maps_in_the_view_selects_aliases_format(confdir):
    spec, _err = _build(confdir)
    other, _ = _build(confdir, name="aliases2", source=b"x: y\n")
    main = (confdir / "main.cf").read_text()
    (confdir / "main.cf").write_text(main + f"alias_maps = {spec}\nalias_database = proxy:{other}\n")
    settle(confdir / "main.cf")
    view = view_for(confdir)
    keys = _keys(_dump(confdir, spec))
    theirs, _ = postmap_batch(confdir, spec, keys)
    d = diff(ours_batch(spec, keys, view), theirs)
    assert not d, "\n".join(d)
    # named in alias_database (behind proxy:): aliases format too
    # (and postalias's own "@: @" entry, no "@" name in this source)
    theirs2, _ = postmap_batch(confdir, other, ["x", "x:", "@"])
    assert theirs2 == {"x": "y", "@": "@"}
    assert ours_batch(other, ["x", "x:", "@"], view) == theirs2
    # the same file not named as an alias table is read postmap-style
    from tui.core.tables import open_table

    t = open_table(spec, view_for(make_config_dir(confdir.parent / "plain", MAIN_CF["utf8"])))
    assert type(t).__name__ == "FileTable"
    theirs3, _ = postmap_batch(confdir, spec, ["root", "root:"])
    assert {k: t.lookup(k).value for k in ("root", "root:") if t.lookup(k).found} == theirs3


def _warnings(err: str) -> set[tuple[int, str]]:
    """postalias's per-line warnings as (line, message start)."""
    out = set()
    for m in re.finditer(r"warning: \S+?, line (\d+): ([^\n\"]+)", err):
        out.add((int(m.group(1)), m.group(2).strip()))
    return out


def test_warnings_match_postalias(confdir):
    spec, err = _build(confdir)
    from tui.core.tables import open_table

    t = open_table(spec, view_for(confdir), aliases=True)
    t.lookup("root")
    diags = t.status.diagnostics
    t.close()
    theirs = _warnings(err)
    assert theirs, err
    ours = set()
    for d in diags:
        msg = d.message.split(" -- ignoring")[0].split('"')[0].strip()
        if d.line is not None and not msg.startswith(("duplicate entry", "logical line")):
            ours.add((d.line, msg))
    assert ours == theirs, (sorted(ours), sorted(theirs))
    # duplicates: postalias names the key (no line); the first one wins
    their_dups = set(re.findall(r'duplicate entry: "([^"]*)"', err))
    our_dups = {re.search(r'duplicate entry: "([^"]*)"', d.message).group(1)
                for d in diags if "duplicate entry" in d.message}
    assert their_dups and our_dups == their_dups, (our_dups, their_dups)


def test_entries_are_the_database(confdir):
    spec, _err = _build(confdir)
    from tui.core.tables import open_table

    t = open_table(spec, view_for(confdir), aliases=True)
    try:
        ours = {e.key: e.value for e in t.entries(0, 10_000)}
        assert t.count() == len(ours)
    finally:
        t.close()
    theirs = _dump(confdir, spec)
    theirs.pop("", None)  # '"": x' is stored, but no lookup can reach it
    ours.pop("", None)
    assert ours == theirs


def test_leading_whitespace_line_is_ignored_as_postalias_does(confdir):
    spec, err = _build(confdir, source=b"  leading: x\nroot: a\n")
    assert "must not start with whitespace" in err
    keys = ["leading", "root"]
    theirs, _ = postmap_batch(confdir, spec, keys)
    from tui.core.tables import open_table

    t = open_table(spec, view_for(confdir), aliases=True)
    assert {k: t.lookup(k).value for k in keys if t.lookup(k).found} == theirs
    assert any("must not start with whitespace" in d.message for d in t.status.diagnostics)


def test_stale_alias_db_says_postalias(confdir):
    src = confdir / "aliases"
    src.write_bytes(b"root: admin\n")
    from tui.core.tables import open_table

    t = open_table(f"hash:{src}", view_for(confdir), aliases=True)
    assert t.status.state == "stale" and "postalias" in t.status.message
    # and postalias really is the tool whose output postmap -q then reads
    _build(confdir)
    assert postmap_batch(confdir, f"hash:{src}", ["root"])[0] == {"root": "admin"}


def _cli(confdir, *args, stdin: bytes | None = None):
    r = subprocess.run([sys.executable, "-m", "tui", "lookup", "--config-dir", str(confdir), *args],
                       input=stdin, capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("keys", [["root"], ["ROOT"], ["root:"], ["quoted name"], ["nosuch"], ["multi"],
                                  ["root", "nosuch", "pipe", "Upper"], ["nosuch", "nothere"]],
                         ids=lambda ks: "+".join(ks))
def test_cli_aliases_flag_prints_what_postalias_q_prints(confdir, keys):
    spec, _err = _build(confdir)
    if len(keys) == 1:
        rc_p, out_p, _ = postalias(confdir, "-q", keys[0], spec)
    else:
        rc_p, out_p, _ = postalias(confdir, "-q", "-", spec,
                                   stdin="".join(k + "\n" for k in keys).encode())
    rc, out = _cli(confdir, "--aliases", spec, *keys)
    assert (rc, out) == (rc_p, out_p)


def test_cli_detects_alias_maps(confdir):
    spec, _err = _build(confdir)
    main = (confdir / "main.cf").read_text()
    (confdir / "main.cf").write_text(main + f"alias_maps = {spec}\n")
    settle(confdir / "main.cf")
    r = subprocess.run([postmap_bin(), "-c", str(confdir), "-q", "root", spec], capture_output=True, timeout=60)
    assert r.returncode == 0
    assert _cli(confdir, spec, "root") == (0, r.stdout.decode())
