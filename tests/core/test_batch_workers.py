"""`trace --batch` answered by forked workers writes exactly what one
process writes: the same lines, in the input's order, with the same exit
status (run in fresh single-threaded processes: the test process may have
threads, and the batch forks only without them). The answers themselves
are checked against the real smtpd in tests/oracle/test_triage_oracle.py;
here only that sharing the work out changes nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.demo import SEED_CASE, demo_config_dir

ROOT = Path(__file__).resolve().parents[2]

# FORK_AT and BLOCK small, so that a short input is shared out over several
# blocks; os.fork counted, to see that the workers were used
CODE = """
import os, sys
from tui.cli import batch
from tui.__main__ import main

fork_at, block = map(int, sys.argv[1:3])
fail_at = int(os.environ.get("FAIL_AT", "0"))   # the fork call that fails (0: none)
batch.FORK_AT, batch.BLOCK = fork_at, block
forks = []
calls = []
real_fork = os.fork
def counting_fork():
    calls.append(1)
    if len(calls) == fail_at:
        raise OSError(11, "Resource temporarily unavailable")
    pid = real_fork()
    if pid:
        forks.append(pid)
    return pid
os.fork = counting_fork
rc = main(["trace", "--config-dir", sys.argv[3], "--batch", sys.argv[4]])
sys.stdout.flush()
print(f"rc={rc} forks={len(forks)}", file=sys.stderr)
"""


def _lines() -> list[str]:
    base = {k: v for k, v in SEED_CASE.items() if v is not None}
    out = []
    clients = ["127.0.0.1", "192.0.2.9", "203.0.113.5", "10.0.0.1"]
    rcpts = [base["recipient"], "postmaster@example.org", "nobody@example.org", "x@elsewhere.example",
             "friend@example.com"]
    for i in range(60):
        tx = dict(base, id=f"t{i}", client_address=clients[i % len(clients)], recipient=rcpts[i % len(rcpts)])
        if i % 7 == 3:
            tx["service"] = "submission"
            tx["sasl_login"] = "someone"
        if i % 11 == 5:
            del tx["id"]                    # the line number is the id
        out.append(json.dumps(tx))
    out[10] = "{not json"
    out[20] = "[1, 2]"
    out[30] = json.dumps(dict(base, id="bad", color="blue"))
    out[40] = ""                            # blank lines are skipped, but count
    out[41] = json.dumps(dict(base, id="nosvc", service="nope"))
    return out


@pytest.fixture(scope="module")
def cfg_dir():
    return demo_config_dir()


def _run(cfg_dir, tmp_path, fork_at: int, block: int, pipe: bool = False, fail_at: int = 0) -> tuple[str, str]:
    inp = tmp_path / "in.jsonl"
    text = "\n".join(_lines()) + "\n"
    inp.write_text(text)
    r = subprocess.run([sys.executable, "-c", CODE, str(fork_at), str(block), str(cfg_dir),
                        "-" if pipe else str(inp)],
                       input=text if pipe else None, capture_output=True, text=True, timeout=300, cwd=ROOT,
                       env=dict(os.environ, FAIL_AT=str(fail_at)))
    assert "Traceback" not in r.stderr, r.stderr
    return r.stdout, r.stderr.strip().splitlines()[-1]


def test_workers_write_what_one_process_writes(cfg_dir, tmp_path):
    one, status_one = _run(cfg_dir, tmp_path, 10 ** 9, 10 ** 9)
    assert status_one == "rc=2 forks=0"
    lines = one.splitlines()
    assert len(lines) == len(_lines()) - 1                 # the blank line has no answer
    ids = [json.loads(x)["id"] for x in lines]
    assert ids[:3] == ["t0", "t1", "t2"] and 6 in ids and 17 in ids   # no id: the line number
    assert sum("error" in json.loads(x) for x in lines) == 4
    for fork_at, block in ((5, 7), (5, 1000), (59, 13)):
        many, status = _run(cfg_dir, tmp_path, fork_at, block)
        rc, forks = status.split()
        assert rc == "rc=2" and int(forks.split("=")[1]) >= 2, status
        assert many == one, (fork_at, block)


def test_a_small_input_is_answered_without_forking(cfg_dir, tmp_path):
    _out, status = _run(cfg_dir, tmp_path, 1000, 50_000)
    assert status == "rc=2 forks=0"


def test_a_pipe_is_shared_out_when_its_lines_come_at_once(cfg_dir, tmp_path):
    one, _status = _run(cfg_dir, tmp_path, 10 ** 9, 10 ** 9)
    for fork_at, block in ((5, 7), (5, 1000)):
        out, status = _run(cfg_dir, tmp_path, fork_at, block, pipe=True)
        rc, forks = status.split()
        assert rc == "rc=2" and int(forks.split("=")[1]) >= 2, status
        assert out == one


def test_a_pipe_written_a_few_lines_at_a_time_is_answered_here(cfg_dir, tmp_path):
    """Its writer may be waiting for answers: no reading ahead, no workers,
    and each answer reaches it before it writes more. The writer here sends
    three lines whose answers are short (unusable lines: a short answer
    stays in the output buffer unless flushed) and reads those answers
    before it sends the rest."""
    base = _lines()
    lines = [x + "\n" for x in [base[10], base[20], base[30]] + base[:10]]
    inp = tmp_path / "few.jsonl"
    inp.write_text("".join(lines))
    r = subprocess.run([sys.executable, "-c", CODE, str(10 ** 9), str(10 ** 9), str(cfg_dir), str(inp)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    one = r.stdout
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as a user's shell has it
    p = subprocess.Popen([sys.executable, "-c", CODE, "5", "7", str(cfg_dir), "-"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=buffered)
    assert p.stdin is not None and p.stdout is not None
    p.stdin.write("".join(lines[:3]))
    p.stdin.flush()
    import threading

    watchdog = threading.Timer(60, p.kill)   # answers never flushed: fail, do not hang
    watchdog.start()
    try:
        first = [p.stdout.readline() for _ in range(3)]
    finally:
        watchdog.cancel()
    assert all(json.loads(x).get("error") for x in first), first
    p.stdin.write("".join(lines[3:]))
    out, err = p.communicate(timeout=300)
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1] == "rc=2 forks=0"
    assert "".join(first) + out == one


def test_when_no_worker_can_be_started_the_rest_is_answered_here(cfg_dir, tmp_path):
    """A fork that fails (the first, the second of a block, one of a later
    block): the workers already started are stopped, nothing of their block
    is lost or written twice, and this process answers from there on."""
    one, _status = _run(cfg_dir, tmp_path, 10 ** 9, 10 ** 9)
    for fail_at, pipe in ((1, False), (2, False), (4, False), (2, True), (3, True)):
        out, status = _run(cfg_dir, tmp_path, 5, 13, pipe=pipe, fail_at=fail_at)
        assert status.startswith("rc=2 "), status
        assert out == one, (fail_at, pipe)


def test_a_repeated_transaction_goes_to_the_worker_that_answered_it():
    """Lines are shared out by their transaction (the line without its id,
    wherever the id stands and whatever it is): a repeat goes to the worker
    that remembers the answer, and each new transaction to the next worker
    in turn, so that the workers get as many distinct transactions."""
    from tui.cli.batch import _share

    a = '{"id": 1, "client_address": "192.0.2.1", "recipient": "a@example.com"}'
    a_again = '{"id": "x\\"y", "client_address": "192.0.2.1", "recipient": "a@example.com"}'
    a_no_id = '{"client_address": "192.0.2.1", "recipient": "a@example.com"}'
    b = '{"client_address": "192.0.2.1", "recipient": "b@example.com", "id": null}'
    c = '{"client_address": "192.0.2.1", "recipient": "c@example.com"}'
    # "id" inside a value is not the id member
    d = '{"client_address": "192.0.2.1", "recipient": "\\"id\\": 5@example.com"}'
    b_no_id = '{"client_address": "192.0.2.1", "recipient": "b@example.com"}'
    block = list(enumerate([a, b, a_again, c, a_no_id, d, b_no_id, "not json"], 1))
    shares, owner = _share(block, 2)
    assert owner == [0, 1, 0, 0, 0, 1, 1, 0]
    assert [[n for n, _line in s] for s in shares] == [[1, 3, 4, 5, 8], [2, 6, 7]]
    assert all(line == dict(block)[n] for s in shares for n, line in s)
    shares, owner = _share(block, 3)
    assert owner == [0, 1, 0, 2, 0, 0, 1, 1]
