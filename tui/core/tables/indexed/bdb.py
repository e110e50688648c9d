"""Berkeley DB hash and btree files, read-only, in pure Python.

The on-disk layout is Berkeley DB's (db_page.h, hash.h, btree.h); Debian's
Postfix 3.7 links libdb5.3, whose files are hash version 9 / btree version
9 (older versions with the same page formats are accepted). Postfix creates
them without checksums, encryption or duplicates; a file that uses any of
those is refused with an error, not guessed at.

Layout, as far as a reader needs it (all integers in the byte order of the
machine that wrote the file: recognised from the magic number):

  page 0: metadata. 12: magic (0x061561 hash, 0x053162 btree),
          16: version, 20: page size, 24: encryption, 25: page type,
          26: meta flags, 32: last page number.
          hash: 72: max_bucket, 76: high_mask, 80: low_mask,
                92: hash("%$sniglet^&\\0"), 96: spares[32]
          btree: 88: root page number
  page header (26 bytes): 8: pgno, 12: prev_pgno, 16: next_pgno,
          20: number of items, 22: hf_offset (overflow pages: data length),
          24: level, 25: type; then one 2-byte offset per item.
  hash pages (type 13, or 2 for unsorted): items in key/data pairs; an
          item is a type byte (1 = the bytes follow, 3 = off-page: pgno at
          +4, total length at +8) and its data up to the next item.
  btree pages: internal (3) items are len(2) type(1) pad(1) pgno(4)
          nrecs(4) key; leaf (5) items in key/data pairs, len(2) type(1)
          data (type 1) or pad(1) pgno(4) tlen(4) (type 3, off-page).
  overflow pages (7): hf_offset bytes of data after the header, chained
          by next_pgno.
"""
from __future__ import annotations

import bisect
import struct
from functools import lru_cache
from typing import Callable

from tui.core.tables.indexed.reader import IndexFormatError, IndexReader

HASH_MAGIC = 0x061561
BTREE_MAGIC = 0x053162

P_HASH_UNSORTED = 2
P_IBTREE = 3
P_LBTREE = 5
P_OVERFLOW = 7
P_HASHMETA = 8
P_BTREEMETA = 9
P_HASH = 13

H_KEYDATA = 1
H_OFFPAGE = 3
B_KEYDATA = 1
B_OVERFLOW = 3
B_DELETE = 0x80

PAGE_HDR = 26
_CACHE_PAGES = 256

# hash("%$sniglet^&\0"): Berkeley DB stores it in the metadata page to
# check that the opener uses the same hash function
_CHARKEY = b"%$sniglet^&\0"
_M32 = 0xFFFFFFFF


def ham_func5(key: bytes) -> int:
    """Berkeley DB's default hash (Fowler/Noll/Vo, since DB 2.x): h = h *
    16777619 ^ c over the bytes, modulo 2**32. The XOR touches only the low
    byte, so reducing once at the end gives the same value; for a short key
    that saves a step per byte (a long one is reduced as it goes, so that
    the number stays small)."""
    h = 0
    if len(key) <= 64:
        for c in key:
            h = h * 16777619 ^ c
        return h & _M32
    for c in key:
        h = ((h * 16777619) & _M32) ^ c
    return h


# a trace asks several hash files for the same keys (a domain of relay_domains,
# virtual_mailbox_domains, an access map...): each hash function's answers
# are remembered, a bounded number of them
_HASH_MEMO_MAX = 4096


def ham_func4(key: bytes) -> int:
    """Chris Torek's hash (h * 33 + c), the default of old DB versions."""
    h = 0
    for c in key:
        h = (h * 33 + c) & _M32
    return h


_HASHES = [(fn, lru_cache(maxsize=_HASH_MEMO_MAX)(fn)) for fn in (ham_func5, ham_func4)]

