"""`postfix-explorer lookup` prints what postmap prints, byte for byte.

One key: like `postmap -q KEY TYPE:NAME` (value alone; exit 0 found, 1 not).
Several keys (or "-"): like `postmap -q - TYPE:NAME` fed those keys
(`key<TAB>value` lines for the keys found); exit 0 only when all were found.
Errors: exit 2 and one line on stderr naming the table's file.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import need_postfix
from tests.oracle.test_postmap_support import copy_fixture, make_config_dir, postmap_bin, postmap_build

pytestmark = pytest.mark.oracle


def ours(confdir, *args, stdin: bytes | None = None):
    r = subprocess.run([sys.executable, "-m", "tui", "lookup", "--config-dir", str(confdir), *args],
                       input=stdin, capture_output=True, timeout=60)
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")


def postmap(confdir, *args, stdin: bytes | None = None):
    r = subprocess.run([postmap_bin(), "-c", str(confdir), *args], input=stdin, capture_output=True, timeout=60)
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")


@pytest.fixture
def setup(tmp_path):
    need_postfix()
    confdir = make_config_dir(tmp_path / "etc")
    src = copy_fixture("access", confdir)
    postmap_build(confdir, f"hash:{src}")
    rx = copy_fixture("regexp", confdir)
    return confdir, {"hash": f"hash:{src}", "regexp": f"regexp:{rx}", "inline": "inline:{ a=1, {b = two words} }"}


KEY_SETS = [
    ["example.com"],
    ["EXAMPLE.com"],
    ["nosuch.example"],
    ["continued.example"],
    ["jösé@example.com"],
    ["example.com", "nosuch.example", "User+tag@example.com", "Example.NET"],
    ["user+x@example.com", "o'brien@example.com", "a", "b"],
    ["a", "b"],
]


@pytest.mark.parametrize("table", ["hash", "regexp", "inline"])
@pytest.mark.parametrize("keys", KEY_SETS, ids=lambda ks: "+".join(ks))
def test_output_matches_postmap(setup, table, keys):
    confdir, specs = setup
    spec = specs[table]
    rc, out, err = ours(confdir, spec, *keys)
    if len(keys) == 1:
        prc, pout, perr = postmap(confdir, "-q", keys[0], spec)
        assert out == pout, (out, pout)
        assert rc == prc, (rc, prc, err, perr)
    else:
        data = "".join(k + "\n" for k in keys).encode()
        prc, pout, perr = postmap(confdir, "-q", "-", spec, stdin=data)
        assert out == pout, (out, pout)
        assert rc == prc, (rc, prc, err, perr)  # postmap -q -: 0 when any key was found
    assert err == "" or "warning" in err


def test_keys_from_stdin_match_postmap(setup):
    confdir, specs = setup
    data = "example.com\n\nnosuch\nUser+Tag@Example.com\n".encode()
    rc, out, _ = ours(confdir, specs["hash"], "-", stdin=data)
    prc, pout, _ = postmap(confdir, "-q", "-", specs["hash"], stdin=data)
    assert out == pout and rc == prc == 0  # postmap -q -: 0 when any key was found


def test_unreadable_table_is_exit_2_with_one_line_naming_the_file(setup):
    confdir, _ = setup
    missing = confdir / "missing"
    rc, out, err = ours(confdir, f"hash:{missing}", "x")
    prc, _pout, perr = postmap(confdir, "-q", "x", f"hash:{missing}")
    assert prc != 0 and "fatal" in perr          # postmap refuses too
    assert rc == 2 and out == b""
    assert len(err.strip().splitlines()) == 1 and str(missing) in err


def test_lookup_error_is_exit_2(setup):
    confdir, _ = setup
    rc, out, err = ours(confdir, "fail:x", "key")
    prc, _pout, perr = postmap(confdir, "-q", "key", "fail:x")
    assert prc != 0 and "fatal" in perr
    assert rc == 2 and out == b"" and len(err.strip().splitlines()) == 1


def test_not_evaluated_type_is_exit_2(setup):
    confdir, _ = setup
    rc, out, err = ours(confdir, "ldap:/etc/postfix/ldap.cf", "key")
    assert rc == 2 and out == b"" and "not evaluated" in err
