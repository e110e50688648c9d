"""The DNS as the restriction evaluator sees it.

Restrictions such as reject_unknown_sender_domain, reject_rbl_client or
check_sender_mx_access need DNS answers. The evaluator never touches the
network itself; it asks a Resolver:

- OfflineResolver (the default for users): every answer is "unknown"; the
  step says "needs DNS: not evaluated", the trace goes on as if the
  restriction passed, and the verdict is marked conditional.
- StaticResolver: answers the user supplied (this domain exists, that one has
  no A/MX, this client is listed on that DNSBL), evaluated as Postfix would;
  whatever the user did not say is "unknown" (or a chosen default).
- TempFailResolver: every lookup is a temporary failure, like a host with no
  working DNS at all (what a real smtpd on the test machines sees).
"""
from __future__ import annotations

import ipaddress

from tui.core.model import FrozenRecord, Record

OK = "ok"
NOTFOUND = "notfound"      # NXDOMAIN or no records of that type
NULLMX = "nullmx"
TEMPFAIL = "tempfail"
UNKNOWN = "unknown"        # not evaluated (offline)


class DnsAnswer(FrozenRecord):
    __slots__ = _fields = ("status", "records")
    status: str
    records: tuple[str, ...]   # A/AAAA addresses, MX/NS host names, TXT strings

    def __init__(self, status: str, records: tuple[str, ...] = ()):
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "records", records)

    @property
    def ok(self) -> bool:
        return self.status == OK


class Resolver:
    """Base class: subclasses answer lookup(name, rrtype)."""

    name = "resolver"
    offline = False

    def lookup(self, name: str, rrtype: str) -> DnsAnswer:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


class OfflineResolver(Resolver):
    name = "offline"
    offline = True

    def lookup(self, name: str, rrtype: str) -> DnsAnswer:
        return DnsAnswer(UNKNOWN)

    def describe(self) -> str:
        return "offline (DNS not consulted)"


class TempFailResolver(Resolver):
    name = "tempfail"

    def lookup(self, name: str, rrtype: str) -> DnsAnswer:
        return DnsAnswer(TEMPFAIL)

    def describe(self) -> str:
        return "no DNS (every lookup fails temporarily)"


class StaticResolver(Resolver, Record):
    """Answers supplied by the user.

    records: {(name, rrtype): (value, ...)} -- e.g. {("example.org", "MX"): ("mx.example.org",)}
    nonexistent: names for which every lookup is NXDOMAIN
    default: status for anything not described (UNKNOWN keeps the trace conditional)
    """

    _fields = ("records", "nonexistent", "default", "name")
    records: dict
    nonexistent: set
    default: str
    name: str

    def __init__(self, records: dict | None = None, nonexistent: set | None = None, default: str = UNKNOWN,
                 name: str = "static"):
        self.records = {} if records is None else records
        self.nonexistent = set() if nonexistent is None else nonexistent
        self.default = default
        self.name = name

    def lookup(self, name: str, rrtype: str) -> DnsAnswer:
        key = (name.lower().rstrip("."), rrtype.upper())
        if key in self.records:
            vals = tuple(self.records[key])
            if rrtype.upper() == "MX" and vals == (".",):
                return DnsAnswer(NULLMX)
            return DnsAnswer(OK if vals else NOTFOUND, vals)
        if key[0] in self.nonexistent:
            return DnsAnswer(NOTFOUND)
        # a name described for some other type exists but has no such record
        if any(n == key[0] for n, _t in self.records):
            return DnsAnswer(NOTFOUND)
        return DnsAnswer(self.default)

    @classmethod
    def from_answers(cls, exists=(), nonexistent=(), dnsbl_listed=(), default=UNKNOWN):
        """exists: domains with an A and MX record; nonexistent: NXDOMAIN names;
        dnsbl_listed: (ip_or_domain, dnsbl_zone[, reply_address]) tuples."""
        recs: dict = {}
        for d in exists:
            d = d.lower().rstrip(".")
            recs[(d, "A")] = ("192.0.2.1",)
            recs[(d, "MX")] = (d,)
        for item in dnsbl_listed:
            what, zone = item[0], item[1]
            reply = item[2] if len(item) > 2 else "127.0.0.2"
            recs[(dnsxl_query(what, zone), "A")] = (reply,)
        return cls(records=recs, nonexistent={n.lower().rstrip(".") for n in nonexistent},
                   default=default)

    def describe(self) -> str:
        return "answers supplied by the user"


def dnsxl_query(what: str, zone: str) -> str:
    """The DNS name smtpd queries for `what` (an IP address or a domain) on `zone`."""
    zone = zone.split("=", 1)[0]
    try:
        ip = ipaddress.ip_address(what)
    except ValueError:
        return f"{what.lower()}.{zone}"
    if ip.version == 4:
        return ".".join(reversed(str(ip).split("."))) + "." + zone
    nibbles = ip.exploded.replace(":", "")
    return ".".join(reversed(nibbles)) + "." + zone
