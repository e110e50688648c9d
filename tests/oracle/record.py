"""Print what a real Postfix answers for a scenario's transactions.

    python -m tests.oracle.record                 # every scenario
    python -m tests.oracle.record seed_mailman    # one or more by name
    python -m tests.oracle.record --json NAME     # machine-readable
    python -m tests.oracle.record --engine NAME   # also our engine's answer

For the engine's author to study: nothing here is stored, the answers come
from a live smtpd each time (root, Postfix installed; MariaDB for the MySQL
scenario).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from tests.oracle.conftest import machine_resolver, running_scenario
from tests.oracle.scenarios import load_scenario, scenario_names


def _engine(cfg_dir):
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    cfg = load_config(cfg_dir)
    resolver = machine_resolver()

    def run(tx):
        try:
            tr = evaluate(cfg, Transaction(client_address=tx.client_address,
                                           client_name=tx.client_name, helo=tx.helo,
                                           sender=tx.sender, recipient=tx.recipient,
                                           sasl_login=tx.sasl_login,
                                           reverse_client_name=tx.reverse_client_name),
                          service=tx.service, resolver=resolver)
            return f"[{tr.stage}] {tr.reply}"
        except Exception as exc:  # noqa: BLE001 - a study tool shows everything
            return f"(engine raised {type(exc).__name__}: {exc})"
    return run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="scenario names (default: all)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--engine", action="store_true", help="show our engine's answer too")
    ap.add_argument("--log", action="store_true", help="print the mail log tail at the end")
    args = ap.parse_args(argv)
    names = args.names or scenario_names()
    out = []
    for name in names:
        sc = load_scenario(name)
        t0 = time.monotonic()
        with running_scenario(sc) as (cfg_dir, inst):
            engine = _engine(cfg_dir) if args.engine else None
            if not args.json:
                print(f"== {name}: {sc.description}")
            for tx in sc.transactions:
                ans = inst.query(**tx.query_args())
                row = {"scenario": name, "line": tx.line, **tx.query_args(), "note": tx.note,
                       "code": ans.code, "reply": ans.reply, "stage": ans.stage,
                       "detail": ans.detail}
                if engine:
                    row["engine"] = engine(tx)
                out.append(row)
                if not args.json:
                    print(f"  {tx.describe()}\n      -> {ans}")
                    if engine:
                        mark = "==" if row["engine"] == f"[{ans.stage}] {ans.reply}" else "!="
                        print(f"   {mark} {row['engine']}")
            if args.log:
                print(inst.log_tail(60))
        if not args.json:
            print(f"   ({len(sc.transactions)} transactions, {time.monotonic() - t0:.1f}s)\n")
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
