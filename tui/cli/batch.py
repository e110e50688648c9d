"""`postfix-explorer trace --batch FILE|-`: many transactions, one
configuration load.

Input: JSON lines, one object per transaction, with the names of trace's
flags: id, service, client_address, client_name, reverse_client_name, helo,
sender, recipient, sasl_login, from_log (a log line to take the rest from),
policy ({"server": "action"}). Output: one JSON line per input line, the
object `trace --json` prints plus "id"; an input line that cannot be traced
gives {"id": ..., "error": "..."} and the batch goes on.

Exit status: 0 every line traced, 2 some line was unusable (or no
configuration).
"""
from __future__ import annotations

import json
import sys
import time

from tui.cli.trace import FIELDS as TRACE_FIELDS
from tui.cli.trace import _resolver, service_for, transaction_from
from tui.core.analysis.explain import explain
from tui.core.config import ConfigError, load_config
from tui.core.model import ExplorerError
from tui.core.smtpd import evaluate

FIELDS = ("id", "policy") + TRACE_FIELDS


class BatchError(ValueError):
    pass


def _transaction(obj: dict, cfg):
    if not isinstance(obj, dict):
        raise BatchError("a line must be a JSON object")
    unknown = sorted(set(obj) - set(FIELDS))
    if unknown:
        raise BatchError(f"unknown field(s): {', '.join(unknown)}")
    for k in FIELDS:
        if k not in ("id", "policy") and obj.get(k) is not None and not isinstance(obj[k], str):
            raise BatchError(f"{k} must be a string")
    tx, logline = transaction_from(obj)
    service = service_for(cfg, obj.get("service"), logline)
    policy = obj.get("policy") or {}
    if not isinstance(policy, dict):
        raise BatchError("policy must be an object {server: action}")
    return tx, service, policy


def run_batch(args) -> int:
    try:
        cfg = load_config(args.config_dir)
    except (ConfigError, ExplorerError) as exc:
        print(f"postfix-explorer trace: {exc}", file=sys.stderr)
        return 2
    try:
        resolver = _resolver(args)
    except ValueError as exc:
        print(f"postfix-explorer trace: {exc}", file=sys.stderr)
        return 2
    src = args.batch
    try:
        fh = sys.stdin if src == "-" else open(src, encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"postfix-explorer trace: {src}: {exc.strerror}", file=sys.stderr)
        return 2
    out = sys.stdout
    bad = 0
    dumps = json.dumps
    # The same transaction asked again within a second gets the answer
    # already printed: the engine itself trusts a table file's stat() for
    # up to 1 s, so nothing fresher could be said anyway.
    memo: dict[tuple, tuple[float, str]] = {}
    clock = time.monotonic
    try:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            ident = None
            try:
                obj = json.loads(line)
                ident = obj.get("id", n) if isinstance(obj, dict) else n
                tx, service, policy = _transaction(obj, cfg)
                key = (tx, service, tuple(sorted(policy.items())))
                now = clock()
                hit = memo.get(key)
                if hit is not None and now - hit[0] < 1.0:
                    out.write(hit[1][:-1] + ', "id": ' + dumps(ident) + "}\n")
                    continue
                tr = evaluate(cfg, tx, service=service, resolver=resolver, policy_answers=policy)
                res = tr.to_json()
                res["explanation"] = explain(tr, cfg, resolver=resolver, policy_answers=policy).to_json()
                body = dumps(res)
                if len(memo) > 100_000:
                    memo.clear()
                memo[key] = (now, body)
                out.write(body[:-1] + ', "id": ' + dumps(ident) + "}\n")
                continue
            except (ValueError, ExplorerError) as exc:  # JSONDecodeError is a ValueError
                bad += 1
                res = {"error": f"line {n}: {exc}"}
            res["id"] = ident if ident is not None else n
            out.write(dumps(res) + "\n")
    finally:
        if fh is not sys.stdin:
            fh.close()
    out.flush()
    return 2 if bad else 0
