"""`postfix-explorer trace --batch FILE|-`: many transactions, one
configuration load.

Input: JSON lines, one object per transaction, with the names of trace's
flags: id, service, client_address, client_name, reverse_client_name, helo,
sender, recipient (left out: no RCPT TO, the trace ends at MAIL FROM),
sasl_login, tls (true or false: whether the client used
STARTTLS), from_log (a log line to take the rest from), policy
({"server": "action"}). Output: one JSON line per input line, the
object `trace --json` prints plus "id"; an input line that cannot be traced
gives {"id": ..., "error": "..."} and the batch goes on.

Exit status: 0 every line traced, 2 some line was unusable (or no
configuration).

A large input (FORK_AT lines or more: read ahead in a file; in a pipe,
that many arrived at once) is answered by forked worker processes, one
per core. The input is read in blocks of up to BLOCK lines (from a pipe,
what has arrived; its answers are written before more is read, since its
writer may be waiting for them). Each block's lines are shared out by
transaction (the same transaction always to the same worker, which
remembers its answer), and the answers are written in the input's order.
This process then only reads, shares out and writes; it never evaluates,
so no worker inherits an open table, database connection or file watch.
A small input is answered here, without forking, line by line.
"""
from __future__ import annotations

import gc
import itertools
import json
import os
import re
import signal
import sys
import time

from tui.cli.trace import FIELDS as TRACE_FIELDS
from tui.cli.trace import _resolver, service_for, transaction_from
from tui.core.analysis.explain import explain
from tui.core.config import ConfigError, load_config
from tui.core.model import ExplorerError
from tui.core.smtpd import evaluate
from tui.core.trace import json_text

FIELDS = ("id", "policy") + TRACE_FIELDS
_FIELD_SET = frozenset(FIELDS)
_ANY_TYPE = ("id", "policy")   # the others are strings (tls: or true/false)

# lines read ahead before deciding to fork (fewer: answered here), and the
# lines of one block shared out among the workers
FORK_AT = 1000
BLOCK = 50_000
MAX_WORKERS = 4

# a line's "id" member (its value a string, number or literal) with the
# comma that separates it from the next member, or from the one before
_ID_VALUE = r'"id"\s*:\s*(?:"(?:[^"\\]|\\.)*"|[^\s,{}\[\]"]+)\s*'
_ID_MEMBER = re.compile(_ID_VALUE + r',\s*|,?\s*' + _ID_VALUE + r'(?=})')


class BatchError(ValueError):
    pass


def _field_errors(obj: dict) -> None:
    """Raise BatchError for OBJ's first problem: an unknown field, else a
    field of the wrong type."""
    unknown = sorted(set(obj) - _FIELD_SET)
    if unknown:
        raise BatchError(f"unknown field(s): {', '.join(unknown)}")
    for k in FIELDS:
        if k == "tls":
            if obj.get(k) is not None and not isinstance(obj[k], (str, bool)):
                raise BatchError("tls must be true, false, \"yes\" or \"no\"")
        elif k not in _ANY_TYPE and obj.get(k) is not None and not isinstance(obj[k], str):
            raise BatchError(f"{k} must be a string")


def _transaction(obj: dict, cfg):
    if not isinstance(obj, dict):
        raise BatchError("a line must be a JSON object")
    for k, v in obj.items():
        if k in _FIELD_SET and (type(v) is str or v is None or k in _ANY_TYPE or (k == "tls" and type(v) is bool)):
            continue
        _field_errors(obj)
        break
    tx, logline = transaction_from(obj)
    service = service_for(cfg, obj.get("service"), logline)
    policy = obj.get("policy") or {}
    if not isinstance(policy, dict):
        raise BatchError("policy must be an object {server: action}")
    return tx, service, policy


