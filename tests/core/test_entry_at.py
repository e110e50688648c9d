"""files._entry_at (a found key's logical line, the common case without a
loop) gives exactly what _logical_at gives, for any bytes and offset --
continuation lines, comments, blank lines, CRs and the end of the data
included. _logical_at itself is checked against postmap by the table
differential tests."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.tables.files import _entry_at, _logical_at

_pieces = st.sampled_from([b"key", b" value", b"\t", b"\r", b"\f", b"\v", b"\n", b"#c", b" #x", b"k2 v2",
                           b"\n\n", b"\n ", b"\n#", b"x"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_pieces, max_size=14), st.integers(min_value=0, max_value=80))
def test_entry_at_is_logical_at(parts, off):
    data = b"".join(parts)
    if not data:
        return
    off = off % len(data)
    # offsets where a line starts, as the index records them
    starts = [0] + [i + 1 for i, c in enumerate(data) if c == 10 and i + 1 < len(data)]
    off = min(starts, key=lambda s: abs(s - off))
    assert _entry_at(data, off) == _logical_at(data, off)
