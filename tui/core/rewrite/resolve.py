"""trivial-rewrite's resolve_addr(): address class, transport and next hop (resolve.c)."""
from __future__ import annotations

from typing import Callable

from tui.core.config.params import param, param_bool, param_list
from tui.core.model import Record
from tui.core.postfix.addr_conf import (CLASS_ALIAS, CLASS_DEFAULT, CLASS_LOCAL, CLASS_RELAY, CLASS_VIRTUAL, AddrConf, addr_conf, is_local_name)
from tui.core.postfix.mail_addr import external_first, strip_extension
from tui.core.postfix.quote_822_local import is_dot_string
from tui.core.postfix.maps import TableFailure, Tables, maps_find
from tui.core.postfix.match_list import (_NO_MATCH, _match_hostname, domain_list_match, parent_style, string_list_match)
from tui.core.postfix.resolve_local import resolve_local
from tui.core.postfix.valid_hostname import valid_hostaddr, valid_literal, valid_hostname
from tui.core.rewrite.canonicalize import canonicalize


class Resolved(Record):
    __slots__ = _fields = ("recipient", "address_class", "domain", "transport", "nexthop", "routed", "error",
                           "lookups", "class_pattern", "transport_source")
    recipient: str
    address_class: str
    domain: str
    transport: str
    nexthop: str
    routed: bool
    error: bool
    lookups: list
    class_pattern: str | None   # what matched (e.g. the relay_domains entry)
    transport_source: str

    def __init__(self, recipient: str, address_class: str, domain: str, transport: str = "", nexthop: str = "",
                 routed: bool = False, error: bool = False, lookups: list | None = None,
                 class_pattern: str | None = None, transport_source: str = "") -> None:
        self.recipient = recipient
        self.address_class = address_class
        self.domain = domain
        self.transport = transport
        self.nexthop = nexthop
        self.routed = routed
        self.error = error
        self.lookups = [] if lookups is None else lookups
        self.class_pattern = class_pattern
        self.transport_source = transport_source


# (env, view, domain, AddrConf) -> what domain_class() answers
DomainClass = Callable[..., tuple]
# (env, view, domain, lookups) -> what resolve_local() answers (1 local, 0 not)
LocalTest = Callable[..., int]


def resolve_addr(env, addr: str, with_transport: bool = True, *,
                 classify: DomainClass | None = None, is_local: LocalTest | None = None) -> Resolved:
    """trivial-rewrite resolve_addr() with main.cf values (env.main; tables
    asked through env.tables).

    Raises TableFailure when a table that classifies addresses cannot be read
    (Postfix: RESOLVE_FLAG_FAIL). Computes its answer every time and keeps
    nothing: a caller that remembers answers passes its own CLASSIFY (for
    domain_class()) and IS_LOCAL (for resolve_local() of a domain in the
    rewrite loop); tui.core.cache.resolve_addr is that caller.
    """
    view = env.main
    conf = addr_conf(env, view)
    lookups: list = []
    a = addr.lower()
    at = a.rfind("@")
    rcpt_domain = a[at + 1:]
    local_map = conf.local_map
    # the common case first: "user@domain", canonical as it is (no white
    # space or "<" around it, no source route, a domain that needs no
    # ".$mydomain" and has no trailing dot), the domain not local: the
    # rewrite loop would stop at once with the address lowered
    if (at > 0 and rcpt_domain and local_map is not None and rcpt_domain[-1] != "."
            and "[" not in rcpt_domain and a[0] != "<" and a[0] != "@" and not a[0].isspace()
            and not a[-1].isspace() and ("." in rcpt_domain or not conf.append_dot_mydomain)
            and local_map.get(rcpt_domain) is not True):
        domain_is_local = False
    elif not conf.resolve_dequoted and _opaque_local_part(a, conf):
        a, rcpt_domain, domain_is_local = _rewrite_opaque(env, view, a, conf, lookups,
                                                          is_local or resolve_local)
    else:
        a, rcpt_domain, domain_is_local = _rewrite(env, view, addr, conf, lookups,
                                                   is_local or resolve_local)
    # syntax of the domain
    if not (valid_literal(rcpt_domain) if rcpt_domain.startswith("[") else valid_hostname(rcpt_domain)):
        numeric = _numeric_domain(env, view, a, rcpt_domain, lookups)
        if numeric is None:
            return Resolved(a, CLASS_DEFAULT, rcpt_domain, "", "", False, True, lookups)
        a, rcpt_domain, local = numeric
        domain_is_local = domain_is_local or local
    # routed: the local part (up to the first "@", "!" or "%") is not all
    # that precedes the domain (after the last "@")
    at = len(a) - len(rcpt_domain) - 1
    routed = a.find("@", 0, at) >= 0 or a.find("!", 0, at) >= 0 or a.find("%", 0, at) >= 0
    error = a.startswith("-") and not conf.allow_min_user   # looks like a command option

    if domain_is_local:
        cls, pattern, transport, nexthop, source = (CLASS_LOCAL, None, conf.local_transport,
                                                    rcpt_domain, "local_transport")
    else:
        try:
            cls, pattern, transport, nexthop, source, dlk = (classify or domain_class)(
                env, view, rcpt_domain, conf)
        except TableFailure as exc:
            lookups.extend(exc.lookups)
            exc.lookups = lookups
            raise
        if dlk:
            lookups.extend(dlk)
        if cls == CLASS_ALIAS:
            return Resolved(a, cls, rcpt_domain, transport, nexthop, routed, error, lookups,
                            pattern, source)
    if ":" in transport:
        transport, dest = transport.split(":", 1)
        if dest:
            nexthop = dest
    res = Resolved(a, cls, rcpt_domain, transport, nexthop, routed, error, lookups, pattern, source)
    if with_transport:
        _transport_lookup(env, res, lookups)
    return res


