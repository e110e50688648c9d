"""Re-tracing the distinct transactions of a triage, here or in forked workers.

RetracePool is the part of the mail-log triage (analysis/triage.py) that
turns (service, Transaction) pairs into summaries with the triage's
`summary` function. With `workers` = N > 1 (the CLI), N - 1 forked worker
processes re-trace while this process is still reading the log (add()
hands them batches, never more than two ahead of each worker); at the end
(finish()) this process re-traces too, taking small chunks from the back
of what is left while the workers take jobs from the front, so that
neither side waits for the other. Forking happens only in a single-threaded process,
before anything was evaluated here (no database connection or file watch to
share); otherwise, or when forking fails, everything is traced in this
process.
"""
from __future__ import annotations

import os
from collections import deque
from typing import Any, Callable

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
        import threading

        # fork only a single-threaded process (a thread holding a lock at
        # fork time would leave the child waiting for ever)
        if (self.workers < 2 or self._pool_failed or self._evaluated or not hasattr(os, "fork")
                or threading.active_count() > 1):
            return False
        try:
            import multiprocessing

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
        if not self._queued or not self._start():
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
        if self._pool is None and len(left) >= FORK_AT_END:
            self._start()
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
    t = _WORKER
    return {key: t.summary(svc, tx) for key, (svc, tx) in items}
