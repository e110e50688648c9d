#!/usr/bin/env python3
"""Generate tui/core/data/smtpd_params_3.7.json from the installed Postfix.

smtpd reads its yes/no, number and time parameters when it starts, and
exits on a value it cannot convert ("bad boolean configuration", "bad
numerical configuration", "bad time value or unit") or one outside the
parameter's range. Which parameters it reads, and their ranges, are
compiled into smtpd; this script asks a real smtpd:

1. every parameter whose `postconf -dx` default is yes/no, a number or a
   time is given to one smtpd service as a `-o` override with the value
   `true`, which none of the three conversions takes: the services whose
   smtpd logs such a fatal name the parameters smtpd reads, and of which kind;
2. each number is tried again as 2147483648 (a `long` such as
   message_size_limit takes it, an `int` does not), -2147483648 and
   2147483647; each time as 0 and 2147483647s: the "invalid ..." fatals give
   the minimum and maximum smtpd enforces.

    python3 scripts/gen_smtpd_params.py [--postconf /usr/sbin/postconf]

Needs Postfix installed (Debian 12: 3.7.11), like the oracle tests; about a
minute. The result is checked again at test time by
tests/oracle/test_startup_checks.py.
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
OUT = ROOT / "tui/core/data/smtpd_params_3.7.json"

INT_MIN, INT_MAX = -2**31, 2**31 - 1
# services per Postfix instance: master keeps a listening socket and a
# status pipe per service, within the default limit of 1024 descriptors
PER_INSTANCE = 200
SETTLE = 5.0   # seconds for every service's smtpd to start (or exit) and log it

_FATAL = {
    "bool": re.compile(r"/smtpd\[\d+\]: fatal: bad boolean configuration: (\S+) = "),
    "number": re.compile(r"/smtpd\[\d+\]: fatal: bad numerical configuration: (\S+) = "),
    "time": re.compile(r"/smtpd\[\d+\]: fatal: parameter (\S+): bad time value or unit: "),
}
_INT_RANGE = re.compile(r"/smtpd\[\d+\]: fatal: invalid (\S+) parameter value -?\d+ ([<>]) (-?\d+)")
_TIME_RANGE = re.compile(r"/smtpd\[\d+\]: fatal: invalid (\S+): -?\d+ \((min|max) (-?\d+)\)")


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


def fatal_lines(overrides: list[tuple[str, str]]) -> list[str]:
    """The smtpd fatal lines when each (parameter, value) is one service's
    only -o override and each service is connected to once."""
    import tempfile

    from tests.oracle.conftest import SCRATCH_MAIN_CF
    from tests.oracle.postfix_instance import PostfixInstance

    lines: list[str] = []
    for start in range(0, len(overrides), PER_INSTANCE):
        part = overrides[start:start + PER_INSTANCE]
        with tempfile.TemporaryDirectory(prefix="pfx-gen-smtpd-") as top:
            cfg = Path(top) / "etc"
            cfg.mkdir(parents=True)
            Path(top).chmod(0o755)
            (cfg / "main.cf").write_text(SCRATCH_MAIN_CF + "local_recipient_maps =\n")
            (cfg / "master.cf").write_text("".join(
                f"127.0.0.1:{20000 + i} inet n - n - - smtpd\n  -o {name}={value}\n"
                for i, (name, value) in enumerate(part)))
            with PostfixInstance(cfg) as inst:
                # a connection makes master start the service's smtpd, which
                # reads its parameters first; one that exits leaves the
                # connection waiting (master throttles the service), so all
                # are opened at once and the log read after a while
                conns = []
                for port in inst.ports.values():
                    try:
                        conns.append(socket.create_connection(("127.0.0.1", port), timeout=5))
                    except OSError:
                        pass
                time.sleep(SETTLE)
                for c in conns:
                    c.close()
                assert inst.maillog is not None
                lines += inst.maillog.read_text(errors="replace").splitlines()
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--postconf", default="/usr/sbin/postconf")
    args = ap.parse_args()
    kinds = candidates(args.postconf)
    lines = fatal_lines([(name, "true") for name in sorted(kinds)])
    read: dict[str, str] = {}
    for line in lines:
        for kind, rx in _FATAL.items():
            m = rx.search(line)
            if m:
                read[m.group(1)] = kind
    numbers = sorted(n for n, k in read.items() if k == "number")
    times = sorted(n for n, k in read.items() if k == "time")
    probes = [(n, v) for n in numbers for v in ("2147483648", str(INT_MIN), str(INT_MAX))] \
        + [(n, v) for n in times for v in ("0", f"{INT_MAX}s")]
    lines = fatal_lines(probes)
    too_long = {m.group(1) for m in map(_FATAL["number"].search, lines) if m}
    ranges: dict[str, list] = {n: [None, None] for n in numbers + times}
    for line in lines:
        m = _INT_RANGE.search(line) or _TIME_RANGE.search(line)
        if m and m.group(1) in ranges:
            ranges[m.group(1)][0 if m.group(2) in ("<", "min") else 1] = int(m.group(3))
    version = subprocess.run([args.postconf, "-dh", "mail_version"], capture_output=True, text=True).stdout.strip()
    data = {
        "postfix": version,
        "bool": sorted(n for n, k in read.items() if k == "bool"),
        "int": {n: ranges[n] for n in numbers if n in too_long},
        "long": {n: ranges[n] for n in numbers if n not in too_long},
        "time": {n: ranges[n] for n in times},
    }
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{len(kinds)} candidates; smtpd reads {len(data['bool'])} yes/no, {len(data['int'])} int, "
          f"{len(data['long'])} long and {len(data['time'])} time parameters -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
