#!/usr/bin/env python3
"""Generate tui/core/data/daemon_params_3.7.json from the installed Postfix.

A Postfix daemon reads its yes/no, number and time parameters when it
starts, and exits on a value it cannot convert ("bad boolean
configuration", "bad numerical configuration", "bad time value or unit")
or one outside the parameter's range. Which parameters each daemon reads,
and their ranges, are compiled into it; this script asks the real daemons
a transaction meets: smtpd, anvil (at connect), trivial-rewrite (at MAIL
FROM) and cleanup (when smtpd opens the queue file).

1. every parameter whose `postconf -dx` default is yes/no, a number or a
   time is given to one service of each daemon as a `-o` override with the
   value `true`, which none of the three conversions takes: the services
   whose daemon logs such a fatal name the parameters it reads, and of
   which kind;
2. each number is tried again as 2147483648 (a `long` such as
   message_size_limit takes it, an `int` does not), -2147483648 and
   2147483647; each time as 0 and 2147483647s: the "invalid ..." fatals give
   the minimum and maximum the daemon enforces.
3. every parameter is given the value `pfxmapN` (N its number), which is
   not type:name: a daemon that opens it as a list of tables when it starts
   exits with `open dictionary: expecting "type:name" form instead of
   "pfxmapN"`, which names the parameter.
4. every parameter is given the empty value, then a 200-character one: a
   daemon that reads it as text of a minimum or maximum length exits with
   "bad string length 0 < N: NAME = " or "... 200 > N: NAME = ...".

A service is made to start by a connection to it: smtpd's on a loopback
port, the others' on their socket in the queue directory's private/.

    python3 scripts/gen_daemon_params.py [--postconf /usr/sbin/postconf]

Needs Postfix installed (Debian 12: 3.7.11), like the oracle tests; a few
minutes. The result is checked again at test time by
tests/oracle/test_startup_checks.py and tests/oracle/test_daemon_startup.py.
"""
from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "tui/core/data/daemon_params_3.7.json"
DAEMONS = ("smtpd", "anvil", "trivial-rewrite", "cleanup")

INT_MIN, INT_MAX = -2**31, 2**31 - 1
# services per Postfix instance: master keeps a listening socket and a
# status pipe per service, within the default limit of 1024 descriptors
PER_INSTANCE = 100
SETTLE, QUIET, LIMIT = 3.0, 3.0, 60.0   # seconds: see _settle()
LONG_TEXT = 200   # the length of the text that finds maximum lengths


def _rx(daemon: str, text: str) -> re.Pattern:
    return re.compile(rf"/{re.escape(daemon)}\[\d+\]: fatal: " + text)


def all_names(postconf: str) -> list[str]:
    out = subprocess.run([postconf, "-d"], capture_output=True, text=True, check=True).stdout
    # "name = value", or "name =" for an empty default
    return sorted(line.partition("=")[0].strip() for line in out.splitlines() if "=" in line)


def candidates(postconf: str) -> dict[str, str]:
    """name -> the kind its expanded default looks like."""
    out = subprocess.run([postconf, "-d", "-x"], capture_output=True, text=True, check=True).stdout
    kinds = {}
    for line in out.splitlines():
        name, _, value = line.partition(" = ")
        if value.lower() in ("yes", "no"):
            kinds[name] = "bool"
        elif re.fullmatch(r"-?\d+", value):
            kinds[name] = "number"
        elif re.fullmatch(r"\d+[smhdw]", value):
            kinds[name] = "time"
    return kinds


def fatal_lines(daemon: str, overrides: list[tuple[str, str]]) -> list[str]:
    """The log of instances where each (parameter, value) is one DAEMON
    service's only -o override and each service is connected to once."""
    import tempfile

    from tests.oracle.conftest import SCRATCH_MAIN_CF
    from tests.oracle.postfix_instance import PostfixInstance

    lines: list[str] = []
    for start in range(0, len(overrides), PER_INSTANCE):
        part = overrides[start:start + PER_INSTANCE]
        with tempfile.TemporaryDirectory(prefix="pfx-gen-params-") as top:
            cfg = Path(top) / "etc"
            cfg.mkdir(parents=True)
            Path(top).chmod(0o755)
            (cfg / "main.cf").write_text(SCRATCH_MAIN_CF + "local_recipient_maps =\n")
            probes = [f"  -o {name}={value}\n" for name, value in part]
            if daemon == "smtpd":   # the harness gives each service a free port of its own
                master, extra = "".join(f"127.0.0.1:{20000 + i} inet n - n - - smtpd\n{o}"
                                        for i, o in enumerate(probes)), ""
            else:
                master = "smtp inet n - n - - smtpd\n"
                # the process limit the daemon insists on (it exits on another)
                maxproc = {"cleanup": "0", "anvil": "1"}.get(daemon, "-")
                extra = "".join(f"probe{i} unix - - n - {maxproc} {daemon}\n{o}" for i, o in enumerate(probes))
            (cfg / "master.cf").write_text(master)
            with PostfixInstance(cfg, extra_services=extra) as inst:
                # a connection makes master start the service's daemon, which
                # reads its parameters first; one that exits leaves the
                # connection waiting (master throttles the service), so all
                # are opened at once and the log read after a while
                # smtpd's on the free port the harness gave it, the others' on their socket
                targets = ([(socket.AF_INET, ("127.0.0.1", port)) for port in inst.ports.values()]
                           if daemon == "smtpd" else
                           [(socket.AF_UNIX, str(inst.queue / "private" / f"probe{i}")) for i in range(len(part))])
                conns = []
                for family, address in targets:
                    s = socket.socket(family)
                    try:
                        s.connect(address)
                        conns.append(s)
                    except OSError:
                        s.close()
                assert inst.maillog is not None
                _settle(inst.maillog)
                for c in conns:
                    c.close()
                lines += inst.maillog.read_text(errors="replace").splitlines()
    return lines