# A small hash file that is asked often (a domain list, an access map of a
# few thousand keys: a long-running trace asks them for every new address)
# is read whole into a dict once it has been asked WHOLE_AFTER times per
# page; until then, and for a bigger file, each key is searched in its bucket
WHOLE_MAX_PAGES = 256
WHOLE_AFTER = 4


class _BdbReader(IndexReader):
    magic = 0
    meta_type = 0
    kind = ""

    def _open(self) -> None:
        if self.size < 512:
            raise IndexFormatError(f"{self.path}: too short for a Berkeley DB file ({self.size} bytes)")
        head = self._read(0, 512)
        for bo in ("<", ">"):
            if struct.unpack_from(bo + "I", head, 12)[0] == self.magic:
                self.bo = bo
                break
        else:
            other = {HASH_MAGIC: "hash", BTREE_MAGIC: "btree"}
            for bo in ("<", ">"):
                m = struct.unpack_from(bo + "I", head, 12)[0]
                if m in other:
                    raise IndexFormatError(f"{self.path}: a Berkeley DB {other[m]} file, not {self.kind}")
            raise IndexFormatError(f"{self.path}: not a Berkeley DB {self.kind} file")
        bo = self.bo
        self.version, self.pagesize = struct.unpack_from(bo + "II", head, 16)
        encrypt, ptype, metaflags = head[24], head[25], head[26]
        if self.pagesize < 512 or self.pagesize > 65536 or self.pagesize & (self.pagesize - 1):
            raise IndexFormatError(f"{self.path}: bad page size {self.pagesize}")
        if ptype != self.meta_type:
            raise IndexFormatError(f"{self.path}: page 0 is not a {self.kind} metadata page")
        if encrypt:
            raise IndexFormatError(f"{self.path}: encrypted Berkeley DB files are not read")
        if metaflags & 0x01:  # DBMETA_CHKSUM: every page header is longer
            raise IndexFormatError(f"{self.path}: Berkeley DB files with checksums are not read")
        self.npages = self.size // self.pagesize
        if self.npages < 2:
            raise IndexFormatError(f"{self.path}: no data pages")
        self._meta = head
        self._cache: dict[int, bytes] = {}
        self._h = struct.Struct(bo + "IIIHHBB")  # pgno prev next entries hf_offset level type, at 8

    # -- pages ------------------------------------------------------------
    def _page(self, pgno: int) -> bytes:
        p = self._cache.get(pgno)
        if p is not None:
            return p
        if pgno <= 0 or pgno >= self.npages:
            raise IndexFormatError(f"{self.path}: page number {pgno} out of range (0..{self.npages - 1})")
        p = self._read(pgno * self.pagesize, self.pagesize)
        if len(self._cache) >= _CACHE_PAGES:
            self._cache.clear()
        self._cache[pgno] = p
        return p

    def _header(self, p: bytes):
        """(pgno, prev, next, entries, hf_offset, level, type)"""
        return self._h.unpack_from(p, 8)

    def _items(self, p: bytes, entries: int) -> list[tuple[int, int]]:
        """(start, end) of each item on page p, from the offsets array; an
        item ends where the next higher item starts (or at the page end)."""
        ps = self.pagesize
        lo = PAGE_HDR + 2 * entries
        if lo > ps:
            raise IndexFormatError(f"{self.path}: page with {entries} items does not fit")
        offs = struct.unpack_from(f"{self.bo}{entries}H", p, PAGE_HDR)
        ends = sorted(set(offs))
        nxt = {o: (ends[i + 1] if i + 1 < len(ends) else ps) for i, o in enumerate(ends)}
        out = []
        for o in offs:
            if o < lo or o >= ps:
                raise IndexFormatError(f"{self.path}: item offset {o} outside its page")
            out.append((o, nxt[o]))
        return out

    def _overflow(self, pgno: int, tlen: int) -> bytes:
        """The tlen bytes stored on the chain of overflow pages at pgno."""
        if tlen > self.size:
            raise IndexFormatError(f"{self.path}: overflow item of {tlen} bytes in a {self.size}-byte file")
        parts = []
        got = 0
        seen = 0
        while got < tlen:
            seen += 1
            if seen > self.npages:
                raise IndexFormatError(f"{self.path}: overflow chain loops")
            p = self._page(pgno)
            _pg, _prev, nxt, _n, ovlen, _lvl, ptype = self._header(p)
            if ptype != P_OVERFLOW:
                raise IndexFormatError(f"{self.path}: page {pgno} is not an overflow page")
            if PAGE_HDR + ovlen > self.pagesize:
                raise IndexFormatError(f"{self.path}: overflow page {pgno} claims {ovlen} bytes")
            take = min(ovlen, tlen - got)
            parts.append(p[PAGE_HDR:PAGE_HDR + take])
            got += take
            if got < tlen:
                if nxt == 0 or ovlen == 0:
                    raise IndexFormatError(f"{self.path}: overflow chain ends early")
                pgno = nxt
        return b"".join(parts)


