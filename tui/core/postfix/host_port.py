"""host_port() (util/host_port.c): how inet_connect() reads host:port,
[host]:port and port. A text it cannot read makes the caller exit
(inet_connect(): "fatal: ENDPOINT: complaint"): smtpd does so when it
connects to a milter or to its smtpd_proxy_filter."""
from __future__ import annotations

from tui.core.postfix.valid_hostname import valid_hostaddr, valid_hostname, valid_ipv6_hostaddr


def _alldig(text: str) -> bool:
    return bool(text) and all(c in "0123456789" for c in text)


def host_port_error(endpoint: str) -> str | None:
    """host_port(endpoint, "localhost", no default service)'s complaint, or
    None. An internationalized host name (a UTF-8 check of its own) passes."""
    cp = endpoint
    if cp.startswith("["):
        cp = cp[1:]
        ipv6 = cp[:5].lower() == "ipv6:"
        if ipv6:
            cp = cp[5:]
        host, bracket, rest = cp.partition("]")
        if not bracket:
            return "missing \"]\""
        if rest and rest[0] != ":":
            return "garbage after \"]\""
        if ipv6 and not valid_ipv6_hostaddr(host):
            return "malformed IPv6 address"
        port: str | None = rest[1:] or None
        if port is None:
            return "missing service information"
        checked_host = True
    else:
        head, colon, tail = endpoint.rpartition(":")
        if colon:
            host = head or "localhost"
            checked_host = bool(head)
            port = tail or None
        else:   # no ':': the text is both host and service
            host, checked_host = "localhost", False
            port = endpoint or None
        if port is None:
            return "missing service information"
    if checked_host and host.isascii() and not valid_hostname(host) and not valid_hostaddr(host):
        return "valid hostname or network address required"
    if port[0] in "0123456789" and not _alldig(port):
        return "garbage after numerical service"
    return None


def inet_connect_fatal(endpoint: str) -> str | None:
    """inet_connect()'s exit on an ENDPOINT host_port() cannot parse (its
    "fatal: ..." line), or None."""
    err = host_port_error(endpoint)
    return None if err is None else f"fatal: {endpoint}: {err}"
