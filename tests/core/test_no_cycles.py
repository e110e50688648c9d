"""A trace and its explanation leave no reference cycles behind.

Everything a trace builds is freed by reference counting the moment its
last user lets go. A cycle (a closure that calls itself is one: the
function holds the cell that holds the function) keeps the whole
evaluator -- steps, lookups, table cache copy -- alive until the next
garbage collection, which a long batch then runs every few traces."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tui.core.expand import referenced_names

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: in the test process other tests' Configs, file
# watches and caches come and go, and what they free is not the trace's.
# The table generation is held for the run (cache.MAX_AGE): a generation
# that ends drops the changed copies the proofs use, each a Config and its
# cache, which do form a cycle by design (see cache._root) and are freed by
# the collector together.
_WORK = r'''
import gc, json, sys
import tui.core.cache
tui.core.cache.MAX_AGE = float("inf")
from tui.core.analysis.explain import explain
from tui.core.config import load_config
from tui.core.dns import OfflineResolver
from tui.core.expand import referenced_names
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction
from tui.demo import demo_config_dir

cfg = load_config(str(demo_config_dir()))
resolver = OfflineResolver()
txs = [Transaction(client_address=client, client_name="unknown", helo="mail.example.net",
                   sender="a@remote.example", recipient=rcpt)
       for client in ("127.0.0.1", "203.0.113.9")
       for rcpt in ("alice@example.org", "postmaster@example.org", "nobody@example.org", "x@elsewhere.example")]
seen = []

def work():
    for tx in txs:
        for svc in ("smtp", "submission"):
            tr = evaluate(cfg, tx, service=svc, resolver=resolver)
            ex = explain(tr, cfg, resolver=resolver)
            seen.append((tr.accepted, tr.route is not None and bool(tr.route.expansion), bool(ex.edits)))
    # what the proofs read values with, on its own too
    for text in ("$myhostname, ${a?{$b}:{$c}}", "${x:$y} $(z) $$ ${{$p} == {q} ? {$r} : {$s}}", "plain"):
        referenced_names(text)

work()   # tables opened and memos filled: what stays is not garbage
gc.collect()
gc.disable()
gc.set_debug(gc.DEBUG_SAVEALL)
work()
gc.collect()
print(json.dumps({"left": sorted({type(o).__name__ for o in gc.garbage}), "count": len(gc.garbage),
                  "seen": seen}))
'''


def test_traces_and_explanations_leave_no_cycles(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    r = subprocess.run([sys.executable, "-c", _WORK], capture_output=True, text=True, timeout=120, env=env,
                       cwd=str(tmp_path), stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["count"] == 0, got["left"]
    seen = got["seen"]
    # the work exercised accepted and refused traces, alias expansion and proven edits
    assert any(a for a, _e, _x in seen) and any(not a for a, _e, _x in seen)
    assert any(e for _a, e, _x in seen) and any(x for _a, _e, x in seen)


def test_referenced_names_still_finds_every_name():
    assert referenced_names("${x:$y} $(z) $$ ${{$p} == {q} ? {$r} : {$s}}") == ["x", "y", "z", "p", "r", "s"]
    assert referenced_names("$myhostname, ${a?{$b}:{$c}}") == ["myhostname", "a", "b", "c"]
