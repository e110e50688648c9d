"""resolve_local(): is a domain this host's own (global/resolve_local.c)?"""
from __future__ import annotations

import ipaddress

from tui.core.config.params import param_list
from tui.core.postfix.inet_addr_local import interface_addrs
from tui.core.postfix.maps import TableFailure
from tui.core.postfix.match_list import string_list_match
from tui.core.postfix.valid_hostname import inet_aton, valid_mailhost_addr


def resolve_local(env, view, domain: str, lookups: list):
    """1 local, 0 not, raises TableFailure on a mydestination lookup error."""
    d = domain.lower()
    if not d:
        return 0
    if d.endswith("."):
        d = d[:-1]
    if not d or d.endswith("."):
        return 0
    res = string_list_match(env.tables, view, param_list(view, "mydestination"), d, lookups)
    if res.matched:
        return 1
    if res.error:
        raise TableFailure(res.pattern or "mydestination", res.error, lookups)
    if d.startswith("[") and d.endswith("]"):
        # valid_mailhost_addr(), then the address as getaddrinfo() reads it
        # ([127.000.000.001] is 127.0.0.1)
        lit = valid_mailhost_addr(d[1:-1])
        if lit is None:
            return 0
        try:
            ip = str(ipaddress.ip_address(lit if ":" in lit else inet_aton(lit)))
        except ValueError:
            return 0
        mine = interface_addrs(view, "inet_interfaces") + interface_addrs(view, "proxy_interfaces")
        if ip in mine:
            return 1
    return 0
