"""Scale: values nested very deep.

`${b?{${b?{...}}}}` nested a million levels made expansion take minutes
(one Python step per character at each of the 100 levels Postfix allows;
postconf takes seconds). The bracket matching now counts at C speed; it
must give exactly the answers of a character-by-character walk, and
deep values must expand (or fail) exactly as postconf -x says. Speed is
measured by scripts/bench_expand.py against the real postconf, not here.
"""
from __future__ import annotations

import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import need_postfix
from tests.hostile.util import cli
from tui.core.expand import _closing, mac_expand, referenced_names


def _walk(s: str, pos: int, open_c: str, close_c: str) -> int:
    level = 1
    for i in range(pos, len(s)):
        if s[i] == open_c:
            level += 1
        elif s[i] == close_c:
            level -= 1
            if level == 0:
                return i
    return -1


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="{}()x$", max_size=600), st.integers(min_value=0, max_value=600))
def test_closing_matches_a_character_walk(s, pos):
    pos = min(pos, len(s))
    for o, c in (("{", "}"), ("(", ")")):
        assert _closing(s, pos, o, c) == _walk(s, pos, o, c)


def test_closing_on_long_runs():
    for n in (1, 63, 64, 65, 1000, 70000):
        s = "{" * n + "x" + "}" * (n + 1) + "tail}"
        assert _closing(s, 0, "{", "}") == _walk(s, 0, "{", "}") == 2 * n + 1
        assert _closing(s, 1, "{", "}") == _walk(s, 1, "{", "}")


def _deep(n: int, shape: str) -> str:
    if shape == "curly":
        return "${b?{" * n + "x" + "}}" * n
    if shape == "plain":
        return "${b?" * n + "x" + "}" * n
    return "$(b:" * n + "x" + ")" * n


def test_deep_values_expand_as_postconf_says(tmp_path):
    need_postfix()
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    for shape in ("curly", "plain", "paren"):
        for n in (100, 101, 3000):
            (tmp_path / "main.cf").write_text(f"b = yes\nmydomain = {_deep(n, shape)}\n")
            want = subprocess.run(["postconf", "-c", str(tmp_path), "-xh", "mydomain"], capture_output=True,
                                  text=True, timeout=120)
            r = cli("params", "--config-dir", str(tmp_path), "-xh", "mydomain")
            assert r.out == want.stdout, (shape, n, r.out[:200], want.stdout[:200])
            assert ("macro processing error" in r.err) == ("macro processing error" in want.stderr), (shape, n)
            assert r.rc == want.returncode, (shape, n, r.err[-300:], want.stderr[-300:])


def test_referenced_names_in_deep_values():
    v = "${a?{" * 2000 + "$z" + "}}" * 2000
    assert referenced_names(v)[0] == "a"
    r = mac_expand("${a?{${b:{$c}}}}", {"a": "1", "c": "C"}.get)
    assert r.value == "C" and not r.errors
