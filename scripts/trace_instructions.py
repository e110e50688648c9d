"""Instructions per trace, counted by callgrind: a repeatable measure.

Wall-clock medians on a shared 2-core machine move by 10-30 % from run to
run; valgrind's instruction count for the same code and inputs does not.
This builds the benchmark's files configuration (scripts/bench.py, with a
100,000-line sender map), compiles its maps with postmap (smtpd and the
engine answer hash: tables from the index), runs N1 and then N2 of its
first-seen transactions under `valgrind --tool=callgrind`, and prints
(instructions(N2) - instructions(N1)) / (N2 - N1): the cost of one trace,
without start-up and map loading (a map's source is read, and compared
with its index, at the first hits: within the first few hundred traces,
hence N1 = 1000). Used for changes 7-8 in BENCHMARKS.md.

    python scripts/trace_instructions.py            # a few minutes
    python scripts/trace_instructions.py --n1 1000 --n2 3000
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def child(config_dir: str, transactions: str, n: int) -> None:
    import bench
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    # a generation of checked tables lasts filewatch.MAX_AGE seconds of wall
    # time (~5,000 traces at full speed); slowed down by the count it would
    # end every few traces, and the table checks a real run makes once a
    # second would be counted in most traces
    import tui.core.cache
    tui.core.cache.MAX_AGE = float("inf")
    cfg = load_config(config_dir)
    resolver = bench._machine_resolver()
    for tx in json.loads(Path(transactions).read_text())[:n]:
        evaluate(cfg, Transaction(**tx), service="smtp", resolver=resolver)


def count(config_dir: Path, txs: Path, n: int) -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
           __file__, "--child", str(config_dir), str(txs), str(n)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if not m:
        raise SystemExit(f"callgrind gave no count:\n{r.stderr[-2000:]}")
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n1", type=int, default=1000)
    ap.add_argument("--n2", type=int, default=2000)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    import bench

    from tests.oracle.compile_maps import compile_maps

    work = Path(tempfile.mkdtemp(prefix="pfx-instr-"))
    try:
        cfg = bench.FULL
        data = bench.Data(cfg["domains"], cfg["mailboxes"], cfg["aliases"], cfg["alias_domains"])
        access = work / "sender_access"
        listed = bench.generate_access(access, 100_000)
        bench.write_files_config(work / "files", data, access)
        # smtpd answers hash: tables from their index: without postmap every
        # lookup fails (451) and no transaction is accepted
        compile_maps(work / "files")
        txs = work / "transactions.json"
        txs.write_text(json.dumps(bench.transactions(data, listed, args.n2)))
        a = count(work / "files", txs, args.n1)
        b = count(work / "files", txs, args.n2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{(b - a) // (args.n2 - args.n1)} instructions per trace "
          f"(transactions {args.n1}..{args.n2} of the files mix; {a} and {b} in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