def _numeric_domain(env, view, a: str, rcpt_domain: str, lookups: list):
    """A domain that is not a valid host name or literal: with
    resolve_numeric_domain = yes an address in it becomes the literal
    ([addr]): (the address, the literal, is it local); None: a syntax error."""
    if (rcpt_domain.startswith("[") or not valid_hostaddr(rcpt_domain)
            or not param_bool(view, "resolve_numeric_domain")):
        return None
    literal = "[" + rcpt_domain + "]"
    return (a.rsplit("@", 1)[0] + "@" + literal, literal,
            resolve_local(env, view, literal, lookups) > 0)


def _opaque_local_part(a: str, conf: AddrConf) -> bool:
    """Does trivial-rewrite see A's local part as one quoted string that
    holds routing operators? It rewrites and resolves an address in quoted
    form (quote_822_local): a local part that is no dot-string is one
    token, and with resolve_dequoted_address = no it never looks inside."""
    if (a.startswith("@") and ":" in a) or a.endswith("@"):
        return False   # a source route, a null domain: the general path
    local = a[:a.rfind("@")] if "@" in a else a
    return (not is_dot_string(local)
            and ("@" in local or (conf.allow_percent_hack and "%" in local)
                 or (conf.swap_bangpath and "!" in local)))


def _rewrite_opaque(env, view, a: str, conf: AddrConf, lookups: list, is_local: LocalTest):
    """_rewrite() for an address whose local part stays one quoted token
    (_opaque_local_part): smtpd's canonicalization (rewrite_tree) completes
    the domain ($myorigin, .$mydomain, no trailing dot) and leaves the local
    part alone; the resolver strips and puts back a local domain."""
    at = a.rfind("@")
    local, dom = (a[:at], a[at + 1:]) if at >= 0 else (a, None)
    if dom is None and not conf.append_at_myorigin:
        dom = conf.myhostname    # resolve_addr() appends @$myhostname
    # the domain as canonicalize() completes it, on a stand-in local part
    dom = canonicalize(view, "x" if dom is None else "x@" + dom, conf).lower().rsplit("@", 1)[1]
    return f"{local}@{dom}", dom, _local_domain(env, view, dom, conf, lookups, is_local)


def _rewrite(env, view, addr: str, conf: AddrConf, lookups: list, is_local: LocalTest):
    """resolve_addr()'s rewrite of an address that is not the common case:
    (the address, lower-cased, with its local domains taken off and one put
    back, its domain, is that domain local)."""
    a, saved_domain = _strip_local_domains(env, view, canonicalize(view, addr, conf).lower(), conf,
                                           lookups, is_local)
    if "@" in a:
        return a, a.rsplit("@", 1)[1], False
    a = a + "@" + (saved_domain or conf.myhostname)
    return a, a.rsplit("@", 1)[1], True


