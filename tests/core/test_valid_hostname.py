"""valid_hostname() is one regular expression plus length checks; it must
answer like Postfix's character loop (util/valid_hostname.c), written out
here as that loop."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from tui.core.postfix.valid_hostname import valid_hostname


def postfix_loop(name: str) -> bool:
    if not name:
        return False
    label_length = 0
    non_numeric = False
    for i, ch in enumerate(name):
        if (ch.isascii() and ch.isalnum()) or ch == "_":
            label_length += 1
            if label_length > 63:
                return False
            if not ch.isdigit():
                non_numeric = True
        elif ch == ".":
            if label_length == 0 or i + 1 == len(name):
                return False
            label_length = 0
        elif ch == "-":
            non_numeric = True
            label_length += 1
            if label_length == 1 or i + 1 == len(name) or name[i + 1] == ".":
                return False
        else:
            return False
    return non_numeric and len(name) <= 255


CASES = ["", "a", "1", "1.2.3.4", "a.b", "a..b", ".a", "a.", "-a", "a-", "a-b", "a--b", "a.-b", "a-.b",
         "_", "_._", "1_2", "1-2", "x" * 63, "x" * 64, "a." + "x" * 63, "a." + "x" * 64,
         ".".join(["abc"] * 63) + ".ab", ".".join(["abc"] * 64), "é.com", "a b", "a\nb", "ａ.com",
         "mail.example.com", "[1.2.3.4]", "123", "123.com", "١٢٣"]


def test_known_cases():
    for name in CASES:
        assert valid_hostname(name) == postfix_loop(name), repr(name)


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab19_-.é٣ \t"), max_size=80))
def test_agrees_with_the_loop(name):
    valid_hostname.cache_clear()
    assert valid_hostname(name) == postfix_loop(name)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abz09-_", min_size=1, max_size=70), min_size=1, max_size=8))
def test_long_labels(labels):
    name = ".".join(labels)
    assert valid_hostname(name) == postfix_loop(name)
