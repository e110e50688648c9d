"""What the engine remembers: tables kept open, answers kept, and for how long."""
from __future__ import annotations

from typing import Any

import os

from tui.core.filewatch import MAX_AGE, WATCH
from tui.core.postfix.addr_conf import AddrConf, addr_conf
from tui.core.postfix.maps import LookupAnswer, TableFailure, is_table
from tui.core.postfix.resolve_local import resolve_local
from tui.core.rewrite.resolve import Resolved, domain_class, resolve_addr as _resolve_addr
from tui.core.rewrite.route import route as _route
from tui.core.tables import LookupResult, open_table, view_signature
from tui.core.tables.files import FileTable
from tui.core.tables.indexed import SUFFIX as INDEX_SUFFIX, dict_get
from tui.core.trace import Lookup

# TableFailure and is_table live with the library functions that raise and
# use them (tui.core.postfix.maps); named here too for the callers that
# know them from here.
__all__ = ["TableCache", "TableFailure", "is_table", "shared_cache", "memos", "cross_evaluation",
           "resolve_addr", "route"]


_STAMP_PATHS: dict[str, str] = {}  # spec -> the file name whose stat() dates it


class TableCache:
    """Opens each table once per (spec, service) -- once per spec and view
    signature for the tables that take only that from the view (see
    tui.core.tables.view_signature) -- and reuses it.

    What is remembered, for how long, and who owns it:

    | lifetime | owner | what |
    | --- | --- | --- |
    | the Config | the root cache (shared_cache) | `_tables` open tables and their file stamps; `_static` answers of static tables (_STATIC_TYPES), dropped with their table; `_xresolved` results that only static tables decided (cross_evaluation), cleared when any table is reopened; `config_memo` what depends on the configuration alone |
    | a generation | the root cache (current() starts one; for_evaluation and memos() call it) | `_seen` tables whose files were checked; `_fast` each view's spec -> table binding; `_glk` static tables' answers by (view, spec, key); `content_memo` what depends on what the tables hold (suggest.py's proofs) -- while inotify reports no change to a watched file, at most filewatch.MAX_AGE seconds; without inotify, one evaluation |
    | an evaluation | the copy for_evaluation() returns | `_memo` answers of the other tables; `_resolved` resolve_addr answers; `_track` tables asked inside cross_evaluation; `not_evaluated`; `alias_specs` |

    A big map file is read once per Config, not once per trace; a table
    whose file changed on disk since it was opened is opened again.
    """

    def __init__(self):
        # the Config's lifetime
        self._tables: dict = {}
        self._static: dict = {}
        self._xresolved: dict = {}
        self.config_memo: dict = {}
        # a generation (reset by for_evaluation)
        self._seen: dict = {}
        self._fast: dict = {}
        self._glk: dict = {}
        self.content_memo: dict = {}
        self._root = self
        self._gen_serial = -1
        self._gen_until = 0.0
        # an evaluation (fresh in each for_evaluation copy)
        self._memo: dict = {}
        self._resolved: dict = {}
        self._track: list | None = None
        self.not_evaluated: list[str] = []
        self.alias_specs: frozenset[str] = frozenset()  # tables in aliases(5) "name: value" format

    @staticmethod
    def _path(spec: str) -> str | None:
        """The file whose changes date the table `spec` (None: no file)."""
        name = _STAMP_PATHS.get(spec)
        if name is None:
            name, kind = spec, ""
            while ":" in name and not name.startswith("/"):
                kind, name = name.split(":", 1)
            # smtpd answers from the index, so the index's changes date it
            name += INDEX_SUFFIX.get(kind, "")
            if len(_STAMP_PATHS) > 4096:
                _STAMP_PATHS.clear()
            _STAMP_PATHS[spec] = name
        return name if name.startswith("/") else None

    @staticmethod
    def _stat(path: str | None):
        if path is None:
            return None
        try:
            st = os.stat(path)
            return (st.st_mtime_ns, st.st_size)
        except OSError:
            return None

    def _check(self, spec: str, hit):
        """Is the table in `hit` ([table, stamp, token, taken], or None) still
        its file as it is now? Returns (yes, stamp, token, taken) and, when
        yes, refreshes hit. With inotify (tui/core/filewatch.py) an unchanged
        file costs no stat(). A table checked now stays checked for this
        generation only as long as its file's watch vouches for it."""
        path = self._path(spec)
        if hit is not None and path is not None and WATCH.unchanged(path, hit[2], hit[3]):
            same, stamp, token, taken = True, hit[1], hit[2], hit[3]
        else:
            token = WATCH.arm(path) if path is not None else None   # before the stat()
            taken = WATCH.now()
            stamp = self._stat(path)
            same = hit is not None and hit[1] == stamp
            if same and token is not None and hit[2] is not None and token != hit[2]:
                same = False   # an event named the file: changed, even with the same size and mtime
        root = self._root
        if token is None:
            if path is not None:
                root._gen_until = 0.0   # not watchable: check again next evaluation
        elif taken + MAX_AGE < root._gen_until:
            root._gen_until = taken + MAX_AGE
        if same:
            hit[2], hit[3] = token, taken
        return same, stamp, token, taken

    def get(self, spec: str, view):
        fv = self._fast.get(view)  # this generation: spec -> (key, table)
        if fv is not None and fv[0] is view:
            fast = fv[1]
            got = fast.get(spec)
            if got is not None:
                if self._track is not None:
                    self._track.append(got)
                return got[1]
        else:
            fast = {}
            self._fast[view] = (view, fast, {})
        # a table that takes nothing from the view but its signature is
        # shared by every view with that signature (main.cf's for
        # trivial-rewrite's class lists and a service's for smtpd read one
        # map once); any other table is opened per service
        sig = view_signature(spec, view)
        if sig is None:
            sig = getattr(getattr(view, "service", None), "key", None)
        key = (spec, sig)
        t = self._get(key, spec, view)
        fast[spec] = (key, t)
        return t

    def bound(self, spec: str, view):
        """get(), with what table_lookup needs to know of the table, kept
        for this generation: (the (key, table) pair cross_evaluation
        tracks, the table, its static answer memo or None, is_pattern,
        evaluable, _file_table_kind())."""
        fv = self._fast.get(view)
        if fv is not None and fv[0] is view:
            b = fv[2].get(spec)
            if b is not None:
                if self._track is not None:
                    self._track.append(b[0])
                return b
        t = self.get(spec, view)
        fv = self._fast[view]
        b = fv[2][spec] = (fv[1][spec], t, self._static.get(t), getattr(t, "is_pattern", False),
                           getattr(t, "evaluable", True), _file_table_kind(spec, t))
        return b

    def _get(self, key, spec: str, view):
        # one check per table per evaluation, not per lookup (a trace makes
        # dozens of lookups; a stat() per lookup was a fifth of its time)
        t = self._seen.get(key)
        if t is not None:
            if self._track is not None:
                self._track.append((key, t))
            return t
        hit: Any = self._tables.get(key)
        same, stamp, token, taken = self._check(spec, hit)
        if same:
            self._seen[key] = hit[0]
            if self._track is not None:
                self._track.append((key, hit[0]))
            return hit[0]
        if hit is not None:  # reopened: forget what the old table answered
            self._static.pop(hit[0], None)
            self._xresolved.clear()

        t = open_table(spec, view)
        self._tables[key] = [t, stamp, token, taken]
        if type(t).__name__ in _STATIC_TYPES:
            self._static[t] = {}
        self._seen[key] = t
        if self._track is not None:
            self._track.append((key, t))
        return t

    def unchanged(self, key, t) -> bool:
        """Is t still the table for key (spec, service or view signature), its file unchanged?
        The same check as get(), without opening anything."""
        seen = self._seen.get(key)
        if seen is not None:
            return seen is t
        hit = self._tables.get(key)
        if hit is None or hit[0] is not t:
            return False
        if not self._check(key[0], hit)[0]:
            return False
        self._seen[key] = t
        return True

    def lookup(self, view, spec: str, key: str, lookups: list,
               partial: bool = False) -> LookupAnswer:
        """One dict_get. Returns (found, value, error); records a Lookup.

        partial=True is Postfix's DICT_FLAG_FIXED query: pattern tables
        (regexp, pcre, cidr) are not asked (returns not found, records nothing).
        """
        glk = self._glk
        gkey = (view, spec, key, partial)
        g = glk.get(gkey)
        if g is not None and g[3] is view:   # asked before in this generation
            if self._track is not None:
                self._track.append(g[0])
            if g[1] is not None:
                lookups.append(g[1])
            return g[2]
        dep, t, smemo, is_pattern, evaluable, file_kind = self.bound(spec, view)
        if partial and is_pattern:
            if smemo is not None:
                glk[gkey] = (dep, None, _NOT_ASKED, view)
            return _NOT_ASKED
        if not evaluable:
            lookups.append(Lookup(spec, key, False, None, None, None,
                                  note="not evaluated (table type not supported offline)"))
            if spec not in self.not_evaluated:
                self.not_evaluated.append(spec)
            return False, None, None
        # One trace asks the same table for the same key several times (address
        # classes of sender and recipient, relay checks, recipient validation):
        # each is still recorded, but asked once -- a MySQL round trip each.
        alias = spec in self.alias_specs and not key.endswith(":")
        if smemo is not None:
            # Tables with static answers (_STATIC_TYPES) keep them across
            # evaluations, and within one generation of checked tables
            # (TableCache) the answer to a key is final: the next ask skips get()
            # and the table (still recorded, and reported to cross_evaluation).
            mkey: tuple = (key, alias)
            got = smemo.get(mkey)
            if got is None:
                got = _ask_file_table(t, spec, key, file_kind) if file_kind and key.isascii() else None
                if got is None:
                    got = _ask(t, spec, key, alias)
                if len(smemo) >= _STATIC_MAX:
                    smemo.clear()
                smemo[mkey] = got
            glk[gkey] = (dep, got[0], got[1], view)
        else:
            mkey = (t, key, alias)
            memo = self._memo
            got = memo.get(mkey)
            if got is None:
                got = memo[mkey] = _ask(t, spec, key, alias)
        lookups.append(got[0])   # a Lookup is immutable: shared by every use
        return got[1]

    def current(self) -> "TableCache":
        """This (root) cache, a new generation begun when the last one can
        no longer be trusted (see the table above)."""
        WATCH.drain()  # which map files changed since the last evaluation
        if not (WATCH.active and self._gen_serial == WATCH.serial
                and WATCH.drained_at < self._gen_until):
            self._seen = {}   # a new generation: every table is checked again
            self._fast = {}
            self._glk = {}
            self.content_memo = {}
            self._gen_serial = WATCH.serial
            self._gen_until = float("inf")
        return self

    def for_evaluation(self) -> "TableCache":
        """A view of this cache with fresh per-evaluation bookkeeping."""
        self.current()
        c = TableCache.__new__(TableCache)
        d = c.__dict__
        d.update(self.__dict__)   # the shared parts, then this evaluation's own
        d["_root"] = self
        d["_memo"] = {}
        d["_resolved"] = {}
        d["_track"] = None
        d["not_evaluated"] = []
        d["alias_specs"] = frozenset()
        return c

    def close(self):
        for t, *_rest in self._tables.values():
            try:
                t.close()
            except Exception:  # pragma: no cover - closing is best effort
                pass
        self._tables.clear()
        self._static.clear()
        self._xresolved.clear()


