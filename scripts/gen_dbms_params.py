#!/usr/bin/env python3
"""Generate tui/core/data/dbms_params_3.7.json from the installed Postfix.

When main.cf names a database table without a path (`mysql:pfx`), postconf
treats `pfx_hosts`, `pfx_query`, ... as known parameters (the table reads its
settings from main.cf). Which suffixes count is compiled into postconf; this
script asks postconf itself: every identifier that the table type's manual
page mentions is tried as `tt_<word>`, and the ones `postconf -n` lists
(rather than calling them unused) are that type's suffixes.

    python3 scripts/gen_dbms_params.py [--postconf /usr/sbin/postconf]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

TYPES = ["ldap", "memcache", "mysql", "pgsql", "sqlite"]
DOCS = Path("/usr/share/doc/postfix/html")
OUT = Path(__file__).resolve().parents[1] / "tui/core/data/dbms_params_3.7.json"


def candidates(dbms: str) -> list[str]:
    page = DOCS / f"{dbms}_table.5.html"
    text = re.sub(r"<[^>]+>", " ", page.read_text(errors="replace"))
    return sorted(set(re.findall(r"\b[A-Za-z][A-Za-z0-9_]+\b", text)))


def known_suffixes(postconf: str, dbms: str) -> list[str]:
    words = candidates(dbms)
    with tempfile.TemporaryDirectory() as d:
        Path(d, "master.cf").write_text("smtp inet n - n - - smtpd\n")
        lines = [f"virtual_alias_maps = {dbms}:tt"] + [f"tt_{w} = 1" for w in words]
        Path(d, "main.cf").write_text("\n".join(lines) + "\n")
        out = subprocess.run([postconf, "-c", d, "-n"], capture_output=True, text=True, check=True).stdout
    found = re.findall(r"^tt_(\S+) = 1$", out, re.M)
    return sorted(found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--postconf", default="/usr/sbin/postconf")
    args = ap.parse_args()
    data = {t: known_suffixes(args.postconf, t) for t in TYPES}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    for t, s in data.items():
        print(f"{t}: {len(s)} suffixes")


if __name__ == "__main__":
    main()
