"""Differential tests: file-based tables against the real postmap.

For hash/btree/lmdb/cdb (compiled by postmap from the source), texthash,
regexp, pcre, cidr, inline and static, our lookup must print exactly what
`postmap -c DIR -q - TYPE:FILE` prints for the same keys, with smtputf8 on
(compatibility_level 3.6, Debian's main.cf) and off (level 0).
"""
from __future__ import annotations

import pytest

from tests.conftest import need_postfix
from tests.oracle.test_postmap_support import (
    copy_fixture, diff, make_config_dir, ours_batch, postmap_batch, postmap_build, read_keys, settle,
    view_for,
)

pytestmark = pytest.mark.oracle

MAIN_CF = {
    "utf8": "compatibility_level = 3.6\n",
    "noutf8": "compatibility_level = 0\nsmtputf8_enable = no\n",
}

EXTRA_KEYS = [
    # regexp/pcre/cidr specific keys
    "a+b@example.com", "User+Tag+more@Example.COM", "o'brien@example.com", "O'Brien@EXAMPLE.COM",
    "123@example.com", "alice@example.com", "ALICE2@example.com", "alice2@example.com",
    "bobx@example.com", "-x@example.com", "carol@example.net", "carol@example.org",
    "ab@x", "ax@x", "abx@x", "aa@", "aaa@", "aaaa@", "éa", "öb", "josé@example.com", "jose@example.com",
    "jösé@x", "Jürgen@example.org", "ß@x", "SS@x", "someone@example.org", "x@sub.example.org",
    "(bre)@x", "bre2@x", "br2@x", "]@x", "x@x", "abc-@test", "a word here", "awordhere", "X@y",
    "a   b", "trailing@x", "multi@x", "lazyabc123@x", "greedyUabc123@x", "xy@x", "y@x", "ab",
    "anchored", "xanchored", "the end", "x\x01y", "foo.bar@x", "a.b@x", "axb@x",
    "192.168.1.7", "192.168.2.7", "10.20.30.40", "172.20.0.1", "100.64.1.1", "10.1.2.3",
    "5.5.5.5", "2001:db8::5", "2001:DB8:0:0::5", "2001:db9::1", "::1", "::2", "8.8.8.8",
    "8.8.4.4", "8.1.1.1", "9.9.9.9", "127.0.0.1", "127.1.2.3", "[1.2.3.4]", "1.2.3.4",
    "01.2.3.4", "1.2.3.4.5", "::ffff:1.2.3.4", "fe80::1%eth0", "2001:db8::1/128",
]


def all_keys() -> list[str]:
    return read_keys() + [k for k in EXTRA_KEYS if "\n" not in k]


@pytest.fixture(params=sorted(MAIN_CF))
def confdir(request, tmp_path):
    need_postfix()
    return make_config_dir(tmp_path / "etc", MAIN_CF[request.param])


def _compare(confdir, spec, keys):
    theirs, _err = postmap_batch(confdir, spec, keys)
    ours = ours_batch(spec, keys, view_for(confdir))
    d = diff(ours, theirs)
    assert not d, "\n".join(d)
    return theirs


@pytest.mark.parametrize("type_", ["hash", "btree", "lmdb", "cdb"])
def test_indexed_tables_match_postmap(confdir, type_):
    src = copy_fixture("access", confdir)
    postmap_build(confdir, f"{type_}:{src}")
    theirs = _compare(confdir, f"{type_}:{src}", all_keys())
    assert theirs, "postmap found nothing: the fixture is not exercised"


def test_texthash_matches_postmap(confdir):
    src = copy_fixture("access", confdir)
    theirs = _compare(confdir, f"texthash:{src}", all_keys())
    assert theirs


def test_proxy_wrapper_is_the_same_lookup(confdir):
    # postmap -q proxy:... needs a running proxymap service; the lookup
    # behind it is the plain table's, so compare with that.
    src = copy_fixture("access", confdir)
    postmap_build(confdir, f"hash:{src}")
    keys = all_keys()
    theirs, _err = postmap_batch(confdir, f"hash:{src}", keys)
    ours = ours_batch(f"proxy:hash:{src}", keys, view_for(confdir))
    d = diff(ours, theirs)
    assert not d, "\n".join(d)


@pytest.mark.parametrize("type_", ["regexp", "pcre", "cidr"])
def test_pattern_tables_match_postmap(confdir, type_):
    src = copy_fixture(type_, confdir)
    theirs = _compare(confdir, f"{type_}:{src}", all_keys())
    assert theirs


