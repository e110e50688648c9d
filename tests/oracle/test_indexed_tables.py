"""Differential tests: lookups answer from the index Postfix reads.

Every index here is built by the real postmap/postalias at test time, and
every expected answer is what the real `postmap -q` / `postalias -q` print
for it: fresh indexes of every type the explorer reads (hash, btree, lmdb,
cdb), an index left stale after the source was edited, an aliases file
compiled by postmap instead of postalias, a missing index, and an index
whose source is gone.
"""
from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tests.oracle.test_postmap_support import (
    ERROR, diff, make_config_dir, ours_batch, postmap_batch, postmap_build, table_answers, view_for,
)

pytestmark = pytest.mark.oracle

TYPES = ("hash", "btree", "lmdb", "cdb")
SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb"}


def _postalias(confdir: Path, *args, stdin: bytes | None = None):
    exe = "postalias" if os.path.exists("/usr/sbin/postalias") else "postalias"
    return subprocess.run([exe, "-c", str(confdir), *args], input=stdin, capture_output=True, timeout=120)


def _postalias_batch(confdir: Path, spec: str, keys: list[str]) -> dict[str, str]:
    r = _postalias(confdir, "-q", "-", spec, stdin="".join(k + "\n" for k in keys).encode())
    out = {}
    for line in r.stdout.decode("utf-8", "surrogateescape").split("\n"):
        if ":\t" in line:  # postalias -q - prints "key:<TAB>value"
            k, _, v = line.partition(":\t")
            out[k] = v
    return out


def _source(n: int, seed: int) -> tuple[str, list[str]]:
    """An access-style source: mixed case keys, UTF-8, values long enough
    to need overflow pages, duplicates (the first wins), comments and
    continuation lines; and the keys to ask (present, case-changed, absent)."""
    rnd = random.Random(seed)
    lines, keys = ["# a comment", ""], []
    for i in range(n):
        k = f"User{i}@Example{i % 13}.ORG" if i % 3 else f"host{i}.example.net"
        v = rnd.choice(["OK", "REJECT no", "DUNNO", f"554 5.7.1 {'x' * rnd.choice([5, 1500, 6000])}"])
        lines.append(f"{k}\t{v}")
        keys += [k, k.lower(), k.upper() + "x"]
    lines += ["dup.example OK first", "dup.example REJECT second", "cont.example REJECT",
              "  continued here", "\u00fcber.example OK utf8", "K" * 400 + " long key"]
    keys += ["dup.example", "cont.example", "\u00fcber.example", "\u00dcBER.example", "k" * 400, "", "nothere"]
    return "\n".join(lines) + "\n", keys


@pytest.fixture
def confdir(tmp_path):
    need_postfix()
    return make_config_dir(tmp_path / "etc")


def _write(path: Path, text: str, when: float | None = None) -> None:
    path.write_text(text, encoding="utf-8")
    if when is not None:
        os.utime(path, (when, when))


@pytest.mark.parametrize("utf8", ("yes", "no"))
@pytest.mark.parametrize("type_", TYPES)
def test_fresh_index_answers_like_postmap(tmp_path, type_, utf8):
    need_postfix()
    confdir = make_config_dir(tmp_path / "etc", f"compatibility_level = 3.6\nsmtputf8_enable = {utf8}\n")
    src = confdir / "access"
    text, keys = _source(3000, 1)
    text += "\u00c4RGER.example OK folded?\n"
    keys += ["\u00e4rger.example", "\u00c4RGER.example", "\u00c4rger.example"]
    _write(src, text, time.time() - 120)
    postmap_build(confdir, f"{type_}:{src}")
    spec = f"{type_}:{src}"
    theirs, _err = postmap_batch(confdir, spec, keys)
    assert len(theirs) > 2000
    view = view_for(confdir)
    assert not diff(ours_batch(spec, keys, view), theirs)
    from tui.core.tables import open_table
    t = open_table(spec, view)
    assert t.status.state == "ok", t.status
    r = t.lookup("dup.example")
    assert r.value == "OK first" and r.where.endswith(":" + str(text.split("\n").index("dup.example OK first") + 1))


