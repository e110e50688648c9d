"""What every index reader is: the file it reads and the error it raises."""
from __future__ import annotations

import os

SUFFIX = {"hash": ".db", "btree": ".db", "lmdb": ".lmdb", "cdb": ".cdb"}

# which form of a key dict_get() still tries (Postfix's DICT_FLAG_TRY1NULL and
# DICT_FLAG_TRY0NULL: with a trailing NUL, without)
TRY1NULL, TRY0NULL = 1, 2


class IndexFormatError(ValueError):
    """The file is not a valid index of the expected kind (or is damaged)."""


class IndexReader:
    """Base: a file opened read-only, read with pread(), bounded."""

    kind = ""

    def __init__(self, path: str):
        self.path = path
        self.null_flags = TRY1NULL | TRY0NULL
        self._fd: int | None = None
        # O_RDONLY, no O_CREAT, no lock: postmap/postalias and smtpd are
        # never disturbed; O_NOFOLLOW is not used (Postfix follows links)
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(self._fd)
            self.size = st.st_size
            self.mtime = st.st_mtime
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _read(self, off: int, n: int) -> bytes:
        if off < 0 or n < 0 or off + n > self.size:
            raise IndexFormatError(f"{self.path}: offset {off}+{n} is outside the file ({self.size} bytes)")
        fd = self._fd
        if fd is None:
            raise IndexFormatError(f"{self.path}: closed")
        data = os.pread(fd, n, off)
        if len(data) != n:
            raise IndexFormatError(f"{self.path}: short read at offset {off} (the file changed?)")
        return data

    def get(self, key: bytes) -> bytes | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def items(self):  # pragma: no cover - abstract
        """Every (key, value) pair, as stored (bytes), in the file's order."""
        raise NotImplementedError

    def snapshot(self) -> list[tuple[bytes, bytes]]:
        """Every pair, as items() gives them, read once for a caller that
        needs them all (a reader may keep them to answer get())."""
        return list(self.items())

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
