#!/usr/bin/env python3
"""Deeply nested values: `params -n` against the real `postconf -n`.

    python scripts/bench_expand.py [DEPTH ...]     (default 1000000)

For each depth and shape it writes a scratch main.cf whose mydomain is a
value nested DEPTH levels deep (`${b?{...}}`, `${b?...}`, `$(b:...)`),
runs `postconf -c DIR -n` and `postfix-explorer params --config-dir DIR -n`
(each in a child process, best of 3) and prints both times and their
ratio. Postfix stops such values at 100 nested macro calls; both must say
"macro processing error" there, and both must scan the value at each of
those levels.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHAPES = {
    "curly": lambda n: "${b?{" * n + "x" + "}}" * n,
    "plain": lambda n: "${b?" * n + "x" + "}" * n,
    "paren": lambda n: "$(b:" * n + "x" + ")" * n,
}


def best(cmd: list[str], env=None, runs: int = 3) -> tuple[float, subprocess.CompletedProcess]:
    times, last = [], None
    for _ in range(runs):
        t = time.perf_counter()
        last = subprocess.run(cmd, capture_output=True, env=env)
        times.append(time.perf_counter() - t)
    return min(times), last


def main() -> None:
    depths = [int(a) for a in sys.argv[1:]] or [1_000_000]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    print(f"{'shape':6} {'depth':>9} {'postconf':>9} {'explorer':>9} {'ratio':>6}")
    for depth in depths:
        for shape, make in SHAPES.items():
            with tempfile.TemporaryDirectory() as d:
                Path(d, "main.cf").write_text(f"b = yes\nmydomain = {make(depth)}\n")
                Path(d, "master.cf").write_text("smtp inet n - n - - smtpd\n")
                tp, p = best(["postconf", "-c", d, "-n"])
                te, e = best([sys.executable, "-m", "tui", "params", "--config-dir", d, "-n"], env=env)
                same = (p.returncode == e.returncode and
                        (b"macro processing error" in p.stderr) == (b"macro processing error" in e.stderr))
                print(f"{shape:6} {depth:>9} {tp:>8.2f}s {te:>8.2f}s {te / tp:>5.1f}x"
                      + ("" if same else "   OUTCOMES DIFFER"))


if __name__ == "__main__":
    main()
