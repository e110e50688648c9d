"""`postfix-explorer triage`: every refusal in mail logs, grouped by the rule
that decides it, checked against today's configuration.

Exit status: 0 every logged refusal is answered the same (or cannot be
decided offline), 1 some logged refusal is answered differently today,
2 unusable input (no configuration, no readable log).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from tui.core import dns
from tui.core.analysis.triage import Triage
from tui.core.config import ConfigError, load_config
from tui.core.model import ExplorerError
from tui.core.text import visible


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("logs", nargs="+", metavar="LOGFILE",
                   help="mail log files (rotated .gz files too); '-' reads standard input")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--examples", type=int, default=5, metavar="N",
                   help="example transactions per group (default 5)")
    p.add_argument("--dns", choices=("offline", "none"), default="offline",
                   help="offline: DNS checks are not evaluated (default); none: every DNS lookup fails")


def evaluates_many(args: argparse.Namespace) -> bool:
    """Once per distinct logged transaction (tui.__main__ keeps the file watch)."""
    return True


def render_text(res) -> str:
    out = []
    for g in res.groups:
        tag = {"same": "same", "differs": "DIFFERS", "undecidable": "undecidable"}[g.today]
        out.append(f"[{tag}] {g.count} x {g.service} {g.stage.upper()} {g.action}: {visible(g.reply)}")
        d = g.decided_by
        if d:
            pos = f", entry {d['position']}" if d.get("position") else ""
            src = f" ({d['source']})" if d.get("source") else ""
            out.append(f"    decided by: {visible(d['entry'])} in {d['parameter']}{pos}{src}")
        out.append(f"    {visible(g.verdict)}")
        out.append(f"    first {g.first}   last {g.last}   transactions {len(g.occurrences)}")
        for label, c in (("clients", g.clients), ("senders", g.senders), ("recipients", g.recipients)):
            if c:
                out.append(f"    top {label}: " + ", ".join(f"{visible(k)} ({n})" for k, n in c.most_common(3)))
        out.append("")
    u = res.unparsed
    out.append(f"{res.lines} lines read, {sum(g.count for g in res.groups)} refusals and failures in "
               f"{len(res.groups)} groups, {res.retraced} distinct transactions re-traced, "
               f"{u.count} lines not understood")
    for f, n, why, text in u.examples:
        out.append(f"  not understood: {f}:{n}: {why}: {visible(text[:160])}")
    for e in res.errors:
        out.append(f"  error: {visible(e)}")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config_dir)
    except (ConfigError, ExplorerError) as exc:
        print(f"postfix-explorer triage: {exc}", file=sys.stderr)
        return 2
    resolver = dns.TempFailResolver() if args.dns == "none" else None
    t = Triage(cfg, resolver=resolver, workers=min(4, os.cpu_count() or 1))
    for path in args.logs:
        t.read(path)
    res = t.finish()
    for e in res.errors:
        print(f"postfix-explorer triage: {visible(e)}", file=sys.stderr)
    if not res.files:
        return 2
    if args.json:
        print(json.dumps(res.to_json(args.examples), indent=2, ensure_ascii=True))
    else:
        print(render_text(res))
    return 1 if res.differs else 0
