"""LMDB files (postmap lmdb:NAME -> NAME.lmdb), read-only, in pure Python.

Postfix opens them with MDB_NOSUBDIR | MDB_NOLOCK | MDB_RDONLY and uses the
unnamed main database. The layout of LMDB 0.9 (Debian's liblmdb0), as far
as a reader needs it (little-endian, 64-bit words, as written on amd64):

  page header (16 bytes): 0: page number (8), 8: pad (2), 10: flags (2:
      1 branch, 2 leaf, 4 overflow, 8 meta, 0x20 LEAF2, 0x40 sub-page),
      12: lower (2), 14: upper (2) -- overflow pages: 12: page count (4);
      then one 2-byte node offset per key: (lower - 16) / 2 keys.
  meta pages 0 and 1 (the valid one with the higher txnid wins): at 16:
      magic 0xBEEFC0DE (4), version 1 (4), address (8), map size (8),
      two MDB_db records of 48 bytes (free list, main): pad (4; the free
      list's holds the page size), flags (2), depth (2), branch, leaf and
      overflow page counts, entries, root (8 each; root ~0 = empty),
      then last page (8), txnid (8).
  node: lo (2), hi (2), flags (2), key size (2), key, data. Leaf: data
      size = lo | hi << 16; flag 1 (F_BIGDATA): the data is the number of
      the first overflow page (8). Branch: child = lo | hi << 16 | flags << 32.
  Keys are sorted by memcmp, shorter first on a common prefix.
"""
from __future__ import annotations

import struct

from tui.core.tables.indexed.reader import IndexFormatError, IndexReader

MDB_MAGIC = 0xBEEFC0DE
PAGEHDRSZ = 16
P_BRANCH = 0x01
P_LEAF = 0x02
P_OVERFLOW = 0x04
P_META = 0x08
P_LEAF2 = 0x20
F_BIGDATA = 0x01
F_SUBDATA = 0x02
F_DUPDATA = 0x04
P_INVALID = 0xFFFFFFFFFFFFFFFF
_CACHE_PAGES = 256


