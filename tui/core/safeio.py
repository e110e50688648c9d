"""Reading configuration files that may not be files.

A FIFO named as main.cf or as a map source blocks the reader forever (open
waits for a writer, read for data), a character device such as /dev/zero
never ends and fills memory, /dev/tty reads the keyboard. Postfix itself
is run as root by people who do not expect that; the explorer must not
hang or eat the machine either.

    read_bytes(path)            the file's bytes, or OSError
    read_text(path)             decoded as UTF-8, undecodable bytes kept
                                (surrogateescape), or OSError
    check_regular(path)         OSError unless path is a regular file

Only regular files (after symlinks) are read, and at most `limit` bytes
(MAX_BYTES by default). A refusal is an OSError whose strerror says why
("not a regular file (FIFO)", "larger than ... bytes"), so callers that
already report `exc.strerror` name the file and the reason unchanged. A
directory keeps its usual EISDIR ("Is a directory").

Opening uses O_NONBLOCK (a FIFO with no writer does not block the open;
it is then refused) and O_NOCTTY. Pure: no project imports.
"""
from __future__ import annotations

import errno
import os
import stat

MAX_BYTES = 256 * 1024 * 1024  # far beyond any real main.cf or map source
_CHUNK = 1 << 20


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def _refuse(path, mode: int) -> OSError:
    if stat.S_ISDIR(mode):
        return IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    return OSError(errno.EINVAL, f"not a regular file ({_kind(mode)}): refused to read it", str(path))


def _too_large(path, limit: int) -> OSError:
    return OSError(errno.EFBIG, f"larger than {limit} bytes: refused to read it", str(path))


def check_regular(path) -> os.stat_result:
    """stat(path), or OSError when it is not a regular file."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(path, st.st_mode)
    return st


def read_bytes(path, limit: int = MAX_BYTES) -> bytes:
    """At most LIMIT bytes of the regular file PATH; OSError otherwise."""
    st = check_regular(path)  # refuse before opening: some devices act on open
    if st.st_size > limit:
        raise _too_large(path, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)  # what was opened, in case the name was swapped meanwhile
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(path, st.st_mode)
        chunks: list[bytes] = []
        total = 0
        while True:
            data = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not data:
                break
            chunks.append(data)
            total += len(data)
            if total > limit:  # grew while being read
                raise _too_large(path, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path, limit: int = MAX_BYTES) -> str:
    """read_bytes() decoded as UTF-8; bytes that are not UTF-8 survive
    round trips (surrogateescape)."""
    return read_bytes(path, limit).decode("utf-8", "surrogateescape")
