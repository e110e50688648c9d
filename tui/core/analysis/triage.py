"""Mail-log triage: every refusal in a log, grouped by the rule that decides
it today, and whether today's configuration still answers the same.

    t = Triage(cfg)
    t.read("/var/log/mail.log")          # "-": standard input; *.gz: gunzipped
    result = t.finish()                  # TriageResult: groups, counts, unparsed

Each distinct logged transaction (service, client, HELO, sender, recipient,
stage) is re-traced once with `evaluate` and compared with the logged reply:
"same", "differs" (the configuration changed since), or "undecidable" (the
answer depended on something the explorer cannot know offline: DNS, a
policy service, a milter, postscreen, a SASL backend, a table that failed at
the time -- the reason says which).

cleanup's header_checks / mime_header_checks / nested_header_checks /
body_checks refusals ("QUEUEID: reject: header Subject: ... from c[a]; ...:
5.7.1 text") are groups of their own: stage "header" or "body" (the class
Postfix logs), decided by the first rule of today's tables that matches the
logged line (regexp: and pcre: tables; see content_checks.py).
"""
from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable

from tui.core.analysis.maillog import (CANDIDATE, CHUNK, CONTENT, MAX_LINE, Reader, Record, Unparsed, ident,
                                       iter_blocks, make_record, open_log, relevant, sort_key)
from tui.core.analysis.content_checks import DIFFERS, SAME, UNDECIDABLE, ContentChecks
from tui.core.analysis.triage_pool import RetracePool, read_parts, reads_in_parts
from tui.core.analysis.triage_services import TodaysServices
from tui.core.postfix.milter import CONF_ERROR_REPLY
from tui.core.smtpd import evaluate as _evaluate
from tui.core.smtpd.checks import SENDER_FLAG_NOTE

_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(Record))

# smtpd command in the log -> the stage the explorer traces
STAGES = {"CONNECT": "connect", "XCLIENT": "connect", "HELO": "helo", "EHLO": "helo",
          "MAIL": "mail", "RCPT": "rcpt"}
_STAGE_ORDER = {"connect": 0, "helo": 1, "mail": 2, "rcpt": 3}
_NOT_TRACED = {
    "DATA": "smtpd_data_restrictions", "BDAT": "smtpd_data_restrictions",
    "END-OF-MESSAGE": "smtpd_end_of_data_restrictions", "ETRN": "smtpd_etrn_restrictions",
    "VRFY": "the VRFY command (smtpd_recipient_restrictions without a sender)",
}
_DNS_ENTRIES = ("reject_rbl_client", "reject_rhsbl", "reject_unknown", "check_client_mx_access",
                "check_client_ns_access", "check_client_a_access", "check_sender_mx_access",
                "check_sender_ns_access", "check_sender_a_access", "check_recipient_mx_access",
                "check_recipient_ns_access", "check_recipient_a_access", "check_helo_mx_access",
                "check_helo_ns_access", "check_helo_a_access", "check_reverse_client_hostname",
                "reject_dnsbl", "permit_dnswl_client", "permit_rhswl_client")
_MASK = re.compile(r"<[^<>]*>|[^\s\[\]<>]*\[[^\[\]\s]*\](?::\d+)?")


@lru_cache(maxsize=1 << 16)  # one log repeats a few thousand replies over and over
def mask(reply: str) -> str:
    """A reply with its addresses and clients replaced by "<...>" / "...[...]":
    the text replies of one rule share."""
    return _MASK.sub(lambda m: "<...>" if m.group(0).startswith("<") else "...[...]", reply)