# Table classes whose lookup answers are a function of the key and of what
# was read when the table was opened (TableCache.get reopens a table whose
# file changed): their answers are kept across evaluations. Not SQL, unix:
# or other tables whose data lives elsewhere.
_STATIC_TYPES = frozenset({"FileTable", "CidrTable", "RegexpTable", "InlineTable", "StaticTable"})
_STATIC_MAX = 20000  # answers kept per table before its memo starts over


def _root(cfg) -> TableCache:
    """The TableCache that belongs to this Config object (created on first
    use), kept on the Config itself: the cache holds the Config's parameter
    views, so the two form a cycle the garbage collector frees together once
    nothing else holds the Config (a cache kept elsewhere by a weak key
    would keep that key alive through its views, and every reloaded
    configuration, maps included, would stay in memory). An object that
    cannot carry it gets a new one each time."""
    cache = getattr(cfg, "_explorer_table_cache", None)
    if cache is None:
        cache = TableCache()
        try:
            cfg._explorer_table_cache = cache
        except (AttributeError, TypeError):  # cannot carry it: a private cache
            pass
    return cache


def shared_cache(cfg) -> TableCache:
    """A copy of the Config's TableCache for one evaluation."""
    return _root(cfg).for_evaluation()


def memos(cfg) -> TableCache:
    """The Config's own TableCache, its generation current: for what it
    remembers beside the tables (config_memo, content_memo), without an
    evaluation's copy."""
    return _root(cfg).current()


