"""The index readers on damaged files: an error value, never a crash or a hang.

The files are built by the real postmap (hash, btree, lmdb, cdb), then
truncated or bit-flipped by hypothesis. A reader may answer (a flipped bit
in a value changes the value) or raise IndexFormatError/OSError; anything
else is a bug. Through open_table() nothing may raise at all. The readers
must also leave the file exactly as it was (no write, no lock file).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import need_postfix
from tui.core.tables import open_table
from tui.core.tables.indexed import IndexFormatError, dict_get, open_index

TYPES = ("hash", "btree", "lmdb", "cdb")
SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb"}
KEYS = ["example.com", "user7@example.org", "big.example", "absent.example"]

# the index files are built by the real postmap
pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """{type: (source path, index bytes)} built by postmap."""
    need_postfix()
    d = tmp_path_factory.mktemp("idx")
    (d / "main.cf").write_text("compatibility_level = 3.6\n")
    lines = ["example.com OK", "big.example REJECT " + "y" * 3000]
    lines += [f"user{i}@example.org 554 5.7.1 no {i}" for i in range(400)]
    out = {}
    for t in TYPES:
        src = d / f"map_{t}"
        src.write_text("\n".join(lines) + "\n")
        r = subprocess.run(["postmap", "-c", str(d), f"{t}:{src}"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        out[t] = (src, Path(str(src) + SUFFIX[t]).read_bytes())
    return out


def _exercise(type_: str, path: str) -> None:
    """Open, look up, enumerate: only the documented errors may escape."""
    try:
        r = open_index(type_, path)
    except (IndexFormatError, OSError):
        return
    try:
        for k in KEYS:
            try:
                dict_get(r, k)
            except (IndexFormatError, OSError):
                pass
        try:
            for n, _kv in enumerate(r.items()):
                assert n < 100_000, "enumeration does not end"
        except (IndexFormatError, OSError):
            pass
    finally:
        r.close()


def _damaged(tmp_path: Path, type_: str, data: bytes) -> str:
    src = tmp_path / f"damaged_{type_}"
    src.write_text("example.com OK\n")
    Path(str(src) + SUFFIX[type_]).write_bytes(data)
    return str(src)


@pytest.mark.parametrize("type_", TYPES)
def test_intact_files_answer(built, type_):
    src, _data = built[type_]
    with open_index(type_, str(src)) as r:
        assert dict_get(r, "user7@example.org") == "554 5.7.1 no 7"
        assert dict_get(r, "big.example") == "REJECT " + "y" * 3000
        assert dict_get(r, "absent.example") is None
        assert sum(1 for _ in r.items()) == 402


@pytest.mark.parametrize("type_", TYPES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=1 << 20))
def test_truncated_files(built, tmp_path, type_, cut):
    _src, data = built[type_]
    path = _damaged(tmp_path, type_, data[:cut % (len(data) + 1)])
    _exercise(type_, path)
    t = open_table(f"{type_}:{path}")
    for k in KEYS:
        t.lookup(k)     # never raises: a value, not found, or an error
    t.entries(0, 10)
    t.count()


@pytest.mark.parametrize("type_", TYPES)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=7)),
                      min_size=1, max_size=8))
def test_bit_flipped_files(built, tmp_path, type_, flips):
    _src, data = built[type_]
    buf = bytearray(data)
    # most of a file is empty space: flip bits where the structures are
    # (headers, offsets, the start of each page) more often than not
    hot = [i for i in range(len(buf)) if buf[i]] or [0]
    for pos, bit in flips:
        i = hot[pos % len(hot)] if pos % 3 else pos % len(buf)
        buf[i] ^= 1 << bit
    path = _damaged(tmp_path, type_, bytes(buf))
    _exercise(type_, path)
    t = open_table(f"{type_}:{path}")
    for k in KEYS:
        t.lookup(k)


@pytest.mark.parametrize("type_", TYPES)
def test_readers_leave_the_file_alone(built, tmp_path, type_):
    src, data = built[type_]
    d = tmp_path / "ro"
    d.mkdir()
    copy = d / "map"
    shutil.copy(src, copy)
    idx = Path(str(copy) + SUFFIX[type_])
    idx.write_bytes(data)
    os.utime(idx, (1_000_000_000, 1_000_000_000))
    before = (hashlib.sha256(idx.read_bytes()).hexdigest(), os.stat(idx).st_mtime_ns, sorted(os.listdir(d)))
    t = open_table(f"{type_}:{copy}")
    for k in KEYS:
        t.lookup(k)
    t.entries(0, 5)
    t.close()
    after = (hashlib.sha256(idx.read_bytes()).hexdigest(), os.stat(idx).st_mtime_ns, sorted(os.listdir(d)))
    assert before == after    # no write, no lock file (lmdb: no NAME.lmdb-lock)


def test_wrong_kind_of_database_is_an_error(built, tmp_path):
    """A btree file named as hash: Berkeley DB refuses it; so do we."""
    _src, data = built["btree"]
    path = _damaged(tmp_path, "hash", data)
    t = open_table(f"hash:{path}")
    assert t.status.state == "stale" and "unusable index" in t.status.message
    assert "btree" in t.lookup("example.com").error


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=7)),
                      min_size=0, max_size=6))
def test_a_hash_file_read_whole_answers_as_searched(built, tmp_path, flips):
    """A small hash file read whole (bdb.HashReader._read_whole) answers every
    key exactly as searching it in its bucket does, on intact and damaged
    files alike (or the file is not read whole at all)."""
    _src, data = built["hash"]
    buf = bytearray(data)
    hot = [i for i in range(len(buf)) if buf[i]] or [0]
    for pos, bit in flips:
        buf[hot[pos % len(hot)]] ^= 1 << bit
    path = _damaged(tmp_path, "hash", bytes(buf))
    try:
        searched, whole = open_index("hash", path), open_index("hash", path)
    except (IndexFormatError, OSError):
        return
    with searched, whole:
        whole._whole = whole._read_whole()
        if not flips:
            assert whole._whole is not None and len(whole._whole) == 402
        keys = [k.encode() + b"\0" for k in KEYS] + [f"user{i}@example.org\0".encode() for i in range(0, 400, 7)]
        try:
            keys += [k for k, _v in searched.items()]
        except (IndexFormatError, OSError):
            pass
        for k in keys:
            try:
                want = searched.get(k)
            except (IndexFormatError, OSError):
                want = "error"
            if whole._whole is not None:
                assert whole.get(k) == want, k
