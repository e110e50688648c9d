"""Re-tracing the distinct transactions of a triage, here or in forked workers.

RetracePool is the part of the mail-log triage (analysis/triage.py) that
turns (service, Transaction) pairs into summaries with the triage's
`summary` function: in this process, or, when the triage asks for workers
(the CLI), in forked worker processes -- while the log is still being read
(add(), in batches) and for what is left at the end (trace_all()). Forking
happens only in a single-threaded process, before anything was evaluated
here (no database connection or file watch to share); otherwise, or when
forking fails, everything is traced in this process.
"""
from __future__ import annotations

import os
from typing import Any, Callable


class RetracePool:
    """The triage's re-tracing: `summary(service, tx)` over many transactions."""

    def __init__(self, summary: Callable[[Any, Any], Any], workers: int = 1) -> None:
        self.summary = summary
        self.workers = workers         # >1: re-trace in that many forked processes (CLI only)
        self.batch_size = 1000         # transactions per job for the workers
        self.todo: dict = {}           # every transaction handed over: key -> (service, tx)
        self._evaluated = False
        self._batch: list = []
        self._later: list = []
        self._async: list = []
        self._pool: Any = None
        self._pool_failed = False

    @property
    def forked(self) -> bool:
        """Are worker processes running?"""
        return self._pool is not None

    # -- while reading (workers > 1) ---------------------------------------
    def add(self, key, svc, tx) -> None:
        """Hand a new transaction to the worker processes at once, so that
        re-tracing runs beside the reading."""
        if key in self.todo:
            return
        self.todo[key] = (svc, tx)
        self._batch.append((key, (svc, tx)))
        if len(self._batch) >= self.batch_size:
            self._submit()

    def _submit(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        if self._pool is None:
            import threading

            # fork only a single-threaded process (a thread holding a lock
            # at fork time would leave the child waiting for ever)
            if (self._pool_failed or self._evaluated or not hasattr(os, "fork")
                    or threading.active_count() > 1):
                self._later.extend(batch)
                return
            try:
                import multiprocessing

                global _WORKER
                _WORKER = self
                self._pool = multiprocessing.get_context("fork").Pool(self.workers)
            except (OSError, ImportError, ValueError):
                self._pool_failed = True
                self._later.extend(batch)
                return
        self._async.append(self._pool.apply_async(_trace_chunk, (batch,)))

    def collect(self) -> dict:
        """The summaries of everything add() was given."""
        if self._pool is not None:
            self._submit()
        else:  # a small log: no process to start for the rest
            self._later.extend(self._batch)
            self._batch = []
        out: dict = {}
        if self._pool is not None:
            try:
                for r in self._async:
                    out.update(r.get())
            finally:
                self._pool.close()
                self._pool.join()
                self._pool = None
        self._async = []
        if self._later:
            self._evaluated = True
            for key, (svc, tx) in self._later:
                out[key] = self.summary(svc, tx)
            self._later = []
        return out

    # -- at the end ----------------------------------------------------------
    def trace_all(self, todo: dict, progress) -> dict:
        """Summaries of every distinct transaction: in this process, or split
        over two forked workers when there are many and nothing has been
        evaluated yet (no database connection or file watch to share)."""
        items = list(todo.items())
        workers = self.workers
        import threading

        if (workers > 1 and len(items) >= 4000 and not self._evaluated and hasattr(os, "fork")
                and threading.active_count() == 1):
            try:
                import multiprocessing

                ctx = multiprocessing.get_context("fork")
                global _WORKER
                _WORKER = self
                size = (len(items) + workers * 4 - 1) // (workers * 4)
                chunks = [items[i:i + size] for i in range(0, len(items), size)]
                out: dict = {}
                with ctx.Pool(workers) as pool:
                    for done in pool.imap_unordered(_trace_chunk, chunks):
                        out.update(done)
                        if progress is not None:
                            progress(len(out), len(items))
                return out
            except (OSError, ImportError):
                pass
            finally:
                _WORKER = None
        self._evaluated = True
        out = {}
        for i, (key, (svc, tx)) in enumerate(items):
            out[key] = self.summary(svc, tx)
            if progress is not None and i % 500 == 0:
                progress(i, len(items))
        return out


# the pool whose summary function a forked worker calls (set before forking)
_WORKER: "RetracePool | None" = None


def _trace_chunk(items):
    t = _WORKER
    return {key: t.summary(svc, tx) for key, (svc, tx) in items}
