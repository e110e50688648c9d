"""Where mail for an accepted recipient goes: virtual aliases expanded, each result resolved."""
from __future__ import annotations

from typing import Callable

from tui.core.postfix.addr_conf import addr_conf, route_conf
from tui.core.postfix.mail_addr import mail_addr_find
from tui.core.postfix.maps import TableFailure
from tui.core.rewrite.canonicalize import canonicalize
from tui.core.rewrite.resolve import Resolved, resolve_addr
from tui.core.trace import Route, RouteTarget

Resolve = Callable[..., Resolved]   # (env, address, with_transport=True) -> Resolved


def route(env, address: str, resolve: Resolve = resolve_addr) -> Route:
    """Resolve an accepted recipient: class, virtual alias expansion, transport, next hop.
    RESOLVE: resolve_addr(), or a caller's own that remembers its answers
    (tui.core.cache.route passes one)."""
    res = resolve(env, address)
    notes: list[str] = []
    view = env.main
    settings = route_conf(env)
    cf = settings.content_filter
    if cf:
        notes.append(f"content_filter = {cf}: the message goes to that filter first and comes back "
                     f"through its re-injection listener; the route below is what happens after that")
    if settings.no_address_mappings:
        notes.append("receive_override_options = no_address_mappings on this service: this smtpd's "
                     "cleanup does no virtual alias mapping; it happens after re-injection "
                     "(content filter) or not at all")
    x = _Expansion(env, view, addr_conf(env, view), settings, notes)
    _expand(x, res.recipient, 0, ())
    if x.errors:
        notes.append("cleanup would fail this message with 451 4.6.0 Alias expansion error "
                     "(at the end of DATA): " + "; ".join(dict.fromkeys(x.errors)))
    targets = []
    for f in dict.fromkeys(x.finals):
        try:
            r = res if f == res.recipient else resolve(env, f)
        except TableFailure as exc:
            notes.append(f"cannot resolve {f}: {exc.message}")
            continue
        targets.append(RouteTarget(r.recipient, r.address_class, r.transport, r.nexthop,
                                   r.transport_source, tuple(r.lookups if r is not res else ())))
    return Route(recipient=res.recipient, address_class=res.address_class, domain=res.domain,
                 expansion=tuple(x.expansion), targets=tuple(targets), notes=tuple(notes),
                 lookups=tuple(res.lookups) + tuple(x.lookups))


class _Expansion:
    """One route()'s virtual alias expansion: what it reads, and what it
    fills in (finals, expansion, errors, notes, the lookups it made)."""

    __slots__ = ("env", "view", "conf", "specs", "limit", "expansion_limit", "propagate", "finals", "expansion",
                 "errors", "notes", "lookups")

    def __init__(self, env, view, conf, settings, notes: list[str]):
        self.env, self.view, self.conf, self.specs = env, view, conf, conf.virtual_alias_maps
        self.limit, self.expansion_limit = settings.recursion_limit, settings.expansion_limit
        self.propagate = settings.propagate
        self.finals: list[str] = []
        self.expansion: list[str] = []
        self.errors: list[str] = []
        self.notes = notes
        self.lookups: list = []


def _expand(x: _Expansion, addr: str, depth: int, seen: tuple) -> None:
    """ADDR through virtual_alias_maps, recursively, as cleanup does. (A
    function of its own, not a closure that calls itself: such a closure
    is a reference cycle, which would keep every trace's evaluator alive
    until the next garbage collection.)"""
    finals = x.finals
    if not x.specs or depth > x.limit:
        finals.append(addr)
        return
    try:
        value, key, spec = mail_addr_find(x.env, x.view, x.specs, addr, x.lookups)
    except TableFailure as exc:
        x.notes.append(f"virtual_alias_maps lookup failed for {addr}: {exc.message}")
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
        t = canonicalize(x.view, t, x.conf).lower()
        if ext and x.propagate and "@" in t:
            tl, td = t.rsplit("@", 1)
            t = f"{tl}{ext}@{td}"
        x.expansion.append(t)
        if t == addr:
            finals.append(t)
        elif t in seen:
            x.errors.append(f"virtual alias loop through {t}")
            finals.append(t)
        elif len(finals) < x.expansion_limit:
            _expand(x, t, depth + 1, seen + (addr,))
