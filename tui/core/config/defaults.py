"""Postfix 3.7's built-in defaults, and the ones Postfix computes from the host.

The table comes from `postconf -d` (scripts/gen_defaults.py writes
tui/core/data/defaults_3.7.json). Many 3.7 defaults are conditional
expressions over $compatibility_level, e.g.
`${{$compatibility_level} <level {2} ? {$mydestination} : {}}`; they are kept
as such and follow the level when expanded, exactly as in Postfix.

Host-dependent defaults are computed the way postconf does it
(postconf_builtin.c, mynetworks.c, own_inet_addr.c):
  myhostname   gethostname(); without a dot, "<name>.$mydomain" (main.cf's
               mydomain when set, else "localdomain")
  mydomain     what follows the first dot of $myhostname, else "localdomain"
  mynetworks   one pattern per interface address (inet_interfaces,
               inet_protocols) in the style of mynetworks_style
  config_directory, process_id, process_name  -- as the running postconf
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.model import FrozenRecord

if TYPE_CHECKING:
    import ipaddress

# socket, fcntl, array, struct and ipaddress are imported by the functions
# that read the host's interfaces and resolve names: most commands never
# compute a default from the interfaces (start-up time).

DATA_DIR = Path(__file__).resolve().parent.parent / "data"   # tui/core/data
POSTFIX_VERSION = "3.7"
DEF_MYDOMAIN = "localdomain"

# postconf_service.c: parameters that a master.cf service defines for itself,
# by the command it runs: <service><suffix>, default $<global parameter>.
_QMGR_SUFFIXES = [
    ("_recipient_limit", "default_recipient_limit"),
    ("_extra_recipient_limit", "default_extra_recipient_limit"),
    ("_recipient_refill_limit", "default_recipient_refill_limit"),
    ("_recipient_refill_delay", "default_recipient_refill_delay"),
    ("_delivery_slot_cost", "default_delivery_slot_cost"),
    ("_delivery_slot_loan", "default_delivery_slot_loan"),
    ("_delivery_slot_discount", "default_delivery_slot_discount"),
    ("_minimum_delivery_slots", "default_minimum_delivery_slots"),
    ("_initial_destination_concurrency", "initial_destination_concurrency"),
    ("_destination_concurrency_limit", "default_destination_concurrency_limit"),
    ("_destination_recipient_limit", "default_destination_recipient_limit"),
    ("_destination_concurrency_positive_feedback", "default_destination_concurrency_positive_feedback"),
    ("_destination_concurrency_negative_feedback", "default_destination_concurrency_negative_feedback"),
    ("_destination_concurrency_failed_cohort_limit", "default_destination_concurrency_failed_cohort_limit"),
    ("_destination_rate_delay", "default_destination_rate_delay"),
    ("_transport_rate_delay", "default_transport_rate_delay"),
]
_TIME_LIMIT = ("_time_limit", "command_time_limit")
SERVICE_PARAMS: dict[str, list[tuple[str, str]]] = {
    "local": _QMGR_SUFFIXES,
    "error": _QMGR_SUFFIXES,
    "virtual": _QMGR_SUFFIXES,
    "smtp": _QMGR_SUFFIXES,
    "lmtp": _QMGR_SUFFIXES,
    "pipe": [_TIME_LIMIT, *_QMGR_SUFFIXES],
    "spawn": [_TIME_LIMIT],
}


_set = object.__setattr__


class DefaultsTable(FrozenRecord):
    __slots__ = _fields = ("version", "defaults", "raw", "readonly", "legacy", "host_params")
    version: str
    defaults: dict[str, str]       # listed built-in parameters (postconf -d)
    raw: frozenset[str]            # never $-expanded by postconf -x
    readonly: frozenset[str]       # process_id, process_name, service_name
    legacy: dict[str, str]         # known but not listed unless set
    host_params: frozenset[str]    # computed from the host

    def __init__(self, version: str, defaults: dict[str, str], raw: frozenset[str], readonly: frozenset[str],
                 legacy: dict[str, str], host_params: frozenset[str]):
        _set(self, "version", version)
        _set(self, "defaults", defaults)
        _set(self, "raw", raw)
        _set(self, "readonly", readonly)
        _set(self, "legacy", legacy)
        _set(self, "host_params", host_params)

    def known(self, name: str) -> bool:
        return name in self.defaults or name in self.legacy

    def default(self, name: str) -> str | None:
        v = self.defaults.get(name)
        if v is None:
            v = self.legacy.get(name)
        return v

    def depends_on_compat(self, name: str) -> bool:
        v = self.defaults.get(name)
        return v is not None and "compatibility_level" in v and name != "compatibility_level"


@lru_cache(maxsize=None)
def load_defaults(version: str = POSTFIX_VERSION) -> DefaultsTable:
    data = json.loads((DATA_DIR / f"defaults_{version}.json").read_text())
    return DefaultsTable(
        version=data["mail_version"],
        defaults=data["defaults"],
        raw=frozenset(data["raw"]),
        readonly=frozenset(data["readonly"]),
        legacy=data["legacy"],
        host_params=frozenset(data["host_params"]),
    )


# ---------------------------------------------------------------- host facts

@lru_cache(maxsize=None)
def host_name() -> str:
    """gethostname(), as Postfix's get_hostname() (no DNS lookup). On
    POSIX that is uname()'s node name, without importing socket."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def default_myhostname(hostname: str, mydomain_setting: str | None) -> str:
    """pcf_check_myhostname(): a bare host name gets ".$mydomain" appended."""
    if "." in hostname:
        return hostname
    return f"{hostname}.{mydomain_setting if mydomain_setting is not None else DEF_MYDOMAIN}"


