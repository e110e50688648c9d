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
from dataclasses import dataclass, field

OK = "ok"
NOTFOUND = "notfound"      # NXDOMAIN or no records of that type
NULLMX = "nullmx"
TEMPFAIL = "tempfail"
UNKNOWN = "unknown"        # not evaluated (offline)


@dataclass(frozen=True)
class DnsAnswer:
    status: str
    records: tuple[str, ...] = ()   # A/AAAA addresses, MX/NS host names, TXT strings

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


@dataclass
class StaticResolver(Resolver):
    """Answers supplied by the user.

    records: {(name, rrtype): (value, ...)} -- e.g. {("example.org", "MX"): ("mx.example.org",)}
    nonexistent: names for which every lookup is NXDOMAIN
    default: status for anything not described (UNKNOWN keeps the trace conditional)
    """

    records: dict = field(default_factory=dict)
    nonexistent: set = field(default_factory=set)
    default: str = UNKNOWN
    name: str = "static"

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