@pytest.mark.parametrize("type_", TYPES)
def test_stale_index_answers_the_old_contents(confdir, type_):
    src = confdir / "access"
    _write(src, "old.example REJECT old\nkept.example OK\nchanged.example DUNNO\n", time.time() - 600)
    postmap_build(confdir, f"{type_}:{src}")
    idx = Path(str(src) + SUFFIX[type_])
    os.utime(idx, (time.time() - 500, time.time() - 500))
    # the admin edits the source and forgets to run postmap
    _write(src, "new.example REJECT new\nkept.example OK\nchanged.example REJECT now\n", time.time() - 200)
    spec = f"{type_}:{src}"
    keys = ["old.example", "new.example", "kept.example", "changed.example"]
    theirs, _err = postmap_batch(confdir, spec, keys)
    assert theirs == {"old.example": "REJECT old", "kept.example": "OK", "changed.example": "DUNNO"}
    assert ours_batch(spec, keys) == theirs
    from tui.core.tables import open_table
    t = open_table(spec)
    assert t.status.state == "stale"
    msg = t.status.message
    assert f"older than source file {src}" in msg
    assert msg.count(f"postmap {spec}") == 1 and "postalias" not in msg
    # the same words reach every trace that consults the table
    assert any(f"postmap {spec}" in str(d) for d in t.status.diagnostics)
    # where an answer the source still agrees with comes from; the others
    # name the index
    assert t.lookup("kept.example").where == f"{src}:2"
    assert t.lookup("old.example").where == str(idx)


@pytest.mark.parametrize("type_", TYPES)
def test_index_that_disagrees_with_a_newer_source_is_reported(confdir, type_):
    """Built from another file (same dates, other keys): only reading both
    shows it; Postfix answers from the index."""
    src = confdir / "access"
    _write(src, "a.example OK\nc.example OK\n", time.time() - 300)
    postmap_build(confdir, f"{type_}:{src}")
    _write(src, "b.example OK\nc.example REJECT\n", time.time() - 300)   # the same date: looks fresh
    spec = f"{type_}:{src}"
    keys = ["a.example", "b.example", "c.example"]
    theirs, _ = postmap_batch(confdir, spec, keys)
    from tui.core.tables import open_table
    t = open_table(spec)
    assert ours_batch(spec, keys) == theirs == {"a.example": "OK", "c.example": "OK"}
    t.lookup("a.example")        # reading the source compares the two
    assert t.status.state == "stale"
    for part in ('1 key(s) only in the index (e.g. "a.example")', '1 key(s) only in the source (e.g. "b.example")',
                 '1 value(s) differ (e.g. "c.example")'):
        assert part in t.status.message
    assert t.status.message.count(f"postmap {spec}") == 1


@pytest.mark.parametrize("type_", TYPES)
def test_missing_index_is_a_lookup_failure(confdir, type_):
    src = confdir / "access"
    _write(src, "example.com OK\n", time.time() - 60)
    spec = f"{type_}:{src}"
    theirs, err = postmap_batch(confdir, spec, ["example.com"])
    assert theirs == {"example.com": ERROR} and "open database" in err
    assert ours_batch(spec, ["example.com"]) == theirs
    from tui.core.tables import open_table
    t = open_table(spec)
    r = t.lookup("example.com")
    assert f"open database {src}{SUFFIX[type_]}" in r.error
    assert t.status.state == "stale" and t.status.message.startswith("missing index")
    assert t.status.message.count(f"postmap {spec}") == 1
    # the source is still shown, with its line numbers
    assert [(e.key, e.line) for e in t.entries()] == [("example.com", 1)]


@pytest.mark.parametrize("type_", TYPES)
def test_index_without_its_source_still_answers(confdir, type_):
    src = confdir / "access"
    _write(src, "example.com OK\nfoo.example REJECT x\n", time.time() - 60)
    postmap_build(confdir, f"{type_}:{src}")
    src.unlink()
    spec = f"{type_}:{src}"
    keys = ["example.com", "foo.example", "bar.example"]
    theirs, _ = postmap_batch(confdir, spec, keys)
    assert theirs == {"example.com": "OK", "foo.example": "REJECT x"}
    assert ours_batch(spec, keys) == theirs
    from tui.core.tables import open_table
    t = open_table(spec)
    assert t.status.state == "ok"
    assert sorted((e.key, e.value) for e in t.entries()) == [("example.com", "OK"), ("foo.example", "REJECT x")]
    assert t.count() == 2