def default_mydomain(myhostname: str) -> str:
    """pcf_check_mydomainname(): the part after the first dot."""
    dot = myhostname.find(".")
    return DEF_MYDOMAIN if dot < 0 else myhostname[dot + 1:]


class IfAddr(FrozenRecord):
    __slots__ = _fields = ("ifindex", "address", "prefixlen", "scope")
    ifindex: int
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    prefixlen: int
    scope: int

    def __init__(self, ifindex: int, address: ipaddress.IPv4Address | ipaddress.IPv6Address, prefixlen: int,
                 scope: int = 0):
        _set(self, "ifindex", ifindex)
        _set(self, "address", address)
        _set(self, "prefixlen", prefixlen)
        _set(self, "scope", scope)


def _ipv4_interfaces() -> list[IfAddr]:
    import array
    import fcntl
    import ipaddress
    import socket
    import struct

    """IPv4 addresses of all interfaces (SIOCGIFCONF + SIOCGIFNETMASK)."""
    out: list[IfAddr] = []
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return out
    try:
        size = 40  # struct ifreq on 64-bit Linux
        arr = array.array("B", bytes(size * 128))
        addr, _ = arr.buffer_info()
        ifc = struct.pack("iL", len(arr), addr)
        res = fcntl.ioctl(s.fileno(), 0x8912, ifc)  # SIOCGIFCONF
        length, _ = struct.unpack("iL", res)
        raw = arr.tobytes()[:length]
        for off in range(0, length, size):
            name = raw[off:off + 16].split(b"\0", 1)[0]
            ip = ipaddress.IPv4Address(raw[off + 20:off + 24])
            try:
                req = struct.pack("16s24x", name)
                mres = fcntl.ioctl(s.fileno(), 0x891B, req)  # SIOCGIFNETMASK
                mask = ipaddress.IPv4Address(mres[20:24])
                plen = bin(int(mask)).count("1")
            except OSError:
                plen = 32
            try:
                idx = socket.if_nametoindex(name.split(b":")[0].decode())
            except OSError:
                idx = 0
            out.append(IfAddr(idx, ip, plen))
    except OSError:
        pass
    finally:
        s.close()
    return out


def _ipv6_interfaces() -> list[IfAddr]:
    """IPv6 addresses from /proc/net/if_inet6, in getifaddrs() order
    (interface index, then global before link-local scope)."""
    import ipaddress

    out: list[IfAddr] = []
    try:
        text = Path("/proc/net/if_inet6").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        f = line.split()
        if len(f) < 6:
            continue
        addr = ipaddress.IPv6Address(int(f[0], 16))
        out.append(IfAddr(int(f[1], 16), addr, int(f[2], 16), int(f[3], 16)))
    out.sort(key=lambda a: (a.ifindex, a.scope))
    return out


@lru_cache(maxsize=None)
def host_interfaces() -> tuple[IfAddr, ...]:
    v4 = sorted(_ipv4_interfaces(), key=lambda a: a.ifindex)
    return tuple(v4 + _ipv6_interfaces())


def _protocols(inet_protocols: str) -> set[int]:
    words = {w.lower() for w in inet_protocols.replace(",", " ").split()}
    fams: set[int] = set()
    if "all" in words:
        fams = {4, 6}
    if "ipv4" in words:
        fams.add(4)
    if "ipv6" in words:
        fams.add(6)
    if 6 in fams and not Path("/proc/net/if_inet6").exists():
        fams.discard(6)
    return fams