@pytest.mark.parametrize("type_,fixture", [
    ("regexp", "regexp_edge"), ("pcre", "regexp_edge"), ("regexp", "regexp_edge2"),
    ("pcre", "regexp_edge2"), ("cidr", "cidr_edge"), ("cidr", "cidr_plain"), ("pcre", "pcre_realworld"),
    ("regexp", "pcre_realworld"),
])
def test_malformed_and_edge_rules_match_postmap(confdir, type_, fixture):
    """Bad rules (no delimiter, unknown flag, $0/$9/${name}, IF/ENDIF
    mismatches, bad masks, host bits) are skipped or kept as postmap does,
    and POSIX/BRE/PCRE corner cases translate to the same matches."""
    src = copy_fixture(fixture, confdir)
    keys = read_keys("keys_edge.txt") + all_keys()
    theirs = _compare(confdir, f"{type_}:{src}", keys)
    assert theirs


INLINE_SPECS = [
    "inline:{ Foo=bar, {k2 = v with spaces}, foo=dup, a==b, {x = y = z} }",
    "inline:{user@example.com=OK,example.net=REJECT}",
    "static:hello",
    "static:{ hello  world }",
    "cidr:{ {1.2.3.0/24 net}, {!10.0.0.0/8 not-ten} }",
    "regexp:{ {/^(.*)@example\\.com$/ local $1}, {!/@/ bare} }",
    "pcre:{ {/^(\\w+)\\.(\\w+)@/ $2.$1} }",
]


@pytest.mark.parametrize("spec", INLINE_SPECS)
def test_inline_tables_match_postmap(confdir, spec):
    keys = all_keys() + ["foo", "FOO", "k2", "a", "x", "Foo"]
    _compare(confdir, spec, keys)


def _b(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("type_", ["hash", "texthash", "static", "regexp", "pcre", "cidr", "inline"])
def test_non_utf8_keys_and_lines_match_postmap(confdir, type_):
    """With smtputf8 on, postmap ignores source lines that are not UTF-8 and
    finds nothing for a key that is not UTF-8 (any table type); with it
    off, bytes are bytes."""
    src = confdir / "bytes"
    src.write_bytes(b"k\xff v1\nok x\nlatin\xe9 v2\nutf8\xc3\xa9 v3\n")
    rx = confdir / "bytes.re"
    rx.write_bytes(b"/^k.$/ any\n/\xe9/ latin-e\n/^(.*)$/ all $1\n")
    cidr = confdir / "bytes.cidr"
    cidr.write_bytes(b"0.0.0.0/0 any\n")
    settle(src, rx, cidr)
    spec = {"hash": f"hash:{src}", "texthash": f"texthash:{src}", "static": "static:x",
            "regexp": f"regexp:{rx}", "pcre": f"pcre:{rx}", "cidr": f"cidr:{cidr}",
            "inline": "inline:{ok=1}"}[type_]
    if type_ == "hash":
        postmap_build(confdir, spec)
    keys = [_b(b"k\xff"), _b(b"K\xff"), "ok", _b(b"latin\xe9"), "utf8é", "UTF8É", "1.2.3.4", _b(b"1.2.3.4\xff")]
    _compare(confdir, spec, keys)


def test_unix_passwd_matches_postmap(confdir):
    import pwd
    names = [p.pw_name for p in pwd.getpwall()][:20]
    keys = names + [n.upper() for n in names[:5]] + ["nosuchuser-xyz", "", "root@localhost"]
    theirs = _compare(confdir, "unix:passwd.byname", keys)
    assert "root" in theirs


@pytest.mark.parametrize("kind", ["unionmap", "pipemap"])
def test_unionmap_and_pipemap_match_postmap(confdir, kind):
    src = copy_fixture("access", confdir)
    postmap_build(confdir, f"hash:{src}")
    rx = copy_fixture("regexp", confdir)
    second = confdir / "second"
    second.write_text("ok extra-ok\nreject say-no\nexample.com second-example\n")
    settle(second)
    postmap_build(confdir, f"hash:{second}")
    keys = all_keys() + ["OK", "reject"]
    _compare(confdir, f"{kind}:{{hash:{src}, hash:{second}}}", keys)
    _compare(confdir, f"{kind}:{{regexp:{rx},static:fallback}}", keys)
    _compare(confdir, f"{kind}:{{inline:{{example.com=OK}}, hash:{second}}}", keys)