@dataclass
class Occurrence:
    """One distinct logged transaction and how often it was logged."""

    record: Record
    service: str | None
    where: str                     # "file:line" of its first line
    count: int = 0
    first: str = ""
    last: str = ""
    today: str = UNDECIDABLE
    today_reply: str = ""          # today's answer (when it differs: what instead)
    reason: str = ""               # undecidable: which outside answer it needed
    summary: "Summary | None" = None  # Summary of today's trace, when re-traced
    decider: dict | None = None    # header/body checks: today's rule (no trace)
    label: str | None = None       # header/body checks: the cleanup service (the group's service)
    passed: bool = False           # today the logged command is accepted: nothing decides it
    _pre: Any = None               # what _prejudge said (False: nothing to trace)

    # first/last: the time stamps of its first and last line as read (give
    # rotated logs oldest first)

    @property
    def stage(self) -> str:
        return STAGES.get(self.record.command.upper(), self.record.command.lower())

    def transaction(self):
        return self.record.transaction()

    def to_json(self) -> dict:
        r = self.record
        return {"count": self.count, "first": self.first, "last": self.last, "where": self.where,
                "service": self.service, "program": r.program, "command": r.command,
                "client_name": r.client_name, "client_address": r.client_address, "helo": r.helo,
                "sender": r.sender, "recipient": r.recipient, "reply": r.reply, "text": r.text,
                "today": self.today, "today_reply": self.today_reply, "reason": self.reason}


@dataclass
class Group:
    kind: str                      # reject | sasl | table | delivery | postscreen | fatal
    service: str                   # master.cf service (or the process name when none)
    stage: str                     # connect/helo/mail/rcpt/data/...; the command for others
    action: str                    # reject | reject_warning | milter-reject | ...
    reply: str                     # masked reply (or the message's gist)
    today: str
    today_reply: str
    reason: str
    decided_by: dict | None
    count: int = 0
    first: str = ""
    last: str = ""
    clients: Counter = field(default_factory=Counter)
    senders: Counter = field(default_factory=Counter)
    recipients: Counter = field(default_factory=Counter)
    occurrences: list[Occurrence] = field(default_factory=list)
    _fk: str = ""
    _lk: str = ""

    def add(self, occ: Occurrence) -> None:
        self.occurrences.append(occ)
        self.count += occ.count
        r = occ.record
        if r.client_address or r.client_name:
            # cleanup's origin "local" (pickup) has no address
            self.clients[r.client if r.client_address or not r.content_check else r.client_name] += occ.count
        if r.sender is not None:
            self.senders[r.sender or "<>"] += occ.count
        if r.recipient is not None:
            self.recipients[r.recipient] += occ.count
        fk, lk = sort_key(occ.first), sort_key(occ.last)
        if not self.first or fk < self._fk:
            self.first, self._fk = occ.first, fk
        if not self.last or lk >= self._lk:
            self.last, self._lk = occ.last, lk

    @property
    def verdict(self) -> str:
        if self.kind == "fatal" and self.today != UNDECIDABLE:
            daemon = self.stage.removesuffix("startup").strip() or "smtpd"
            return (f"today's configuration makes {daemon} exit the same way" if self.today == SAME
                    else f"today {self.today_reply} instead")
        if self.today == SAME:
            return "today's configuration answers the same"
        if self.today == DIFFERS:
            return f"today it answers {self.today_reply or '(nothing)'} instead"
        return f"cannot be decided offline: {self.reason}"

    def to_json(self, examples: int = 5) -> dict:
        return {"kind": self.kind, "count": self.count, "service": self.service, "stage": self.stage,
                "action": self.action, "reply": self.reply, "decided_by": self.decided_by,
                "today": self.today, "today_reply": self.today_reply, "reason": self.reason,
                "first": self.first, "last": self.last,
                "top_clients": self.clients.most_common(5), "top_senders": self.senders.most_common(5),
                "top_recipients": self.recipients.most_common(5),
                "transactions": len(self.occurrences),
                "examples": [o.to_json() for o in self.occurrences[:examples]]}


