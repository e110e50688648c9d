"""Address classes, relay authorisation, recipient validation and routing.

This is the part of Postfix that the trivial-rewrite service does (rewrite an
address to canonical form, resolve it to an address class, a transport and a
next hop) plus the recipient validation that smtpd does with the result.

Address classes are decided with main.cf's values (trivial-rewrite does not
see a service's -o overrides); recipient validation and the table lookups smtpd
makes itself use the service's view. Every table lookup made is recorded as a
`Lookup` so the trace can show it.
"""
from __future__ import annotations

import functools
import ipaddress
import os
import re
import socket
from dataclasses import dataclass, field

from tui.core.filewatch import MAX_AGE, WATCH
from tui.core.tables import LookupResult, view_signature
from tui.core.tables.files import FileTable
from tui.core.trace import Lookup, Route, RouteTarget

CLASS_LOCAL = "local"
CLASS_ALIAS = "virtual_alias"
CLASS_VIRTUAL = "virtual_mailbox"
CLASS_RELAY = "relay"

# The table that validates recipients of each address class (smtpd's
# check_rcpt_maps): parameter, reply-code parameter, "User unknown in ... table".
_RECIPIENT_MAPS = {
    CLASS_LOCAL: ("local_recipient_maps", "unknown_local_recipient_reject_code", "local recipient"),
    CLASS_VIRTUAL: ("virtual_mailbox_maps", "unknown_virtual_mailbox_reject_code", "virtual mailbox"),
    CLASS_RELAY: ("relay_recipient_maps", "unknown_relay_recipient_reject_code", "relay recipient"),
}
CLASS_DEFAULT = "default"

CLASS_TEXT = {
    CLASS_LOCAL: "local (mydestination / inet_interfaces / proxy_interfaces)",
    CLASS_ALIAS: "virtual alias (virtual_alias_domains)",
    CLASS_VIRTUAL: "virtual mailbox (virtual_mailbox_domains)",
    CLASS_RELAY: "relay (relay_domains)",
    CLASS_DEFAULT: "default (none of mydestination, virtual_alias_domains, "
                   "virtual_mailbox_domains, relay_domains)",
}


class TableFailure(Exception):
    """A table lookup failed (Postfix: dict->error != 0)."""

    def __init__(self, table: str, message: str, lookups: list | None = None):
        super().__init__(f"{table}: {message}")
        self.table = table
        self.message = message
        self.lookups = lookups or []


# ---------------------------------------------------------------- tables

_STAMP_PATHS: dict[str, str] = {}  # spec -> the file name whose stat() dates it


