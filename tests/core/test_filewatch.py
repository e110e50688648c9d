"""tui/core/filewatch.py: a stat() taken after arm() is trusted only while
no inotify event has named the file and for at most MAX_AGE seconds. Every
way an admin (or an editor, or postmap) changes a map file must make it
untrusted at the next drain(); and a trace on a reused Config must see such
an edit even when size and mtime stay the same."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tui.core import cache as C
from tui.core import dns
from tui.core import filewatch
from tui.core.config import load_config
from tui.core.filewatch import FileWatch
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")


def _armed(w: FileWatch, path: Path):
    token = w.arm(str(path))
    taken = w.now()
    w.drain()
    return token, taken


def _still(w: FileWatch, path: Path, token, taken) -> bool:
    w.drain()
    return w.unchanged(str(path), token, taken)


@linux
@pytest.mark.parametrize("change", ["append", "same_size_rewrite", "truncate", "touch", "chmod",
                                    "rename_over", "delete", "delete_recreate"])
def test_every_kind_of_change_is_seen(tmp_path, change):
    w = FileWatch()
    assert w.active
    f = tmp_path / "map"
    f.write_text("a OK\n")
    token, taken = _armed(w, f)
    assert _still(w, f, token, taken)
    assert _still(w, f, token, taken)  # draining with nothing queued changes nothing
    if change == "append":
        with open(f, "a") as fh:
            fh.write("b OK\n")
    elif change == "same_size_rewrite":
        st = f.stat()
        f.write_text("c OK\n")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # stat() could not tell
    elif change == "truncate":
        os.truncate(f, 0)
    elif change == "touch":
        os.utime(f, None)
    elif change == "chmod":
        os.chmod(f, 0o600)
    elif change == "rename_over":  # what editors and "postmap" style tools do
        tmp = tmp_path / "map.new"
        tmp.write_text("d OK\n")
        os.rename(tmp, f)
    elif change == "delete":
        f.unlink()
    elif change == "delete_recreate":
        f.unlink()
        f.write_text("a OK\n")
    assert not _still(w, f, token, taken)


@linux
def test_a_file_created_later_is_seen(tmp_path):
    w = FileWatch()
    f = tmp_path / "missing"
    token, taken = _armed(w, f)
    assert token is not None           # watched through its directory
    assert _still(w, f, token, taken)
    f.write_text("x OK\n")
    assert not _still(w, f, token, taken)


@linux
def test_a_symlink_repointed_is_seen(tmp_path):
    w = FileWatch()
    (tmp_path / "one").write_text("a 1\n")
    (tmp_path / "two").write_text("a 2\n")
    link = tmp_path / "map"
    link.symlink_to(tmp_path / "one")
    token, taken = _armed(w, link)
    assert _still(w, link, token, taken)
    tmp = tmp_path / "map.tmp"
    tmp.symlink_to(tmp_path / "two")
    os.rename(tmp, link)
    assert not _still(w, link, token, taken)


@linux
def test_changes_to_other_files_do_not_count(tmp_path):
    w = FileWatch()
    f = tmp_path / "map"
    f.write_text("a OK\n")
    token, taken = _armed(w, f)
    (tmp_path / "other").write_text("unrelated\n")
    assert _still(w, f, token, taken)


@linux
def test_one_callers_fresh_stat_does_not_vouch_for_an_older_one(tmp_path):
    """Two Configs watch the same map: the one that re-read it after a
    change must not make the other's older stat() look current."""
    w = FileWatch()
    f = tmp_path / "map"
    f.write_text("a OK\n")
    old = _armed(w, f)
    f.write_text("a REJECT\n")
    w.drain()
    new = _armed(w, f)
    assert _still(w, f, *new)
    assert not _still(w, f, *old)


@linux
def test_trust_expires_and_lost_events_distrust_everything(tmp_path, monkeypatch):
    w = FileWatch()
    f = tmp_path / "map"
    f.write_text("a OK\n")
    token, taken = _armed(w, f)
    monkeypatch.setattr(filewatch, "MAX_AGE", 0.0)
    assert not _still(w, f, token, taken)          # NFS and the like: at most MAX_AGE
    monkeypatch.setattr(filewatch, "MAX_AGE", 1.0)
    assert _still(w, f, token, taken)
    overflow = filewatch._HEADER.pack(-1, filewatch.IN_Q_OVERFLOW, 0, 0)
    w._events(overflow)                             # the kernel's queue overflowed
    assert not _still(w, f, token, taken)


def test_without_inotify_nothing_is_trusted(tmp_path):
    w = FileWatch(enabled=False)
    f = tmp_path / "map"
    f.write_text("a OK\n")
    assert not w.active
    token, taken = _armed(w, f)
    assert token is None
    assert not _still(w, f, token, taken)


MAIN = """\
compatibility_level = 3.6
myhostname = mx.example.com
mydestination = localhost, texthash:{d}/local_domains
inet_interfaces = 127.0.0.1
mynetworks = 127.0.0.0/8
local_recipient_maps =
smtpd_sender_restrictions = check_sender_access texthash:{d}/senders
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
"""


def _setup(d: Path) -> None:
    (d / "main.cf").write_text(MAIN.format(d=d))
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    (d / "senders").write_text("x@example.net REJECT a\n")
    (d / "local_domains").write_text("example.org OK\n")


def _trace(cfg, sender="x@example.net", rcpt="bob@example.org"):
    return evaluate(cfg, Transaction(client_address="192.0.2.7", client_name="h.example.net",
                                     helo="h.example.net", sender=sender, recipient=rcpt),
                    service="smtp", resolver=dns.StaticResolver(default=dns.NOTFOUND))


def _same_stat_edit(path: Path, text: str) -> None:
    st = path.stat()
    assert len(text.encode()) == st.st_size
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@linux
def test_reused_config_sees_an_edit_that_keeps_size_and_mtime(tmp_path):
    """With inotify, even an edit stat() cannot see (same size, mtime put
    back) reaches the next trace -- including the memoised address class
    of a domain (mydestination names a table)."""
    _setup(tmp_path)
    cfg = load_config(tmp_path)
    for _ in range(3):
        first = _trace(cfg)
    assert first.code == 554 and " a" in first.reply
    _same_stat_edit(tmp_path / "senders", "x@example.net REJECT b\n")
    assert " b" in _trace(cfg).reply
    assert _trace(cfg, sender="y@example.net").code == 250       # example.org is local
    _same_stat_edit(tmp_path / "local_domains", "example.orx OK\n")
    after = _trace(cfg, sender="y@example.net")
    assert after.to_json() == _trace(load_config(tmp_path), sender="y@example.net").to_json()
    assert after.code == 454 and "Relay access denied" in after.reply, after.reply  # no longer local


def test_without_inotify_edits_are_seen_by_stat(tmp_path, monkeypatch):
    """The fallback (no inotify): every evaluation stat()s its tables."""
    monkeypatch.setattr(C, "WATCH", FileWatch(enabled=False))
    _setup(tmp_path)
    cfg = load_config(tmp_path)
    for _ in range(3):
        assert " a" in _trace(cfg).reply
    (tmp_path / "senders").write_text("x@example.net REJECT longer\n")
    assert " longer" in _trace(cfg).reply
    (tmp_path / "local_domains").write_text("example.orx OK\n# other\n")
    assert "Relay access denied" in _trace(cfg, sender="y@example.net").reply
