"""CDB files (D. J. Bernstein's constant database; postmap cdb:NAME -> NAME.cdb).

  0..2047: 256 (position, slots) pairs of 32-bit little-endian integers,
           one hash table each;
  records: key length (4), data length (4), key, data;
  tables:  slots of (hash (4), record position (4)); position 0 = empty.
  hash:    h = 5381; h = ((h << 5) + h) ^ c, 32 bits; table h & 255,
           first slot (h >> 8) % slots, then the next slots, wrapping.
"""
from __future__ import annotations

import struct

from tui.core.tables.indexed.reader import IndexFormatError, IndexReader

_M32 = 0xFFFFFFFF


def cdb_hash(key: bytes) -> int:
    h = 5381
    for c in key:
        h = (((h << 5) + h) & _M32) ^ c
    return h


class CdbReader(IndexReader):
    kind = "cdb"

    def _open(self) -> None:
        if self.size < 2048:
            raise IndexFormatError(f"{self.path}: too short for a cdb file ({self.size} bytes)")
        head = self._read(0, 2048)
        self.tables = [struct.unpack_from("<II", head, 8 * i) for i in range(256)]
        for pos, slots in self.tables:
            if pos < 2048 or pos > self.size or slots > (self.size - pos) // 8:
                raise IndexFormatError(f"{self.path}: not a cdb file (hash table at {pos} with {slots} slots)")
        # the records end where the first hash table starts (cdb_make writes
        # the tables after the records; an empty table points there too)
        self.records_end = min(p for p, _s in self.tables)

    def _record(self, pos: int) -> tuple[bytes, bytes, int]:
        klen, dlen = struct.unpack("<II", self._read(pos, 8))
        if pos + 8 + klen + dlen > self.size:
            raise IndexFormatError(f"{self.path}: record at {pos} overruns the file")
        data = self._read(pos + 8, klen + dlen)
        return data[:klen], data[klen:], pos + 8 + klen + dlen

    def get(self, key: bytes) -> bytes | None:
        h = cdb_hash(key)
        pos, slots = self.tables[h & 255]
        if not slots:
            return None
        first = (h >> 8) % slots
        for i in range(slots):
            s = (first + i) % slots
            sh, rpos = struct.unpack("<II", self._read(pos + 8 * s, 8))
            if rpos == 0:
                return None
            if sh != h:
                continue
            k, v, _next = self._record(rpos)
            if k == key:
                return v
        return None

    def items(self):
        pos = 2048
        while pos < self.records_end:
            k, v, pos = self._record(pos)
            yield k, v
