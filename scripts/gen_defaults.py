#!/usr/bin/env python3
"""Generate tui/core/data/defaults_<version>.json from the installed Postfix.

Run on a machine with Postfix installed (Debian 12: 3.7.11):

    python3 scripts/gen_defaults.py [--postconf /usr/sbin/postconf]

What it records, all asked from postconf itself:
  defaults  -- `postconf -d` for every built-in parameter, taken with an empty
               master.cf so that no service-defined parameter sneaks in.
               Values that postconf computes from the host (myhostname,
               mydomain, mynetworks, process_id, ...) are left empty: the
               engine computes them on the host it runs on (defaults.py).
  raw       -- parameters that `postconf -x` never expands (Postfix's "raw"
               table): found by setting every parameter to `$marker` and
               seeing which ones `postconf -x` leaves alone.
  legacy    -- names postconf knows but does not list (shown only when set).
  readonly  -- names postconf refuses in main.cf ("read-only parameter").
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HOST_PARAMS = ["config_directory", "mydomain", "myhostname", "mynetworks",
               "process_id", "process_name"]
# Candidates for names postconf knows without listing them (postconf_builtin.c).
LEGACY_CANDIDATES = [
    "virtual_maps", "fallback_relay", "authorized_verp_clients",
    "smtpd_client_connection_limit_exceptions", "postscreen_dnsbl_ttl",
    "postscreen_blacklist_action", "postscreen_dnsbl_whitelist_threshold",
    "postscreen_whitelist_interfaces", "lmtp_per_record_deadline",
    "smtp_per_record_deadline", "smtpd_per_record_deadline",
    "tlsproxy_client_level", "tlsproxy_client_policy",
]
MARKER = "zzz_gen_defaults_marker"


def parse_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition(" =")
        if not sep:
            continue
        out[name] = value[1:] if value.startswith(" ") else value
    return out


def run(postconf: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([postconf, *args], capture_output=True, text=True, check=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postconf", default="postconf")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    version = run(a.postconf, "-d", "-h", "mail_version").stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "main.cf").write_text("")
        Path(tmp, "master.cf").write_text("")
        d = run(a.postconf, "-c", tmp, "-d")
        defaults = parse_lines(d.stdout)

        # raw parameters: set every parameter to $MARKER, see which stay literal
        lines = [f"{MARKER} = expanded"]
        for name in defaults:
            lines.append(f"{name} = ${MARKER}")
        Path(tmp, "main.cf").write_text("\n".join(lines) + "\n")
        x = parse_lines(run(a.postconf, "-c", tmp, "-x").stdout)
        raw = sorted(n for n in defaults if x.get(n) == f"${MARKER}")
        ro = run(a.postconf, "-c", tmp, "-n")
        readonly = sorted(set(re.findall(r"read-only parameter assignment: ([a-z0-9_]+)=", ro.stderr)))

        Path(tmp, "main.cf").write_text("")
        leg = parse_lines(run(a.postconf, "-c", tmp, "-d", *LEGACY_CANDIDATES).stdout)
        legacy = {n: v for n, v in leg.items() if n not in defaults}

    for name in HOST_PARAMS:  # computed again wherever the engine runs
        if name in defaults:
            defaults[name] = ""
    data = {
        "mail_version": version,
        "generated_by": "scripts/gen_defaults.py (postconf -d, empty master.cf)",
        "host_params": HOST_PARAMS,
        "raw": raw,
        "readonly": readonly,
        "legacy": legacy,
        "defaults": dict(sorted(defaults.items())),
    }
    major_minor = ".".join(version.split(".")[:2])
    out = Path(a.out) if a.out else Path(__file__).resolve().parent.parent / "tui/core/data" / f"defaults_{major_minor}.json"
    out.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"{out}: {len(defaults)} parameters, {len(raw)} raw, {len(legacy)} legacy, "
          f"readonly {readonly}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