_NOT_ASKED = (False, None, None)


def _ask(t, spec: str, key: str, alias: bool):
    """t.lookup(key) -> (the Lookup to record, (found, value, error))."""
    err: str | None
    rkey: str | None
    where: str | None
    value: str | None
    # alias tables (alias_maps/alias_database) are opened as aliases(5)
    # sources by open_table itself: no retry with "key:" needed
    r = t.lookup(key)
    if type(r) is LookupResult:
        err, rkey, where = r.error, r.key, r.where
    else:
        err, rkey, where = getattr(r, "error", None), getattr(r, "key", key), getattr(r, "where", None)
    found = bool(r.found)
    value = r.value if found else None
    lk = Lookup.make(spec, rkey or key, found, value, err, where, None)
    if err:
        return lk, (False, None, err)
    return lk, (found, value, None)


# what _ask_file_table() may answer for a table (TableCache.bound keeps it)
_NOT_FILE = 0     # not a FileTable: the table's own lookup()
_FROM_SOURCE = 1  # a FileTable Postfix reads from its source (texthash, dbm, sdbm)
_FROM_INDEX = 2   # a FileTable read from its index, dated by that same file (see _path)


def _file_table_kind(spec: str, t) -> int:
    """Which of _ask_file_table's shortcuts table T (opened for SPEC) takes."""
    if type(t) is not FileTable:
        return _NOT_FILE
    if not t.reads_index:
        return _FROM_SOURCE
    return _FROM_INDEX if TableCache._path(spec) == t.index_path else _NOT_FILE


