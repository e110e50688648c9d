"""mail_addr_find() and its keys (global/mail_addr_find.c), strip_addr() (global/strip_addr.c)."""
from __future__ import annotations

from tui.core.postfix.mail_params import read_myorigin
from tui.core.postfix.addr_conf import AddrConf, addr_conf, is_local_name
from tui.core.postfix.maps import TableFailure
from tui.core.postfix.quote_822_local import is_dot_string, quote_822_local
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

    A key with a local part that needs quoting ("joe x@example.com") is
    asked in external form first ('"joe x"@example.com'), as Postfix's
    mail_addr_find() does.

    The view's settings are read once (addr_conf). Nearly every address a trace
    asks about is new: computing the keys is cheaper than memoising them.
    """
    conf = addr_conf(env, view)
    a = address
    delim = conf.delim
    bare = strip_extension(a, delim)
    if "@" not in a:
        keys = [(a, False)] if bare == a else [(a, False), (bare, True)]
        return keys if is_dot_string(a) and is_dot_string(bare) else external_first(keys, False)
    keys = [(a, False)]
    local, dom = a.rsplit("@", 1)
    bare_local = local
    if bare != a:
        keys.append((bare, True))
        bare_local = bare.rsplit("@", 1)[0]
    # the keys with a local part are asked in external (quoted) form first
    plain = is_dot_string(local) and (bare_local is local or is_dot_string(bare_local))
    if not plain:
        keys = external_first(keys, False)
    if strategy == "default":
        if _is_local_domain(env, view, conf, a, dom):
            locals_ = [(local, True)] if bare_local == local else [(local, True), (bare_local, True)]
            keys += locals_ if plain else external_first(locals_, True)
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
    at_keys = [(local + "@", True)] if bare_local == local else [(local + "@", True), (bare_local + "@", True)]
    keys += at_keys if plain else external_first(at_keys, False)
    return keys


def external_first(keys: list[tuple[str, bool]], bare_localpart: bool) -> list[tuple[str, bool]]:
    """find_addr() with MA_FORM_EXTERNAL_FIRST: each key in external
    (quoted) form, then as it is when that differs; BARE_LOCALPART: the
    keys are local parts alone (no "@domain" to keep out of the quotes)."""
    out: list[tuple[str, bool]] = []
    for key, partial in keys:
        ext = quote_822_local(key, bare_localpart)
        if ext != key:
            out.append((ext, partial))
        out.append((key, partial))
    return out


def _is_local_domain(env, view, conf: AddrConf, address: str, dom: str) -> bool:
    """Is DOM $myorigin or resolve_local() > 0 (a lookup error: not local)?
    When mydestination is plain names, myorigin no file and the address no
    literal, the view's parsed mydestination answers without a lookup."""
    if conf.local_map is not None and conf.myorigin is not None and "[" not in address:
        return dom == conf.myorigin or is_local_name(conf.local_map, dom)
    if dom == read_myorigin(view):
        return True
    try:
        return resolve_local(env, view, dom, []) > 0
    except TableFailure:
        return False


def mail_addr_find(env, view, specs: list[str], address: str, lookups: list,
                   strategy: str = "default"):
    """Returns (value, key, spec) or raises TableFailure."""
    if not specs:
        return None, None, None
    lookup = env.tables.lookup
    for key, partial in mail_addr_keys(env, view, address, strategy):
        # maps_find(): each table in order, the first hit or first error
        for spec in specs:
            found, value, err = lookup(view, spec, key, lookups, partial)
            if found:
                if value is not None:
                    return value, key, spec
                break
            if err:
                raise TableFailure(spec or "?", err, lookups)
    return None, None, None