class HashReader(_BdbReader):
    """A Berkeley DB hash file (postmap hash:NAME -> NAME.db)."""

    magic = HASH_MAGIC
    meta_type = P_HASHMETA
    kind = "hash"

    def _open(self) -> None:
        super()._open()
        bo = self.bo
        m = self._meta
        self.max_bucket, self.high_mask, self.low_mask = struct.unpack_from(bo + "III", m, 72)
        charkey = struct.unpack_from(bo + "I", m, 92)[0]
        self.spares = struct.unpack_from(bo + "32I", m, 96)
        if self.max_bucket >= self.npages:
            raise IndexFormatError(f"{self.path}: {self.max_bucket + 1} buckets in {self.npages} pages")
        # unknown hash function (None): every bucket is searched
        self._hash: Callable[[bytes], int] | None = None
        for fn, remembered in _HASHES:
            if fn(_CHARKEY) == charkey:
                self._hash = remembered
                break
        self._whole: dict[bytes, tuple[bytes, int]] | None = None
        self._gets = 0
        self._whole_at = WHOLE_AFTER * self.npages if self.npages <= WHOLE_MAX_PAGES else -1

    def _bucket_page(self, bucket: int) -> int:
        # __db_log2(bucket + 1), the smallest i with 2**i >= bucket + 1
        return bucket + self.spares[bucket.bit_length()]

    def _chain(self, bucket: int):
        """The pages of one bucket, bounded."""
        pgno = self._bucket_page(bucket)
        if pgno >= self.npages:
            return  # never written: Berkeley DB creates a bucket's page on first use
        seen = 0
        while pgno:
            seen += 1
            if seen > self.npages:
                raise IndexFormatError(f"{self.path}: bucket {bucket}'s page chain loops")
            p = self._page(pgno)
            hdr = self._header(p)
            if hdr[6] == 0 and seen == 1 and not p.strip(b"\0"):
                return  # an empty bucket's page, allocated but never written
            if hdr[6] not in (P_HASH, P_HASH_UNSORTED):
                raise IndexFormatError(f"{self.path}: page {pgno} of bucket {bucket} is not a hash page")
            yield p, hdr
            pgno = hdr[2]

    def _item(self, p: bytes, start: int, end: int) -> bytes:
        t = p[start]
        if t == H_KEYDATA:
            return p[start + 1:end]
        if t == H_OFFPAGE:
            if start + 12 > end:
                raise IndexFormatError(f"{self.path}: truncated off-page item")
            pgno, tlen = struct.unpack_from(self.bo + "II", p, start + 4)
            return self._overflow(pgno, tlen)
        raise IndexFormatError(f"{self.path}: hash item type {t} (duplicates or blobs) is not read")

    def _pairs(self, bucket: int):
        for p, hdr in self._chain(bucket):
            n = hdr[3]
            if n % 2:
                raise IndexFormatError(f"{self.path}: hash page {hdr[0]} has an odd number of items")
            items = self._items(p, n)
            for i in range(0, n, 2):
                yield p, items[i], items[i + 1]

    def _end(self, offs, start: int) -> int:
        """Where the item at START ends: at the next item above it."""
        srt = sorted(offs)
        i = bisect.bisect_right(srt, start)
        return srt[i] if i < len(srt) else self.pagesize

    def get(self, key: bytes) -> bytes | None:
        whole = self._whole
        if whole is not None:
            got = whole.get(key)
            if got is None:
                return None
            # stored in the bucket get() searches for it (unknown hash: every bucket)
            return got[0] if self._hash is None or got[1] == self._bucket(key) else None
        self._gets += 1
        if self._gets >= self._whole_at > 0:
            self._whole_at = -1   # once: a file read whole in vain is not read again
            self._whole = self._read_whole()
            if self._whole is not None:
                return self.get(key)
        if self._hash is None:
            for b in range(self.max_bucket + 1):
                v = self._get_in(b, key)
                if v is not None:
                    return v
            return None
        return self._get_in(self._bucket(key), key)

    def _bucket(self, key: bytes) -> int:
        """The bucket Berkeley DB stores KEY in (__ham_call_hash); only with a known hash."""
        assert self._hash is not None
        b = self._hash(key) & self.high_mask
        return b if b <= self.max_bucket else b & self.low_mask

    def _get_in(self, bucket: int, key: bytes) -> bytes | None:
        """KEY's value in BUCKET's pages, or None."""
        ps = self.pagesize
        # Berkeley DB stores a key on the page unless it is longer than a
        # quarter page (ISBIG): then it is an off-page item
        if len(key) > ps // 4:
            for p, hdr in self._chain(bucket):
                v = self._offpage_key_get(p, hdr[3], key)
                if v is not None:
                    return v
            return None
        needle = b"\x01" + key  # H_KEYDATA, then the key's bytes
        want = len(key) + 1
        # the pages of the bucket, as _chain() walks them (inline: a lookup
        # usually reads one page, and a generator cost as much as the search)
        pgno = self._bucket_page(bucket)
        if pgno >= self.npages:
            return None  # never written: Berkeley DB creates a bucket's page on first use
        seen = 0
        while pgno:
            seen += 1
            if seen > self.npages:
                raise IndexFormatError(f"{self.path}: bucket {bucket}'s page chain loops")
            p = self._cache.get(pgno) or self._page(pgno)
            this, _prev, nxt, n, _hf, _level, ptype = self._h.unpack_from(p, 8)
            if ptype != P_HASH and ptype != P_HASH_UNSORTED:
                if ptype == 0 and seen == 1 and not p.strip(b"\0"):
                    return None  # an empty bucket's page, allocated but never written
                raise IndexFormatError(f"{self.path}: page {pgno} of bucket {bucket} is not a hash page")
            pgno = nxt
            lo = PAGE_HDR + 2 * n
            if n % 2 or lo > ps:
                raise IndexFormatError(f"{self.path}: hash page {this} with {n} items")
            # find the key's bytes on the page, then check that a key item
            # starts there and ends right after them
            pos = p.find(needle, lo)
            if pos < 0:
                continue
            offs = struct.unpack_from(f"{self.bo}{n}H", p, PAGE_HDR)
            srt = sorted(offs)
            keys = offs[0::2]
            while pos >= 0:
                j = bisect.bisect_right(srt, pos)  # an item ends where the next one starts
                if (srt[j] if j < n else ps) == pos + want and pos in keys:
                    ds = offs[2 * keys.index(pos) + 1]   # the first key item that starts there
                    if ds < lo or ds >= ps:
                        raise IndexFormatError(f"{self.path}: item offset {ds} outside its page")
                    j = bisect.bisect_right(srt, ds)
                    return self._item(p, ds, srt[j] if j < n else ps)
                pos = p.find(needle, pos + 1)
        return None

    def _scan(self):
        """(bucket, key, value, stored off-page) of every pair, bucket by bucket."""
        for b in range(self.max_bucket + 1):
            for p, (ks, ke), (ds, de) in self._pairs(b):
                yield b, self._item(p, ks, ke), self._item(p, ds, de), p[ks] == H_OFFPAGE

    def _whole_of(self, scan) -> dict[bytes, tuple[bytes, int]] | None:
        """What get() answers, as a dict: each key with its value and the
        bucket it is stored in (get() checks a hit against the key's own
        bucket: a key stored elsewhere is not found). Only keys stored the
        way get() looks for them (longer than a quarter page: off-page,
        else on the page). None when a key is stored twice: the order in
        which get() meets them decides, and it goes on searching."""
        quarter = self.pagesize // 4
        out: dict[bytes, tuple[bytes, int]] = {}
        for b, key, value, off_page in scan:
            if key in out:
                return None
            if (len(key) > quarter) == off_page:
                out[key] = (value, b)
        return out

    def _read_whole(self) -> dict[bytes, tuple[bytes, int]] | None:
        """_whole_of() every pair; None also for a damaged file (get() then
        searches each key in its bucket and says what is wrong)."""
        try:
            return self._whole_of(self._scan())
        except (IndexFormatError, OSError):
            return None

    def snapshot(self) -> list[tuple[bytes, bytes]]:
        """Every pair, read once -- and kept for get() (see _whole_of): the
        index was read whole anyway."""
        scan = list(self._scan())
        if self._whole is None:
            whole = self._whole_of(scan)
            if whole is not None:
                self._whole, self._whole_at = whole, -1
        return [(k, v) for _b, k, v, _off in scan]

    def _offpage_key_get(self, p: bytes, n: int, key: bytes) -> bytes | None:
        """The value of KEY stored as an off-page item on page P, or None."""
        ps = self.pagesize
        lo = PAGE_HDR + 2 * n
        if n % 2 or lo > ps:
            raise IndexFormatError(f"{self.path}: hash page with {n} items")
        offs = struct.unpack_from(f"{self.bo}{n}H", p, PAGE_HDR)
        for i in range(0, n, 2):
            ks = offs[i]
            if ks < lo or ks >= ps:
                raise IndexFormatError(f"{self.path}: item offset {ks} outside its page")
            if p[ks] != H_OFFPAGE or ks + 12 > ps \
                    or struct.unpack_from(self.bo + "I", p, ks + 8)[0] != len(key) \
                    or self._item(p, ks, ks + 12) != key:
                continue
            ds = offs[i + 1]
            if ds < lo or ds >= ps:
                raise IndexFormatError(f"{self.path}: item offset {ds} outside its page")
            return self._item(p, ds, self._end(offs, ds))
        return None

    def items(self):
        for _b, key, value, _off in self._scan():
            yield key, value