def _ask_file_table(t: FileTable, spec: str, key: str, kind: int):
    """FileTable.lookup()'s common case for an ASCII key (folded by lower()
    whatever smtputf8_enable says), as _ask() returns it, without the
    LookupResult: most keys a trace asks are new and not found. None when
    the table must say itself what went wrong (or is not loaded yet).

    KIND is _file_table_kind(spec, t). An index is asked without the
    stat() that FileTable._index_lookup makes first: this cache dates the
    table by that same file, has checked it for this generation, and
    opens the table again when it changed."""
    fkey = key.lower()
    try:
        if kind == _FROM_SOURCE:
            index = t._src_index
            if index is None:
                return None
            off = index.get(fkey.encode("ascii"))
            value = None if off is None else t._value_at(off)
            where = None if off is None else f"{t.path}:{t._line_of(off)}"
        else:
            reader = t._reader
            if reader is None:
                return None
            value = dict_get(reader, fkey)
            where = None if value is None else t._where(fkey, value)
    except Exception:
        return None
    if value is None:
        return Lookup.make(spec, key, False, None, None, None, None), _NOT_ASKED
    return Lookup.make(spec, key, True, value, None, where, None), (True, value, None)


def cross_evaluation(cache, key, compute):
    """compute(), kept across evaluations of one Config when every table it
    asked has static answers (_STATIC_TYPES): it is computed again only when
    one of those tables is reopened (its file changed). The value must be
    treated as read-only by callers. Tables asked are reported to an
    enclosing cross_evaluation() (cache._track), also on a hit."""
    xmemo = cache._xresolved
    hit = xmemo.get(key)
    outer = cache._track
    if hit is not None:
        value, deps, gen = hit
        # gen: the generation of checked tables the deps were checked in;
        # while it is current, no table file changed since
        if gen is cache._seen or all(cache.unchanged(k, t) for k, t in deps):
            if gen is not cache._seen:   # checked in this generation now: the next hit is a dict get
                xmemo[key] = (value, deps, cache._seen)
            if outer is not None:
                outer.extend(deps)
            return value
    cache._track = track = []
    try:
        value = compute()
    finally:
        cache._track = outer
        if outer is not None and track:
            outer.extend(track)
    static = cache._static
    for _k, t in track:
        if t not in static:
            xmemo.pop(key, None)
            return value
    if len(xmemo) > 20000:
        xmemo.clear()
    xmemo[key] = (value, tuple(dict.fromkeys(track)), cache._seen)
    return value


