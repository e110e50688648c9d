"""Every restriction smtpd knows, registered once, by name.

A handler is registered with the `restriction` decorator, which declares
the restriction's name (plus any other names smtpd accepts for the very
same check), what kind of argument it takes from the next list item, and
the deprecated aliases with the name Postfix recommends instead:

    @restriction("check_client_access", arg=TABLE)
    def r_check_client_access(c: Call[DnsListChecks]) -> int: ...

    @restriction("reject_unknown_client_hostname",
                 deprecated={"reject_unknown_client": "reject_unknown_client_hostname"})
    def r_reject_unknown_client_hostname(c: Call[DnsListChecks]) -> int: ...

    @restriction("check_relay_domains", replaces="reject_unauth_destination")
    def r_check_relay_domains(c: Call[DnsListChecks]) -> int: ...

A handler is given one Call: the evaluation (c.ev), the name smtpd matched
(c.name), the argument its kind says it takes (c.arg) and the list's
reply_name, reply_class and def_acl; it reads only what it uses.

The evaluator's list walk, lint and the table inventory all read names,
argument kinds and deprecations from RESTRICTIONS and nowhere else. Outside
tui.core.smtpd, import RESTRICTIONS from the package (`from tui.core.smtpd
import RESTRICTIONS`): importing the package registers every handler.
"""
from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

from tui.core.model import FrozenRecord

# What follows a restriction name in a restriction list.
NO_ARG = "none"        # nothing
TABLE = "table"        # a type:table, required (smtpd stops at the list without one)
DOMAIN = "domain"      # a DNS list domain (optional: the list may end)
SERVICE = "service"    # check_policy_service's transport:server (optional)
NUMBER = "number"      # sleep's seconds (optional)

E = TypeVar("E")


class Call(Generic[E]):
    """One restriction as generic_checks calls it (smtpd_check.c: its
    locals). ev: the evaluation. name: the restriction, lower case, as smtpd
    matched it (for a bare type:table, the list's def_acl). arg: the next
    list item when the registry's arg kind takes one: a str for TABLE (the
    walk stops a list before an access restriction without its table),
    a str or None for DOMAIN, SERVICE and NUMBER, None for NO_ARG.
    reply_name, reply_class, def_acl: the list's (what a reply names, the
    kind of thing it names, the access check a bare type:table means).

    generic_checks makes one per list walk (it is the only maker: no
    __init__, whose call would cost every walk) and sets name and arg for
    each restriction; a handler must not keep it."""

    __slots__ = ("ev", "name", "arg", "reply_name", "reply_class", "def_acl")

    ev: E
    name: str
    arg: Any            # see above: what the registry's arg kind says
    reply_name: str
    reply_class: str
    def_acl: str | None


Handler = Callable[[Call[Any]], int]


_set = object.__setattr__


class Restriction(FrozenRecord):
    __slots__ = _fields = ("name", "handler", "arg", "replacement")
    name: str
    handler: Handler | None       # None: the list walk's own keyword (warn_if_reject)
    arg: str
    replacement: str | None       # set for a deprecated name: what to use instead

    def __init__(self, name: str, handler: Handler | None, arg: str = NO_ARG,
                 replacement: str | None = None) -> None:
        _set(self, "name", name)
        _set(self, "handler", handler)
        _set(self, "arg", arg)
        _set(self, "replacement", replacement)

    @property
    def takes_argument(self) -> bool:
        return self.arg != NO_ARG

    @property
    def deprecated(self) -> bool:
        return self.replacement is not None


RESTRICTIONS: dict[str, Restriction] = {}


def _add(r: Restriction) -> None:
    if r.name in RESTRICTIONS:
        raise ValueError(f"restriction {r.name} registered twice")
    RESTRICTIONS[r.name] = r


def restriction(*names: str, arg: str = NO_ARG, deprecated: dict[str, str] | None = None,
                replaces: str | None = None) -> Callable[[Any], Any]:
    """Register the decorated handler under NAMES and under the keys of
    DEPRECATED (old names -> the name to use instead). REPLACES: the NAMES
    themselves are deprecated, in favour of this."""
    def register(handler: Any) -> Any:
        for n in names:
            _add(Restriction(n, handler, arg, replaces))
        for old, new in (deprecated or {}).items():
            _add(Restriction(old, handler, arg, new))
        return handler
    return register


def keyword(name: str) -> None:
    """A name the list walk handles itself (no handler)."""
    _add(Restriction(name, None))


def names_with_argument() -> frozenset[str]:
    return frozenset(n for n, r in RESTRICTIONS.items() if r.takes_argument)


def deprecated_names() -> dict[str, str]:
    """Old restriction names smtpd still accepts -> the name to use instead."""
    return {n: r.replacement for n, r in RESTRICTIONS.items() if r.replacement is not None}
