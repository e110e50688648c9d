"""valid_hostname(), valid_hostaddr() (util/valid_hostname.c) and address literals."""
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


@functools.lru_cache(maxsize=8192)
def valid_hostaddr(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return ":" in name or name.count(".") == 3
    except ValueError:
        return False


def valid_literal(dom: str) -> bool:
    if not (dom.startswith("[") and dom.endswith("]")):
        return False
    inner = dom[1:-1]
    if inner.lower().startswith("ipv6:"):
        inner = inner[5:]
        try:
            return ipaddress.ip_address(inner).version == 6
        except ValueError:
            return False
    try:
        return ipaddress.ip_address(inner).version == 4
    except ValueError:
        return False
