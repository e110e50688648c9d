"""Reading a log and re-tracing its distinct transactions, here or in
forked processes.

RetracePool is the part of the mail-log triage (analysis/triage.py) that
turns (service, Transaction) pairs into summaries with the triage's
`summary` function. With `workers` = N > 1 (the CLI) the work is shared
with forked processes:

- a large plain log file is read in N parts at once (read_parts()): this
  process reads the first (a little shorter), each other process one more
  and sends back what it read as plain tuples, which this process takes in
  as if it had read them in order; then the distinct transactions are
  re-traced in N shares of alike transactions (finish()). Nothing is
  re-traced beside the readers: N readers already fill N cores.
- a log that cannot be split (standard input, a .gz file, a small file)
  is read here while N - 1 forked pool workers re-trace what is found
  (add() hands them batches, never more than two ahead of each worker);
  at the end this process re-traces too, taking small chunks from the back
  of what is left while the workers take jobs from the front.

Forking happens only in a single-threaded process, before anything was
evaluated here (no database connection or file watch to share); otherwise,
or when forking fails, everything is done in this process.
"""
from __future__ import annotations

import os
from collections import deque
from functools import partial
from typing import Any, Callable

from tui.core.analysis.maillog import MAX_LINE

# transactions per job handed to a worker while the log is read; at the
# end, the smallest job and what this process traces between two looks at
# the workers (small: the last chunks decide when it ends)
READING_BATCH = 500
FINAL_CHUNK = 200
# the fewest transactions left at the end worth starting workers for
FORK_AT_END = 4000