def _own_addresses(inet_interfaces: str, fams: set[int]) -> list[IfAddr]:
    """own_inet_addr_init(): the addresses Postfix considers its own."""
    import ipaddress

    ifs = [a for a in host_interfaces() if a.address.version in fams]
    words = [w for w in inet_interfaces.replace(",", " ").split() if w]
    if [w.lower() for w in words] == ["all"] or not words:
        return ifs
    if [w.lower() for w in words] == ["loopback-only"]:
        return [a for a in ifs if a.address.is_loopback]
    out: list[IfAddr] = []
    for w in words:
        w = w.strip("[]")
        try:
            ips = [ipaddress.ip_address(w)]
        except ValueError:
            ips = _resolve(w)
        for ip in ips:
            if ip.version not in fams:
                continue
            match = next((a for a in ifs if a.address == ip), None)
            if match is not None and all(o.address != ip for o in out):
                out.append(match)
    return out


def own_inet_addr_fatal(inet_interfaces: str, inet_protocols: str) -> str | None:
    """The fatal message of own_inet_addr_init() (every daemon, at start-up)
    for an inet_interfaces address this host does not have, or of a family
    inet_protocols turns off; None when it has them. "all" and
    "loopback-only" are only those words alone (strcmp); a host name is
    not looked up here (no verdict)."""
    import ipaddress

    fams = _protocols(inet_protocols)
    if not fams or inet_interfaces in ("all", "loopback-only"):
        return None
    mine = {a.address for a in host_interfaces() if a.address.version in fams}
    for w in (t for t in inet_interfaces.replace(",", " ").replace("\t", " ").split(" ") if t):
        h = w[1:-1] if w.startswith("[") and w.endswith("]") else w
        try:
            ip = ipaddress.ip_address(h)
        except ValueError:
            return None   # a host name: resolved by the daemon, not here
        if ip.version not in fams:
            return f"fatal: config variable inet_interfaces: host not found: {w}"
        if ip not in mine:
            return f"fatal: parameter inet_interfaces: no local interface found for {ip}"
    return None


def _resolve(name: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """inet_addr_host(): the addresses getaddrinfo() gives (/etc/hosts first)."""
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    out: list = []
    for info in infos:
        try:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        except ValueError:
            continue
        if ip not in out:
            out.append(ip)
    return out


def compute_mynetworks(style: str, inet_interfaces: str, inet_protocols: str) -> str:
    """mynetworks(): the default list, in mynetworks_style."""
    import ipaddress

    fams = _protocols(inet_protocols)
    if not fams:
        return ""
    style = style.strip().lower()
    result: list[str] = []
    for a in _own_addresses(inet_interfaces, fams):
        if a.address.version == 4:
            if style == "class":
                first = int(a.address) >> 24
                plen = 8 if first < 128 else 16 if first < 192 else 24 if first < 224 else 4
            elif style == "host":
                plen = 32
            else:
                plen = a.prefixlen
            net = ipaddress.ip_network(f"{a.address}/{plen}", strict=False)
            result.append(f"{net.network_address}/{plen}")
        else:
            plen = 128 if style == "host" else a.prefixlen
            net = ipaddress.ip_network(f"{a.address}/{plen}", strict=False)
            result.append(f"[{net.network_address.compressed}]/{plen}")
    seen: dict[str, None] = {}
    for r in result:
        seen.setdefault(r, None)
    return " ".join(seen)


def service_parameters(service_name: str, command: str) -> list[tuple[str, str]]:
    """(name, default) of the parameters a master.cf service defines."""
    return [(service_name + suffix, "$" + glob)
            for suffix, glob in SERVICE_PARAMS.get(command, [])]


# -- database tables configured in main.cf ------------------------------------
# `mysql:pfx` (no path) reads its settings from main.cf parameters pfx_hosts,
# pfx_query, ...; postconf then knows those names. Which suffixes each type
# has comes from the real postconf (scripts/gen_dbms_params.py).
DBMS_TYPES = ("ldap", "memcache", "mysql", "pgsql", "sqlite")
_DBMS_REF = re.compile(r"(?:^|(?<=[\s,{}():]))(" + "|".join(DBMS_TYPES) + r"):([^\s,{}()]+)")


@lru_cache(maxsize=None)
def dbms_suffixes(version: str = POSTFIX_VERSION) -> dict[str, tuple[str, ...]]:
    data = json.loads((DATA_DIR / f"dbms_params_{version}.json").read_text())
    return {t: tuple(s) for t, s in data.items()}


def dbms_parameters(value: str) -> list[str]:
    """Parameter names that the database tables named in VALUE read from
    main.cf, as postconf registers them: `type:name` with a lower-case type
    and a name that is not a path (checked against postconf 3.7.11)."""
    names: list[str] = []
    suffixes = dbms_suffixes()
    for m in _DBMS_REF.finditer(value):
        dbms, name = m.group(1), m.group(2)
        if name.startswith("/"):
            continue
        names.extend(f"{name}_{s}" for s in suffixes.get(dbms, ()))
    return names