ALIASES = """\
postmaster: root
root: admin@example.com
Admin: "|/usr/bin/procmail -a list", local-user
list-owner: :include:/etc/postfix/list
"""


@pytest.mark.parametrize("type_", ("hash", "lmdb", "cdb"))
def test_alias_index_built_by_postalias(confdir, type_):
    src = confdir / "aliases"
    _write(src, ALIASES, time.time() - 60)
    r = _postalias(confdir, f"{type_}:{src}")
    assert r.returncode == 0, r.stderr
    spec = f"{type_}:{src}"
    keys = ["postmaster", "root", "admin", "ADMIN", "list-owner", "@", "postmaster:", "nobody"]
    theirs = _postalias_batch(confdir, spec, keys)
    assert "admin" in theirs and "@" in theirs
    from tui.core.tables import open_table
    t = open_table(spec, aliases=True)
    ours = {}
    for k in keys:
        res = t.lookup(k)
        if res.found:
            ours[k] = res.value
    assert ours == theirs
    assert t.status.state == "ok", t.status
    assert t.lookup("root").where == f"{src}:2"


def test_aliases_compiled_by_postmap_instead_of_postalias(confdir):
    """`postmap /etc/aliases`: the keys keep their colon, so local(8) finds
    no alias; Postfix answers from that index and so do we, saying why."""
    src = confdir / "aliases"
    _write(src, ALIASES, time.time() - 60)
    postmap_build(confdir, f"hash:{src}")
    spec = f"hash:{src}"
    keys = ["postmaster", "postmaster:", "root", "root:", "@"]
    theirs = _postalias_batch(confdir, spec, keys)
    assert "postmaster" not in theirs and theirs["postmaster:"] == "root"
    from tui.core.tables import open_table
    t = open_table(spec, aliases=True)
    ours = {k: t.lookup(k).value for k in keys if t.lookup(k).found}
    assert ours == theirs
    assert t.status.state == "stale"
    msg = t.status.message
    assert "not built by postalias" in msg and msg.count(f"postalias {spec}") == 1
    assert "postmap hash" not in msg


def test_aliases_index_missing_names_postalias(confdir):
    src = confdir / "aliases"
    _write(src, ALIASES, time.time() - 60)
    from tui.core.tables import open_table
    t = open_table(f"hash:{src}", aliases=True)
    assert t.lookup("postmaster").error
    assert t.status.message.count(f"postalias hash:{src}") == 1
    r = _postalias(confdir, "-q", "postmaster", f"hash:{src}")
    assert b"open database" in r.stderr and r.returncode != 0


def test_alias_database_used_as_a_postmap_table(confdir):
    """An aliases file compiled by postalias, named where a postmap table is
    expected: Postfix answers from the .db (keys without the colon); the
    explorer says what the index is instead of advising postmap."""
    src = confdir / "aliases"
    _write(src, ALIASES, time.time() - 60)
    assert _postalias(confdir, f"hash:{src}").returncode == 0
    spec = f"hash:{src}"
    keys = ["postmaster", "postmaster:", "root", "root:"]
    theirs, _ = postmap_batch(confdir, spec, keys)
    assert theirs == {"postmaster": "root", "root": "admin@example.com"}
    assert ours_batch(spec, keys) == theirs
    from tui.core.tables import open_table
    t = open_table(spec, aliases=False)
    t.lookup("root")
    assert t.status.state == "stale" and "built by postalias" in t.status.message
    assert "run postmap" not in t.status.message


