"""$name expansion: every form, and the error paths.

The expected values below were printed by postconf 3.7.11; the oracle test at
the end feeds the same table to the real postconf and must agree, so the
table can never drift away from Postfix.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import need_postfix
from tui.core.expand import compat_level_from_string, mac_expand, referenced_names

PARAMS = {
    "host": "mail.example.com",
    "dom": "example.com",
    "empty": "",
    "c1": "$c2-1",
    "c2": "${c3}-2",
    "c3": "end",
    "lvl": "3.6",
    "sp": "a   b",
}

CASES = [
    ("$host", "mail.example.com"),
    ("${host}", "mail.example.com"),
    ("$(host)", "mail.example.com"),
    ("x${dom}y", "xexample.comy"),
    ("$host.$dom", "mail.example.com.example.com"),
    ("$$", "$"),
    ("$$host", "$host"),
    ("$$$host", "$mail.example.com"),
    ("a$$b$$", "a$b$"),
    ("[$nonexistent]", "[]"),
    ("$c1", "end-2-1"),
    ("${host?set}", "set"),
    ("${empty?set}", ""),
    ("${nonexistent?set}", ""),
    ("${host:unset}", ""),
    ("${empty:unset}", "unset"),
    ("${nonexistent:unset}", "unset"),
    ("${host?{ braces }}", " braces "),
    ("${empty:{ braces }}", " braces "),
    ("${host?{a}:{b}}", "a"),
    ("${empty?{a}:{b}}", "b"),
    ("${empty?{a}:b c}", "b c"),
    ("${ host ? {x} }", "x"),
    ("${host?a:b}", "a:b"),
    ("${host?$dom}", "example.com"),
    ("${{$dom} == {example.com} ? {same} : {different}}", "same"),
    ("${{$dom} != {example.com} ? {ne} : {eq}}", "eq"),
    ("${{10} < {9} ? {lt} : {ge}}", "ge"),
    ("${{abc} < {abd} ? {lt} : {ge}}", "lt"),
    ("${{010} == {10} ? {numeq} : {numne}}", "numeq"),
    ("${{5} <= {5}?{le}:{gt}}", "le"),
    ("${{5} >= {6}?{ge}:{lt}}", "lt"),
    ("${{b} > {a}?{gt}:{le}}", "gt"),
    ("${{$lvl} <level {3.6} ? {old} : {new}}", "new"),
    ("${{$lvl} <=level {3.6} ? {le} : {gt}}", "le"),
    ("${{3.10} >level {3.9} ? {y} : {n}}", "y"),
    ("${{3.6.1} >=level {3.6} ? {y} : {n}}", "y"),
    ("${{1} ==level {1.0} ? {y} : {n}}", "y"),
    ("${{3.7} !=level {3.7.0} ? {y} : {n}}", "n"),
    ("[${{a} == {a}}]", "[true]"),
    ("[${{a} == {b}}]", "[]"),
    ("${{x} == {x}:{false-branch}}", ""),
    ("${host?{${dom?{${{$dom} == {example.com} ? {deep} : {no}}}}}}", "deep"),
    ("$sp", "a   b"),
]

ERRORS = [
    ("cost$", 'empty macro name: "cost$"'),
    ("${host", 'truncated macro reference: "${host"'),
    ("${{a} = {b}?x}", 'expected at: "...a}>>>= {b}?x"'),
    ("${{abc} <level {3.6}?{a}:{b}}", 'malformed compatibility level syntax: "abc"'),
    ("${my host}", 'attribute name syntax error at: "...my>>> host"'),
    ("${host?{a}x}", '":" expected at: "...a}>>>x"'),
    ("${{a} == {a}?{b}:{c}junk}", 'unexpected input at: "...c}>>>junk"'),
    ("${{a} == {a} x}", '"?" or ":" expected at: "...}>>>x"'),
    ("${{a} ==xyz {a}}", 'bad operator suffix at: "...==>>>xyz"'),
    ("${{a} == a}", '"{expression}" expected at: "...{a} ==>>> a"'),
    ("$({a} == {a)", 'unbalanced {} in attribute expression: "{a"'),
]


def _lookup(name):
    return PARAMS.get(name)


@pytest.mark.parametrize("expr,want", CASES)
def test_expansion_forms(expr, want):
    r = mac_expand(expr, _lookup)
    assert r.errors == []
    assert r.value == want


@pytest.mark.parametrize("expr,msg", ERRORS)
def test_expansion_errors_in_postfix_words(expr, msg):
    r = mac_expand(expr, _lookup)
    assert any(msg in e for e in r.errors), r.errors


def test_loop_ends_with_unreasonable_nesting():
    loop = {"a": "$b", "b": "$a"}
    r = mac_expand(loop["a"], loop.get)  # postconf -x a
    assert r.errors and r.errors[0] == 'unreasonable macro call nesting: "a"'
    # a loop through relational operands (no level limit in Postfix's C)
    loop2 = {"a": "${{$b} == {x}?{y}:{z}}", "b": "$a"}
    r = mac_expand("$a", loop2.get)
    assert r.errors and "unreasonable macro call nesting" in r.errors[0]


def test_undefined_is_flagged_but_empty():
    r = mac_expand("[$nothing]", _lookup)
    assert r.value == "[]" and r.undefined and r.ok


def test_compat_level_parsing():
    assert compat_level_from_string("3.6") == (3 << 20) | (6 << 10)
    assert compat_level_from_string("2") == 2 << 20
    assert compat_level_from_string("3.6.1") == (3 << 20) | (6 << 10) | 1
    assert compat_level_from_string("abc") is None
    assert compat_level_from_string("3.") is None
    assert compat_level_from_string("3.6.1.2") is None


def test_referenced_names_scans_all_branches():
    names = referenced_names("$a ${b?{$c}:{$d}} ${{$e} == {x} ? {$f} : {$g}} $$h $(i)")
    assert names == ["a", "b", "c", "d", "e", "f", "g", "i"]


@pytest.mark.oracle
def test_table_agrees_with_postconf(tmp_path):
    """The expected values above are what postconf -x prints."""
    need_postfix()
    exe = shutil.which("postconf") or "/usr/sbin/postconf"
    names = [f"t{i:02d}" for i in range(len(CASES))]
    lines = ["smtpd_restriction_classes = " + ", ".join(list(PARAMS) + names)]
    lines += [f"{k} = {v}" for k, v in PARAMS.items()]
    lines += [f"{n} = {expr}" for n, (expr, _) in zip(names, CASES)]
    (tmp_path / "main.cf").write_text("\n".join(lines) + "\n")
    (tmp_path / "master.cf").write_text("")
    out = subprocess.run([exe, "-c", str(tmp_path), "-x", *names],
                         capture_output=True, text=True, check=True).stdout
    got = {}
    for line in out.splitlines():
        n, _, v = line.partition(" =")
        got[n] = v[1:] if v.startswith(" ") else v
    for n, (expr, want) in zip(names, CASES):
        # postconf folds white space on output; so does the comparison
        assert got[n] == " ".join(want.split()), (expr, got[n], want)
    # postconf sleeps a little before a fatal exit: run these side by side
    procs = []
    for i, (expr, msg) in enumerate(ERRORS):
        d = tmp_path / f"e{i}"
        d.mkdir()
        (d / "main.cf").write_text(f"smtpd_banner = {expr}\n")
        (d / "master.cf").write_text("")
        procs.append((expr, msg, subprocess.Popen(
            [exe, "-c", str(d), "-x", "smtpd_banner"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    for expr, msg, proc in procs:
        _, err = proc.communicate(timeout=60)
        assert msg in err, (expr, err)