def _settle(log: Path) -> None:
    """Wait until the daemons have started (or exited): at least SETTLE
    seconds, then until the log has not grown for QUIET seconds (many
    daemons starting at once on two cores take a while to reach the
    point where they open their tables), at most LIMIT seconds."""
    start = last_change = time.monotonic()
    size = -1
    while time.monotonic() - start < LIMIT:
        now_size = log.stat().st_size if log.exists() else 0
        now = time.monotonic()
        if now_size != size:
            size, last_change = now_size, now
        elif now - start >= SETTLE and now - last_change >= QUIET:
            return
        time.sleep(0.2)


def daemon_params(daemon: str, kinds: dict[str, str]) -> dict:
    """What DAEMON converts: bool names, and int, long and time names with
    their [minimum, maximum] (None: no bound)."""
    fatal = {
        "bool": _rx(daemon, r"bad boolean configuration: (\S+) = "),
        "number": _rx(daemon, r"bad numerical configuration: (\S+) = "),
        "time": _rx(daemon, r"parameter (\S+): bad time value or unit: "),
    }
    int_range = _rx(daemon, r"invalid (\S+) parameter value -?\d+ ([<>]) (-?\d+)")
    time_range = _rx(daemon, r"invalid (\S+): -?\d+ \((min|max) (-?\d+)\)")
    read: dict[str, str] = {}
    for line in fatal_lines(daemon, [(name, "true") for name in sorted(kinds)]):
        for kind, rx in fatal.items():
            m = rx.search(line)
            if m:
                read[m.group(1)] = kind
    numbers = sorted(n for n, k in read.items() if k == "number")
    times = sorted(n for n, k in read.items() if k == "time")
    probes = [(n, v) for n in numbers for v in ("2147483648", str(INT_MIN), str(INT_MAX))] \
        + [(n, v) for n in times for v in ("0", f"{INT_MAX}s")]
    lines = fatal_lines(daemon, probes) if probes else []
    too_long = {m.group(1) for m in map(fatal["number"].search, lines) if m}
    ranges: dict[str, list] = {n: [None, None] for n in numbers + times}
    for line in lines:
        m = int_range.search(line) or time_range.search(line)
        if m and m.group(1) in ranges:
            ranges[m.group(1)][0 if m.group(2) in ("<", "min") else 1] = int(m.group(3))
    return {
        "bool": sorted(n for n, k in read.items() if k == "bool"),
        "int": {n: ranges[n] for n in numbers if n in too_long},
        "long": {n: ranges[n] for n in numbers if n not in too_long},
        "time": {n: ranges[n] for n in times},
    }


def map_params(daemon: str, names: list[str]) -> list[str]:
    """The parameters DAEMON opens as a list of tables when it starts:
    each is given the value "pfxmapN", which is not type:name, and the
    daemon's fatal line quotes it back."""
    rx = _rx(daemon, r'open dictionary: expecting "type:name" form instead of "pfxmap(\d+)"')
    opened = set()
    for line in fatal_lines(daemon, [(name, f"pfxmap{i}") for i, name in enumerate(names)]):
        m = rx.search(line)
        if m:
            opened.add(names[int(m.group(1))])
    return sorted(opened)


def string_bounds(daemon: str, names: list[str]) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """The parameters DAEMON reads as text of a minimum length, given the
    empty value ("bad string length 0 < N: NAME = "), and of a maximum
    length, given a long one ("bad string length L > N: NAME = ..."); and
    those it reads unexpanded (get_mail_conf_raw_table), whose message puts
    the lengths in parentheses: "bad string length (0 < N): NAME = "."""
    low = _rx(daemon, r"bad string length (\()?0 < (\d+)\)?: (\S+) = $")
    high = _rx(daemon, rf"bad string length (\()?{LONG_TEXT} > (\d+)\)?: (\S+) = ")
    found: tuple[dict[str, int], dict[str, int]] = ({}, {})
    raw: set[str] = set()
    for value, rx, into in (("", low, found[0]), ("x" * LONG_TEXT, high, found[1])):
        for line in fatal_lines(daemon, [(name, value) for name in names]):
            m = rx.search(line)
            if m:
                into[m.group(3)] = int(m.group(2))
                if m.group(1):
                    raw.add(m.group(3))
    return dict(sorted(found[0].items())), dict(sorted(found[1].items())), sorted(raw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--postconf", default="/usr/sbin/postconf")
    ap.add_argument("--strings-only", action="store_true",
                    help="ask only for the length limits of text parameters (step 4), keeping the rest")
    args = ap.parse_args()
    kinds = candidates(args.postconf)
    version = subprocess.run([args.postconf, "-dh", "mail_version"], capture_output=True, text=True).stdout.strip()
    data: dict = json.loads(OUT.read_text()) if args.strings_only else {"postfix": version}
    names = all_names(args.postconf)
    for daemon in DAEMONS:
        if args.strings_only:
            data[daemon]["strmin"], data[daemon]["strmax"], data[daemon]["raw"] = string_bounds(daemon, names)
            continue
        d = data[daemon] = daemon_params(daemon, kinds)
        d["maps"] = map_params(daemon, names)
        d["strmin"], d["strmax"], d["raw"] = string_bounds(daemon, names)
        print(f"{daemon} reads {len(d['bool'])} yes/no, {len(d['int'])} int, {len(d['long'])} long and "
              f"{len(d['time'])} time parameters, {len(d['strmin'])} texts with a minimum length, {len(d['strmax'])} with a maximum, and opens "
              f"{len(d['maps'])} lists of tables", file=sys.stderr)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{len(kinds)} candidates -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
