"""The host's own network addresses (inet_addr_local.c) and inet_interfaces/proxy_interfaces."""
from __future__ import annotations

import ipaddress

from tui.core.config.params import param_list


def interface_addrs(view, name: str) -> list[str]:
    vals = param_list(view, name)
    out: list[str] = []
    for v in vals:
        lv = v.lower()
        if lv == "all":
            out.extend(_host_addresses())
        elif lv in ("loopback-only",):
            out.extend(["127.0.0.1", "::1"])
        else:
            h = v.strip("[]")
            try:
                out.append(str(ipaddress.ip_address(h)))
            except ValueError:
                import socket  # a host name in inet_interfaces: rare, and socket costs start-up time

                try:
                    for info in socket.getaddrinfo(h, None):
                        out.append(str(info[4][0]))
                except OSError:
                    pass
    return out


def _host_addresses() -> list[str]:
    addrs = {"127.0.0.1", "::1"}
    try:
        with open("/proc/net/fib_trie", encoding="ascii", errors="replace") as fh:
            lines = fh.read().splitlines()
        for i, line in enumerate(lines):
            if "/32 host LOCAL" in line and i > 0:
                ip = lines[i - 1].strip().split()[-1]
                addrs.add(ip)
    except OSError:
        pass
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as fh:
            for line in fh:
                h = line.split()[0]
                addrs.add(str(ipaddress.ip_address(":".join(h[i:i + 4] for i in range(0, 32, 4)))))
    except (OSError, ValueError, IndexError):
        pass
    return sorted(addrs)