class RetracePool:
    """The triage's re-tracing: `summary(service, tx)` over many transactions."""

    def __init__(self, summary: Callable[[Any, Any], Any], workers: int = 1) -> None:
        self.summary = summary
        self.workers = workers         # processes that re-trace: this one and workers - 1 forked
        self.batch_size = READING_BATCH
        self.todo: dict = {}           # every transaction handed over: key -> (service, tx)
        self._evaluated = False        # this process has evaluated (no fork after that)
        self._batch: list = []         # filling: (key, (service, tx))
        self._queued: deque = deque()  # full batches not yet given to a worker
        self._jobs: list = []          # AsyncResults of batches given to workers
        self._done: dict = {}          # key -> summary, from the workers
        self._pool: Any = None
        self._pool_failed = False
        self.hold = False              # True: add() only queues (the log is read in parts)

    @property
    def forked(self) -> bool:
        """Are worker processes running?"""
        return self._pool is not None

    # -- while reading ------------------------------------------------------
    def add(self, key, svc, tx) -> None:
        """Hand a new transaction to the worker processes, so that
        re-tracing runs beside the reading."""
        if key in self.todo:
            return
        self.todo[key] = (svc, tx)
        self._batch.append((key, (svc, tx)))
        if len(self._batch) >= self.batch_size:
            self._queued.append(self._batch)
            self._batch = []
            self._feed()

    def _start(self) -> bool:
        """Fork the workers if that is allowed and has not failed."""
        if self._pool is not None:
            return True
        if not can_fork(self):
            return False
        try:
            import multiprocessing

            _before_fork()
            global _WORKER
            _WORKER = self
            self._pool = multiprocessing.get_context("fork").Pool(self.workers - 1)
        except (OSError, ImportError, ValueError):
            self._pool_failed = True
            return False
        return True

    def _reap(self) -> None:
        waiting = []
        for job in self._jobs:
            if job.ready():
                self._done.update(job.get())
            else:
                waiting.append(job)
        self._jobs = waiting

    def _feed(self) -> None:
        """Give queued batches to the workers, at most two ahead of each."""
        if self.hold or not self._queued or not self._start():
            return
        self._reap()
        while self._queued and len(self._jobs) < 2 * (self.workers - 1):
            self._jobs.append(self._pool.apply_async(_trace_chunk, (self._queued.popleft(),)))

    # -- at the end -----------------------------------------------------------
    def finish(self, fresh: dict, progress: Callable[[int, int], None] | None = None) -> dict:
        """The summaries of everything add() was given and of `fresh`
        (key -> (service, tx), not given before)."""
        for key, item in fresh.items():
            if key not in self.todo:
                self.todo[key] = item
            self._batch.append((key, item))
        left = [x for batch in self._queued for x in batch] + self._batch
        self._queued.clear()
        self._batch = []
        total = len(self.todo)
        out = self._done
        if self._pool is None and len(left) >= FORK_AT_END and can_fork(self):
            # nothing was handed over while reading (the log was read in
            # parts, or was small): every process takes a share
            self._evaluated = True
            self._done = {}
            # alike transactions (same client, then same sender...) in one
            # share: each process remembers what its own traces looked up
            alike = sorted(left, key=lambda item: repr(item[0]))
            n = self.workers
            shares = [alike[len(alike) * k // n:len(alike) * (k + 1) // n] for k in range(n)]
            got = run_forked([partial(_trace_chunk_with, self, share) for share in shares[1:]],
                             partial(_trace_chunk_with, self, shares[0], out, progress, total))
            for k, res in enumerate(got):
                out.update(res if res is not None else _trace_chunk_with(self, shares[k + 1]))
            if progress is not None:
                progress(len(out), total)
            return out
        # the workers take from the front, in jobs of a quarter of what is
        # left (few hand-overs: each one needs this process's threads, which
        # wait for the GIL while this process traces), this process from
        # the back in small chunks; each worker always has a second job
        # queued, so that it never waits for this process
        lo, hi = 0, len(left)
        try:
            while lo < hi or self._jobs:
                if self._pool is not None:
                    self._reap()
                    while lo < hi and len(self._jobs) < 2 * (self.workers - 1):
                        n = max(FINAL_CHUNK, (hi - lo) // (2 * self.workers))
                        self._jobs.append(self._pool.apply_async(_trace_chunk, (left[lo:lo + n],)))
                        lo += n
                if lo < hi:
                    self._evaluated = True
                    start = max(lo, hi - FINAL_CHUNK)
                    for key, (svc, tx) in left[start:hi]:
                        out[key] = self.summary(svc, tx)
                    hi = start
                elif self._jobs:
                    out.update(self._jobs.pop(0).get())
                if progress is not None:
                    progress(len(out), total)
        finally:
            if self._pool is not None:
                self._pool.close()
                self._pool.join()
                self._pool = None
            self._jobs = []
            self._done = {}
            global _WORKER
            _WORKER = None
        return out


# the pool whose summary function a forked worker calls (set before forking)
_WORKER: "RetracePool | None" = None


def _trace_chunk(items):
    """A pool worker's job (multiprocessing pickles the function by name)."""
    assert _WORKER is not None
    return _trace_chunk_with(_WORKER, items)


def _trace_chunk_with(pool: RetracePool, items, out: dict | None = None,
                      progress: Callable[[int, int], None] | None = None, total: int = 0) -> dict:
    out = {} if out is None else out
    for n, (key, (svc, tx)) in enumerate(items):
        out[key] = pool.summary(svc, tx)
        if progress is not None and n % FINAL_CHUNK == 0:
            progress(len(out), total)
    return out


def can_fork(pool: RetracePool) -> bool:
    """May work be shared with forked processes now? Only with workers > 1
    (the CLI), before this process evaluated anything (no database
    connection or file watch to share) and with no other thread (one
    holding a lock at fork time would leave the child waiting for ever)."""
    import threading

    return (pool.workers > 1 and hasattr(os, "fork") and not pool._evaluated and pool._pool is None
            and not pool._pool_failed and threading.active_count() == 1)


def run_forked(jobs: list[Callable[[], Any]], here: Callable[[], Any]) -> list[Any]:
    """Run each of JOBS in a forked process and HERE in this one meanwhile;
    the jobs' results (pickled back through a pipe) in order, None for a
    job whose process failed or could not start (its caller does it here)."""
    import pickle

    _before_fork()
    procs: list[tuple[int, Any] | None] = []
    try:
        for job in jobs:
            r, w = os.pipe()
            try:
                pid = os.fork()
            except OSError:
                os.close(r)
                os.close(w)
                procs.append(None)
                continue
            if pid == 0:
                status = 1
                try:
                    os.close(r)
                    for _pid, other in filter(None, procs):
                        other.close()
                    data = pickle.dumps(job(), protocol=pickle.HIGHEST_PROTOCOL)
                    with os.fdopen(w, "wb") as fh:
                        fh.write(data)
                    status = 0
                finally:
                    os._exit(status)
            os.close(w)
            procs.append((pid, os.fdopen(r, "rb")))
        here()
        out: list[Any] = []
        for proc in procs:
            got = None
            if proc is not None:
                data = proc[1].read()
                try:
                    got = pickle.loads(data) if data else None
                except Exception:
                    got = None
            out.append(got)
        return out
    finally:
        for proc in procs:  # close before waiting: a child still writing gets EPIPE
            if proc is not None:
                proc[1].close()
                _pid, status = os.waitpid(proc[0], 0)


def _before_fork() -> None:
    """Move every object alive to the collector's permanent generation: a
    forked process that walked the inherited heap in its collections would
    touch (and so copy) every page of it, and neither process scans what
    was read again (Python's advice for fork without exec)."""
    import gc

    gc.freeze()


# -- reading one log in parts ------------------------------------------------------
# a plain log file at least this large is read in parts by several processes
SPLIT_AT = 16 << 20
# the size of the first part against each other one (see split_points())
FIRST_PART = 0.8


class _Part:
    """Bytes START..END of a file, read with pread() (a forked process shares
    the file offset of an open file with its parent: never seek)."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        self.fd, self.pos, self.end = fd, start, end

    def read(self, n: int) -> bytes:
        n = min(n, self.end - self.pos)
        if n <= 0:
            return b""
        data = os.pread(self.fd, n, self.pos)
        self.pos += len(data)
        return data

    def tell(self) -> int:
        return self.pos


def reads_in_parts(pool: RetracePool, size: int) -> bool:
    """Is a plain log file of SIZE bytes read in parts (read_parts())?"""
    return size >= SPLIT_AT and can_fork(pool)


def split_points(fd: int, size: int, parts: int, longest: int) -> list[int]:
    """Where each part of a log starts: 0, then after the first newline at or
    past each boundary (a part without one within LONGEST bytes is left to
    the part before). The first part, this process's, is FIRST_PART of the
    others' size: this process also prepares its transactions for re-tracing
    while it reads, and takes in what the others read."""
    starts = [0]
    whole = FIRST_PART + parts - 1
    for k in range(1, parts):
        at = int(size * (FIRST_PART + k - 1) / whole)
        if at <= starts[-1]:
            continue
        i = os.pread(fd, longest + 1, at).find(b"\n")
        if i >= 0 and at + i + 1 < size:
            starts.append(at + i + 1)
    return starts


def read_parts(triage, fd: int, size: int, where: str, blocks, progress=None) -> None:
    """Read a log file in parts: the first here, each other in a forked
    process, then take in what those read, as if this process had read it
    all in order. BLOCKS(file-like, on_progress) yields a part's blocks."""
    starts = split_points(fd, size, triage.pool.workers, MAX_LINE)
    ends = starts[1:] + [size]
    first_end = ends[0]

    def part(k: int):
        triage.reset_reading()
        triage.read_blocks(blocks(_Part(fd, starts[k], ends[k]), None), where)
        return triage.reading_state()

    def here():
        cb = (lambda pos: progress(min(size, pos * size // first_end))) if progress is not None else None
        triage.pool.hold = True   # no re-tracing beside the readers
        triage.read_blocks(blocks(_Part(fd, 0, first_end), cb), where)

    import gc

    # reading makes records, tuples and dicts, never a reference cycle: the
    # collector would only walk the growing heap again and again (in every
    # process; each freezes what it holds before forking the next ones)
    collecting = gc.isenabled()
    gc.disable()
    try:
        before = triage.reader.lines
        got = run_forked([partial(part, k) for k in range(1, len(starts))], here)
        for k, state in enumerate(got, start=1):
            offset = triage.reader.lines - before
            if state is None:  # its process failed: read that part here
                triage.read_blocks(blocks(_Part(fd, starts[k], ends[k]), None), where)
            else:
                triage.take_reading(state, where, offset)
    finally:
        if collecting:
            gc.freeze()
            gc.enable()