def test_repeated_lookups_keep_answering_from_the_index(confdir):
    """A trace asks the same tables many times: every answer comes from the
    index (postalias/postmap built), with the source line when they agree."""
    aliases = confdir / "aliases"
    _write(aliases, 'postmaster: root\ntest-list: "|/usr/lib/mailman/mail/mailman post test"\n',
           time.time() - 60)
    assert _postalias(confdir, f"hash:{aliases}").returncode == 0
    access = confdir / "access"
    _write(access, "Example.COM  OK\n\u00e9x.example  REJECT\n", time.time() - 60)
    postmap_build(confdir, f"hash:{access}")
    from tui.core.tables import open_table
    ta = open_table(f"hash:{aliases}", aliases=True)
    tm = open_table(f"hash:{access}")
    theirs_a = _postalias_batch(confdir, f"hash:{aliases}", ["test-list", "Postmaster", "nobody"])
    theirs_m, _ = postmap_batch(confdir, f"hash:{access}", ["example.com", "EXAMPLE.com", "\u00e9x.example",
                                                            "other.example"])
    for _ in range(3):
        assert {k: ta.lookup(k).value for k in ["test-list", "Postmaster", "nobody"]
                if ta.lookup(k).found} == theirs_a
        assert {k: tm.lookup(k).value for k in ["example.com", "EXAMPLE.com", "\u00e9x.example", "other.example"]
                if tm.lookup(k).found} == theirs_m
        assert ta.lookup("test-list").where == f"{aliases}:2"
        assert tm.lookup("EXAMPLE.com").where == f"{access}:1"
        ta.close()   # closed tables open their files again when asked
        tm.close()


def test_compile_maps_builds_what_the_harness_builds(tmp_path):
    """tests/oracle/compile_maps.py, for fixtures that run the engine on a
    scenario copy without starting Postfix: after it, every indexed table
    of the seed scenario opens as a fresh index (aliases by postalias)."""
    need_postfix()
    from tests.oracle.compile_maps import compile_maps
    from tests.oracle.scenarios import load_scenario, materialize
    from tui.core.config import load_config
    from tui.core.analysis.inventory import collect_tables
    from tui.core.tables import open_table

    d = materialize(load_scenario("seed_mailman"), tmp_path / "seed")   # compiles the maps itself
    for index in [*d.glob("*.db"), *d.glob("*.lmdb"), *d.glob("*.cdb")]:
        index.unlink()                                                  # as a copy nobody compiled
    cfg = load_config(d)
    view = cfg.params()
    before = {r.spec: open_table(r.spec, view).status.state for r in collect_tables(cfg)
              if r.type in TYPES}
    assert before and set(before.values()) == {"stale"}      # no index yet: Postfix could not use them
    done = compile_maps(d)
    assert any(c.startswith("postalias ") for c in done) and any(c.startswith("postmap ") for c in done)
    after = {spec: open_table(spec, view).status for spec in before}
    assert all(st.state == "ok" for st in after.values()), after


