"""A trace and its explanation leave no reference cycles behind.

Everything a trace builds is freed by reference counting the moment its
last user lets go. A cycle (a closure that calls itself is one: the
function holds the cell that holds the function) keeps the whole
evaluator -- steps, lookups, table cache copy -- alive until the next
garbage collection, which a long batch then runs every few traces."""
from __future__ import annotations

import gc

from tui.core.analysis.explain import explain
from tui.core.config import load_config
from tui.core.dns import OfflineResolver
from tui.core.expand import referenced_names
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction
from tui.demo import demo_config_dir


def _cyclic_garbage(work) -> list:
    """The objects WORK() leaves in reference cycles."""
    gc.collect()
    gc.disable()
    flags = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        work()
        gc.collect()
        found = list(gc.garbage)
        gc.garbage.clear()
    finally:
        gc.set_debug(flags)
        gc.enable()
    return found


def test_traces_and_explanations_leave_no_cycles():
    cfg = load_config(str(demo_config_dir()))
    resolver = OfflineResolver()
    txs = [Transaction(client_address=client, client_name="unknown", helo="mail.example.net",
                       sender="a@remote.example", recipient=rcpt)
           for client in ("127.0.0.1", "203.0.113.9")
           for rcpt in ("alice@example.org", "postmaster@example.org", "nobody@example.org",
                        "x@elsewhere.example")]
    seen = []

    def work():
        for tx in txs:
            for svc in ("smtp", "submission"):
                tr = evaluate(cfg, tx, service=svc, resolver=resolver)
                ex = explain(tr, cfg, resolver=resolver)
                seen.append((tr.accepted, tr.route is not None and bool(tr.route.expansion), bool(ex.edits)))

    work()   # tables opened and memos filled: what stays is not garbage
    left = _cyclic_garbage(work)
    assert not left, sorted({type(o).__name__ for o in left})
    # the work exercised accepted and refused traces, alias expansion and proven edits
    assert any(a for a, _e, _x in seen) and any(not a for a, _e, _x in seen)
    assert any(e for _a, e, _x in seen) and any(x for _a, _e, x in seen)


def test_referenced_names_leaves_no_cycles():
    texts = ["$myhostname, ${a?{$b}:{$c}}", "${x:$y} $(z) $$ ${{$p} == {q} ? {$r} : {$s}}", "plain"]
    assert referenced_names(texts[1]) == ["x", "y", "z", "p", "r", "s"]
    assert not _cyclic_garbage(lambda: [referenced_names(t) for t in texts])
