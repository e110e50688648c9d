"""mail_addr_find() and its keys (global/mail_addr_find.c), strip_addr() (global/strip_addr.c)."""
from __future__ import annotations

from tui.core.cache import TableFailure, table_lookup
from tui.core.config.params import param, read_myorigin
from tui.core.postfix.addr_conf import _AddrConf, _conf, _is_local_name
from tui.core.postfix.match_list import parent_style
from tui.core.postfix.resolve_local import resolve_local


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
    delim = param(view, "recipient_delimiter")
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
