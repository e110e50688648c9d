"""RetracePool: every transaction handed over comes back summarised once,
whether this process, forked workers or both traced it (run in fresh
single-threaded processes: the test process may have threads, and the pool
forks only without them)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, os, sys
from tui.core.analysis.triage_pool import RetracePool

def summary(svc, tx):
    return [svc, tx * 2, os.getpid()]

workers, during, at_end, batch = map(int, sys.argv[1:5])
pool = RetracePool(summary, workers)
pool.batch_size = batch
for i in range(during):
    pool.add(("k", i), "smtp", i)
forked_while_reading = pool.forked
fresh = {("f", i): ("submission", i) for i in range(at_end)}
seen = []
out = pool.finish(fresh, lambda done, total: seen.append((done, total)))
print(json.dumps({"forked": forked_while_reading, "main": os.getpid(),
                  "out": sorted([list(k), v] for k, v in out.items()), "progress": seen[-1] if seen else None}))
"""


def _run(*args: int) -> dict:
    r = subprocess.run([sys.executable, "-c", CODE, *map(str, args)], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _check(res: dict, during: int, at_end: int) -> set[int]:
    want = sorted([["k", i], ["smtp", 2 * i]] for i in range(during)) + \
        sorted([["f", i], ["submission", 2 * i]] for i in range(at_end))
    assert sorted([k, v[:2]] for k, v in res["out"]) == sorted(want)
    assert res["progress"] == [during + at_end, during + at_end]
    return {v[2] for _k, v in res["out"]}


def test_one_process_traces_everything_itself():
    res = _run(1, 3000, 2000, 500)
    assert not res["forked"]
    assert _check(res, 3000, 2000) == {res["main"]}


def test_workers_trace_beside_the_reading_and_this_process_helps_at_the_end():
    res = _run(2, 6000, 0, 100)
    assert res["forked"]
    pids = _check(res, 6000, 0)
    assert res["main"] in pids and len(pids) == 2


def test_many_left_at_the_end_are_shared_with_a_worker():
    res = _run(2, 0, 5000, 500)
    assert not res["forked"]
    pids = _check(res, 0, 5000)
    assert res["main"] in pids and len(pids) == 2


def test_few_left_at_the_end_are_traced_here():
    res = _run(2, 0, 100, 500)
    assert _check(res, 0, 100) == {res["main"]}
