"""The SMTP client's identity as smtpd holds it (smtpd_peer.c, and smtpd.c's
XCLIENT NAME=/REVERSE_NAME=/ADDR=).

smtpd keeps two client names, each with a lookup status:

- the client name: the reverse (PTR) name, but only when the forward
  lookup of that name gives the client address back ("verified");
- the reverse client name: the PTR name, unverified.

When a lookup fails the name is "unknown", and the status says whether the
failure was permanent (no PTR record, a forward mismatch) or temporary (a
DNS timeout). Mail logs print "unknown" in both cases. XCLIENT spells the
two failures `[UNAVAILABLE]` (permanent) and `[TEMPUNAVAIL]` (temporary).

`client_name_status()` is the one place where text a user typed or a log
line carried becomes (name, status): the trace CLI, the app's form, the
log-line parsers and the evaluator all go through it.
"""
from __future__ import annotations

import functools

from tui.core.postfix.valid_hostname import normalize_mailhost_addr

CLIENT_NAME_UNKNOWN = "unknown"
XCLIENT_UNAVAILABLE = "[UNAVAILABLE]"
XCLIENT_TEMPORARY = "[TEMPUNAVAIL]"

# SMTPD_PEER_CODE_*: the status of a name lookup
PEER_OK = "ok"
PEER_TEMP = "temporary failure"
PEER_PERM = "permanent failure"


def client_name_status(text: str | None) -> tuple[str, str]:
    """(name, status) for a client name or reverse client name.

    `[UNAVAILABLE]` is a permanent lookup failure and `[TEMPUNAVAIL]` a
    temporary one (XCLIENT's words, any case); `unknown` (what a mail log
    prints for either failure) and an empty name are taken as a temporary
    failure. Any other text is a name whose lookup succeeded."""
    t = (text or "").strip()
    u = t.upper()
    if u == XCLIENT_UNAVAILABLE:
        return CLIENT_NAME_UNKNOWN, PEER_PERM
    if u == XCLIENT_TEMPORARY or t == "" or t.lower() == CLIENT_NAME_UNKNOWN:
        return CLIENT_NAME_UNKNOWN, PEER_TEMP
    return t, PEER_OK


def inet_protocols_families(value: str) -> tuple[bool, bool]:
    """(ipv4, ipv6) enabled by an inet_protocols value ("all", "ipv4, ipv6", ...)."""
    words = {w.lower() for w in value.replace(",", " ").split()}
    if "all" in words:
        return True, True
    return "ipv4" in words, "ipv6" in words


@functools.lru_cache(maxsize=4096)
def normalize_client_address(text: str, inet_protocols: str = "all") -> str | None:
    """The client address as smtpd stores it (normalize_mailhost_addr()):
    an optional "IPv6:" prefix dropped, IPv6 written as inet_ntop() writes
    it, an IPv4-mapped IPv6 address (::ffff:192.0.2.1) turned into the IPv4
    address when IPv4 is enabled. None: smtpd would not take the address
    (bad syntax, or a family inet_protocols does not enable)."""
    ipv4, ipv6 = inet_protocols_families(inet_protocols)
    text = text.strip()
    if ":" in text and text[:5].lower() != "ipv6:":
        text = "IPv6:" + text  # what a user types; XCLIENT wants the prefix
    got = normalize_mailhost_addr(text, ipv4=ipv4, ipv6=ipv6)
    return None if got is None else got[0]


def client_names_from_log(name: str | None, reply: str | None) -> tuple[str, str | None]:
    """(client_name, reverse_client_name or None) for a mail-log line.

    A log prints "unknown" for either failure; the reply can tell more: a
    temporary failure is always answered 450, so a 5xx "cannot find your
    hostname" (reverse hostname) proves a permanent one."""
    n = (name or "").strip() or CLIENT_NAME_UNKNOWN
    if n.lower() != CLIENT_NAME_UNKNOWN or not reply or not reply[:1] == "5":
        return n, None
    if "cannot find your reverse hostname" in reply:
        return XCLIENT_UNAVAILABLE, XCLIENT_UNAVAILABLE
    if "cannot find your hostname" in reply:
        return XCLIENT_UNAVAILABLE, None
    return n, None