def _strip_local_domains(env, view, a: str, conf: AddrConf, lookups: list, is_local: LocalTest):
    """resolve.c's loop over the canonical address A: a local domain is
    taken off (and the rest rewritten again) until what is left is a remote
    address or a bare local part. Returns (what is left, the last local
    domain taken off or None)."""
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
            if not dom or not _local_domain(env, view, dom, conf, lookups, is_local):
                break
            a = local
            saved_domain = dom
        quoted = "@" not in a and a != "" and not is_dot_string(a)   # one quoted token
        if not quoted and ("@" in a or (conf.swap_bangpath and "!" in a)
                           or (conf.allow_percent_hack and "%" in a)):
            a = canonicalize(view, a, conf).lower()
            continue
        if quoted and conf.resolve_dequoted:
            # resolve_dequoted_address: the quoted local part is cracked
            # open at its last "%" (made "@"), else its "!" (the text is
            # then parsed unquoted, where the first "!" swaps)
            if conf.allow_percent_hack and "%" in a:
                i = a.rfind("%")
                a = canonicalize(view, a[:i] + "@" + a[i + 1:], conf).lower()
                continue
            if conf.swap_bangpath and "!" in a:
                a = canonicalize(view, a, conf, rescanned=True).lower()
                continue
        if not a:
            a = canonicalize(view, conf.empty_recipient, conf).lower()
            continue
        if saved_domain is None and "@" not in a:
            a = a + "@" + conf.myhostname
            continue
        break
    return a, saved_domain


def _local_domain(env, view, dom: str, conf: AddrConf, lookups: list, is_local: LocalTest) -> bool:
    """resolve_local(DOM) > 0: from the parsed mydestination when it is
    plain names and DOM no literal, else by IS_LOCAL (which may ask tables)."""
    local_map = conf.local_map
    if local_map is not None and "[" not in dom:
        return is_local_name(local_map, dom)
    return is_local(env, view, dom, lookups) > 0


def domain_class(env, view, rcpt_domain: str, conf: AddrConf | None = None):
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
    tables = env.tables
    lookups: list = []
    domain = rcpt_domain.lower()
    alias_doms, mbox_doms, relay_doms = lists
    matched, pattern = _class_list_match(tables, view, alias_doms, domain, lookups)
    if matched:
        show = (conf if view is env.main else addr_conf(env, env.main)).show_table
        return (CLASS_ALIAS, pattern, "error",
                "5.1.1 User unknown" + (" in virtual alias table" if show else ""),
                "virtual_alias_domains", tuple(lookups))
    matched, pattern = _class_list_match(tables, view, mbox_doms, domain, lookups)
    if matched:
        return (CLASS_VIRTUAL, pattern, conf.virtual_transport, rcpt_domain, "virtual_transport",
                tuple(lookups))
    matched = None
    parent = conf.relay_parent
    for match, pat, _tab in relay_doms:
        ok, err = _match_hostname(tables, view, domain, pat, parent, lookups)
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


def _class_list_match(tables: Tables, view, items, domain: str, lookups: list):
    """string_list_match() over a class list parsed by AddrConf (no /file),
    without its MatchResult: (matched, the pattern that decided) or
    (False, None); raises TableFailure when a table fails."""
    for match, pat, tab in items:
        if tab:
            found, _v, err = tables.lookup(view, pat, domain, lookups)
            if found:
                return match, pat
            if err:
                raise TableFailure(pat, err, lookups)
        elif domain == pat:
            return match, pat
    return False, None


def _domain_class_files(env, view, rcpt_domain: str):
    """domain_class() when a class list names a /file (read each time)."""
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
    """trivial-rewrite's transport_maps lookup (transport.c): the first key
    found sets RES's transport and next hop."""
    view = env.main
    specs = param_list(view, "transport_maps")
    if not specs:
        return
    for key, partial in _transport_keys(view, res):
        value, err, spec = maps_find(env.tables, view, specs, key, lookups, partial)
        if err:
            raise TableFailure(spec or "transport_maps", err, lookups)
        if value is not None:
            ch, _, nh = value.strip().partition(":")
            if ch or nh:                  # ":" means "do not change"
                if ch:
                    res.transport = ch
                res.nexthop = nh if nh else res.domain   # null nexthop: the recipient domain
            res.transport_source = f"transport_maps {spec} (key {key})"
            return


def _transport_keys(view, res: Resolved) -> list[tuple[str, bool]]:
    """The keys transport_maps is asked, in order, as (key, partial): the
    address, without its extension (each in external form first when its
    local part needs quotes), the domain and its parents (or .parents),
    "*"."""
    keys: list[tuple[str, bool]] = [(res.recipient, False)]
    bare = strip_extension(res.recipient, param(view, "recipient_delimiter"))
    if bare != res.recipient:
        keys.append((bare, True))
    keys = external_first(keys, False)   # mail_addr_find_strategy(): the quoted form first
    name = res.domain
    keys.append((name, True))
    parent = parent_style(view, "transport_maps")
    while True:
        nxt = name.find(".", 1)
        if nxt < 0:
            break
        if not parent:
            keys.append((name[nxt:], True))
        name = name[nxt + 1:]
        if parent:
            keys.append((name, True))
    keys.append(("*", True))
    return keys
