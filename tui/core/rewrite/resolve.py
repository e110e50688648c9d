"""trivial-rewrite's resolve_addr(): address class, transport and next hop (resolve.c)."""
from __future__ import annotations

from typing import Any

from dataclasses import dataclass, field

from tui.core.cache import TableFailure, cross_evaluation, maps_find, table_lookup
from tui.core.config.params import param, param_bool, param_list
from tui.core.postfix.addr_conf import (CLASS_ALIAS, CLASS_DEFAULT, CLASS_LOCAL, CLASS_RELAY, CLASS_VIRTUAL, AddrConf, addr_conf, is_local_name)
from tui.core.postfix.mail_addr import strip_extension
from tui.core.postfix.match_list import (_NO_MATCH, _match_hostname, domain_list_match, parent_style, string_list_match)
from tui.core.postfix.resolve_local import resolve_local
from tui.core.postfix.valid_hostname import valid_hostaddr, valid_literal, valid_hostname
from tui.core.rewrite.canonicalize import canonicalize


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
        if with_transport and not addr_conf(env, env.main).transport_maps:
            # the same answer: no transport table to ask
            r = memo.get((addr, False))
            if r is None:
                r = memo[(addr, False)] = _resolve_addr(env, addr, False)
            memo[key] = r
        else:
            r = memo[key] = _resolve_addr(env, addr, with_transport)
    return r


def _shared(env, view, what: tuple, name: str, compute, conf: "AddrConf | None" = None):
    """compute() through cross_evaluation(), keyed by `what` and the view,
    when its answer may be shared at all: not for an address or domain
    literal (the host's interfaces) or a view whose class lists or myorigin
    read a file; then compute() as is. conf: addr_conf(env, view), when the
    caller has it."""
    cache: Any = getattr(env, "tables", None)
    if (getattr(cache, "_xresolved", None) is None or "[" in name
            or not (conf or addr_conf(env, view)).shareable):
        return compute()
    return cross_evaluation(cache, what + (view, cache.alias_specs), compute)


def _resolve_addr(env, addr: str, with_transport: bool = True) -> Resolved:
    view = env.main
    cache: Any = getattr(env, "tables", None)
    conf = addr_conf(env, view)
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
        a = canonicalize(view, addr, conf).lower()
        if not a:
            a = canonicalize(view, conf.empty_recipient, conf).lower()
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
                    if not is_local_name(local_map, dom):
                        break
                elif _resolve_local_shared(env, view, dom, lookups) <= 0:
                    break
                a = local
                saved_domain = dom
            if "@" in a or (conf.swap_bangpath and "!" in a) \
                    or (conf.allow_percent_hack and "%" in a):
                a = canonicalize(view, a, conf).lower()
                continue
            if not a:
                a = canonicalize(view, conf.empty_recipient, conf).lower()
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
        if not valid_literal(rcpt_domain):
            return Resolved(a, CLASS_DEFAULT, rcpt_domain, "", "", False, True, lookups)
    elif not valid_hostname(rcpt_domain):
        is_addr = valid_hostaddr(rcpt_domain)
        if is_addr and param_bool(view, "resolve_numeric_domain"):
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
        hit = xmemo.get(("class", rcpt_domain, view, cache.alias_specs)) if xmemo is not None else None
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


def _domain_class_shared(env, view, domain: str, conf: AddrConf | None = None):
    """_domain_class(), kept across evaluations (see cross_evaluation)."""
    if conf is None:
        conf = addr_conf(env, view)
    return _shared(env, view, ("class", domain), domain, lambda: _domain_class(env, view, domain, conf),
                   conf)


def _domain_class(env, view, rcpt_domain: str, conf: AddrConf | None = None):
    """trivial-rewrite's address class of a domain that is not local:
    (class, the pattern that matched, transport, nexthop, the parameter
    that gave the transport, the lookups made (a tuple)). Raises
    TableFailure (with the lookups made) when a class table fails.
    conf: addr_conf(env, view), when the caller has it."""
    if conf is None:
        conf = addr_conf(env, view)
    lists = conf.class_lists
    if lists is None:   # a list names a /file: read it now
        return _domain_class_files(env, view, rcpt_domain)
    cache = env.tables
    lookups: list = []
    domain = rcpt_domain.lower()
    alias_doms, mbox_doms, relay_doms = lists
    matched, pattern = _class_list_match(cache, view, alias_doms, domain, lookups)
    if matched:
        show = (conf if view is env.main else addr_conf(env, env.main)).show_table
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
    """string_list_match() over a class list parsed by AddrConf (no /file),
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
    alias_doms = param_list(view, "virtual_alias_domains")
    mbox_doms = param_list(view, "virtual_mailbox_domains")
    relay_doms = param_list(view, "relay_domains")
    m = string_list_match(env.tables, view, alias_doms, rcpt_domain, lookups) if alias_doms else _NO_MATCH
    if m.matched:
        show = param_bool(env.main, "show_user_unknown_table_name")
        return (CLASS_ALIAS, m.pattern, "error",
                "5.1.1 User unknown" + (" in virtual alias table" if show else ""),
                "virtual_alias_domains", tuple(lookups))
    if m.error:
        raise TableFailure(m.pattern or "virtual_alias_domains", m.error, lookups)
    m = string_list_match(env.tables, view, mbox_doms, rcpt_domain, lookups) if mbox_doms else _NO_MATCH
    if m.matched:
        cls, pattern = CLASS_VIRTUAL, m.pattern
        transport, nexthop, source = param(view, "virtual_transport"), rcpt_domain, "virtual_transport"
    elif m.error:
        raise TableFailure(m.pattern or "virtual_mailbox_domains", m.error, lookups)
    else:
        m = (domain_list_match(env.tables, view, relay_doms, rcpt_domain,
                               parent_style(view, "relay_domains"), lookups)
             if relay_doms else _NO_MATCH)
        if m.matched:
            cls, pattern = CLASS_RELAY, m.pattern
            transport, source = param(view, "relay_transport"), "relay_transport"
        elif m.error:
            raise TableFailure(m.pattern or "relay_domains", m.error, lookups)
        else:
            cls, pattern = CLASS_DEFAULT, None
            transport, source = param(view, "default_transport"), "default_transport"
        relayhost = param(view, "relayhost").strip()
        nexthop = relayhost or rcpt_domain
    return cls, pattern, transport, nexthop, source, tuple(lookups)


def _transport_lookup(env, res: Resolved, lookups: list) -> None:
    view = env.main
    specs = param_list(view, "transport_maps")
    if not specs:
        return
    parent = parent_style(view, "transport_maps")
    keys: list[tuple[str, bool]] = [(res.recipient, False)]
    delim = param(env.main, "recipient_delimiter")
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
