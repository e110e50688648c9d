"""Bytecodes executed per trace, by function: where a trace's work is.

A companion to scripts/trace_instructions.py (which counts machine
instructions in all): this builds the same files configuration (bench.py's,
with a 100,000-line sender map, its maps compiled with postmap), traces N1
of its first-seen transactions to warm up (the maps' sources are read at
their first hits), then counts every bytecode the interpreter executes for the next
N2 - N1 (sys.settrace opcode events) and prints the functions that execute
the most, per trace. Deterministic, unlike a sampling profiler, and without
cProfile's bias towards functions that are called often; C work (dict
lookups, allocation) is not seen. Used for change 9 in BENCHMARKS.md.

    python scripts/trace_bytecodes.py               # a few seconds
    python scripts/trace_bytecodes.py --top 40
"""
from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n1", type=int, default=1000)
    ap.add_argument("--n2", type=int, default=2000)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    import bench

    from tests.oracle.compile_maps import compile_maps
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    work = Path(tempfile.mkdtemp(prefix="pfx-bytecodes-"))
    try:
        cfg = bench.FULL
        data = bench.Data(cfg["domains"], cfg["mailboxes"], cfg["aliases"], cfg["alias_domains"])
        listed = bench.generate_access(work / "sender_access", 100_000)
        bench.write_files_config(work / "files", data, work / "sender_access")
        # smtpd answers hash: tables from their index: without postmap every
        # lookup fails (451) and no transaction is accepted
        compile_maps(work / "files")
        txs = [Transaction(**t) for t in json.loads(json.dumps(bench.transactions(data, listed, args.n2)))]
        config = load_config(str(work / "files"))
        resolver = bench._machine_resolver()
        for tx in txs[:args.n1]:
            evaluate(config, tx, service="smtp", resolver=resolver)
        counts: collections.Counter = collections.Counter()

        def tracer(frame, event, _arg):
            frame.f_trace_opcodes = True
            if event == "opcode":
                code = frame.f_code
                counts[(code.co_name, code.co_filename, code.co_firstlineno)] += 1
            return tracer

        # a generation of checked tables lasts filewatch.MAX_AGE seconds of wall
        # time (~5,000 traces at full speed); slowed down by the count it would
        # end every few traces, and the table checks a real run makes once a
        # second would be counted in most traces
        import tui.core.cache
        tui.core.cache.MAX_AGE = float("inf")
        sys.settrace(tracer)
        try:
            for tx in txs[args.n1:]:
                evaluate(config, tx, service="smtp", resolver=resolver)
        finally:
            sys.settrace(None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = args.n2 - args.n1
    total = sum(counts.values())
    print(f"{total / n:,.0f} bytecodes per trace (transactions {args.n1}..{args.n2} of the files mix)")
    for (name, filename, line), c in counts.most_common(args.top):
        where = Path(filename)
        try:
            where = where.relative_to(ROOT)
        except ValueError:
            pass
        print(f"{100 * c / total:5.1f} %  {c / n:8.1f}  {name} ({where}:{line})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
