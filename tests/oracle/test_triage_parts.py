"""A large log read in parts by forked processes gives exactly the triage one
process gives: the same groups, counts, first and last times, example
lines ("file:line" across the parts) and unparsed lines.

The log is the one a real smtpd wrote for the triage scenario
(test_triage_scenario.py), grown to 30,000 lines the way the benchmark
grows it (scripts/bench_triage.py), with unreadable lines in every part.
Each triage runs in a fresh single-threaded process (the pool forks only
there), once with one worker and once with three (three parts, and the
re-tracing shared three ways at the end)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_postfix

pytestmark = pytest.mark.oracle

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
from tui.core.analysis import triage_pool
from tui.core.analysis.triage import Triage
from tui.core.config import load_config

config_dir, log, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
triage_pool.SPLIT_AT = 1      # any plain file is read in parts
triage_pool.FORK_AT_END = 1   # and re-traced in shares
forks = []
run = triage_pool.run_forked
def counting(jobs, here):
    forks.append(len(jobs))
    return run(jobs, here)
triage_pool.run_forked = counting
t = Triage(load_config(config_dir), workers=workers)
t.read(log)
res = t.finish()
print(json.dumps({"forks": forks, "result": res.to_json(10)}))
"""


def _triage(config_dir: Path, log: Path, workers: int) -> dict:
    r = subprocess.run([sys.executable, "-c", CODE, str(config_dir), str(log), str(workers)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_log_read_in_parts_triages_like_one_read(tmp_path):
    need_postfix()
    from scripts.bench_triage import generate
    from tests.oracle.test_triage_scenario import real_maillog

    with real_maillog() as (config_dir, text, _inst):
        grown = tmp_path / "grown.log"
        generate(text, grown, 30_000)
        lines = grown.read_text().splitlines()
        # a line no prefix, a binary line and an unreadable refusal in each third
        for k in (3, 2, 1):
            at = len(lines) * k // 3 - 7
            lines[at:at] = [f"garbage line {k}", "\udcff\x00 binary",
                            f"Dec 01 00:00:0{k} mx postfix/smtpd[9]: NOQUEUE: reject: RCPT broken {k}"]
        log = tmp_path / "mail.log"
        log.write_text("\n".join(lines) + "\n", errors="surrogateescape")

        one = _triage(config_dir, log, 1)
        three = _triage(config_dir, log, 3)
    assert one["forks"] == []                    # one process did everything
    assert three["forks"] == [2, 2]              # two more read, then two more re-traced
    res = one["result"]
    assert res["lines"] == len(lines) and res["unparsed"]["count"] >= 6, res["unparsed"]
    assert res["retraced"] > 100 and len(res["groups"]) > 10
    assert three["result"] == res
