"""valid_hostname(), valid_hostaddr(), valid_ipv4_hostaddr(),
valid_ipv6_hostaddr() (util/valid_hostname.c), valid_mailhost_addr(),
valid_mailhost_literal() (global/valid_mailhost_addr.c) and
normalize_mailhost_addr() (global/normalize_mailhost_addr.c), ported from
Postfix 3.7 rather than left to Python's ipaddress: Postfix has its own
rules (0.1.2.3 is invalid, 010.1.1.1 is valid, an IPv6 field has at most
four hex digits, "IPv6:" is required inside an address literal)."""
from __future__ import annotations

import functools
import ipaddress
import re



_HOSTNAME_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
                          r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*")


@functools.lru_cache(maxsize=8192)
def valid_hostname(name: str) -> bool:
    """Postfix valid_hostname(): ASCII letters, digits and '_' with inner
    '-' in dot-separated labels of at most 63, at most 255 in all, not all
    numeric. (One regular expression instead of Postfix's character loop:
    tests/core/test_valid_hostname.py checks it against that loop.)"""
    if len(name) > 255 or not _HOSTNAME_RE.fullmatch(name):
        return False
    if len(name) > 63 and any(len(label) > 63 for label in name.split(".")):
        return False
    return not name.replace(".", "").isdigit()


_DIGITS = frozenset("0123456789")
_HEX_CHARS = "0123456789abcdefABCDEF"


@functools.lru_cache(maxsize=8192)
def valid_ipv4_hostaddr(addr: str) -> bool:
    """Postfix valid_ipv4_hostaddr(): four dot-separated decimal octets of at
    most 255 (leading zeros allowed: "010" is 10), no empty octet, and a
    first octet of 0 only in 0.0.0.0."""
    in_byte = False
    byte_count = 0
    byte_val = 0
    n = len(addr)
    for i, ch in enumerate(addr):
        if ch in _DIGITS:
            if not in_byte:
                in_byte = True
                byte_val = 0
                byte_count += 1
            byte_val = byte_val * 10 + (ord(ch) - 48)
            if byte_val > 255:
                return False
        elif ch == ".":
            if not in_byte or i + 1 == n:
                return False
            # Allow 0.0.0.0 but not 0.1.2.3
            if byte_count == 1 and byte_val == 0 and _span_end(addr, "0.") < n:
                return False
            in_byte = False
        else:
            return False
    return byte_count == 4


def _span_end(s: str, chars: str) -> int:
    """strspn(s, chars)."""
    i = 0
    while i < len(s) and s[i] in chars:
        i += 1
    return i


@functools.lru_cache(maxsize=8192)
def valid_ipv6_hostaddr(addr: str) -> bool:
    """Postfix valid_ipv6_hostaddr(): at most eight hex fields of at most four
    digits, at most one "::", an IPv4 dotted quad allowed as the last part
    (after 2..6 colons); no getaddrinfo()."""
    null_field = 0
    field = 0
    length = 0
    i = 0
    n = len(addr)
    while True:
        ch = addr[i] if i < n else ""
        if ch == "":
            if field < 2:
                return False
            if length == 0 and null_field != field - 1:
                return False
            return True
        if ch == ".":
            if field < 2 or field > 6:
                return False
            return valid_ipv4_hostaddr(addr[i - length:])
        if ch == ":":
            nxt = addr[i + 1] if i + 1 < n else ""
            if field == 0 and length == 0 and nxt.isascii() and nxt.isalnum():
                return False
            field += 1
            if field > 7:
                return False
            i += 1
            length = 0
            if i < n and addr[i] == ":":
                if null_field > 0:
                    return False
                null_field = field
            continue
        length = _span_end(addr[i:], _HEX_CHARS)
        if length > 4 or length <= 0:
            return False
        i += length


@functools.lru_cache(maxsize=8192)
def valid_hostaddr(addr: str) -> bool:
    """Postfix valid_hostaddr(): IPv6 syntax when the text has a ":", else
    IPv4 (Postfix's own rules, not inet_pton's)."""
    if not addr:
        return False
    return valid_ipv6_hostaddr(addr) if ":" in addr else valid_ipv4_hostaddr(addr)


def skip_ipv6_col(addr: str) -> str:
    """SKIP_IPV6_COL(): the text after a leading "IPv6:" (any case)."""
    return addr[5:] if addr[:5].lower() == "ipv6:" else addr


def valid_mailhost_addr(addr: str) -> str | None:
    """Postfix valid_mailhost_addr(): "IPv6:" + IPv6 syntax, or IPv4 syntax;
    the bare address, or None."""
    if addr[:5].lower() == "ipv6:":
        bare = addr[5:]
        return bare if valid_ipv6_hostaddr(bare) else None
    return addr if valid_ipv4_hostaddr(addr) else None


def valid_mailhost_literal(addr: str) -> bool:
    """Postfix valid_mailhost_literal(): "[" address "]" and nothing after."""
    if not addr.startswith("["):
        return False
    last = addr.find("]")
    if last < 0 or last + 1 != len(addr):
        return False
    return valid_mailhost_addr(addr[1:last]) is not None


@functools.lru_cache(maxsize=8192)
def normalize_mailhost_addr(text: str, ipv4: bool = True, ipv6: bool = True) -> tuple[str, int] | None:
    """Postfix normalize_mailhost_addr() for a client address (XCLIENT ADDR=,
    and smtpd_peer.c for a real connection): (bare address, 4 or 6), or None
    when the syntax is invalid or the family not enabled by inet_protocols.
    IPv6 is written the way inet_ntop() writes it; an IPv4-mapped IPv6
    address (::ffff:a.b.c.d) becomes the IPv4 address when IPv4 is enabled."""
    bare = valid_mailhost_addr(text)
    if bare is None:
        return None
    try:
        ip = ipaddress.ip_address(inet_aton(bare) if ":" not in bare else bare)
    except ValueError:
        return None
    if ip.version == 6:
        assert isinstance(ip, ipaddress.IPv6Address)
        if ip.ipv4_mapped is not None:
            if ipv4:
                return str(ip.ipv4_mapped), 4
            return ("::ffff:" + str(ip.ipv4_mapped), 6) if ipv6 else None
        return (ip.compressed, 6) if ipv6 else None
    return (str(ip), 4) if ipv4 else None


def inet_aton(addr: str) -> str:
    """A dotted quad as getaddrinfo(AI_NUMERICHOST) reads it: a part with a
    leading zero is octal ("010" is 8). ValueError when it cannot be read."""
    parts = []
    for p in addr.split("."):
        v = int(p, 8) if len(p) > 1 and p.startswith("0") else int(p)
        if v > 255:
            raise ValueError(addr)
        parts.append(str(v))
    return ".".join(parts)


def valid_literal(dom: str) -> bool:
    """An address literal as trivial-rewrite accepts it (valid_mailhost_literal)."""
    return valid_mailhost_literal(dom)
