"""Postfix's match lists (util/match_list.c, util/match_ops.c): string, domain and host name/address lists."""
from __future__ import annotations

from typing import Any, Sequence

import functools
import ipaddress
import re

from tui.core import safeio
from tui.core.model import Record
from tui.core.config.params import param_list
from tui.core.postfix.maps import Tables, is_table


def parent_style(view, name: str) -> bool:
    return name in param_list(view, "parent_domain_matches_subdomains")


_PATTERNS: dict = {}


def expand_patterns(items: Sequence[str], init: bool = True) -> Sequence[tuple[bool, str]]:
    """match_list_parse: '!' negation, /file inline expansion, case folding.
    Lists that name no /file are parsed once (a trace matches the same few
    lists many times); a /file is read each time, as before."""
    key = (tuple(items), init)
    got = _PATTERNS.get(key)
    if got is not None:
        return got
    out: Sequence[tuple[bool, str]] = _expand_patterns_uncached(items, init)
    if not any(it.lstrip("!").startswith("/") for it in items):
        if len(_PATTERNS) > 4096:
            _PATTERNS.clear()
        _PATTERNS[key] = out = tuple(out)
    return out


def _expand_patterns_uncached(items: Sequence[str], init: bool = True) -> list[tuple[bool, str]]:
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
                text = safeio.read_bytes(item).decode("utf-8", "replace")  # a FIFO is refused
                for line in text.splitlines():
                    if line.startswith("#"):
                        continue
                    out.extend(_expand_patterns_uncached(line.replace(",", " ").split(), match))
            except OSError as exc:
                out.append((match, f"nofile:{item}"))
                out[-1] = (match, f"__nofile__:{item}:open file {item}: {exc.strerror}")
            continue
        if is_table(item):
            out.append((match, item))
        else:
            out.append((match, item.lower()))
    return out


class MatchResult(Record):
    __slots__ = _fields = ("matched", "pattern", "error", "lookups")
    matched: bool
    pattern: str | None
    error: str | None
    lookups: list

    def __init__(self, matched: bool, pattern: str | None = None, error: str | None = None,
                 lookups: list | None = None) -> None:
        self.matched = matched
        self.pattern = pattern
        self.error = error
        self.lookups = [] if lookups is None else lookups


_NO_MATCH = MatchResult(False)  # read-only


def _match_string(tables: Tables, view, string: str, pattern: str, lookups: list):
    if pattern.startswith("__nofile__:"):
        return False, pattern.split(":", 2)[2]
    if is_table(pattern):
        found, _v, err = tables.lookup(view, pattern, string, lookups)
        if found:
            return True, None
        return False, err
    return string == pattern, None


def _match_hostname(tables: Tables, view, name: str, pattern: str, parent: bool, lookups: list):
    if pattern.startswith("__nofile__:"):
        return False, pattern.split(":", 2)[2]
    if is_table(pattern):
        # the name, then its parent domains of a table that is not a
        # pattern table (match_ops.c: DICT_FLAG_FIXED, the partial query)
        lookup = tables.lookup
        entry = name
        partial = False
        while entry:
            found, _v, err = lookup(view, pattern, entry, lookups, partial)
            if found:
                return True, None
            if err:
                return False, err
            partial = True
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


def _match_hostaddr(tables: Tables, view, addr: str, pattern: str, lookups: list):
    if pattern.startswith("__nofile__:"):
        return False, pattern.split(":", 2)[2]
    if any(c not in _V6 for c in addr):
        return False, None
    if is_table(pattern):
        found, _v, err = tables.lookup(view, pattern, addr, lookups)
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


def string_list_match(tables: Tables, view, items: list[str], string: str, lookups: list) -> MatchResult:
    string = string.lower()
    for match, pat in expand_patterns(items):
        ok, err = _match_string(tables, view, string, pat, lookups)
        if ok:
            return MatchResult(match, pat, None, lookups)
        if err:
            return MatchResult(False, pat, err, lookups)
    return MatchResult(False, None, None, lookups)


def domain_list_match(tables: Tables, view, items: list[str], domain: str, parent: bool,
                      lookups: list) -> MatchResult:
    domain = domain.lower()
    for match, pat in expand_patterns(items):
        ok, err = _match_hostname(tables, view, domain, pat, parent, lookups)
        if ok:
            return MatchResult(match, pat, None, lookups)
        if err:
            return MatchResult(False, pat, err, lookups)
    return MatchResult(False, None, None, lookups)


_NAMADR: dict = {}  # lists without tables or files: (items, name, addr, parent) -> answer
_NAMADR_PLANS: dict = {}  # tuple(items) -> _namadr_plan(items)


def namadr_list_match(tables: Tables, view, items: Sequence[str], name: str, addr: str, parent: bool,
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
        return _namadr_list_match(tables, view, expand_patterns(items), name, addr, parent, lookups)
    # no table to ask, no file to read: the answer depends on the strings only
    key = (titems, name, addr, parent)
    got = _NAMADR.get(key)
    if got is None:
        got = _namadr_plan_match(plan, name, addr, parent)
        if len(_NAMADR) > 20000:
            _NAMADR.clear()
        _NAMADR[key] = got
    return MatchResult(got[0], got[1], got[2], lookups)


def _namadr_plan(items: Sequence[str]):
    """A list without tables or /files, parsed for _namadr_plan_match():
    ((match, pattern, the address it is equal to, (net int, mask int) of an
    IPv4 net/mask, the ip_network of an IPv6 one, its error), ...);
    False for a list that names a table or a /file."""
    pats = expand_patterns(items)
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


# from the C module itself: socket.py would also load selectors and enum
# wrappers at every start of a command
from _socket import AF_INET as _AF_INET, inet_pton as _inet_pton  # noqa: E402


def _namadr_plan_match(plan, name: str, addr: str, parent: bool):
    """_namadr_list_match() over a _namadr_plan: (matched, pattern, error)."""
    addr_ok = _HOSTADDR_CHARS.fullmatch(addr) is not None
    v6 = ":" in addr
    ip: Any = False      # not yet parsed
    ipint: Any = False
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


def _namadr_list_match(tables, view, pats, name: str, addr: str, parent: bool,
                       lookups: list) -> MatchResult:
    for match, pat in pats:
        ok, err = _match_hostname(tables, view, name, pat, parent, lookups)
        if ok:
            return MatchResult(match, pat, None, lookups)
        if err:
            return MatchResult(False, pat, err, lookups)
        ok, err = _match_hostaddr(tables, view, addr, pat, lookups)
        if ok:
            return MatchResult(match, pat, None, lookups)
        if err:
            return MatchResult(False, pat, err, lookups)
    return MatchResult(False, None, None, lookups)