@dataclass
class TriageResult:
    lines: int
    ignored: int
    unparsed: Unparsed
    groups: list[Group]
    files: list[str]
    retraced: int
    errors: list[str]

    @property
    def differs(self) -> bool:
        return any(g.today == DIFFERS for g in self.groups)

    def to_json(self, examples: int = 5) -> dict:
        return {"files": self.files, "lines": self.lines, "ignored": self.ignored,
                "unparsed": {"count": self.unparsed.count,
                             "examples": [{"file": f, "line": n, "why": why, "text": t}
                                          for f, n, why, t in self.unparsed.examples]},
                "retraced": self.retraced, "errors": self.errors,
                "groups": [g.to_json(examples) for g in self.groups]}


def _decider_json(step) -> dict | None:
    if step is None:
        return None
    return {"parameter": step.parameter, "entry": step.entry, "position": step.position,
            "source": str(step.source) if step.source is not None else None}


# a check a real smtpd skips or runs by what its process's previous session
# left (tui.core.smtpd.checks.SENDER_FLAG_NOTE)
_PREVIOUS_SESSION = ("the smtpd process's previous session (reject_unlisted_sender before the MAIL FROM "
                     "restrictions is skipped when it checked its sender)")


def _needs(step) -> str:
    e = step.entry.split()[0].lower() if step.entry else ""
    if e.startswith("check_policy_service"):
        return "policy service " + " ".join(step.entry.split()[1:2])
    if e.startswith("reject_unverified"):
        return "address verification (" + e + ")"
    if e.startswith(_DNS_ENTRIES):
        return "DNS (" + e + ")"
    return step.detail or e or "an outside answer"


# postscreen: which of its tests decided (its verdict, or the reply it
# logged), and the parameters that set the test up
_BEHAVIOUR = "the client's behaviour at the time: "
_POSTSCREEN_TESTS = {
    "PREGREET": _BEHAVIOUR + "postscreen's pregreet test (postscreen_greet_action): the client talked before "
                             "its turn",
    "DNSBL": "DNS: postscreen_dnsbl_sites listed the client at the time (postscreen_dnsbl_threshold)",
    "COMMAND PIPELINING": _BEHAVIOUR + "postscreen's pipelining test (postscreen_pipelining_enable): the client "
                                       "sent commands before the replies",
    "NON-SMTP COMMAND": _BEHAVIOUR + "postscreen's non-SMTP command test (postscreen_non_smtp_command_enable, "
                                     "postscreen_forbidden_commands): the client sent something that is not SMTP",
    "BARE NEWLINE": _BEHAVIOUR + "postscreen's bare newline test (postscreen_bare_newline_enable): the client "
                                 "ended a line with a bare newline",
    "HANGUP": _BEHAVIOUR + "the client hung up during postscreen's tests",
    "COMMAND COUNT LIMIT": _BEHAVIOUR + "the client sent more commands than postscreen_command_count_limit",
    "COMMAND LENGTH LIMIT": _BEHAVIOUR + "the client sent a command longer than line_length_limit",
    "COMMAND TIME LIMIT": _BEHAVIOUR + "the client sent no complete command within "
                                       "postscreen_command_time_limit",
    "DENYLISTED": "postscreen_access_list denylisted the client (postscreen_denylist_action); the explorer "
                  "does not evaluate postscreen_access_list",
}
_POSTSCREEN_TESTS["BLACKLISTED"] = _POSTSCREEN_TESTS["DENYLISTED"]


def _milter_conf_error(reply: str) -> bool:
    """Is a milter-reject reply the one of a milter smtpd could not use
    (milter8_conf_error()), which smtpd logs at CONNECT, HELO/EHLO and MAIL
    and answers MAIL FROM with? The configuration alone decides it."""
    return reply.split("\n", 1)[0][4:] == CONF_ERROR_REPLY[4:]