class TableCache:
    """Opens each table once per (spec, service) -- once per spec and view
    signature for the tables that take only that from the view (see
    tui.core.tables.view_signature) -- and reuses it.

    One cache lives as long as its Config (see shared_cache): a big map file
    is read once, not once per trace. A table whose file changed on disk
    since it was opened is opened again.
    """

    def __init__(self):
        self._tables: dict = {}
        # across evaluations: id(table) -> {key: LookupResult} for tables whose
        # answers depend only on the file read when they were opened (see
        # _STATIC_TYPES); dropped with the table when its file changes
        self._static: dict = {}
        # tables whose files were checked: (spec, service or view signature) -> table, and
        # id(view) -> (view, {spec: ((spec, service or view signature), table)}). Shared by
        # the evaluations of one "generation": while inotify reports no change
        # to any watched map file (tui/core/filewatch.py) and for at most
        # filewatch.MAX_AGE seconds; without inotify, a generation is one
        # evaluation (every table's file is stat()ed once per evaluation).
        self._seen: dict = {}
        self._fast: dict = {}
        self._glk: dict = {}   # this generation: static tables' answers (table_lookup)
        self._root = self
        self._gen_serial = -1
        self._gen_until = 0.0
        self._memo: dict = {}  # this evaluation: (table, key) -> LookupResult
        self._resolved: dict = {}  # this evaluation: (address, with_transport) -> Resolved
        # across evaluations: resolve_addr answers that only static tables
        # decided, with the tables they asked (see resolve_addr)
        self._xresolved: dict = {}
        # across evaluations: what depends only on the configuration (e.g.
        # restrictions.Evaluator's startup checks), keyed by its users
        self.config_memo: dict = {}
        self._track: list | None = None  # tables asked while resolving (get() appends)
        self.not_evaluated: list[str] = []  # specs we could not evaluate (this evaluation)
        self.alias_specs: frozenset[str] = frozenset()  # tables in aliases(5) "name: value" format

    @staticmethod
    def _path(spec: str) -> str | None:
        """The file whose changes date the table `spec` (None: no file)."""
        name = _STAMP_PATHS.get(spec)
        if name is None:
            name = spec
            while ":" in name and not name.startswith("/"):
                name = name.split(":", 1)[1]
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
        fv = self._fast.get(id(view))  # this generation: spec -> (key, table)
        if fv is not None and fv[0] is view:
            fast = fv[1]
            got = fast.get(spec)
            if got is not None:
                if self._track is not None:
                    self._track.append(got)
                return got[1]
        else:
            fast = {}
            self._fast[id(view)] = (view, fast, {})
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
        evaluable)."""
        fv = self._fast.get(id(view))
        if fv is not None and fv[0] is view:
            b = fv[2].get(spec)
            if b is not None:
                if self._track is not None:
                    self._track.append(b[0])
                return b
        t = self.get(spec, view)
        fv = self._fast[id(view)]
        b = fv[2][spec] = (fv[1][spec], t, self._static.get(id(t)), getattr(t, "is_pattern", False),
                           getattr(t, "evaluable", True))
        return b

    def _get(self, key, spec: str, view):
        # one check per table per evaluation, not per lookup (a trace makes
        # dozens of lookups; a stat() per lookup was a fifth of its time)
        t = self._seen.get(key)
        if t is not None:
            if self._track is not None:
                self._track.append((key, t))
            return t
        hit = self._tables.get(key)
        same, stamp, token, taken = self._check(spec, hit)
        if same:
            self._seen[key] = hit[0]
            if self._track is not None:
                self._track.append((key, hit[0]))
            return hit[0]
        if hit is not None:  # reopened: forget what the old table answered
            self._static.pop(id(hit[0]), None)
            self._xresolved.clear()
        from tui.core.tables import open_table

        t = open_table(spec, view)
        self._tables[key] = [t, stamp, token, taken]
        if type(t).__name__ in _STATIC_TYPES:
            self._static[id(t)] = {}
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

    def for_evaluation(self) -> "TableCache":
        """A view of this cache with fresh per-evaluation bookkeeping."""
        WATCH.drain()  # which map files changed since the last evaluation
        if not (WATCH.active and self._gen_serial == WATCH.serial
                and WATCH.drained_at < self._gen_until):
            self._seen = {}   # a new generation: every table is checked again
            self._fast = {}
            self._glk = {}
            self._gen_serial = WATCH.serial
            self._gen_until = float("inf")
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

def shared_cache(cfg) -> TableCache:
    """The TableCache that belongs to this Config object (created on first
    use), kept on the Config itself: the cache holds the Config's parameter
    views, so the two form a cycle the garbage collector frees together once
    nothing else holds the Config (a cache kept elsewhere by a weak key
    would keep that key alive through its views, and every reloaded
    configuration, maps included, would stay in memory)."""
    cache = getattr(cfg, "_explorer_table_cache", None)
    if cache is None:
        cache = TableCache()
        try:
            cfg._explorer_table_cache = cache
        except (AttributeError, TypeError):  # cannot carry it: a private cache
            return cache
    return cache.for_evaluation()


def table_lookup(cache: TableCache, view, spec: str, key: str, lookups: list,
                 partial: bool = False):
    """One dict_get. Returns (found, value, error); records a Lookup.

    partial=True is Postfix's DICT_FLAG_FIXED query: pattern tables
    (regexp, pcre, cidr) are not asked (returns not found, records nothing).
    """
    glk = cache._glk
    gkey = (id(view), spec, key, partial)
    g = glk.get(gkey)
    if g is not None and g[3] is view:   # asked before in this generation
        if cache._track is not None:
            cache._track.append(g[0])
        if g[1] is not None:
            lookups.append(g[1])
        return g[2]
    dep, t, smemo, is_pattern, evaluable = cache.bound(spec, view)
    if partial and is_pattern:
        if smemo is not None:
            glk[gkey] = (dep, None, _NOT_ASKED, view)
        return _NOT_ASKED
    if not evaluable:
        lookups.append(Lookup(spec, key, False, None, None, None,
                              note="not evaluated (table type not supported offline)"))
        if spec not in cache.not_evaluated:
            cache.not_evaluated.append(spec)
        return False, None, None
    # One trace asks the same table for the same key several times (address
    # classes of sender and recipient, relay checks, recipient validation):
    # each is still recorded, but asked once -- a MySQL round trip each.
    alias = spec in cache.alias_specs and not key.endswith(":")
    if smemo is not None:
        # Tables with static answers (_STATIC_TYPES) keep them across
        # evaluations, and within one generation of checked tables
        # (TableCache) the answer to a key is final: the next ask skips get()
        # and the table (still recorded, and reported to cross_evaluation).
        mkey = (key, alias)
        got = smemo.get(mkey)
        if got is None:
            got = _ask(t, spec, key, alias)
            if len(smemo) >= _STATIC_MAX:
                smemo.clear()
            smemo[mkey] = got
        glk[gkey] = (dep, got[0], got[1], view)
    else:
        mkey = (id(t), key, alias)
        memo = cache._memo
        got = memo.get(mkey)
        if got is None:
            got = memo[mkey] = _ask(t, spec, key, alias)
    lookups.append(got[0])   # a Lookup is immutable: shared by every use
    return got[1]


_NOT_ASKED = (False, None, None)


def _ask(t, spec: str, key: str, alias: bool):
    """t.lookup(key) -> (the Lookup to record, (found, value, error))."""
    if type(t) is FileTable and key.isascii():
        # FileTable.lookup()'s own fast case (a loaded index, an ASCII key,
        # folded by lower() whatever smtputf8_enable says) without its
        # LookupResult: most keys a trace asks are new and not found
        index = t._index
        if index is not None:
            off = index.get(key.lower().encode("ascii"))
            if off is None:
                return Lookup.make(spec, key, False, None, None, None, None), _NOT_ASKED
            try:
                value = t._value_at(off)
                where = f"{t.path}:{t._line_of(off)}"
            except Exception:
                pass   # lookup() below says what went wrong
            else:
                return Lookup.make(spec, key, True, value, None, where, None), (True, value, None)
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


def maps_find(cache: TableCache, view, specs: list[str], key: str, lookups: list,
              partial: bool = False):
    """Postfix maps_find(): each table in order; first hit or first error."""
    for spec in specs:
        found, value, err = table_lookup(cache, view, spec, key, lookups, partial)
        if found:
            return value, None, spec
        if err:
            return None, err, spec
    return None, None, None


def is_table(item: str) -> bool:
    return not item.startswith("[") and ":" in item


# ---------------------------------------------------------------- parameters

def _get(view, name: str) -> str:
    try:
        v = view.expand(name)
    except Exception:
        v = None
    return v or ""


def _list(view, name: str) -> list[str]:
    try:
        got = view.get_list(name)
        return got if type(got) is list else list(got)   # ParamView: a new list each time
    except Exception:
        v = _get(view, name)
        return [x for x in v.replace(",", " ").split() if x]


def _bool(view, name: str, default: bool = False) -> bool:
    try:
        return bool(view.get_bool(name))
    except Exception:
        v = _get(view, name).strip().lower()
        if v in ("yes", "true", "1"):
            return True
        if v in ("no", "false", "0"):
            return False
        return default


def parent_style(view, name: str) -> bool:
    return name in _list(view, "parent_domain_matches_subdomains")


def read_myorigin(view) -> str:
    v = _get(view, "myorigin").strip()
    if v.startswith("/"):
        try:
            with open(v, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    line = line.strip()
                    if line and not line.startswith("#"):
                        return line.lower()
        except OSError:
            return _get(view, "myhostname").lower()
    return v.lower()


# ---------------------------------------------------------------- match lists

_PATTERNS: dict = {}


def _expand_patterns(items: list[str], init: bool = True) -> list[tuple[bool, str]]:
    """match_list_parse: '!' negation, /file inline expansion, case folding.
    Lists that name no /file are parsed once (a trace matches the same few
    lists many times); a /file is read each time, as before."""
    key = (tuple(items), init)
    got = _PATTERNS.get(key)
    if got is not None:
        return got
    out = _expand_patterns_uncached(items, init)
    if not any(it.lstrip("!").startswith("/") for it in items):
        if len(_PATTERNS) > 4096:
            _PATTERNS.clear()
        _PATTERNS[key] = out = tuple(out)
    return out


def _expand_patterns_uncached(items: list[str], init: bool = True) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    for start in items:
        if start.startswith("#"):
            break
        match = init
        item = start
        while item.startswith("!"):
            match = not match
            item = item[1:]
        if not item:
            continue
        if item.startswith("/"):
            try:
                with open(item, encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        if line.startswith("#"):
                            continue
                        out.extend(_expand_patterns_uncached(line.replace(",", " ").split(), match))
            except OSError as exc:
                out.append((match, f"nofile:{item}"))
                out[-1] = (match, f"__nofile__:{item}:{exc.strerror}")
            continue
        if is_table(item):
            out.append((match, item))
        else:
            out.append((match, item.lower()))
    return out


@dataclass(slots=True)
class MatchResult:
    matched: bool
    pattern: str | None = None
    error: str | None = None
    lookups: list = field(default_factory=list)


_NO_MATCH = MatchResult(False)  # read-only


def _match_string(cache, view, string: str, pattern: str, lookups: list):
    if pattern.startswith("__nofile__:"):
        return False, pattern.split(":", 2)[2]
    if is_table(pattern):
        found, _v, err = table_lookup(cache, view, pattern, string, lookups)
        if found:
            return True, None
        return False, err
    return string == pattern, None


def _match_hostname(cache, view, name: str, pattern: str, parent: bool, lookups: list):
    if pattern.startswith("__nofile__:"):
        return False, pattern.split(":", 2)[2]
    if is_table(pattern):
        t = cache.get(pattern, view)
        fixed = not getattr(t, "is_pattern", False)
        entry = name
        first = True
        while entry:
            if first or fixed:
                found, _v, err = table_lookup(cache, view, pattern, entry, lookups)
                if found:
                    return True, None
                if err:
                    return False, err
            first = False
            nxt = entry.find(".", 1)
            if nxt < 0:
                break
            entry = entry[nxt + 1:] if parent else entry[nxt:]
        return False, None
    if name == pattern:
        return True, None
    if parent:
        pd = len(name) - len(pattern)
        if pd > 0 and name[pd - 1] == "." and name[pd:] == pattern:
            return True, None
    elif pattern.startswith("."):
        pd = len(name) - len(pattern)
        if pd > 0 and name[pd:] == pattern:
            return True, None
    return False, None


_V4 = set("01234567890.")
_V6 = _V4 | set("abcdefABCDEF:")


def _match_hostaddr(cache, view, addr: str, pattern: str, lookups: list):
    if pattern.startswith("__nofile__:"):
        return False, pattern.split(":", 2)[2]
    if any(c not in _V6 for c in addr):
        return False, None
    if is_table(pattern):
        found, _v, err = table_lookup(cache, view, pattern, addr, lookups)
        return (True, None) if found else (False, err)
    if not pattern.startswith("["):
        if addr == pattern:
            return True, None
    else:
        if pattern[1:] == addr + "]":
            return True, None
    if (":" in addr) != (":" in pattern):
        return False, None
    net, err = _net_pattern(pattern)
    if net is None:
        return False, err
    ip = _ip_address(addr)
    if ip is None:
        return False, None
    try:
        return ip in net, None
    except ValueError:
        return False, None


_V6_NET = _V6 | set("[]/")


@functools.lru_cache(maxsize=4096)
def _net_pattern(pattern: str):
    """A net/mask pattern parsed once: (network, None), or (None, error or None)."""
    if (not any(c in ":/" for c in pattern)
            or all(c in _V4 for c in pattern)
            or any(c not in _V6_NET for c in pattern)):
        return None, None
    p = pattern.replace("[", "").replace("]", "")
    try:
        return ipaddress.ip_network(p, strict=True), None
    except ValueError:
        try:
            ipaddress.ip_network(p, strict=False)
            return None, f"non-null host address bits in \"{pattern}\""
        except ValueError:
            return None, f"bad net/mask pattern: \"{pattern}\""


@functools.lru_cache(maxsize=4096)
def _ip_address(addr: str):
    try:
        return ipaddress.ip_address(addr)
    except ValueError:
        return None


def string_list_match(cache, view, items: list[str], string: str, lookups: list) -> MatchResult:
    string = string.lower()
    for match, pat in _expand_patterns(items):
        ok, err = _match_string(cache, view, string, pat, lookups)
        if ok:
            return MatchResult(match, pat, None, lookups)
        if err:
            return MatchResult(False, pat, err, lookups)
    return MatchResult(False, None, None, lookups)


def domain_list_match(cache, view, items: list[str], domain: str, parent: bool,
                      lookups: list) -> MatchResult:
    domain = domain.lower()
    for match, pat in _expand_patterns(items):
        ok, err = _match_hostname(cache, view, domain, pat, parent, lookups)
        if ok:
            return MatchResult(match, pat, None, lookups)
        if err:
            return MatchResult(False, pat, err, lookups)
    return MatchResult(False, None, None, lookups)


_NAMADR: dict = {}  # lists without tables or files: (items, name, addr, parent) -> answer
_NAMADR_PLANS: dict = {}  # tuple(items) -> _namadr_plan(items)


def namadr_list_match(cache, view, items: list[str], name: str, addr: str, parent: bool,
                      lookups: list) -> MatchResult:
    name = name.lower()
    addr = addr.lower()
    titems = tuple(items)
    plan = _NAMADR_PLANS.get(titems)
    if plan is None:
        if len(_NAMADR_PLANS) > 4096:
            _NAMADR_PLANS.clear()
        plan = _NAMADR_PLANS[titems] = _namadr_plan(items)
    if plan is False:
        return _namadr_list_match(cache, view, _expand_patterns(items), name, addr, parent, lookups)
    # no table to ask, no file to read: the answer depends on the strings only
    key = (titems, name, addr, parent)
    got = _NAMADR.get(key)
    if got is None:
        got = _namadr_plan_match(plan, name, addr, parent)
        if len(_NAMADR) > 20000:
            _NAMADR.clear()
        _NAMADR[key] = got
    return MatchResult(got[0], got[1], got[2], lookups)


def _namadr_plan(items: list[str]):
    """A list without tables or /files, parsed for _namadr_plan_match():
    ((match, pattern, the address it is equal to, (net int, mask int) of an
    IPv4 net/mask, the ip_network of an IPv6 one, its error), ...);
    False for a list that names a table or a /file."""
    pats = _expand_patterns(items)
    if not isinstance(pats, tuple) or any(is_table(p) or p.startswith("__nofile__:") for _m, p in pats):
        return False
    plan = []
    for match, pat in pats:
        if not pat.startswith("["):
            exact = pat
        elif pat.endswith("]") and len(pat) >= 2:
            exact = pat[1:-1]     # pattern[1:] == addr + "]"
        else:
            exact = None
        net, err = _net_pattern(pat)
        v4 = None
        if net is not None and net.version == 4 and ":" not in pat:
            v4 = (int(net.network_address), int(net.netmask))
            net = None
        plan.append((match, pat, exact, v4, net, err, ":" in pat))
    return tuple(plan)


_HOSTADDR_CHARS = re.compile(r"[0-9a-fA-F.:]*")


def _ipv4_int(addr: str):
    """ipaddress.IPv4Address(addr) as an int, None where it raises (an
    address without ':' is never IPv6). inet_pton() takes exactly the
    strict dotted quad ipaddress takes (no leading zeros, 4 parts, each at
    most 255: tests/core/test_classes_fastpath.py), in C."""
    try:
        return int.from_bytes(_inet_pton(_AF_INET, addr), "big")
    except (OSError, ValueError):
        return None


_inet_pton = socket.inet_pton
_AF_INET = socket.AF_INET


def _namadr_plan_match(plan, name: str, addr: str, parent: bool):
    """_namadr_list_match() over a _namadr_plan: (matched, pattern, error)."""
    addr_ok = _HOSTADDR_CHARS.fullmatch(addr) is not None
    v6 = ":" in addr
    ip = ipint = False   # not yet parsed
    for match, pat, exact, v4, net, err, pat_v6 in plan:
        # _match_hostname()
        if name == pat:
            return match, pat, None
        pd = len(name) - len(pat)
        if pd > 0 and name[pd:] == pat and (name[pd - 1] == "." if parent else pat[0] == "."):
            return match, pat, None
        # _match_hostaddr()
        if not addr_ok:
            continue
        if addr == exact:
            return match, pat, None
        if v6 != pat_v6:
            continue
        if v4 is not None:
            if ipint is False:
                ipint = _ipv4_int(addr) if not v6 else None
            if ipint is not None and ipint & v4[1] == v4[0]:
                return match, pat, None
            continue
        if net is None:
            if err:
                return False, pat, err
            continue
        if ip is False:
            ip = _ip_address(addr)
        if ip is not None:
            try:
                if ip in net:
                    return match, pat, None
            except ValueError:
                pass
    return False, None, None


def _namadr_list_match(cache, view, pats, name: str, addr: str, parent: bool,
                       lookups: list) -> MatchResult:
    for match, pat in pats:
        ok, err = _match_hostname(cache, view, name, pat, parent, lookups)
        if ok:
            return MatchResult(match, pat, None, lookups)
        if err:
            return MatchResult(False, pat, err, lookups)
        ok, err = _match_hostaddr(cache, view, addr, pat, lookups)
        if ok:
            return MatchResult(match, pat, None, lookups)
        if err:
            return MatchResult(False, pat, err, lookups)
    return MatchResult(False, None, None, lookups)


# ---------------------------------------------------------------- local domains

def _interface_addrs(view, name: str) -> list[str]:
    vals = _list(view, name)
    out: list[str] = []
    for v in vals:
        lv = v.lower()
        if lv == "all":
            out.extend(_host_addresses())
        elif lv in ("loopback-only",):
            out.extend(["127.0.0.1", "::1"])
        else:
            h = v.strip("[]")
            try:
                out.append(str(ipaddress.ip_address(h)))
            except ValueError:
                try:
                    for info in socket.getaddrinfo(h, None):
                        out.append(info[4][0])
                except OSError:
                    pass
    return out


def _host_addresses() -> list[str]:
    addrs = {"127.0.0.1", "::1"}
    try:
        with open("/proc/net/fib_trie", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
        for i, line in enumerate(lines):
            if "/32 host LOCAL" in line and i > 0:
                ip = lines[i - 1].strip().split()[-1]
                addrs.add(ip)
    except OSError:
        pass
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as fh:
            for line in fh:
                h = line.split()[0]
                addrs.add(str(ipaddress.ip_address(":".join(h[i:i + 4] for i in range(0, 32, 4)))))
    except (OSError, ValueError, IndexError):
        pass
    return sorted(addrs)


def resolve_local(env, view, domain: str, lookups: list):
    """1 local, 0 not, raises TableFailure on a mydestination lookup error."""
    d = domain.lower()
    if not d:
        return 0
    if d.endswith("."):
        d = d[:-1]
    if not d or d.endswith("."):
        return 0
    res = string_list_match(env.tables, view, _list(view, "mydestination"), d, lookups)
    if res.matched:
        return 1
    if res.error:
        raise TableFailure(res.pattern or "mydestination", res.error, lookups)
    if d.startswith("[") and d.endswith("]"):
        lit = d[1:-1]
        if lit.startswith("ipv6:"):
            lit = lit[5:]
        try:
            ip = str(ipaddress.ip_address(lit))
        except ValueError:
            return 0
        mine = _interface_addrs(view, "inet_interfaces") + _interface_addrs(view, "proxy_interfaces")
        if ip in mine:
            return 1
    return 0


# ---------------------------------------------------------------- rewriting

def canonicalize(view, addr: str) -> str:
    """rewrite_clnt(local context): qualify an address like trivial-rewrite
    (_canonicalize with the view's settings read now)."""
    return _canonicalize(_AddrConf(view), view, addr)


@dataclass(slots=True)
class Resolved:
    recipient: str
    address_class: str
    domain: str
    transport: str = ""
    nexthop: str = ""
    routed: bool = False
    error: bool = False
    lookups: list = field(default_factory=list)
    class_pattern: str | None = None   # what matched (e.g. the relay_domains entry)
    transport_source: str = ""


def resolve_addr(env, addr: str, with_transport: bool = True) -> Resolved:
    """trivial-rewrite resolve_addr() with main.cf values.

    Raises TableFailure when a table that classifies addresses cannot be read
    (Postfix: RESOLVE_FLAG_FAIL). One evaluation resolves an address once;
    a repeat gets the same Resolved, which callers must not change (each
    records its lookups from it). Across evaluations what is kept is the
    address class of each domain (_domain_class_shared) and, for a
    mydestination with tables, each domain's resolve_local() answer: an
    address whose domain was seen costs a rewrite, not a table lookup.
    """
    cache = getattr(env, "tables", None)
    memo = getattr(cache, "_resolved", None)
    if memo is None:
        return _resolve_addr(env, addr, with_transport)
    key = (addr, with_transport)
    r = memo.get(key)
    if r is None:
        if with_transport and not _conf(env, env.main).transport_maps:
            # the same answer: no transport table to ask
            r = memo.get((addr, False))
            if r is None:
                r = memo[(addr, False)] = _resolve_addr(env, addr, False)
            memo[key] = r
        else:
            r = memo[key] = _resolve_addr(env, addr, with_transport)
    return r


def _shared(env, view, what: tuple, name: str, compute, conf: "_AddrConf | None" = None):
    """compute() through cross_evaluation(), keyed by `what` and the view,
    when its answer may be shared at all: not for an address or domain
    literal (the host's interfaces) or a view whose class lists or myorigin
    read a file; then compute() as is. conf: _conf(env, view), when the
    caller has it."""
    cache = getattr(env, "tables", None)
    if (getattr(cache, "_xresolved", None) is None or "[" in name
            or not (conf or _conf(env, view)).shareable):
        return compute()
    return cross_evaluation(cache, what + (id(view), cache.alias_specs), compute)


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
        if id(t) not in static:
            xmemo.pop(key, None)
            return value
    if len(xmemo) > 20000:
        xmemo.clear()
    xmemo[key] = (value, tuple(dict.fromkeys(track)), cache._seen)
    return value


_CLASS_LISTS = ("mydestination", "virtual_alias_domains", "virtual_mailbox_domains", "relay_domains")


def _shareable_view(view) -> bool:
    if _get(view, "myorigin").strip().startswith("/"):
        return False
    for name in _CLASS_LISTS:
        for item in _list(view, name):
            if item.lstrip("!").startswith("/"):
                return False
    return True


# ---------------------------------------------------------------- per-view settings

class _AddrConf:
    """What address resolution reads from one parameter view, read once per
    view and kept in the TableCache's config_memo (a view's values never
    change). Only configuration: nothing here depends on a table's contents."""

    __slots__ = ("swap_bangpath", "allow_percent_hack", "append_at_myorigin",
                 "append_dot_mydomain", "mydomain", "myorigin", "myhostname",
                 "resolve_null_domain", "allow_min_user", "empty_recipient",
                 "local_transport", "transport_maps", "local_map", "shareable",
                 "class_lists", "relay_parent", "show_table", "virtual_transport",
                 "relay_transport", "default_transport", "relayhost", "delim",
                 "access_parent", "no_unknown_recipient_checks",
                 "recipient_mapping", "sender_mapping", "recipient_maps", "double_bounce",
                 "virtual_alias_maps")

    def __init__(self, view):
        self.swap_bangpath = _bool(view, "swap_bangpath", True)
        self.allow_percent_hack = _bool(view, "allow_percent_hack", True)
        self.append_at_myorigin = _bool(view, "append_at_myorigin", True)
        self.append_dot_mydomain = _bool(view, "append_dot_mydomain", False)
        self.mydomain = _get(view, "mydomain").lower()
        myorigin = _get(view, "myorigin").strip()
        # None: myorigin names a file, read each time (read_myorigin)
        self.myorigin = None if myorigin.startswith("/") else myorigin.lower()
        self.myhostname = _get(view, "myhostname").lower()
        self.resolve_null_domain = _bool(view, "resolve_null_domain", False)
        self.allow_min_user = _bool(view, "allow_min_user", False)
        self.empty_recipient = _get(view, "empty_address_recipient") or "MAILER-DAEMON"
        self.local_transport = _get(view, "local_transport")
        self.transport_maps = tuple(_list(view, "transport_maps"))
        # mydestination without a table or /file: {name: match}, the first
        # pattern equal to a name decides (string_list_match); None otherwise
        pats = _expand_patterns(_list(view, "mydestination"))
        local_map = None
        if isinstance(pats, tuple) and not any(is_table(p) or p.startswith("__nofile__:")
                                               for _m, p in pats):
            local_map = {}
            for match, pat in pats:
                local_map.setdefault(pat, match)
        self.local_map = local_map
        self.shareable = _shareable_view(view)
        # the class lists, parsed: ((match, pattern, is a table), ...) each;
        # None when a list names a /file (read anew each time: _domain_class)
        lists = None
        if not any(item.lstrip("!").startswith("/") for name in _CLASS_LISTS[1:]
                   for item in _list(view, name)):
            lists = tuple(tuple((m, p, is_table(p)) for m, p in _expand_patterns(_list(view, name)))
                          for name in ("virtual_alias_domains", "virtual_mailbox_domains",
                                       "relay_domains"))
        self.class_lists = lists
        self.relay_parent = parent_style(view, "relay_domains")
        self.show_table = _bool(view, "show_user_unknown_table_name", True)
        self.virtual_transport = _get(view, "virtual_transport")
        self.relay_transport = _get(view, "relay_transport")
        self.default_transport = _get(view, "default_transport")
        self.relayhost = _get(view, "relayhost").strip()
        self.delim = _get(view, "recipient_delimiter")
        self.access_parent = parent_style(view, "smtpd_access_maps")
        # validate_recipient(): the address mappings that make a recipient
        # known, as (parameter, tables) with tables, in the order asked
        self.no_unknown_recipient_checks = (
            "no_unknown_recipient_checks" in _list(view, "receive_override_options"))
        self.recipient_mapping = tuple(
            (p, tuple(_list(view, p))) for p in ("recipient_canonical_maps", "canonical_maps",
                                                 "virtual_alias_maps") if _list(view, p))
        self.sender_mapping = tuple(
            (p, tuple(_list(view, p))) for p in ("recipient_canonical_maps", "sender_canonical_maps",
                                                 "canonical_maps", "virtual_alias_maps")
            if _list(view, p))
        self.recipient_maps = {p: tuple(_list(view, p)) for p, _c, _w in _RECIPIENT_MAPS.values()}
        self.double_bounce = (_get(view, "double_bounce_sender") or "double-bounce").lower()
        self.virtual_alias_maps = tuple(_list(view, "virtual_alias_maps"))


def _conf(env, view) -> _AddrConf:
    """The _AddrConf of view, kept in env.tables.config_memo when there is
    one, under the key id(view) alone (its other users key by tuples)."""
    try:
        memo = env.tables.config_memo
    except AttributeError:
        return _AddrConf(view)
    conf = memo.get(id(view))
    if conf is None:
        conf = memo[id(view)] = _AddrConf(view)
    return conf


def _is_local_name(local_map: dict, dom: str) -> bool:
    """resolve_local() > 0 for a name without "[" when mydestination is a
    list of plain names (_AddrConf.local_map): no table, no lookups."""
    d = dom.lower()
    if d.endswith("."):
        d = d[:-1]
    if not d or d.endswith("."):
        return False
    return local_map.get(d) is True


def _canonicalize(conf: _AddrConf, view, addr: str) -> str:
    """canonicalize() with view's settings read once (conf = _conf(env, view))."""
    a = addr.strip()
    if a.startswith("<") and a.endswith(">"):
        a = a[1:-1]
    if not a:
        return ""
    # strip source route @a,@b:user@c
    if a.startswith("@") and ":" in a:
        a = a.split(":", 1)[1]
    if "@" not in a:
        if conf.swap_bangpath and "!" in a:
            host, user = a.split("!", 1)
            a = f"{user}@{host}"
        elif conf.allow_percent_hack and "%" in a:
            i = a.rfind("%")
            a = a[:i] + "@" + a[i + 1:]
    if "@" not in a:
        if conf.append_at_myorigin:
            origin = conf.myorigin
            a = a + "@" + (origin if origin is not None else read_myorigin(view))
    elif conf.append_dot_mydomain:
        local, dom = a.rsplit("@", 1)
        if dom and "." not in dom and not dom.startswith("["):
            md = conf.mydomain
            if md:
                a = f"{local}@{dom}.{md}"
    if a.endswith(".") and not a.endswith("..") and not a.endswith("@."):
        a = a[:-1]
    return a


def _resolve_addr(env, addr: str, with_transport: bool = True) -> Resolved:
    view = env.main
    cache = getattr(env, "tables", None)
    conf = _conf(env, view)
    lookups: list = []
    local_map = conf.local_map
    # the common case first: "user@domain", canonical as it is (no white
    # space or "<" around it, no source route, a domain that needs no
    # ".$mydomain" and has no trailing dot), the domain not local: the
    # rewrite loop below would stop at once with the address lowered
    a = addr.lower()
    at = a.rfind("@")
    dom = a[at + 1:]
    if (at > 0 and dom and local_map is not None and dom[-1] != "." and "[" not in dom
            and a[0] != "<" and a[0] != "@" and not a[0].isspace() and not a[-1].isspace()
            and ("." in dom or not conf.append_dot_mydomain) and local_map.get(dom) is not True):
        rcpt_domain = dom
        domain_is_local = False
    else:
        a = _canonicalize(conf, view, addr).lower()
        if not a:
            a = _canonicalize(conf, view, conf.empty_recipient).lower()
        saved_domain = None
        for _ in range(len(a) + 100):
            if a.endswith(".") and "@" in a and not a.endswith("..") and not a.endswith("@."):
                a = a[:-1]
            if conf.resolve_null_domain and a.endswith("@"):
                a = a[:-1]
            if "@" in a:
                local, dom = a.rsplit("@", 1)
                if not dom:
                    break
                if local_map is not None and "[" not in dom:
                    if not _is_local_name(local_map, dom):
                        break
                elif _resolve_local_shared(env, view, dom, lookups) <= 0:
                    break
                a = local
                saved_domain = dom
            if "@" in a or (conf.swap_bangpath and "!" in a) \
                    or (conf.allow_percent_hack and "%" in a):
                a = _canonicalize(conf, view, a).lower()
                continue
            if not a:
                a = _canonicalize(conf, view, conf.empty_recipient).lower()
                continue
            if saved_domain is None and "@" not in a:
                a = a + "@" + conf.myhostname
                continue
            break
        domain_is_local = "@" not in a
        if domain_is_local:
            a = a + "@" + (saved_domain or conf.myhostname)
        rcpt_domain = a.rsplit("@", 1)[1]
    # syntax of the domain
    if rcpt_domain.startswith("["):
        if not _valid_literal(rcpt_domain):
            return Resolved(a, CLASS_DEFAULT, rcpt_domain, "", "", False, True, lookups)
    elif not valid_hostname(rcpt_domain):
        try:
            ipaddress.ip_address(rcpt_domain)
            is_addr = True
        except ValueError:
            is_addr = False
        if is_addr and _bool(view, "resolve_numeric_domain", False):
            a = a.rsplit("@", 1)[0] + "@[" + rcpt_domain + "]"
            rcpt_domain = "[" + rcpt_domain + "]"
            if resolve_local(env, view, rcpt_domain, lookups) > 0:
                domain_is_local = True
        else:
            return Resolved(a, CLASS_DEFAULT, rcpt_domain, "", "", False, True, lookups)
    # routed: the local part (up to the first "@", "!" or "%") is not all
    # that precedes the domain (after the last "@")
    at = len(a) - len(rcpt_domain) - 1
    routed = a.find("@", 0, at) >= 0 or a.find("!", 0, at) >= 0 or a.find("%", 0, at) >= 0
    error = a.startswith("-") and not conf.allow_min_user   # looks like a command option

    if not domain_is_local:
        # a domain seen before, with no table changed since (in this
        # generation): cross_evaluation's hit, without its calls
        xmemo = getattr(cache, "_xresolved", None)
        hit = xmemo.get(("class", rcpt_domain, id(view), cache.alias_specs)) if xmemo is not None else None
        try:
            if hit is not None and hit[2] is cache._seen and cache._track is None:
                got = hit[0]
            else:
                got = _domain_class_shared(env, view, rcpt_domain, conf)
        except TableFailure as exc:
            lookups.extend(exc.lookups)
            exc.lookups = lookups
            raise
        cls, pattern, transport, nexthop, source, dlk = got
        if dlk:
            lookups.extend(dlk)
        if cls == CLASS_ALIAS:
            return Resolved(a, cls, rcpt_domain, transport, nexthop, routed, error, lookups,
                            pattern, source)
    else:
        cls, pattern, transport, nexthop, source = (CLASS_LOCAL, None, conf.local_transport,
                                                    rcpt_domain, "local_transport")
    if ":" in transport:
        transport, dest = transport.split(":", 1)
        if dest:
            nexthop = dest
    res = Resolved(a, cls, rcpt_domain, transport, nexthop, routed, error, lookups, pattern, source)
    if with_transport:
        _transport_lookup(env, res, lookups)
    return res


def _resolve_local_shared(env, view, dom: str, lookups: list) -> int:
    """resolve_local() kept across evaluations (see cross_evaluation) when
    mydestination names tables (a domain is asked about for every address
    in it)."""
    def compute():
        lk: list = []
        return resolve_local(env, view, dom, lk), tuple(lk)

    try:
        answer, lk = _shared(env, view, ("local", dom), dom, compute)
    except TableFailure as exc:
        lookups.extend(exc.lookups)
        exc.lookups = lookups
        raise
    lookups.extend(lk)
    return answer


def _domain_class_shared(env, view, domain: str, conf: _AddrConf | None = None):
    """_domain_class(), kept across evaluations (see cross_evaluation)."""
    if conf is None:
        conf = _conf(env, view)
    return _shared(env, view, ("class", domain), domain, lambda: _domain_class(env, view, domain, conf),
                   conf)


def _domain_class(env, view, rcpt_domain: str, conf: _AddrConf | None = None):
    """trivial-rewrite's address class of a domain that is not local:
    (class, the pattern that matched, transport, nexthop, the parameter
    that gave the transport, the lookups made (a tuple)). Raises
    TableFailure (with the lookups made) when a class table fails.
    conf: _conf(env, view), when the caller has it."""
    if conf is None:
        conf = _conf(env, view)
    lists = conf.class_lists
    if lists is None:   # a list names a /file: read it now
        return _domain_class_files(env, view, rcpt_domain)
    cache = env.tables
    lookups: list = []
    domain = rcpt_domain.lower()
    alias_doms, mbox_doms, relay_doms = lists
    matched, pattern = _class_list_match(cache, view, alias_doms, domain, lookups)
    if matched:
        show = (conf if view is env.main else _conf(env, env.main)).show_table
        return (CLASS_ALIAS, pattern, "error",
                "5.1.1 User unknown" + (" in virtual alias table" if show else ""),
                "virtual_alias_domains", tuple(lookups))
    matched, pattern = _class_list_match(cache, view, mbox_doms, domain, lookups)
    if matched:
        return (CLASS_VIRTUAL, pattern, conf.virtual_transport, rcpt_domain, "virtual_transport",
                tuple(lookups))
    matched = None
    parent = conf.relay_parent
    for match, pat, _tab in relay_doms:
        ok, err = _match_hostname(cache, view, domain, pat, parent, lookups)
        if ok:
            matched, pattern = match, pat
            break
        if err:
            raise TableFailure(pat, err, lookups)
    if matched:
        cls, transport, source = CLASS_RELAY, conf.relay_transport, "relay_transport"
    else:
        cls, pattern = CLASS_DEFAULT, None
        transport, source = conf.default_transport, "default_transport"
    return cls, pattern, transport, conf.relayhost or rcpt_domain, source, tuple(lookups)


def _class_list_match(cache, view, items, domain: str, lookups: list):
    """string_list_match() over a class list parsed by _AddrConf (no /file),
    without its MatchResult: (matched, the pattern that decided) or
    (False, None); raises TableFailure when a table fails."""
    for match, pat, tab in items:
        if tab:
            found, _v, err = table_lookup(cache, view, pat, domain, lookups)
            if found:
                return match, pat
            if err:
                raise TableFailure(pat, err, lookups)
        elif domain == pat:
            return match, pat
    return False, None


def _domain_class_files(env, view, rcpt_domain: str):
    """_domain_class() when a class list names a /file (read each time)."""
    lookups: list = []
    alias_doms = _list(view, "virtual_alias_domains")
    mbox_doms = _list(view, "virtual_mailbox_domains")
    relay_doms = _list(view, "relay_domains")
    m = string_list_match(env.tables, view, alias_doms, rcpt_domain, lookups) if alias_doms else _NO_MATCH
    if m.matched:
        show = _bool(env.main, "show_user_unknown_table_name", True)
        return (CLASS_ALIAS, m.pattern, "error",
                "5.1.1 User unknown" + (" in virtual alias table" if show else ""),
                "virtual_alias_domains", tuple(lookups))
    if m.error:
        raise TableFailure(m.pattern or "virtual_alias_domains", m.error, lookups)
    m = string_list_match(env.tables, view, mbox_doms, rcpt_domain, lookups) if mbox_doms else _NO_MATCH
    if m.matched:
        cls, pattern = CLASS_VIRTUAL, m.pattern
        transport, nexthop, source = _get(view, "virtual_transport"), rcpt_domain, "virtual_transport"
    elif m.error:
        raise TableFailure(m.pattern or "virtual_mailbox_domains", m.error, lookups)
    else:
        m = (domain_list_match(env.tables, view, relay_doms, rcpt_domain,
                               parent_style(view, "relay_domains"), lookups)
             if relay_doms else _NO_MATCH)
        if m.matched:
            cls, pattern = CLASS_RELAY, m.pattern
            transport, source = _get(view, "relay_transport"), "relay_transport"
        elif m.error:
            raise TableFailure(m.pattern or "relay_domains", m.error, lookups)
        else:
            cls, pattern = CLASS_DEFAULT, None
            transport, source = _get(view, "default_transport"), "default_transport"
        relayhost = _get(view, "relayhost").strip()
        nexthop = relayhost or rcpt_domain
    return cls, pattern, transport, nexthop, source, tuple(lookups)


def _transport_lookup(env, res: Resolved, lookups: list) -> None:
    view = env.main
    specs = _list(view, "transport_maps")
    if not specs:
        return
    parent = parent_style(view, "transport_maps")
    keys: list[tuple[str, bool]] = [(res.recipient, False)]
    delim = _get(env.main, "recipient_delimiter")
    bare = strip_extension(res.recipient, delim)
    if bare != res.recipient:
        keys.append((bare, True))
    d = res.domain
    keys.append((d, True))
    name = d
    while True:
        nxt = name.find(".", 1)
        if nxt < 0:
            break
        if parent:
            name = name[nxt + 1:]
            keys.append((name, True))
        else:
            keys.append((name[nxt:], True))
            name = name[nxt + 1:]
    keys.append(("*", True))
    for key, partial in keys:
        value, err, spec = maps_find(env.tables, view, specs, key, lookups, partial)
        if err:
            raise TableFailure(spec or "transport_maps", err, lookups)
        if value is not None:
            value = value.strip()
            if ":" in value:
                ch, nh = value.split(":", 1)
            else:
                ch, nh = value, ""
            if not ch and not nh:
                pass                      # ":" means "do not change"
            else:
                if ch:
                    res.transport = ch
                res.nexthop = nh if nh else res.domain   # null nexthop: the recipient domain
            res.transport_source = f"transport_maps {spec} (key {key})"
            return


def strip_extension(addr: str, delims: str, owner_request_special: bool = True) -> str:
    """strip_addr(): drop the address extension (from the first delimiter on)."""
    if not delims or not any(c in addr for c in delims):
        return addr
    local, at, dom = addr.rpartition("@")
    if not at:
        local, dom = addr, ""
    low = local.lower()
    if low in ("postmaster", "mailer-daemon", "double-bounce"):
        return addr
    if "-" in delims and owner_request_special:
        if low.startswith("owner-") or (len(low) > 8 and low.endswith("-request")):
            return addr
    i = 0
    while i < len(local) and local[i] not in delims:
        i += 1
    if i == 0 or i == len(local):
        return addr
    return local[:i] + ("@" + dom if at else "")


_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
                          r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*")


@functools.lru_cache(maxsize=8192)
def valid_hostname(name: str) -> bool:
    """Postfix valid_hostname(): ASCII letters, digits and '_' with inner
    '-' in dot-separated labels of at most 63, at most 255 in all, not all
    numeric. (One regular expression instead of Postfix's character loop:
    tests/core/test_valid_hostname.py checks it against that loop.)"""
    if len(name) > 255 or not _HOSTNAME_RE.fullmatch(name):
        return False
    if len(name) > 63 and any(len(label) > 63 for label in name.split(".")):
        return False
    return not name.replace(".", "").isdigit()


@functools.lru_cache(maxsize=8192)
def valid_hostaddr(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return ":" in name or name.count(".") == 3
    except ValueError:
        return False


def _valid_literal(dom: str) -> bool:
    if not (dom.startswith("[") and dom.endswith("]")):
        return False
    inner = dom[1:-1]
    if inner.lower().startswith("ipv6:"):
        inner = inner[5:]
        try:
            return ipaddress.ip_address(inner).version == 6
        except ValueError:
            return False
    try:
        return ipaddress.ip_address(inner).version == 4
    except ValueError:
        return False


# ---------------------------------------------------------------- address lookups

def mail_addr_keys(env, view, address: str, strategy: str) -> list[tuple[str, bool]]:
    """Keys mail_addr_find() tries, in order, as (key, partial).

    strategy "default": user+ext@domain, user@domain, [user+ext, user if the
    domain is local or $myorigin], @domain.
    strategy "access": user+ext@domain, user@domain, domain and its parents
    (or .parents), user+ext@, user@  (check_sender_access & friends).
    """
    memo = getattr(getattr(env, "tables", None), "config_memo", None)
    if memo is None:
        return _mail_addr_keys(env, view, address, strategy)
    conf = memo.get(id(view)) or _conf(env, view)
    if strategy == "default" and (conf.local_map is None or conf.myorigin is None
                                  or "[" in address):
        # a table or file decides what is local, or a literal (the host's
        # interfaces): the general code
        return _mail_addr_keys(env, view, address, strategy)
    return _mail_addr_keys_conf(conf, address, strategy)


def _mail_addr_keys_conf(conf: _AddrConf, address: str, strategy: str) -> list:
    """_mail_addr_keys() with the view's settings read once; for "default",
    only when mydestination is plain names and myorigin no file and the
    address no literal (mail_addr_keys). Nearly every address a trace asks
    about is new: computing the keys is cheaper than memoising them."""
    a = address
    delim = conf.delim
    bare = strip_extension(a, delim) if delim else a
    if "@" not in a:
        return [(a, False)] if bare == a else [(a, False), (bare, True)]
    keys: list[tuple[str, bool]] = [(a, False)]
    if bare != a:
        keys.append((bare, True))
        bare_local = bare.rsplit("@", 1)[0]
    local, dom = a.rsplit("@", 1)
    if bare == a:
        bare_local = local
    if strategy == "default":
        if dom == conf.myorigin or _is_local_name(conf.local_map, dom):
            keys.append((local, True))
            if bare_local != local:
                keys.append((bare_local, True))
        keys.append(("@" + dom, True))
        return keys
    # access strategy
    parent = conf.access_parent
    name = dom
    while name:
        keys.append((name, True))
        nxt = name.find(".", 1)
        if nxt < 0:
            break
        name = name[nxt + 1:] if parent else name[nxt:]
    keys.append((local + "@", True))
    if bare_local != local:
        keys.append((bare_local + "@", True))
    return keys


def _mail_addr_keys(env, view, address: str, strategy: str) -> list[tuple[str, bool]]:
    a = address
    delim = _get(view, "recipient_delimiter")
    bare = strip_extension(a, delim)
    keys: list[tuple[str, bool]] = [(a, False)]
    if bare != a:
        keys.append((bare, True))
    if "@" not in a:
        return keys
    local, dom = a.rsplit("@", 1)
    bare_local = bare.rsplit("@", 1)[0]
    if strategy == "default":
        is_local = dom == read_myorigin(view)
        if not is_local:
            try:
                is_local = resolve_local(env, view, dom, []) > 0
            except TableFailure:
                is_local = False
        if is_local:
            keys.append((local, True))
            if bare_local != local:
                keys.append((bare_local, True))
        keys.append(("@" + dom, True))
        return keys
    # access strategy
    parent = parent_style(view, "smtpd_access_maps")
    name = dom
    while name:
        keys.append((name, True))
        nxt = name.find(".", 1)
        if nxt < 0:
            break
        name = name[nxt + 1:] if parent else name[nxt:]
    keys.append((local + "@", True))
    if bare_local != local:
        keys.append((bare_local + "@", True))
    return keys


def mail_addr_find(env, view, specs: list[str], address: str, lookups: list,
                   strategy: str = "default"):
    """Returns (value, key, spec) or raises TableFailure."""
    if not specs:
        return None, None, None
    cache = env.tables
    for key, partial in mail_addr_keys(env, view, address, strategy):
        # maps_find(): each table in order, the first hit or first error
        for spec in specs:
            found, value, err = table_lookup(cache, view, spec, key, lookups, partial)
            if found:
                if value is not None:
                    return value, key, spec
                break
            if err:
                raise TableFailure(spec or "?", err, lookups)
    return None, None, None


# ---------------------------------------------------------------- recipient validation

@dataclass(slots=True)
class Validation:
    ok: bool
    code: int = 0
    dsn: str = ""
    text: str = ""                # "User unknown in virtual mailbox table"
    table_param: str | None = None   # parameter whose tables decided
    matched_param: str | None = None  # canonical/virtual alias hit
    matched_key: str | None = None
    matched_spec: str | None = None
    lookups: list = field(default_factory=list)
    resolved: Resolved | None = None
    skipped: str | None = None


def validate_recipient(env, address: str, reply_class: str) -> Validation:
    """check_rcpt_maps(): is this address known? Raises TableFailure."""
    view = env.view
    conf = _conf(env, view)
    sender_class = reply_class == "Sender address"
    if conf.no_unknown_recipient_checks:
        return Validation(True, skipped="receive_override_options = no_unknown_recipient_checks")
    res = resolve_addr(env, address)
    v = Validation(True, resolved=res)
    lk = v.lookups
    lk.extend(res.lookups)
    rcpt = res.recipient
    for param, specs in (conf.sender_mapping if sender_class else conf.recipient_mapping):
        try:
            value, key, spec = mail_addr_find(env, view, specs, rcpt, lk)
        except TableFailure as exc:
            exc.lookups = lk
            raise
        if value is not None:
            v.matched_param, v.matched_key, v.matched_spec = param, key, spec
            return v
    show = conf.show_table
    dsn_default = "5.1.0" if sender_class else "5.1.1"
    if res.transport == "error":
        text = res.nexthop
        dsn = dsn_default
        parts = text.split(" ", 1)
        if len(parts) == 2 and _is_dsn(parts[0]):
            dsn, text = parts[0], parts[1]
        code = _get_int(view, "unknown_virtual_alias_reject_code", 550) if res.address_class == CLASS_ALIAS else 550
        return Validation(False, code, _dsn_fix(dsn, reply_class), text,
                          table_param="virtual_alias_maps", lookups=lk, resolved=res)
    if res.transport == "retry":
        return Validation(False, 450, _dsn_fix("4.1.0" if sender_class else "4.1.1", reply_class),
                          res.nexthop, lookups=lk, resolved=res)

    def unknown(param: str, code_param: str, what: str) -> Validation:
        return Validation(False, _get_int(view, code_param, 550), dsn_default,
                          "User unknown" + (f" in {what} table" if show else ""),
                          table_param=param, lookups=lk, resolved=res)

    maps = _RECIPIENT_MAPS.get(res.address_class)
    if maps is not None:
        param, code_param, what = maps
        specs = conf.recipient_maps[param]
        if specs:
            if res.address_class == CLASS_LOCAL:
                local = rcpt.rsplit("@", 1)[0]
                if local in (conf.double_bounce, "postmaster", "mailer-daemon"):
                    return v
            value, key, spec = mail_addr_find(env, view, specs, rcpt, lk)
            if value is None:
                return unknown(param, code_param, what)
            v.matched_param, v.matched_key, v.matched_spec = param, key, spec
    return v


def _is_dsn(s: str) -> bool:
    p = s.split(".")
    return len(p) == 3 and all(x.isdigit() for x in p) and p[0] in ("2", "4", "5")


_DSN_MAP = {"1": ("4.1.7", "4.1.1"), "2": ("4.1.8", "4.1.2"), "3": ("4.1.7", "4.1.3"),
            "4": ("4.1.7", "4.1.4"), "5": ("4.1.0", "4.1.5"), "6": ("4.1.7", "4.1.6"),
            "7": ("4.1.7", "4.1.3"), "8": ("4.1.8", "4.1.2")}


def dsn_fix(dsn: str, reply_class: str) -> str:
    """smtpd_dsn_fix(): make an address DSN fit what is being rejected.

    Only the detail matters: the first digit is later forced to the SMTP
    code's first digit.
    """
    if len(dsn) >= 5 and dsn[0].isdigit() and dsn[1:4] == ".1.":
        micro = dsn[4:]
        if reply_class == "Sender address":
            return _DSN_MAP.get(micro, ("4.1.0", "4.1.0"))[0]
        if reply_class == "Recipient address":
            return _DSN_MAP.get(micro, ("4.1.0", "4.1.0"))[1]
        return "4.0.0"
    return dsn


_dsn_fix = dsn_fix


def _get_int(view, name: str, default: int) -> int:
    try:
        return int(view.get_int(name))
    except Exception:
        try:
            return int(_get(view, name))
        except ValueError:
            return default


# ---------------------------------------------------------------- routing

def _route_settings(env) -> tuple:
    """What route() reads from the configuration, once per pair of views."""
    memo = getattr(getattr(env, "tables", None), "config_memo", None)
    key = ("route settings", id(env.view), id(env.main))
    got = memo.get(key) if memo is not None else None
    if got is None:
        view = env.main
        got = ("no_address_mappings" in _list(env.view, "receive_override_options"),
               _get(env.view, "content_filter").strip(),
               _get_int(view, "virtual_alias_recursion_limit", 1000),
               _get_int(view, "virtual_alias_expansion_limit", 1000),
               "virtual" in _list(view, "propagate_unmatched_extensions"))
        if memo is not None:
            memo[key] = got
    return got


def route(env, address: str):
    """Resolve an accepted recipient: class, virtual alias expansion, transport, next hop."""
    res = resolve_addr(env, address)
    notes: list[str] = []
    expansion: list[str] = []
    view = env.main
    settings = _route_settings(env)
    no_mappings, cf, limit, expansion_limit, propagate = settings
    if cf:
        notes.append(f"content_filter = {cf}: the message goes to that filter first and comes back "
                     f"through its re-injection listener; the route below is what happens after that")
    if no_mappings:
        notes.append("receive_override_options = no_address_mappings on this service: this smtpd's "
                     "cleanup does no virtual alias mapping; it happens after re-injection "
                     "(content filter) or not at all")
    finals: list[str] = []
    lookups_alias: list = []

    conf = _conf(env, view)
    specs = conf.virtual_alias_maps

    def expand(addr: str, depth: int, seen: tuple):
        if not specs or depth > limit:
            finals.append(addr)
            return
        try:
            value, key, spec = mail_addr_find(env, view, specs, addr, lookups_alias)
        except TableFailure as exc:
            notes.append(f"virtual_alias_maps lookup failed for {addr}: {exc.message}")
            finals.append(addr)
            return
        if value is None:
            finals.append(addr)
            return
        # an extension that the key did not match is propagated to the result
        # (propagate_unmatched_extensions includes "virtual" by default)
        ext = ""
        if key and "@" in addr and not key.startswith("@"):
            local = addr.rsplit("@", 1)[0]
            klocal = key.rsplit("@", 1)[0] if "@" in key else key
            if klocal != local and local.startswith(klocal):
                ext = local[len(klocal):]
        targets = [t.strip() for t in value.replace(",", " ").split() if t.strip()]
        for t in targets:
            t = _canonicalize(conf, view, t).lower()
            if ext and propagate and "@" in t:
                tl, td = t.rsplit("@", 1)
                t = f"{tl}{ext}@{td}"
            expansion.append(t)
            if t == addr:
                finals.append(t)
            elif t in seen:
                errors.append(f"virtual alias loop through {t}")
                finals.append(t)
            elif len(finals) < expansion_limit:
                expand(t, depth + 1, seen + (addr,))

    errors: list[str] = []
    expand(res.recipient, 0, ())
    if errors:
        notes.append("cleanup would fail this message with 451 4.6.0 Alias expansion error "
                      "(at the end of DATA): " + "; ".join(dict.fromkeys(errors)))
    targets = []
    for f in dict.fromkeys(finals):
        try:
            r = res if f == res.recipient else resolve_addr(env, f)
        except TableFailure as exc:
            notes.append(f"cannot resolve {f}: {exc.message}")
            continue
        targets.append(RouteTarget(r.recipient, r.address_class, r.transport, r.nexthop,
                                   r.transport_source, tuple(r.lookups if r is not res else ())))
    return Route(recipient=res.recipient, address_class=res.address_class, domain=res.domain,
                 expansion=tuple(expansion), targets=tuple(targets), notes=tuple(notes),
                 lookups=tuple(res.lookups) + tuple(lookups_alias))
