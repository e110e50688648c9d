"""Which map files may have changed, without a stat() per file per trace.

A trace asks up to a dozen tables; each must be the file as it is now (the
explorer re-reads a map the admin just edited). Checking that with one
stat() per table per trace was a fifth of a warm trace's time. On Linux the
kernel can tell us instead: an inotify watch on each file and on its
directory queues an event when the file is written, truncated, touched,
replaced by a rename, deleted or re-created -- before the writer's system
call returns. Draining that queue is one non-blocking read().

So a path is "fresh" (its last stat() still holds) when it is watched, no
event has named it since that stat(), and that stat() is less than MAX_AGE
seconds old. The age limit covers what inotify cannot see: a file on NFS
changed by another machine, a symlinked directory re-pointed higher up.
Anything unusual (no inotify, watch limit reached, queue overflow) makes
paths un-fresh, so the caller falls back to stat() -- never to a stale map.

The inotify instance is opened on first use, not at import: a command that
never evaluates anything (params) neither loads ctypes nor asks the kernel
for it.
"""
from __future__ import annotations

import errno
import os
import select
import struct
import sys
import threading
import time

MAX_AGE = 1.0  # seconds a stat() is trusted even with no event

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

_FILE_MASK = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF
_DIR_MASK = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF \
    | IN_MOVE_SELF | IN_ONLYDIR
_HEADER = struct.Struct("iIII")


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        # the symbols already loaded into this process (libc among them):
        # no search for the library's file (ctypes.util.find_library runs
        # /sbin/ldconfig in a child process)
        libc = ctypes.CDLL(None, use_errno=True)
        if not hasattr(libc, "inotify_init1"):
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        return libc
    except (OSError, AttributeError):
        return None


def _errno() -> int:
    import ctypes   # loaded already: arm() runs only with libc open

    return ctypes.get_errno()


class FileWatch:
    """Per process: has a path changed since a given stat() of it?

    Usage: token = arm(path); take the stat(); keep (token, taken); later,
    after drain(), unchanged(path, token, taken) says whether that stat()
    still holds. Each event naming a path bumps its generation, so one
    cache's fresh stat() never vouches for another cache's older one.
    """

    def __init__(self, enabled: bool = True):
        self._lock = threading.Lock()
        self._enabled = enabled
        self._opened = False
        self._libc = None
        self._fd = -1
        self._gen: dict[str, int] = {}          # path -> events seen naming it
        self._epoch = 0                          # bumped when events were lost
        self.serial = 0                          # bumped by every event taken
        self._file_wd: dict[int, set[str]] = {}  # watch on a file -> its paths
        self._dir_wd: dict[int, dict[str, set[str]]] = {}  # watch on a directory -> name -> paths
        self._now = time.monotonic()

    def disable(self) -> None:
        """Never open the watch in this process: for a process that
        evaluates once (a command of the command line), where stat() answers
        as well and ctypes need not be loaded. No effect once open."""
        with self._lock:
            if not self._opened:
                self._enabled = False

    def _open(self) -> None:
        """Open the inotify instance, once (first use)."""
        with self._lock:
            if self._opened:
                return
            self._opened = True
            libc = _libc() if self._enabled else None
            if libc is None:
                return
            fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
            if fd < 0:
                return
            self._poll = select.poll()
            self._poll.register(fd, select.POLLIN)
            self._libc = libc
            self._fd = fd

    @property
    def active(self) -> bool:
        if not self._opened:
            self._open()
        return self._fd >= 0

    def drain(self) -> None:
        """Take the queued events. Call once before a round of unchanged()
        checks (one non-blocking read() when nothing happened)."""
        self._now = time.monotonic()
        if not self._opened:
            self._open()
        if self._fd < 0 or not self._poll.poll(0):   # nothing queued: no read()
            return
        with self._lock:
            while True:
                try:
                    buf = os.read(self._fd, 65536)
                except BlockingIOError:
                    return
                except OSError:
                    self._epoch += 1
                    self.serial += 1
                    return
                if not buf:
                    return
                self.serial += 1
                self._events(buf)

    def _bump(self, paths) -> None:
        gen = self._gen
        for p in paths:
            gen[p] = gen.get(p, 0) + 1

    def _events(self, buf: bytes) -> None:
        off = 0
        n = len(buf)
        while off + _HEADER.size <= n:
            wd, mask, _cookie, length = _HEADER.unpack_from(buf, off)
            name = buf[off + _HEADER.size: off + _HEADER.size + length].split(b"\0", 1)[0]
            off += _HEADER.size + length
            if mask & IN_Q_OVERFLOW:
                self._epoch += 1       # events were lost: trust no earlier stat()
                continue
            paths = self._file_wd.get(wd)
            if paths is not None:
                self._bump(paths)
                if mask & IN_IGNORED:  # the watch is gone (file deleted or replaced)
                    self._file_wd.pop(wd, None)
            names = self._dir_wd.get(wd)
            if names is not None:
                if name:
                    self._bump(names.get(os.fsdecode(name), ()))
                else:                  # the directory itself moved or went away
                    for ps in names.values():
                        self._bump(ps)
                if mask & IN_IGNORED:
                    self._dir_wd.pop(wd, None)

    def arm(self, path: str):
        """Watch path and its directory; returns a token for unchanged(), or
        None when path cannot be watched. Call BEFORE the stat() the token
        stands for, so that no change can fall in between."""
        if not self._opened:
            self._open()
        if self._fd < 0 or not path.startswith("/"):
            return None
        with self._lock:
            # the directory first: a file that does not exist yet is watched
            # by its directory alone (its creation is an event there)
            d, _, base = path.rpartition("/")
            libc = self._libc
            if libc is None:
                return None
            dwd = libc.inotify_add_watch(self._fd, os.fsencode(d or "/"), _DIR_MASK)
            if dwd < 0:
                return None
            self._dir_wd.setdefault(dwd, {}).setdefault(base, set()).add(path)
            wd = libc.inotify_add_watch(self._fd, os.fsencode(path), _FILE_MASK)
            if wd >= 0:
                self._file_wd.setdefault(wd, set()).add(path)
            elif _errno() != errno.ENOENT:
                return None
            return (self._epoch, self._gen.get(path, 0))

    def unchanged(self, path: str, token, taken: float) -> bool:
        """No event named path since arm() gave token, and the stat() taken
        at monotonic time `taken` is less than MAX_AGE old (as of drain())."""
        return (token is not None and self._now - taken < MAX_AGE
                and token[0] == self._epoch and token[1] == self._gen.get(path, 0))

    def now(self) -> float:
        return time.monotonic()

    @property
    def drained_at(self) -> float:
        return self._now


WATCH = FileWatch(enabled=os.environ.get("POSTFIX_EXPLORER_NO_INOTIFY", "") == "")
