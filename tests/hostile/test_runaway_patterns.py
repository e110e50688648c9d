"""Runaway patterns: a regexp:/pcre: rule that backtracks exponentially on a
key a remote client chose must not hang a lookup.

Postfix's PCRE stops at its match limit (a warning, the rule does not
match) and glibc's regexec answers quickly. The explorer bounds every
evaluation and then asks the host's own engine, so its answers must be
postmap's, key for key, on a corpus of known catastrophic patterns. Each
lookup runs in a child process with a generous deadlock guard (a spinning
lookup fails the test instead of hanging the suite); no timing is asserted.
"""
from __future__ import annotations

import subprocess

import pytest

from tests.conftest import need_postfix
from tests.hostile.util import cli

# (pattern, keys): nested and overlapping quantifiers, the classic ReDoS
# shapes, each next to keys that do and do not match.
CORPUS = [
    (r"^(a+)+$", ["a" * 40 + "!", "a" * 12, "b"]),
    (r"^(a|a)*$", ["a" * 40 + "!", "a" * 30, "x"]),
    (r"^(a|aa)+$", ["a" * 41 + "b", "a" * 25]),
    (r"^(x+x+)+y$", ["x" * 40, "x" * 10 + "y"]),
    (r"^([a-z0-9]+[.-]?)*@example\.org$", ["abcdefghij" * 4 + "!@example.org", "user.name@example.org"]),
    (r"^(\w+\s?)*$", ["word " * 8 + "!", "hello world"]),
    (r"(a|b|ab)*c", ["ab" * 20, "abababc"]),
    (r"^(.*a){12}$", ["a" * 11 + "b" * 30, "a" * 12]),
    (r"^a{0,9}a{0,9}a{0,9}a{0,9}a{0,9}a{0,9}a{0,9}a{0,9}$", ["a" * 60 + "!", "a" * 20]),
    (r"^.*x.*y.*z$", ["x" * 40 + "y" * 40, "axbyz"]),
]
PCRE_ONLY = [
    (r"(.*){1,30}[bc]", ["a" * 30, "aab"]),
    (r"^(?:a|a)*+$", ["a" * 40 + "!"]),
]


def _tables(tmp_path, kind):
    rows = CORPUS + (PCRE_ONLY if kind == "pcre" else [])
    for i, (pat, keys) in enumerate(rows):
        src = tmp_path / f"t{i}.{kind}"
        # a second rule after the runaway one: evaluation must go on past it
        src.write_text(f"/{pat}/ HIT{i}\n/[!]/ BANG{i}\n")
        yield src, keys


def _postmap(tmp_path, spec, keys):
    r = subprocess.run(["postmap", "-c", str(tmp_path), "-q", "-", spec],
                       input="".join(k + "\n" for k in keys).encode(), capture_output=True, timeout=600)
    return r.stdout.decode(), r.stderr.decode()


@pytest.mark.parametrize("kind", ["pcre", "regexp"])
def test_catastrophic_patterns_end_with_postmaps_answers(tmp_path, kind):
    need_postfix()
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\n")
    both_warned = 0
    for src, keys in _tables(tmp_path, kind):
        spec = f"{kind}:{src}"
        want, want_err = _postmap(tmp_path, spec, keys)
        # deadlock guard only: before the bound, this never returned
        r = cli("lookup", "--config-dir", str(tmp_path), spec, *keys, "-", stdin=b"", timeout=300)
        assert "Traceback" not in r.err, r.err
        assert r.out == want, (spec, keys, r.out, want)
        # where our engine gave up, the warning names the table and line;
        # it may answer within its bound where PCRE still hit its limit
        # (same answer, one warning fewer)
        if "match limit exceeded" in r.err:
            assert f"{src}, line 1" in r.err, r.err
            assert "match limit exceeded" in want_err, (spec, want_err, r.err)
            both_warned += 1
    if kind == "pcre":
        assert both_warned, "no pattern of the corpus reached the bound"


def test_which_patterns_run_unbounded():
    """Only patterns whose backtracking is at most quadratic (one unbounded
    quantifier, few bounded choices, nothing repeated inside a repeat, no
    backreference) skip the bound."""
    import re

    from tui.core.tables.regexp_bound import is_tame

    tame = [r"^user[0-9]*@(sub\.)?example\.org$", r"\.example\.com$", r"^[^@]+@example\.com$",
            r"^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$", r"(a|b)*c"]
    wild = [r"^(a+)+$", r"^(a|aa)+$", r"^(.*)@(.*)$", r"(a)\1", r"^(x+x+)+y$",
            r"^a{0,9}a{0,9}a{0,9}a{0,9}$", r"(?=(a+)+b)"]
    for p in tame:
        assert is_tame(p, re.I | re.A), p
    for p in wild:
        assert not is_tame(p, re.I | re.A), p


def test_budget_exceeded_falls_back_or_warns(tmp_path, monkeypatch):
    """Without the host's engine the rule counts as not matching and the
    table says so, naming file and line."""
    from tui.core.tables import open_table
    from tui.core.tables import regexp_bound as rx

    src = tmp_path / "runaway.pcre"
    src.write_text("/^(a|a)*$/ HIT\n/!/ BANG\n")
    monkeypatch.setattr(rx, "MATCH_BUDGET", 0.01)
    monkeypatch.setitem(rx.NATIVE, "pcre", None)
    t = open_table(f"pcre:{src}")
    r = t.lookup("a" * 40 + "!")
    assert r.found and r.value == "BANG"
    warns = [d for d in t.status.diagnostics if "gave up" in d.message]
    assert warns and warns[0].path == str(src) and warns[0].line == 1
