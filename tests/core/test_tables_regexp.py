"""regexp: tables run glibc's regcomp/regexec inside Postfix; our
translation to Python `re` must accept and match exactly what glibc does.
This asks the host's glibc itself (ctypes) about generated patterns --
whether a key matches, which decides the lookup. Captures ($1..) follow
Python's leftmost-first rules; glibc's leftmost-longest can pick other
spans for ambiguous unanchored alternations (a documented limitation)."""
from __future__ import annotations

import ctypes
import ctypes.util
import random
import re
import sys

import pytest

from tui.core.tables.regexp_syntax import TranslateError, translate_posix

REG_EXTENDED, REG_ICASE = 1, 2


@pytest.fixture(scope="module")
def glibc():
    if not sys.platform.startswith("linux"):
        pytest.skip("needs glibc")
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "gnu_get_libc_version"):
        pytest.skip("not glibc")
    buf = ctypes.create_string_buffer(1024)  # >= sizeof(regex_t)

    def match(pat: str, s: str, flags: int):
        if libc.regcomp(buf, pat.encode("latin-1"), flags):
            return "error"
        r = libc.regexec(buf, s.encode("latin-1"), 0, None, 0) == 0
        libc.regfree(buf)
        return r
    return match


def ours(pat: str, s: str, extended: bool, icase: bool):
    try:
        rx = re.compile(translate_posix(pat, extended=extended, icase=icase),
                        (re.I if icase else 0) | re.ASCII)
    except (TranslateError, re.error):
        return "error"
    return rx.search(s) is not None


ATOMS = ["a", "b", "A", ".", "[ab]", "[^a]", "[]a]", "[a-c]", "\\.", "\\a", "\\A", "\\z", "x",
         "[[:alpha:]]", "[[:digit:]]", "[[:upper:]]", "1", " ", "\\w", "\\W", "\\s", "\\<", "\\>", "\\b",
         "[.]", "[\\]", "%", "@"]
QUANTS = ["", "", "", "*", "+", "?", "{2}", "{1,2}", "{,2}", "{2}+", "+*"]
SUBJECTS = ["", "a", "ab", "aab", "AB", "abc", "a b", "1a", "x.a", "]a", "aaa", "ba", "A1", "\\", "a@b%c",
            "x z", "Z"]


def _patterns(seed: int, n: int):
    rnd = random.Random(seed)
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 4)):
            a = rnd.choice(ATOMS)
            if rnd.random() < 0.2:
                a = "(" + a + rnd.choice(["", "|b", "|ab"]) + ")"
            parts.append(a + rnd.choice(QUANTS))
        pat = "".join(parts)
        if rnd.random() < 0.3:
            pat = "^" + pat
        if rnd.random() < 0.3:
            pat += "$"
        yield pat


@pytest.mark.parametrize("icase", [True, False], ids=["icase", "case"])
def test_generated_extended_patterns_match_like_glibc(glibc, icase):
    flags = REG_EXTENDED | (REG_ICASE if icase else 0)
    bad = []
    for pat in _patterns(7 if icase else 8, 600):
        for s in SUBJECTS:
            g, o = glibc(pat, s, flags), ours(pat, s, True, icase)
            if g != o:
                bad.append(f"{pat!r} on {s!r}: glibc={g} ours={o}")
                break
    assert not bad, "\n".join(bad[:20])


BASIC = ["a\\{2\\}", "\\(ab\\)*c", "a\\+b", "a+b", "a|b", "a\\|b", "*a", "^*a", "\\(a\\)\\1", "a{2}",
         "x\\?y", "(a)", "[a]*\\{1,\\}", "a**", "a*\\{2\\}", "a\\{2\\}*", "a\\+*"]


@pytest.mark.parametrize("pat", BASIC)
def test_basic_regexps_match_like_glibc(glibc, pat):
    for icase in (True, False):
        for s in SUBJECTS + ["aa", "aab", "abab c", "*a", "a+b", "a|b", "xy", "y", "(a)", "a{2}"]:
            assert glibc(pat, s, REG_ICASE if icase else 0) == ours(pat, s, False, icase), (pat, s, icase)