def _postscreen_reason(r: Record) -> str:
    if r.kind == "postscreen":  # a verdict
        return _POSTSCREEN_TESTS.get(r.action, _BEHAVIOUR + r.action)
    if "blocked using" in r.reply:
        return "postscreen decided it (postscreen_dnsbl_action): " + _POSTSCREEN_TESTS["DNSBL"]
    if r.reply.startswith("450 4.3.2 "):
        return ("postscreen decided it: the client passed its deep protocol tests (postscreen_pipelining_enable, "
                "postscreen_non_smtp_command_enable, postscreen_bare_newline_enable) and must connect again")
    if r.reply.startswith("550 5.3.2 "):
        return "postscreen decided it: " + _POSTSCREEN_TESTS["DENYLISTED"]
    if "Protocol error" in r.reply:
        return ("postscreen decided it: the client failed one of its tests earlier in the session (a PREGREET, "
                "COMMAND PIPELINING, NON-SMTP COMMAND or BARE NEWLINE line, with the test's action enforce)")
    return "postscreen decided it (DNSBL answers, protocol tests)"


class Triage:
    """Reads logs and re-traces what they refused against one configuration."""

    def __init__(self, cfg, resolver=None, evaluate=None, workers: int = 1) -> None:

        self.cfg = cfg
        self.resolver = resolver
        self._evaluate = evaluate or _evaluate
        self.reader = Reader()
        self.files: list[str] = []
        self.errors: list[str] = []
        self._occ: dict[tuple, Occurrence] = {}
        self._memo: dict[str, tuple[str, Occurrence]] = {}
        self._content = ContentChecks(cfg)
        self.services = TodaysServices(cfg)
        # re-tracing; workers > 1: this process and workers - 1 forked ones (CLI only)
        self.pool = RetracePool(self._summary, workers)

    # -- reading ---------------------------------------------------------
    def read(self, path: str, progress: Callable[[int, int | None], None] | None = None) -> None:
        """Read one log file ("-": stdin; gzip-compressed files are read as such)."""
        try:
            fh, size, raw = open_log(path)
        except OSError as exc:
            self.errors.append(f"{path}: {exc.strerror or exc}")
            return
        self.files.append(path)
        cb = (lambda pos: progress(pos, size)) if progress is not None else None
        try:
            if raw is fh and size is not None and reads_in_parts(self.pool, size):
                # a large plain file: read in parts, one per worker process
                read_parts(self, fh.fileno(), size, path, lambda part, on: iter_blocks(part, on, part), cb)
            else:
                self.read_blocks(iter_blocks(fh, cb, raw), path)
        except (OSError, EOFError) as exc:  # a truncated .gz, a read error: keep what was read
            self.errors.append(f"{path}: {exc}")
        finally:
            if path != "-":
                fh.close()
                if raw is not None and raw is not fh:
                    raw.close()

    def read_blocks(self, blocks: Iterable[str | None], where: str) -> None:
        """Read blocks of whole lines (maillog.iter_blocks). Only the lines
        where CANDIDATE finds a keyword reach Python code one by one; the
        others are counted (and those without a "process[pid]: " are
        unparsed). Plain substring tests pick the lines CANDIDATE is asked
        about: they run over a whole block in C at a fraction of the cost
        of a regular expression (postscreen's verdicts are read from
        postscreen's lines)."""
        reader = self.reader
        unparsed = reader.unparsed
        base = 0  # lines before this block
        search = CANDIDATE.search
        one = self._one
        try:
            for block in blocks:
                if block is None:
                    base += 1
                    unparsed.add(where, base, f"line longer than {CHUNK} bytes", "")
                    continue
                lines = block.split("\n")
                nlines = len(lines)
                bad = 0
                # some line has no prefix (a count of "]: " cannot tell:
                # a refusal holds two)
                if any(["]: " not in ln for ln in lines]):
                    for k, ln in enumerate(lines):
                        if "]: " not in ln:
                            if ln.strip():
                                unparsed.add(where, base + k + 1, "no time stamp / host / process[pid] prefix", ln)
                            else:
                                reader.ignored += 1
                            bad += 1
                seen = 0
                for k in [k for k, ln in enumerate(lines)
                          if "reject" in ln or "warning:" in ln or "postscreen[" in ln or "]: fatal:" in ln
                          or ("status=" in ln and "status=sent " not in ln)]:
                    line = lines[k]
                    i = line.find("]: ")
                    if i < 0 or search(line) is None:
                        continue
                    seen += 1
                    if len(line) > MAX_LINE:
                        unparsed.add(where, base + k + 1, f"line longer than {MAX_LINE} bytes", "")
                        continue
                    one(line, i, where, base + k + 1)
                reader.ignored += nlines - bad - seen
                base += nlines
        finally:
            reader.lines += base

    # -- one log read in parts by several processes (triage_pool.read_parts) -----
    def reset_reading(self) -> None:
        """Forget what was read (in a process that reads a later part of a
        log: it sends back only what it read itself)."""
        self.reader = Reader()
        self._occ = {}
        self._memo = {}
        self.pool = RetracePool(self._summary, 1)

    def reading_state(self) -> tuple:
        """What reset_reading() forgot and this process read since, as plain
        tuples (quick to pickle: a Record's fields in field order)."""
        rd = self.reader
        names = _RECORD_FIELDS
        return rd.lines, rd.ignored, rd.unparsed, [
            (key, o.count, o.first, o.last, o.where, tuple([getattr(o.record, n) for n in names]))
            for key, o in self._occ.items()]

    def take_reading(self, state: tuple, where: str, offset: int) -> None:
        """Add what another process read of file WHERE, whose line 1 is
        line OFFSET + 1 here, as if it had been read here after what was."""
        lines, ignored, unparsed, occs = state
        rd = self.reader
        rd.lines += lines
        rd.ignored += ignored
        mine = rd.unparsed
        mine.count += unparsed.count
        for f, n, why, text in unparsed.examples:
            if len(mine.examples) >= mine.keep:
                break
            mine.examples.append((f, n + offset if f == where else n, why, text))
        prefix = where + ":"
        for key, count, first, last, at, fields in occs:
            had = self._occ.get(key)
            if had is not None:
                had.count += count
                had.last = last
                continue
            if at.startswith(prefix):
                at = f"{where}:{int(at[len(prefix):]) + offset}"
            o = self._occ[key] = Occurrence(Record(*fields), None, at, count=count, first=first, last=last)
            if self.pool.workers > 1:
                self._early(o)

    def _one(self, line: str, i: int, where: str, n: int) -> None:
        """One line that may matter (its "]: " at i)."""
        reader = self.reader
        try:
            msg = line[i + 3:]
            if not ("reject" in msg or "warning:" in msg or relevant(msg)):
                if reader._prefix(line, i) is None:  # "reject" before a broken prefix
                    reader.unparsed.add(where, n, "no time stamp / host / process[pid] prefix", line)
                else:
                    reader.ignored += 1
                return
            hit = self._memo.get(msg)
            if hit is not None:
                pm = reader._prefix(line, i)
                if pm is not None and pm[2] == hit[0]:
                    seen = hit[1]
                    seen.count += 1
                    seen.last = pm[0]
                    return
            got = reader.scan(line, where, n)
            if got is None:
                return
            key = ident(got)
            o = self._occ.get(key)
            if o is None:
                rec = make_record(got)
                o = self._occ[key] = Occurrence(rec, None, f"{where}:{n}", first=rec.time)
                if self.pool.workers > 1:
                    self._early(o)
            o.count += 1
            o.last = got[2][0]
            if len(self._memo) < 500_000 and got[0] != CONTENT:  # cleanup's lines: a queue id each
                self._memo[msg] = (got[2][2], o)
        except Exception as exc:  # never stop a triage
            reader.unparsed.add(where, n, f"cannot read: {exc.__class__.__name__}", line)

    # -- judging ------------------------------------------------------------
    def _prejudge(self, o: Occurrence):
        """The verdict that needs no trace, or the (service, Transaction) to trace."""
        r = o.record
        if r.content_check:  # cleanup's header/body checks: asked here, nothing to trace
            (o.today, o.today_reply, o.reason, o.decider), o.label = self._content.verdict(r)
            return None
        if r.kind == "fatal":
            o.today, o.today_reply, o.reason, o.label = self.services.fatal_verdict(r)
            return None
        if r.kind != "reject":
            o.today = UNDECIDABLE
            o.reason = {
                "sasl": "SASL authentication is decided by the SASL server (smtpd_sasl_type), not by restrictions",
                "table": "a table lookup failed at the time" + (f" ({r.parameter})" if r.parameter else "")
                         + "; whether it answers now depends on the table's server or file",
                "delivery": "delivery results come from the remote server or the delivery agent, "
                            "not from smtpd restrictions",
            }.get(r.kind) or (_postscreen_reason(r) if r.kind == "postscreen" else "not an smtpd restriction")
            return None
        if r.action == "milter-reject" and not _milter_conf_error(r.reply):
            o.today, o.reason = UNDECIDABLE, self.services.milter_reason(r)
            return None
        if r.daemon == "postscreen":
            o.today, o.reason = UNDECIDABLE, _postscreen_reason(r)
            return None
        cmd = r.command.upper()
        if cmd not in STAGES:
            o.today = UNDECIDABLE
            o.reason = (f"{cmd}: {_NOT_TRACED[cmd]} are not evaluated by the explorer" if cmd in _NOT_TRACED
                        else f"the {cmd} command is not evaluated by the explorer")
            return None
        o.service = svc = self.services.service_for(r)
        if svc is None:
            o.today = UNDECIDABLE
            o.reason = f"no smtpd service in master.cf logs as {r.program or '(no process name)'}"
            return None
        tx = r.transaction()
        return (svc, tx.client_address, tx.client_name, tx.helo, tx.sender, tx.recipient), tx

    def _judge(self, o: Occurrence, s: "Summary | str") -> None:
        r = o.record
        if isinstance(s, str):
            o.today, o.reason = UNDECIDABLE, f"the explorer could not trace it: {s}"
            return
        o.summary = s
        logged = r.reply
        if r.action == "reject_warning":
            if logged in s.warned:
                o.today, o.today_reply = SAME, logged
                return
            answer = f"no reject_warning ({s.reply or 'smtpd does not start'})"
        else:
            if s.reply == logged:
                o.today, o.today_reply = SAME, logged
                return
            answer = s.reply or "no answer: " + "; ".join(s.config_errors or ("smtpd does not start",))
            stage = STAGES.get(r.command.upper())
            if stage is not None and _STAGE_ORDER.get(s.stage, -1) > _STAGE_ORDER[stage]:
                # the log line ends the transaction there: what follows (a
                # recipient a MAIL FROM line does not name) is not the log's
                answer = f"{r.command.upper()} is accepted today"
                o.passed = True
        o.today_reply = answer
        needs = list(s.needs)
        if "blocked using" in logged:
            needs.append("DNS (a DNS blocklist answered at the time)")
        if r.client_name == "unknown" and logged[:1] == "4":
            needs.append("DNS (the client's name lookup failed temporarily, or permanently: the log "
                         "prints both as unknown)")
        if r.action == "milter-reject":
            pass   # a milter smtpd could not use: the configuration alone decides
        elif logged[4:9] in ("4.3.0", "4.3.5") or "Temporary lookup failure" in logged:
            needs.append("a table lookup failed at the time (451 4.3.x); the explorer reads the tables "
                         "as they are now")
        if needs:
            o.today, o.reason = UNDECIDABLE, "; ".join(dict.fromkeys(needs))
        else:
            o.today = DIFFERS

    # -- re-tracing (triage_pool) ---------------------------------------------
    def _early(self, o: Occurrence) -> None:
        """Hand a new transaction to the worker processes at once, so that
        re-tracing runs beside the reading."""
        got = self._prejudge(o)
        o._pre = got if got is not None else False
        if got is None:
            return
        key, tx = got
        self.pool.add(key, o.service, tx)

    def _summary(self, svc, tx) -> "Summary | str":
        try:
            tr = self._evaluate(self.cfg, tx, service=svc, resolver=self.resolver)
        except Exception as exc:  # an engine error is a value here, never the end of the triage
            return str(exc) or exc.__class__.__name__
        return Summary.of(tr)

    def finish(self, progress: Callable[[int, int], None] | None = None) -> TriageResult:
        occs = list(self._occ.values())
        todo: dict = self.pool.todo
        pending = []
        fresh: dict = {}
        for o in occs:
            got = o._pre if o._pre is not None else self._prejudge(o)
            if got:
                key, tx = got
                if key not in todo:
                    todo[key] = fresh[key] = (o.service, tx)
                pending.append((o, key))
        summaries = self.pool.finish(fresh, progress)
        for o, key in pending:
            self._judge(o, summaries[key])
        groups: dict[tuple, Group] = {}
        for o in occs:
            r = o.record
            s = o.summary
            dj = o.decider
            if s is not None and not o.passed:
                dj = s.warn_deciders.get(r.reply) if r.action == "reject_warning" and o.today == SAME else s.decider
            if r.kind == "reject" or r.kind == "postscreen":  # postscreen: its verdict, "DNSBL rank 3"
                stage = STAGES.get(r.command.upper(), r.command.lower()) or r.kind
                gist = mask(r.reply)
            elif r.kind == "table":
                stage, gist = "lookup", (f"{r.parameter}: {r.table}: " if r.parameter else f"{r.table} ") + mask(r.text)
            elif r.kind == "delivery":
                stage, gist = "delivery", f"status={r.action} dsn={r.reply} {mask(r.text)}".strip()
            elif r.kind == "fatal":   # smtpd's own, or "trivial-rewrite startup", ...
                stage, gist = "startup" if r.daemon == "smtpd" else f"{r.daemon} startup", r.text
            else:
                stage, gist = r.command.lower() or r.kind, (r.action + (": " + r.text if r.text else ""))
                if r.kind == "sasl":
                    gist = r.action
            service = o.service or o.label or self.services.service_for(r) or r.program
            tkey = (r.kind, service, stage, r.action, gist, o.today,
                    mask(o.today_reply) if o.today == DIFFERS else "", o.reason,
                    tuple(sorted(dj.items())) if dj else None)
            g = groups.get(tkey)
            if g is None:
                g = groups[tkey] = Group(r.kind, service, stage, r.action, gist, o.today,
                                         mask(o.today_reply) if o.today == DIFFERS else "", o.reason, dj)
            g.add(o)
        order = {DIFFERS: 0, SAME: 1, UNDECIDABLE: 2}
        result = sorted(groups.values(), key=lambda g: (order[g.today], -g.count, g.service, g.reply))
        for g in result:
            g.occurrences.sort(key=lambda o: -o.count)
        rd = self.reader
        return TriageResult(lines=rd.lines, ignored=rd.ignored, unparsed=rd.unparsed, groups=result,
                            files=list(self.files), retraced=len(todo), errors=list(self.errors))


@dataclass(frozen=True)
class Summary:
    """What the triage keeps of a Trace (small enough to come back from a
    worker process)."""

    reply: str
    code: int
    stage: str
    decider: dict | None
    warned: tuple[str, ...]
    warn_deciders: dict
    needs: tuple[str, ...]
    config_errors: tuple[str, ...]

    @classmethod
    def of(cls, tr) -> "Summary":
        warn = [s for s in tr.steps if s.outcome == "warn"]
        return cls(reply=tr.reply, code=tr.code, stage=tr.stage, decider=_decider_json(tr.decided_by),
                   warned=tuple(s.reply for s in warn),
                   warn_deciders={s.reply: _decider_json(s) for s in warn},
                   needs=tuple(_needs(s) for s in tr.steps if s.conditional)
                   + tuple(_PREVIOUS_SESSION for s in tr.steps if SENDER_FLAG_NOTE in s.detail),
                   config_errors=tuple(tr.config_errors))


def triage(cfg, paths: list[str], resolver=None) -> TriageResult:
    t = Triage(cfg, resolver=resolver)
    for p in paths:
        t.read(p)
    return t.finish()