class BtreeReader(_BdbReader):
    """A Berkeley DB btree file (postmap btree:NAME -> NAME.db)."""

    magic = BTREE_MAGIC
    meta_type = P_BTREEMETA
    kind = "btree"
    max_depth = 64

    def _open(self) -> None:
        super()._open()
        self.root = struct.unpack_from(self.bo + "I", self._meta, 88)[0]

    def _bitem(self, p: bytes, start: int, end: int) -> bytes:
        """A leaf item's bytes (B_KEYDATA or B_OVERFLOW)."""
        if start + 3 > end:
            raise IndexFormatError(f"{self.path}: truncated btree item")
        ln = struct.unpack_from(self.bo + "H", p, start)[0]
        t = p[start + 2] & ~B_DELETE
        if t == B_KEYDATA:
            if start + 3 + ln > self.pagesize:
                raise IndexFormatError(f"{self.path}: btree item overruns its page")
            return p[start + 3:start + 3 + ln]
        if t == B_OVERFLOW:
            if start + 12 > self.pagesize:
                raise IndexFormatError(f"{self.path}: truncated off-page item")
            pgno, tlen = struct.unpack_from(self.bo + "II", p, start + 4)
            return self._overflow(pgno, tlen)
        raise IndexFormatError(f"{self.path}: btree item type {t} (duplicates) is not read")

    def _ikey(self, p: bytes, start: int) -> tuple[bytes, int]:
        """An internal item: (key, child page)."""
        if start + 12 > self.pagesize:
            raise IndexFormatError(f"{self.path}: truncated internal item")
        ln, t, _pad, child, _nrecs = struct.unpack_from(self.bo + "HBBII", p, start)
        t &= ~B_DELETE
        if t == B_KEYDATA:
            if start + 12 + ln > self.pagesize:
                raise IndexFormatError(f"{self.path}: internal item overruns its page")
            return p[start + 12:start + 12 + ln], child
        if t == B_OVERFLOW:
            if start + 24 > self.pagesize:
                raise IndexFormatError(f"{self.path}: truncated internal item")
            pgno, tlen = struct.unpack_from(self.bo + "II", p, start + 16)
            return self._overflow(pgno, tlen), child
        raise IndexFormatError(f"{self.path}: internal item type {t} is not read")

    def _leaf_for(self, key: bytes | None):
        """Descend from the root to the leaf that holds KEY (None: the
        leftmost leaf). Returns (page, header)."""
        pgno = self.root
        for _depth in range(self.max_depth):
            p = self._page(pgno)
            hdr = self._header(p)
            n, ptype = hdr[3], hdr[6]
            if ptype == P_LBTREE:
                return p, hdr
            if ptype != P_IBTREE:
                raise IndexFormatError(f"{self.path}: page {pgno} is not a btree page (type {ptype})")
            if n == 0:
                raise IndexFormatError(f"{self.path}: empty internal page {pgno}")
            offs = struct.unpack_from(f"{self.bo}{n}H", p, PAGE_HDR) if PAGE_HDR + 2 * n <= self.pagesize \
                else None
            if offs is None:
                raise IndexFormatError(f"{self.path}: page with {n} items does not fit")
            # the first key of an internal page is less than every key
            lo, hi = 0, n - 1
            if key is not None:
                while lo < hi:  # the last i with key_i <= key
                    mid = (lo + hi + 1) // 2
                    k, _c = self._ikey(p, offs[mid])
                    if k <= key:
                        lo = mid
                    else:
                        hi = mid - 1
            _k, pgno = self._ikey(p, offs[lo])
        raise IndexFormatError(f"{self.path}: btree deeper than {self.max_depth} levels")

    def get(self, key: bytes) -> bytes | None:
        p, hdr = self._leaf_for(key)
        n = hdr[3]
        if n % 2:
            raise IndexFormatError(f"{self.path}: leaf page {hdr[0]} has an odd number of items")
        items = self._items(p, n)
        lo, hi = 0, n // 2 - 1   # keys are sorted (memcmp, then length): binary search
        while lo <= hi:
            mid = (lo + hi) // 2
            s, e = items[2 * mid]
            k = self._bitem(p, s, e)
            if k == key:
                if p[s + 2] & B_DELETE:
                    return None
                return self._bitem(p, *items[2 * mid + 1])
            if k < key:
                lo = mid + 1
            else:
                hi = mid - 1
        return None

    def items(self):
        p, hdr = self._leaf_for(None)
        seen = 0
        while True:
            seen += 1
            if seen > self.npages:
                raise IndexFormatError(f"{self.path}: leaf chain loops")
            n = hdr[3]
            if hdr[6] != P_LBTREE or n % 2:
                raise IndexFormatError(f"{self.path}: bad leaf page {hdr[0]}")
            items = self._items(p, n)
            for i in range(0, n, 2):
                s, e = items[i]
                if p[s + 2] & B_DELETE:
                    continue
                yield self._bitem(p, s, e), self._bitem(p, *items[i + 1])
            nxt = hdr[2]
            if not nxt:
                return
            p = self._page(nxt)
            hdr = self._header(p)