# ---------------------------------------------------------------- trivial-rewrite, remembered
def resolve_addr(env, addr: str, with_transport: bool = True) -> Resolved:
    """tui.core.rewrite.resolve.resolve_addr(), remembered (env.tables: a
    TableCache).

    One evaluation (env.tables, a for_evaluation() copy) resolves an address
    once; a repeat gets the same Resolved, which callers must not change
    (each records its lookups from it). Across evaluations what is kept is
    the address class of each domain (_remembered_class) and, for a
    mydestination with tables, each domain's resolve_local() answer
    (_remembered_local): an address whose domain was seen costs a rewrite,
    not a table lookup.
    """
    memo = env.tables._resolved
    key = (addr, with_transport)
    r = memo.get(key)
    if r is None:
        if with_transport and not addr_conf(env, env.main).transport_maps:
            # the same answer: no transport table to ask
            r = memo.get((addr, False))
            if r is None:
                r = memo[(addr, False)] = _resolve_addr(env, addr, False, classify=_remembered_class,
                                                        is_local=_remembered_local)
            memo[key] = r
        else:
            r = memo[key] = _resolve_addr(env, addr, with_transport, classify=_remembered_class,
                                          is_local=_remembered_local)
    return r


def route(env, address: str):
    """tui.core.rewrite.route.route(), its addresses resolved through resolve_addr() above."""
    return _route(env, address, resolve_addr)


def _shareable(view, name: str, conf: AddrConf) -> bool:
    """May an answer about NAME in VIEW be kept across evaluations? Not for
    an address or domain literal (the host's interfaces) or a view whose
    class lists or myorigin read a file."""
    return "[" not in name and conf.shareable


def _remembered_class(env, view, domain: str, conf: AddrConf):
    """domain_class(), kept across evaluations (see cross_evaluation)."""
    cache = env.tables
    key = ("class", domain, view, cache.alias_specs)
    # a domain seen before, with no table changed since (in this
    # generation): cross_evaluation's hit, without its calls
    hit = cache._xresolved.get(key)
    if hit is not None and hit[2] is cache._seen and cache._track is None:
        return hit[0]
    if not _shareable(view, domain, conf):
        return domain_class(env, view, domain, conf)
    return cross_evaluation(cache, key, lambda: domain_class(env, view, domain, conf))


def _remembered_local(env, view, dom: str, lookups: list) -> int:
    """resolve_local() kept across evaluations (see cross_evaluation) when
    mydestination names tables (a domain is asked about for every address
    in it)."""
    cache = env.tables
    if not _shareable(view, dom, addr_conf(env, view)):
        return resolve_local(env, view, dom, lookups)

    def compute():
        lk: list = []
        return resolve_local(env, view, dom, lk), tuple(lk)

    try:
        answer, lk = cross_evaluation(cache, ("local", dom, view, cache.alias_specs), compute)
    except TableFailure as exc:
        lookups.extend(exc.lookups)
        exc.lookups = lookups
        raise
    lookups.extend(lk)
    return answer
