"""Berkeley DB's hash function as the hash reader computes it: reduced once
at the end for short keys, at every byte for long ones; both must be the
function Berkeley DB computes (h = (h * 16777619 mod 2**32) ^ c at every
byte). Files that postmap wrote check the function in
tests/oracle/test_indexed_tables.py; this checks every key length around
the switch."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.core.tables.indexed.bdb import _CHARKEY, ham_func5


def _reference(key: bytes) -> int:
    h = 0
    for c in key:
        h = ((h * 16777619) & 0xFFFFFFFF) ^ c
    return h


@given(st.binary(min_size=0, max_size=300))
def test_the_hash_of_any_key(key):
    assert ham_func5(key) == _reference(key)


def test_keys_around_the_switch():
    for n in range(0, 130):
        key = bytes((i * 37 + n) % 256 for i in range(n))
        assert ham_func5(key) == _reference(key)
    assert ham_func5(_CHARKEY) == _reference(_CHARKEY)