class LmdbReader(IndexReader):
    kind = "lmdb"
    max_depth = 64

    def _open(self) -> None:
        if self.size < 2 * 512:
            raise IndexFormatError(f"{self.path}: too short for an LMDB file ({self.size} bytes)")
        m0 = self._read(0, 160)
        if struct.unpack_from("<I", m0, 16)[0] != MDB_MAGIC:
            raise IndexFormatError(f"{self.path}: not an LMDB file")
        psize = struct.unpack_from("<I", m0, 40)[0]
        if psize < 512 or psize > 65536 or psize & (psize - 1):
            raise IndexFormatError(f"{self.path}: bad page size {psize}")
        self.pagesize = psize
        self.npages = self.size // psize
        metas = [self._meta(m0)]
        if self.size >= 2 * psize:
            metas.append(self._meta(self._read(psize, 160)))
        metas = [m for m in metas if m is not None]
        if not metas:
            raise IndexFormatError(f"{self.path}: no valid LMDB meta page")
        txnid, root, depth, entries = max(metas)
        self.root = root
        self.depth = depth
        self.entries = entries
        self._cache: dict[int, bytes] = {}

    def _meta(self, m: bytes):
        flags = struct.unpack_from("<H", m, 10)[0]
        magic, version = struct.unpack_from("<II", m, 16)
        if not flags & P_META or magic != MDB_MAGIC or version != 1:
            return None
        _pad, mflags, depth, _b, _l, _o, entries, root = struct.unpack_from("<IHHQQQQQ", m, 88)
        if mflags & 0x04:  # MDB_DUPSORT: Postfix never creates one
            raise IndexFormatError(f"{self.path}: an LMDB database with duplicate keys is not read")
        txnid = struct.unpack_from("<Q", m, 144)[0]
        return txnid, root, depth, entries

    def _page(self, pgno: int) -> bytes:
        p = self._cache.get(pgno)
        if p is not None:
            return p
        if pgno < 2 or pgno >= self.npages:
            raise IndexFormatError(f"{self.path}: page number {pgno} out of range (2..{self.npages - 1})")
        p = self._read(pgno * self.pagesize, self.pagesize)
        if len(self._cache) >= _CACHE_PAGES:
            self._cache.clear()
        self._cache[pgno] = p
        return p

    def _nodes(self, p: bytes) -> tuple[int, tuple[int, ...]]:
        flags, lower, upper = struct.unpack_from("<HHH", p, 10)
        if lower < PAGEHDRSZ or lower > upper or upper > self.pagesize or (lower - PAGEHDRSZ) % 2:
            raise IndexFormatError(f"{self.path}: bad page bounds {lower}..{upper}")
        n = (lower - PAGEHDRSZ) // 2
        offs = struct.unpack_from(f"<{n}H", p, PAGEHDRSZ)
        for o in offs:
            if o < upper or o + 8 > self.pagesize:
                raise IndexFormatError(f"{self.path}: node offset {o} outside the page's data")
        return flags, offs

    def _node(self, p: bytes, off: int):
        lo, hi, flags, ksize = struct.unpack_from("<HHHH", p, off)
        if off + 8 + ksize > self.pagesize:
            raise IndexFormatError(f"{self.path}: node key overruns its page")
        return lo, hi, flags, p[off + 8:off + 8 + ksize], off + 8 + ksize

    def _data(self, p: bytes, off: int) -> tuple[bytes, bytes]:
        lo, hi, flags, key, d = self._node(p, off)
        size = lo | hi << 16
        if flags & (F_SUBDATA | F_DUPDATA):
            raise IndexFormatError(f"{self.path}: sub-databases and duplicates are not read")
        if flags & F_BIGDATA:
            if d + 8 > self.pagesize:
                raise IndexFormatError(f"{self.path}: node overruns its page")
            pgno = struct.unpack_from("<Q", p, d)[0]
            if pgno < 2 or pgno >= self.npages or size > self.size - pgno * self.pagesize - PAGEHDRSZ:
                raise IndexFormatError(f"{self.path}: overflow value out of the file")
            head = self._read(pgno * self.pagesize, PAGEHDRSZ)
            if not struct.unpack_from("<H", head, 10)[0] & P_OVERFLOW:
                raise IndexFormatError(f"{self.path}: page {pgno} is not an overflow page")
            return key, self._read(pgno * self.pagesize + PAGEHDRSZ, size)
        if d + size > self.pagesize:
            raise IndexFormatError(f"{self.path}: node data overruns its page")
        return key, p[d:d + size]

    def _leaf_for(self, key: bytes | None):
        pgno = self.root
        for _depth in range(self.max_depth):
            p = self._page(pgno)
            flags, offs = self._nodes(p)
            if flags & P_LEAF2:
                raise IndexFormatError(f"{self.path}: LEAF2 pages are not read")
            if flags & P_LEAF:
                return p, offs
            if not flags & P_BRANCH or not offs:
                raise IndexFormatError(f"{self.path}: page {pgno} is neither branch nor leaf")
            lo, hi = 0, len(offs) - 1   # node 0's key is "less than every key"
            if key is not None:
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if self._node(p, offs[mid])[3] <= key:
                        lo = mid
                    else:
                        hi = mid - 1
            a, b, c, _k, _d = self._node(p, offs[lo])
            pgno = a | b << 16 | c << 32
        raise IndexFormatError(f"{self.path}: tree deeper than {self.max_depth} levels")

    def get(self, key: bytes) -> bytes | None:
        if self.root == P_INVALID:
            return None
        p, offs = self._leaf_for(key)
        lo, hi = 0, len(offs) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            k = self._node(p, offs[mid])[3]
            if k == key:
                return self._data(p, offs[mid])[1]
            if k < key:
                lo = mid + 1
            else:
                hi = mid - 1
        return None

    def items(self):
        """In key order: walk the tree depth-first (LMDB leaves are not chained)."""
        if self.root == P_INVALID:
            return
        budget = [self.npages]
        yield from self._walk(self.root, 0, budget)

    def _walk(self, pgno: int, depth: int, budget: list[int]):
        if depth > self.max_depth:
            raise IndexFormatError(f"{self.path}: tree deeper than {self.max_depth} levels")
        budget[0] -= 1
        if budget[0] < 0:
            raise IndexFormatError(f"{self.path}: the tree visits more pages than the file has")
        p = self._page(pgno)
        flags, offs = self._nodes(p)
        if flags & P_LEAF and not flags & P_LEAF2:
            for o in offs:
                yield self._data(p, o)
            return
        if not flags & P_BRANCH:
            raise IndexFormatError(f"{self.path}: page {pgno} is neither branch nor leaf")
        for o in offs:
            a, b, c, _k, _d = self._node(p, o)
            yield from self._walk(a | b << 16 | c << 32, depth + 1, budget)