class _Answerer:
    """Answers input lines one by one (in this process or in a worker)."""

    def __init__(self, cfg, resolver):
        self.cfg = cfg
        self.resolver = resolver
        # The same transaction asked again within a second gets the answer
        # already printed: the engine itself trusts a table file's stat() for
        # up to 1 s, so nothing fresher could be said anyway.
        self.memo: dict[tuple, tuple[float, str]] = {}
        self.json_memo: dict = {}

    def answer(self, n: int, line: str) -> tuple[str, bool]:
        """(the output line for input line N, was it unusable)."""
        dumps = json_text
        ident = None
        try:
            obj = json.loads(line)
            ident = obj.get("id", n) if isinstance(obj, dict) else n
            tx, service, policy = _transaction(obj, self.cfg)
            key = (tx, service, tuple(sorted(policy.items())))
            now = time.monotonic()
            memo = self.memo
            hit = memo.get(key)
            if hit is not None and now - hit[0] < 1.0:
                return f'{hit[1][:-1]}, "id": {dumps(ident)}}}\n', False
            cfg, resolver = self.cfg, self.resolver
            tr = evaluate(cfg, tx, service=service, resolver=resolver, policy_answers=policy)
            ex = explain(tr, cfg, resolver=resolver, policy_answers=policy)
            # the text of json.dumps({**tr.to_json(), "explanation": ...}),
            # the steps' text remembered across transactions
            body = tr.to_json_text(self.json_memo, ', "explanation": ' + dumps(ex.to_json()))
            if len(memo) > 100_000:
                memo.clear()
            memo[key] = (now, body)
            return f'{body[:-1]}, "id": {dumps(ident)}}}\n', False
        except (ValueError, ExplorerError) as exc:  # JSONDecodeError is a ValueError
            res: dict[str, object] = {"error": f"line {n}: {exc}"}
        res["id"] = ident if ident is not None else n
        return dumps(res) + "\n", True


def _workers() -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return min(MAX_WORKERS, n)


def _can_fork() -> bool:
    import threading

    # fork only a single-threaded process (a thread holding a lock at fork
    # time would leave the child waiting for ever)
    return hasattr(os, "fork") and threading.active_count() == 1


def run_batch(args) -> int:
    try:
        cfg = load_config(args.config_dir)
    except (ConfigError, ExplorerError) as exc:
        print(f"postfix-explorer trace: {exc}", file=sys.stderr)
        return 2
    try:
        resolver = _resolver(args)
    except ValueError as exc:
        print(f"postfix-explorer trace: {exc}", file=sys.stderr)
        return 2
    src = args.batch
    try:
        fh = sys.stdin if src == "-" else open(src, encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"postfix-explorer trace: {src}: {exc.strerror}", file=sys.stderr)
        return 2
    out = sys.stdout
    bad = 0
    answerer = _Answerer(cfg, resolver)
    # What is loaded now lives as long as the batch: moved out of the cyclic
    # collector's sight (gc.freeze()), the collections that thousands of
    # traces set off no longer walk it again and again (about 4 % of the
    # CPU of a batch), and a forked worker does not copy its pages by
    # walking it.
    gc.collect()
    gc.freeze()
    try:
        workers = _workers()
        forking = workers > 1 and _can_fork()
        if forking and _is_file(fh):
            bad = _from_file(answerer, fh, workers, out)
        elif forking and _is_pipe(fh):
            bad = _from_pipe(answerer, fh, workers, out)
        else:
            bad = _here(answerer, enumerate(fh, 1), out)
    finally:
        if fh is not sys.stdin:
            fh.close()
    out.flush()
    return 2 if bad else 0


def _here(answerer: "_Answerer", lines, out, pipe: "_Pipe | None" = None) -> int:
    """Answer the (line number, line) pairs LINES in this process, one by
    one; the number of unusable lines. Lines from PIPE: the answers are
    flushed whenever no further line has arrived yet (its writer may be
    waiting for them before it writes more)."""
    bad = 0
    for n, line in lines:
        if line.strip():
            text, unusable = answerer.answer(n, line)
            bad += unusable
            out.write(text)
            if pipe is not None and not pipe.lines:
                out.flush()
    return bad


def _from_file(answerer: "_Answerer", fh, workers: int, out) -> int:
    """A file: read ahead (it is all there: reading never waits); a large
    one is shared out among workers block by block, a small one answered
    here. The number of unusable lines."""
    lines = enumerate(fh, 1)
    block = _read(lines, FORK_AT)
    if len(block) < FORK_AT:
        return _here(answerer, block, out)
    bad = 0
    while block:
        block += _read(lines, BLOCK - len(block))
        try:
            bad += _parallel(answerer, block, workers, out)
        except _NoFork:
            return bad + _here(answerer, itertools.chain(block, lines), out)
        block = _read(lines, BLOCK)
    return bad