@pytest.mark.parametrize("flag", ("-n", "-N"))
@pytest.mark.parametrize("type_", TYPES)
def test_keys_with_and_without_a_trailing_nul(confdir, type_, flag):
    """postmap -N stores keys and values with a trailing NUL, -n without;
    by default hash/btree/lmdb get one and cdb none. Postfix's lookups try
    the key with a NUL, then without: every build answers alike."""
    src = confdir / "access"
    _write(src, "example.com OK\nfoo@example.org REJECT no\n", time.time() - 60)
    r = subprocess.run(["postmap", "-c", str(confdir), flag, f"{type_}:{src}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    from tui.core.tables.indexed import open_index
    with open_index(type_, str(src)) as rd:
        stored = {k for k, _v in rd.items()}
    assert (b"example.com\0" in stored) == (flag == "-N")   # the build did what the flag says
    spec = f"{type_}:{src}"
    keys = ["example.com", "foo@example.org", "bar.example"]
    theirs, _ = postmap_batch(confdir, spec, keys)
    assert theirs == {"example.com": "OK", "foo@example.org": "REJECT no"}
    assert ours_batch(spec, keys) == theirs


@pytest.mark.parametrize("type_", TYPES)
def test_running_postmap_while_the_table_is_open(confdir, type_):
    """The admin runs postmap while the explorer has the table open: the
    next lookup answers from the new index, and the status follows."""
    src = confdir / "access"
    _write(src, "example.com OK\n", time.time() - 60)
    spec = f"{type_}:{src}"
    from tui.core.tables import open_table
    t = open_table(spec)
    assert t.lookup("example.com").error and t.status.state == "stale"
    postmap_build(confdir, spec)
    theirs, _ = postmap_batch(confdir, spec, ["example.com", "new.example"])
    assert {k: t.lookup(k).value for k in ["example.com", "new.example"] if t.lookup(k).found} == theirs
    assert t.status.state == "ok", t.status
    assert not any("missing index" in str(d) for d in t.status.diagnostics)
    # and again, with new contents
    _write(src, "new.example REJECT\n", time.time() - 30)
    postmap_build(confdir, spec)
    theirs, _ = postmap_batch(confdir, spec, ["example.com", "new.example"])
    assert {k: t.lookup(k).value for k in ["example.com", "new.example"] if t.lookup(k).found} == theirs
    assert t.status.state == "ok", t.status
    assert t.lookup("new.example").where == f"{src}:1"


@pytest.mark.parametrize("type_", ("hash", "btree"))
def test_key_bytes_inside_other_items_of_its_page(confdir, type_):
    """A Berkeley DB page is searched for a key's bytes: the same bytes
    inside another key or a value on the page (a small table has one or
    two pages) must not answer. Values carry the byte that starts a stored
    item (0x01) followed by other keys, in both orders of insertion."""
    src = confdir / "access"
    lines = ["b.example OK b", "a.example REJECT \x01b.example\x00x", "c.example REJECT \x01a.example",
             "xa.example OK xa", "a.examplex OK ax", "d.example \x01c.example\x01d.example"]
    _write(src, "\n".join(lines) + "\n", time.time() - 60)
    spec = f"{type_}:{src}"
    postmap_build(confdir, spec)
    keys = ["a.example", "b.example", "c.example", "d.example", "xa.example", "a.examplex",
            "example", "a.exampl", ".example", "REJECT", "x"]
    theirs, _ = postmap_batch(confdir, spec, keys)
    assert len(theirs) == 6
    assert ours_batch(spec, keys, view_for(confdir)) == theirs


def _hash_map(confdir, text: str, keys: list[str]) -> tuple[str, dict]:
    """hash:DIR/access from TEXT, built by postmap; (its spec, postmap -q's
    answers for KEYS)."""
    src = confdir / "access"
    _write(src, text, time.time() - 60)
    spec = f"hash:{src}"
    postmap_build(confdir, spec)
    theirs, _ = postmap_batch(confdir, spec, keys)
    return spec, theirs


def test_small_hash_file_read_whole_answers_like_postmap(confdir):
    """A small hash file asked often is read whole into a dict
    (bdb.WHOLE_AFTER gets per page): from then on it must answer every key
    as postmap -q does -- long keys stored off-page, values on overflow
    pages, case-changed and absent keys, keys whose bytes sit inside other
    items."""
    from tui.core.tables import open_table
    from tui.core.tables.indexed import bdb

    text, keys = _source(400, 7)
    text += "b.example OK b\na.example REJECT \x01b.example\x00x\n" + "L" * 1500 + " very long key\n"
    keys += ["a.example", "b.example", "l" * 1500, "l" * 1499]
    spec, theirs = _hash_map(confdir, text, keys)
    assert len(theirs) > 250
    t = open_table(spec, view_for(confdir))
    try:
        reader = t._reader
        assert reader.npages <= bdb.WHOLE_MAX_PAGES
        rounds = 0
        while reader._whole is None:
            rounds += 1
            assert rounds <= bdb.WHOLE_AFTER * reader.npages, "never read whole"
            t.lookup(f"absent{rounds}.example")
        ours = table_answers(t, keys)
        assert reader._whole is not None
        assert ours == theirs
    finally:
        t.close()


def test_a_compared_hash_file_answers_like_postmap_from_what_it_read(confdir):
    """An index that is compared with its source at the first hit (read
    whole: index_status._COMPARE_MAX_BYTES) keeps what it read and answers
    later keys from it: too many pages for the small-file rule, it must
    still answer every key as postmap -q does -- duplicates, long keys,
    overflow values, case-changed and absent keys."""
    from tui.core.tables import open_table
    from tui.core.tables.indexed import bdb

    text, keys = _source(3000, 11)
    spec, theirs = _hash_map(confdir, text, keys)
    assert len(theirs) > 2000
    t = open_table(spec, view_for(confdir))
    try:
        reader = t._reader
        assert reader.npages > bdb.WHOLE_MAX_PAGES
        assert reader._whole is None
        assert t.lookup("host0.example.net").found   # the first hit reads the source and compares
        assert reader._whole is not None
        assert t.status.state == "ok"
        assert table_answers(t, keys) == theirs
    finally:
        t.close()


def test_small_hash_file_read_whole_keeps_what_the_search_cannot_find(confdir, tmp_path):
    """Read whole, a hash file must not answer for stored keys that the
    search in the key's bucket never finds: a key moved to another bucket
    (a changed byte changes its hash), an off-page key whose stored length
    makes it a short one (short keys are looked for on the page only)."""
    import shutil
    import struct

    from tui.core.tables.indexed import bdb

    src = confdir / "access"
    _write(src, "".join(f"user{i}@example.org OK {i}\n" for i in range(300)) + "L" * 1500 + " long\n",
           time.time() - 60)
    postmap_build(confdir, f"hash:{src}")
    data = bytearray((confdir / "access.db").read_bytes())
    i = data.find(b"user123@example.org\0")
    data[i] = ord("v")   # "vser123@...": stored in user123's bucket, not its own
    with bdb.HashReader(str(confdir / "access.db")) as r:
        for b in range(r.max_bucket + 1):
            for p, (ks, _ke), _data in r._pairs(b):
                if p[ks] == bdb.H_OFFPAGE:
                    pgno = struct.unpack_from(r.bo + "I", p, 8)[0]
                    at = pgno * r.pagesize + ks + 8
                    data[at:at + 4] = struct.pack(r.bo + "I", 1001)   # "l" * 1000 + "l", said to be short
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(bytes(data))
    shutil.copy(damaged, tmp_path / "copy.db")
    with bdb.HashReader(str(damaged)) as searched, bdb.HashReader(str(tmp_path / "copy.db")) as whole:
        whole._whole = whole._read_whole()
        assert whole._whole is not None
        for k in (b"vser123@example.org\0", b"l" * 1001, b"user124@example.org\0", b"l" * 1500 + b"\0"):
            assert whole.get(k) == searched.get(k), k
        assert searched.get(b"vser123@example.org\0") is None and searched.get(b"l" * 1001) is None
        assert whole.get(b"user124@example.org\0") == b"OK 124\0"


@pytest.mark.parametrize("inotify", (True, False))
def test_a_rebuilt_index_reaches_the_next_trace(confdir, monkeypatch, inotify):
    """The engine asks an index table without a stat() per lookup (the
    table cache dates the table by the index file) and a small one is read
    whole after a few traces: postmap rebuilding the map on a Config that
    stays loaded must still reach the next trace, with inotify and without."""
    from tui.core import cache as C
    from tui.core import dns
    from tui.core.config import load_config
    from tui.core.filewatch import FileWatch
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    if not inotify:
        monkeypatch.setattr(C, "WATCH", FileWatch(enabled=False))
    d = confdir
    (d / "main.cf").write_text(
        "compatibility_level = 3.6\nmyhostname = mx.example.com\nmydestination = example.org\n"
        "inet_interfaces = 127.0.0.1\nmynetworks = 127.0.0.0/8\nlocal_recipient_maps =\n"
        f"smtpd_sender_restrictions = check_sender_access hash:{d}/senders\n"
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    _write(d / "senders", "x@example.net REJECT first\n", time.time() - 60)
    postmap_build(d, f"hash:{d}/senders")
    cfg = load_config(str(d))

    def trace(sender: str):
        return evaluate(cfg, Transaction(client_address="192.0.2.7", client_name="h.example.net",
                                         helo="h.example.net", sender=sender, recipient="bob@example.org"),
                        service="smtp", resolver=dns.StaticResolver(default=dns.NOTFOUND))

    for i in range(40):   # new keys each time: enough gets to read the small file whole
        trace(f"u{i}@example.net")
    assert " first" in trace("x@example.net").reply
    table = next(t for t, *_ in C.shared_cache(cfg)._tables.values() if getattr(t, "index_path", None))
    assert table._reader._whole is not None
    _write(d / "senders", "x@example.net REJECT second\nz@example.net REJECT third\n", time.time() - 30)
    postmap_build(d, f"hash:{d}/senders")
    if not inotify:
        time.sleep(0.01)
    assert " second" in trace("x@example.net").reply
    assert " third" in trace("z@example.net").reply