def _is_file(fh) -> bool:
    """Is FH a regular file (all there, so reading ahead never waits)?"""
    import stat

    try:
        return stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def _is_pipe(fh) -> bool:
    import stat

    try:
        return stat.S_ISFIFO(os.fstat(fh.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


class _Pipe:
    """The lines of a pipe, read from its file descriptor and decoded as FH
    itself would decode them (its encoding and errors; sys.stdin splits at
    \\n only, a file opened here translates \\r\\n and \\r first), with what
    has arrived told apart from what is yet to come."""

    def __init__(self, fh):
        import codecs
        import io
        from collections import deque

        self.fd = fh.fileno()
        decoder = codecs.getincrementaldecoder(fh.encoding)(fh.errors)
        self.decoder = decoder if fh is sys.stdin else io.IncrementalNewlineDecoder(decoder, translate=True)
        self.partial = ""
        self.lines: deque = deque()   # (line number, line) complete, not yet taken
        self.n = 0
        self.eof = False

    def _fill(self, timeout: float | None) -> bool:
        """Read what the pipe has (waiting up to TIMEOUT seconds, None: as
        long as it takes); False when nothing came in time."""
        import select

        if self.eof:
            return False
        if not select.select([self.fd], [], [], timeout)[0]:
            return False
        data = os.read(self.fd, 1 << 16)
        if data:
            text = self.partial + self.decoder.decode(data)
        else:
            text = self.partial + self.decoder.decode(b"", True)
            self.eof = True
        *done, self.partial = text.split("\n")
        for line in done:
            self.n += 1
            self.lines.append((self.n, line + "\n"))
        if self.eof and self.partial:
            self.n += 1
            self.lines.append((self.n, self.partial))
            self.partial = ""
        return True

    def take(self, count: int, pause: float = 0.05) -> list[tuple[int, str]]:
        """Up to COUNT non-blank lines: waiting for the first, then taking
        what comes within PAUSE seconds of the last read."""
        got: list[tuple[int, str]] = []
        while len(got) < count:
            if self.lines:
                n, line = self.lines.popleft()
                if line.strip():
                    got.append((n, line))
                continue
            if not self._fill(pause if got else None):
                break
        return got

    def rest(self):
        """The lines not taken yet, as they come."""
        while True:
            while self.lines:
                yield self.lines.popleft()
            if not self._fill(None):
                return


def _from_pipe(answerer: "_Answerer", fh, workers: int, out) -> int:
    """A pipe: when a large block of lines arrives at once, each such block
    is shared out among workers and its answers written (and flushed)
    before more is read, so that a writer waiting for answers gets them;
    when the lines come a few at a time, they are answered here, as they
    come. The number of unusable lines."""
    pipe = _Pipe(fh)
    block = pipe.take(BLOCK)
    if len(block) < FORK_AT:
        return _here(answerer, itertools.chain(block, pipe.rest()), out, pipe)
    bad = 0
    while block:
        try:
            bad += _parallel(answerer, block, workers, out)
        except _NoFork:
            return bad + _here(answerer, itertools.chain(block, pipe.rest()), out, pipe)
        out.flush()
        block = pipe.take(BLOCK)
    return bad


def _read(lines, count: int) -> list[tuple[int, str]]:
    """Up to COUNT more non-blank (line number, line) pairs."""
    got: list[tuple[int, str]] = []
    for n, line in lines:
        if line.strip():
            got.append((n, line))
            if len(got) >= count:
                break
    return got


def _share(block: list[tuple[int, str]], workers: int) -> tuple[list[list[tuple[int, str]]], list[int]]:
    """BLOCK's lines shared out by transaction: (each worker's (line number,
    line) pairs, the worker of each line in BLOCK's order). A
    repeated transaction goes to the worker that answers it the first time
    (which remembers its answer), each new one to the next worker in turn,
    so that every worker gets as many distinct transactions. A transaction
    is known by its line without the "id" member, as written: this process
    only shares the lines out (the workers parse them), and two ways of
    writing one transaction only cost a second answer."""
    shares: list[list[tuple[int, str]]] = [[] for _ in range(workers)]
    owner: list[int] = []
    seen: dict[str, int] = {}
    strip_id = _ID_MEMBER.sub
    for n, line in block:
        key = strip_id("", line, 1)
        w = seen.get(key)
        if w is None:
            w = seen[key] = len(seen) % workers
        shares[w].append((n, line))
        owner.append(w)
    return shares, owner


def _parallel(answerer: _Answerer, block: list[tuple[int, str]], workers: int, out) -> int:
    """Answer BLOCK in WORKERS forked processes, write the answers in
    BLOCK's order; the number of unusable lines."""
    shares, owner = _share(block, workers)
    out.flush()
    pipes: list[int] = []
    pids: list[int] = []
    done = False
    try:
        for w in range(workers):
            try:
                r, wfd = os.pipe()
            except OSError as exc:
                raise _NoFork from exc
            try:
                pid = os.fork()
            except OSError as exc:
                os.close(r)
                os.close(wfd)
                raise _NoFork from exc
            if pid == 0:  # the worker
                os.close(r)
                for rr in pipes:
                    os.close(rr)
                _work(answerer, shares[w], wfd)
            os.close(wfd)
            pids.append(pid)
            pipes.append(r)
        bad = _merge(pipes, owner, out)
        done = True
    finally:
        for r in pipes:
            os.close(r)
        for pid in pids:
            if not done:  # stopped early (interrupted, output closed): the workers' answers are not wanted
                try:
                    os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass
            os.waitpid(pid, 0)
    return bad


class _NoFork(Exception):
    """The workers could not be started (no process or pipe to be had);
    those that were are stopped, and nothing of the block was written."""


def _merge(pipes: list[int], owner: list[int], out) -> int:
    """Write the workers' answers in the input's order (OWNER: the worker
    of each line), reading every pipe as soon as it has something so that
    no worker waits for another; the number of unusable lines."""
    import selectors
    from collections import deque

    sel = selectors.DefaultSelector()
    queues: list[deque] = [deque() for _ in pipes]
    partial = [b""] * len(pipes)
    for w, r in enumerate(pipes):
        sel.register(r, selectors.EVENT_READ, w)
    raw = getattr(out, "buffer", None)
    # the lines (without their flags) go out a megabyte at a time: a line is
    # kilobytes, and this process shares the cores with the workers
    pending: list = []
    size = 0
    bad = 0
    open_ = len(pipes)
    for w in owner:
        q = queues[w]
        while not q:
            if not open_:
                if pending and raw is not None:   # what was answered goes out before the error
                    raw.write(b"".join(pending))
                raise RuntimeError("a worker process of trace --batch ended before answering every line")
            for key, _ev in sel.select():
                i = key.data
                data = os.read(key.fd, 1 << 20)
                if not data:
                    sel.unregister(key.fd)
                    open_ -= 1
                    continue
                lines = data.split(b"\n")
                lines[0] = partial[i] + lines[0]
                partial[i] = lines.pop()
                queues[i].extend(lines)
        text = q.popleft()
        bad += text[:1] == b"1"
        if raw is not None:
            pending.append(memoryview(text)[1:])
            pending.append(b"\n")
            size += len(text)
            if size >= 1 << 20:
                raw.write(b"".join(pending))
                pending.clear()
                size = 0
        else:
            out.write(text[1:].decode("utf-8") + "\n")
    if pending and raw is not None:
        raw.write(b"".join(pending))
    sel.close()
    return bad


def _work(answerer: _Answerer, share, wfd: int) -> None:
    """A worker: answer SHARE, each answer one line on WFD behind a flag
    (1: the line was unusable); never returns."""
    code = 0
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with os.fdopen(wfd, "w", encoding="utf-8", newline="\n", buffering=1 << 16) as w:
            parent = os.getppid()
            for n, line in share:
                if os.getppid() != parent:
                    break  # the process that wanted the answers is gone
                text, unusable = answerer.answer(n, line)
                w.write("1" if unusable else "0")   # (not one string: a line is kilobytes)
                w.write(text)
    except (BrokenPipeError, KeyboardInterrupt):
        code = 1  # this process stopped reading, or was interrupted: it says so itself
    except BaseException:  # noqa: BLE001 - reported; this process sees the answers missing
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)
