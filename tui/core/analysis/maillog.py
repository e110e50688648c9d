"""Read Postfix mail logs: the lines that say why mail was refused.

The grammar is `grammars/maillog.lark`. A log line is

    <time stamp> <host> <process>[<pid>]: <message>

with the time stamp as Postfix's own maillog_file writes it ("Dec 05
05:05:44"), as rsyslog writes it (traditional "Dec  5 05:05:44", or RFC 3339
"2026-12-05T05:05:44.123456+00:00", Debian 12's default) or as journalctl
prints it (short, short-precise, short-iso, short-full).

A million-line log cannot go through a grammar line by line in the time an
admin waits, so reading works in three steps, the grammar staying the only
judge of what a message means:

1. a regular expression splits off the prefix (the grammar's `prefix` rule,
   tested to agree with it);
2. a message that contains none of the words every `message` rule needs
   ("reject", "status=bounced", "SASL", ...) is not one of them: skipped;
3. the message is cut into its constant text and its variable parts
   (queue id, `name[addr]`, `<address>`, decimal numbers: SLOT, the same
   terminals the grammar has). The first message of each constant text (its
   "shape") is parsed by lark; where each field lay relative to the variable
   parts is remembered, and later messages of the same shape are filled in
   from their own variable parts without parsing again. Lines of one shape
   differ only inside tokens the grammar lexes whole, so lark would build the
   same tree for them.

smtpd's refusals, deliveries and cleanup's header/body checks (every line
holds a queue id, and a header or body line of its own) skip step 3: each
has one regular expression built from the grammar's own terminals (the
"fast paths"), tried on the lines that can be one.

Nothing here raises on bad input: a line that cannot be read is counted as
unparsed (with examples), whatever it holds (binary, truncated, enormous).
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Iterable, Iterator, cast

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from tui.core.analysis.maillog_fast import (content_fields, content_regex, delivery_fields, delivery_regex,
                                            reject_fields, reject_regex)
from tui.core.grammar import parser
from tui.core.model import ExplorerError
from tui.core.postfix.peer_name import client_names_from_log
from tui.core.trace import Transaction

MAX_LINE = 64 * 1024          # longer lines are counted as unparsed, never held whole
CHUNK = 1 << 20
_MONTHS = {m: f"{i:02d}" for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}

PREFIX = re.compile(
    r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [A-Za-z0-9+-]+)"
    r" +([^\s\[\]]+) ([^\s\[\]:]+)\[(\d+)\]: ")

_PS_WORDS = ("PREGREET", "DNSBL", "HANGUP", "COMMAND PIPELINING", "NON-SMTP", "BARE NEWLINE", "COMMAND TIME LIMIT",
             "COMMAND COUNT LIMIT", "COMMAND LENGTH LIMIT", "DENYLISTED", "BLACKLISTED")


def relevant(msg: str) -> bool:
    """False when no `message` rule of the grammar can match: RELEVANT, in
    plain substring tests (every refusal has "reject" in its action, SASL
    failures and table warnings start with "warning:", deliveries have a
    status other than sent, postscreen verdicts start with their word)."""
    if "reject" in msg or "warning:" in msg or msg.startswith(_PS_WORDS) or msg.startswith("fatal:"):
        return True
    return "status=" in msg and RELEVANT.search(msg) is not None


# every `message` rule of the grammar contains one of these
RELEVANT = re.compile(r"reject|status=(?:bounced|deferred|expired|undeliverable)|SASL|\Afatal:"
                      r"|warning: [a-z0-9_]+:|PREGREET|DNSBL|HANGUP|PIPELINING|NON-SMTP|BARE NEWLINE"
                      r"|COMMAND (?:TIME|COUNT|LENGTH) LIMIT|DENYLISTED|BLACKLISTED")

# the variable parts of a message: the grammar's QUEUE_ID (at the start),
# ANGLED and CLIENT terminals, and decimal numbers (inside NUMBER, DVALUE,
# REPLY tokens)
SLOT = re.compile(r"(\A(?!warning:|fatal:)(?:NOQUEUE|[0-9A-Za-z]{5,})(?=:)"
                  r"|<[^<>\s;]*>"
                  r"|(?<![^\s=(])[^\s\[\]<>=,;]*\[[^\[\]\s]*\](?::\d+)?"
                  r"|(?<![\w.])\d+\.\d+(?:[./]\d+)*(?![\w.]))")


class LogLineError(ExplorerError):
    """The text is not a Postfix log line the triage understands."""

    def __init__(self, message: str, column: int | None = None, text: str = ""):
        super().__init__(message)
        self.column = column
        self.text = text

    def __str__(self) -> str:
        where = f"column {self.column}: " if self.column else ""
        return f"log line, {where}{self.message}"


@dataclass(slots=True)
class Record:
    """One log line that says something about refused mail.

    kind: "reject" (smtpd/postscreen NOQUEUE: reject:, reject_warning:,
    milter-reject:; cleanup's header/body checks: reject:, warning:, hold:,
    discard:, ... with command "header" or "body", see content_check), "sasl" (authentication failed), "table" (a table
    warning: lookup error, unavailable), "delivery" (status=bounced/deferred
    from a delivery agent), "postscreen" (a verdict: PREGREET, DNSBL, ...),
    "fatal" (a daemon that exits: its message in text).
    """

    kind: str
    time: str = ""
    host: str = ""
    program: str = ""          # "postfix/submission/smtpd"
    pid: str = ""
    queue_id: str = ""
    action: str = ""           # reject | reject_warning | milter-reject; delivery: status; postscreen: verdict
    command: str = ""          # RCPT, MAIL, EHLO, CONNECT, XCLIENT, DATA, END-OF-MESSAGE, VRFY, ETRN ...;
    #                            cleanup's header/body checks: the class Postfix logs, "header" or "body"
    client_name: str = ""
    client_address: str = ""
    reply: str = ""            # "554 5.7.1 <a@b>: Relay access denied"; delivery: dsn; postscreen: the verdict
    sender: str | None = None  # "" is the null sender; None: not in the line
    recipient: str | None = None
    proto: str | None = None
    helo: str | None = None    # None: no helo= in the line (the client sent none)
    text: str = ""             # SASL reason, table warning text, delivery detail, postscreen detail;
    #                            header/body checks: the header or body line as logged (at most 200 bytes)
    table: str = ""            # table warnings: the table ("hash:/etc/postfix/access")
    parameter: str = ""        # table warnings: the parameter whose list the table is in ("relay_domains")

    @property
    def content_check(self) -> bool:
        """A header_checks / body_checks action that cleanup logged."""
        return self.command == "header" or self.command == "body"

    @property
    def syslog_name(self) -> str:
        """The syslog_name part of the process name ("postfix/submission")."""
        return self.program.rpartition("/")[0] if "/" in self.program else self.program

    @property
    def daemon(self) -> str:
        return self.program.rpartition("/")[2]

    @property
    def service_hint(self) -> str | None:
        """The master.cf service the process name suggests: "submission" for
        postfix/submission/smtpd, "smtp" for postfix/smtpd."""
        parts = self.program.split("/")
        if parts[-1] != "smtpd":
            return None
        return parts[-2] if len(parts) >= 3 else "smtp"

    @property
    def code(self) -> int:
        try:
            return int(self.reply[:3])
        except ValueError:
            return 0

    @property
    def client(self) -> str:
        return f"{self.client_name}[{self.client_address}]"

    def transaction(self) -> Transaction:
        name, reverse = client_names_from_log(self.client_name, self.reply)
        return Transaction(client_address=self.client_address, client_name=name,
                           helo=self.helo or None, sender=self.sender or "",
                           recipient=self.recipient if self.recipient is not None or self.command.upper() != "RCPT"
                           else "", proto=self.proto,
                           reverse_client_name=reverse)


@lru_cache(maxsize=1 << 16)  # a log has one time stamp a second at most
def sort_key(stamp: str) -> str:
    """A string that sorts like the time stamp (within one stamp form)."""
    if not stamp:
        return ""
    if stamp[0].isdigit():
        return stamp
    if stamp[3] == " " and stamp[:3] in _MONTHS:
        return _MONTHS[stamp[:3]] + "-" + stamp[4:6].replace(" ", "0") + stamp[6:]
    return stamp[4:]


# ---------------------------------------------------------------- grammar

def _parser():
    return parser("maillog")


def _split_client(text: str) -> tuple[str, str, str]:
    name, _, rest = text.partition("[")
    addr, _, port = rest.partition("]")
    addr = addr[5:] if addr[:5].lower() == "ipv6:" else addr
    return name, addr, port.lstrip(":")


def _unangle(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == "<" and s[-1] == ">" else s


def _fields(tree: Tree) -> tuple[str, list[tuple[str, Token]]]:
    """(kind, [(field name, token)]) of a parsed message."""
    kind = tree.data if isinstance(tree.data, str) else str(tree.data)
    out: list[tuple[str, Token]] = []
    key = None
    numbers = 0
    for node in tree.iter_subtrees_topdown():
        if node is not tree and node.data not in ("attrs", "attr", "content_attr"):
            continue
        for tok in node.children:
            if not isinstance(tok, Token):
                continue
            t = tok.type
            if t == "ATTR_NAME" or t == "DKEY":
                key = str(tok)
                continue
            if node.data == "attr" or node.data == "content_attr" or (t in ("ANGLED", "DVALUE")
                                                                        and key is not None):
                out.append((f"attr_{key}", tok))
                key = None
                continue
            if t == "NUMBER":
                numbers += 1
                out.append((f"number{numbers}", tok))
                continue
            if t.isupper() and not t.startswith("__") and t not in ("COLON", "COMMA", "SEMICOLON"):
                out.append((t.lower(), tok))
    return kind, out


_POSTSCREEN = {"pregreet": "PREGREET", "dnsbl": "DNSBL", "hangup": "HANGUP",
               "pipelining": "COMMAND PIPELINING", "non_smtp": "NON-SMTP COMMAND",
               "bare_newline": "BARE NEWLINE"}


def _envelope(r: Record, f: dict[str, str]) -> None:
    """from=<...> to=<...> proto=... helo=<...>, as far as the line has them."""
    v = f.get("attr_from")
    r.sender = _unangle(v) if v is not None else None
    v = f.get("attr_to")
    r.recipient = _unangle(v) if v is not None else None
    r.proto = f.get("attr_proto")
    v = f.get("attr_helo")
    r.helo = _unangle(v) if v is not None else None


def build(kind: str, f: dict[str, str], prefix: tuple[str, str, str, str] = ("", "", "", "")) -> Record:
    """The Record for a message's fields (from the grammar or a shape)."""
    time_, host, program, pid = prefix
    r = Record(kind="reject", time=time_, host=host, program=program, pid=pid)
    client = f.get("client")
    if client is not None:
        r.client_name, r.client_address, _ = _split_client(client)
    if kind == "content_check":
        r.queue_id = f.get("queue_id", "")
        r.action = f.get("action") or f.get("content_action", "")
        r.command = f.get("content_class", "")
        r.text = f.get("content", "")[1:]  # the space after the class is the token's first character
        origin = f.get("origin", "")
        if "[" in origin:
            r.client_name, r.client_address, _ = _split_client(origin)
        else:  # "local" (pickup), "unknown"
            r.client_name = origin
        r.reply = f.get("rest", "")
        _envelope(r, f)
    elif kind == "smtpd_reject":
        r.queue_id = f.get("queue_id", "")
        r.action = f.get("action", "")
        r.command = f.get("command", "")
        r.reply = f.get("reply", "").strip()
        _envelope(r, f)
    elif kind == "sasl_failure":
        r.kind = "sasl"
        r.action = "SASL " + f.get("mech", "") + " authentication failed"
        r.command = "AUTH"
        r.text = f.get("rest", "")
    elif kind == "table_warning":
        r.kind = "table"
        r.table = f.get("table", "")
        r.text = f.get("warn_text", "")
        r.parameter = f.get("parameter", "")
    elif kind == "daemon_fatal":
        r.kind = r.action = "fatal"
        r.text = f.get("warn_text", "")
    elif kind == "delivery":
        r.kind = "delivery"
        r.queue_id = f.get("queue_id", "")
        r.recipient = _unangle(f.get("angled", ""))
        r.action = f.get("status", "")
        r.reply = f.get("attr_dsn", "")
        r.text = f.get("detail", "")
        relay = f.get("attr_relay")
        if relay:
            r.client_name, r.client_address, _ = _split_client(relay) if "[" in relay else (relay, "", "")
    else:
        # reply: the verdict in postscreen's words ("DNSBL rank 3"); command:
        # the SMTP command it came after ("CONNECT": before the greeting);
        # text: what the client sent (or where a HANGUP happened)
        r.kind = "postscreen"
        r.action = r.reply = _POSTSCREEN.get(kind, kind)
        rest = f.get("rest", "")
        r.command = f.get("word", "CONNECT" if kind in ("pregreet", "dnsbl") else "")
        if kind == "dnsbl":
            r.reply += " rank " + f.get("number1", "")
        elif kind == "hangup":
            r.command = "CONNECT" if rest.endswith("before SMTP handshake") else ""
        elif kind == "bare_newline":
            rest = " ".join(x for x in (f.get("word", ""), rest) if x)  # the command line
        elif kind == "command_limit":
            r.action = r.reply = "COMMAND " + f.get("limit_kind", "") + " LIMIT"
        elif kind == "denylisted":
            r.action = r.reply = f.get("listed", "DENYLISTED")
            r.command = "CONNECT"
        r.text = rest
    return r


def parse_message(message: str, prefix: tuple[str, str, str, str] = ("", "", "", "")) -> Record:
    """Parse the text after "process[pid]: " with the grammar."""
    try:
        tree = _parser().parse(message, start="message")
    except UnexpectedInput as exc:
        col = getattr(exc, "column", None)
        raise LogLineError(f"not a line the triage reads, near {message[max(0, (col or 1) - 1):][:40]!r}",
                           col, message) from None
    except LarkError as exc:
        raise LogLineError(f"cannot parse: {exc}", None, message) from None
    kind, toks = _fields(tree)
    return build(kind, {n: str(t) for n, t in toks}, prefix)


def parse_line(text: str) -> Record:
    """Parse one whole log line with the grammar (the prefix is optional).

    Raises LogLineError for anything else."""
    line = text.strip("\r\n").strip()
    if not line:
        raise LogLineError("empty log line")
    try:
        tree = _parser().parse(line, start="line")
    except UnexpectedInput as exc:
        col = getattr(exc, "column", None)
        snippet = line[max(0, (col or 1) - 1):(col or 1) + 30]
        raise LogLineError(f"not a Postfix log line the triage reads, near {snippet!r}", col, line) from None
    except LarkError as exc:
        raise LogLineError(f"cannot parse: {exc}", None, line) from None
    prefix = ("", "", "", "")
    msg = tree.children[-1]
    if len(tree.children) == 2:
        stamp, host, proc = (str(t) for t in tree.children[0].children)
        program, _, pid = proc[:-1].rstrip("]").partition("[")
        prefix = (stamp, host, program, pid)
    kind, toks = _fields(msg)
    return build(kind, {n: str(t) for n, t in toks}, prefix)


# ---------------------------------------------------------------- shapes

class _Shape:
    """Where each field of one message shape lies: a constant, one variable
    part, or a mix (a template of constants and variable-part indices)."""

    __slots__ = ("kind", "fields", "ident", "ports", "source")

    def __init__(self, kind: str, fields: list[tuple[str, Any]]):
        self.kind = kind
        self.source = ""  # the message's constant parts (Reader._shapes' key)
        self.fields = fields  # (name, str | int | list[str | int])
        # the variable parts that make one logged transaction differ from
        # another (not the queue id, delays, the connection reuse count)
        idx: set[int] = set()
        for name, how in fields:
            if name in _NOT_IDENT:
                continue
            if how.__class__ is int:
                idx.add(how)
            elif how.__class__ is list:
                idx.update(p for p in how if p.__class__ is int)
        self.ident = tuple(sorted(idx))
        # where a client with its port ("[192.0.2.1]:41234", postscreen) sits
        # in the ident: a new connection's port makes no new transaction
        self.ports = tuple(k for k, i in enumerate(self.ident)
                           if any(name == "client" and how == i for name, how in fields))

    def key(self, slots: list[str]) -> tuple:
        return tuple([slots[i] for i in self.ident])

    def fill(self, slots: list[str]) -> dict[str, str]:
        out = {}
        for name, how in self.fields:
            if how.__class__ is int:
                out[name] = slots[how]
            elif how.__class__ is str:
                out[name] = how
            else:
                out[name] = "".join(slots[p] if p.__class__ is int else p for p in how)
        return out


_PORT = re.compile(r"\]:\d+$")
_NOT_IDENT = frozenset(("queue_id", "attr_delay", "attr_delays", "attr_conn_use", "number2"))


def _make_shape(message: str, parts: list[str]) -> _Shape | None:
    """Parse one message with the grammar and describe its fields in terms of
    the variable parts (None: some field cuts a variable part in two, so the
    shape cannot be reused; such messages are parsed one by one)."""
    tree = _parser().parse(message, start="message")
    kind, toks = _fields(tree)
    # spans of the variable parts
    spans = []
    pos = 0
    for i, p in enumerate(parts):
        if i % 2:
            spans.append((pos, pos + len(p)))
        pos += len(p)
    fields: list[tuple[str, Any]] = []
    for name, tok in toks:
        s, e = cast(int, tok.start_pos), cast(int, tok.end_pos)  # positions are on
        tpl: list[str | int] = []
        cur = s
        for idx, (a, b) in enumerate(spans):
            if b <= s or a >= e:
                continue
            if a < s or b > e:
                return None
            if a > cur:
                tpl.append(message[cur:a])
            tpl.append(idx)
            cur = b
        if cur < e:
            tpl.append(message[cur:e])
        if len(tpl) == 1:
            fields.append((name, tpl[0]))
        else:
            fields.append((name, tpl))
    return _Shape(kind, fields)


# ---------------------------------------------------------------- reading

@dataclass
class Unparsed:
    count: int = 0
    examples: list[tuple[str, int, str, str]] = field(default_factory=list)  # (file, line, why, text)
    keep: int = 10

    def add(self, where: str, lineno: int, why: str, text: str) -> None:
        self.count += 1
        if len(self.examples) < self.keep:
            self.examples.append((where, lineno, why, text[:300]))


class Reader:
    """Turns log lines into Records, counting what it cannot read.

    reader.records(lines, where) yields (line number, Record) for the lines
    that matter; reader.lines / reader.ignored / reader.unparsed count."""

    MAX_SHAPES = 200_000

    def __init__(self) -> None:
        self._reject = reject_regex()[0].fullmatch
        self._delivery = delivery_regex()[0].fullmatch
        self._content = content_regex()[0].fullmatch
        self._stamps: dict[str, bool] = {}
        self.lines = 0
        self.ignored = 0
        self.unparsed = Unparsed()
        self._shapes: dict[str, _Shape | None] = {}
        self.grammar_parses = 0

    def scan(self, line: str, where: str = "", lineno: int = 0):
        """What a line that matters holds, else None (counted as ignored or
        unparsed). Returns (FAST, reject match, prefix match), (SHAPE,
        (shape, variable parts), prefix match) or (RECORD, Record, prefix
        match); Records are built only when needed, so that repeated
        transactions cost no more than recognising them."""
        i = line.find("]: ")
        if i < 0:
            if line.strip():
                self.unparsed.add(where, lineno, "no time stamp / host / process[pid] prefix", line)
            else:
                self.ignored += 1
            return None
        msg = line[i + 3:]
        if not relevant(msg):
            if relevant(line) and self._prefix(line, i) is None:
                self.unparsed.add(where, lineno, "no time stamp / host / process[pid] prefix", line)
            else:
                self.ignored += 1
            return None
        m = self._prefix(line, i)
        if m is None:
            self.unparsed.add(where, lineno, "no time stamp / host / process[pid] prefix", line)
            return None
        rm = self._reject(msg)
        if rm is not None:
            return FAST, rm, m
        if "status=" in msg:
            rm = self._delivery(msg)
            if rm is not None:
                return DELIVERY, rm, m
        if m[2].endswith("cleanup"):  # header/body checks: only cleanup logs them
            rm = self._content(msg)
            if rm is not None:
                if rm.group("action") in CONTENT_ACTIONS:
                    return CONTENT, rm, m
                self.ignored += 1  # hold:, discard:, ... that happen to say "reject" or "warning:"
                return None
        parts = SLOT.split(msg)
        key = "\x00".join(parts[0::2])
        shape = self._shapes.get(key, False)
        if shape is False:
            shape = self._new_shape(key, msg, parts, m, where, lineno, line)
            if shape is None:
                return None
            if shape.__class__ is Record:
                return RECORD, shape, m
        elif shape is None:
            if _needs_reading(msg):
                self.unparsed.add(where, lineno, "message not understood", line)
            else:
                self.ignored += 1
            return None
        return SHAPE, (shape, parts[1::2]), m

    def _prefix(self, line: str, i: int) -> tuple[str, str, str, str] | None:
        """(time stamp, host, process, pid) of a line whose "]: " is at i:
        what PREFIX matches, with the time stamps already seen remembered
        (a log has one per second at most)."""
        head = line[:i]
        stamp, sep, rest = head.rpartition(" ")
        stamp, sep2, host = stamp.rpartition(" ")
        if not sep or not sep2:
            return None
        program, sep, pid = rest.partition("[")
        if not sep or not pid.isdigit() or not program or not host:
            return None
        ok = self._stamps.get(stamp)
        if ok is None:
            pm = PREFIX.match(line)
            ok = pm is not None and pm.end() == i + 3 and pm.group(1) == stamp.rstrip(" ")
            if len(self._stamps) > 100_000:
                self._stamps.clear()
            self._stamps[stamp] = ok
        if not ok:
            return None
        if stamp[-1] == " ":  # "Dec  5 ..." with a second space before the host
            stamp = stamp.rstrip(" ")
        return (stamp, host, program, pid)

    def _new_shape(self, key, msg, parts, m, where, lineno, line):
        shapes = self._shapes
        try:
            self.grammar_parses += 1
            shape = _make_shape(msg, parts)
        except LarkError:
            if len(shapes) < self.MAX_SHAPES:
                shapes[key] = None
            if not _needs_reading(msg):
                self.ignored += 1
            else:
                self.unparsed.add(where, lineno, "message not understood", line)
            return None
        except Exception as exc:  # never stop a triage
            self.unparsed.add(where, lineno, f"cannot read: {exc.__class__.__name__}", line)
            return None
        if shape is None:  # fields cut variable parts: parse each such line
            try:
                return parse_message(msg, m)
            except LogLineError:
                self.unparsed.add(where, lineno, "message not understood", line)
                return None
        shape.source = key
        if len(shapes) < self.MAX_SHAPES:
            shapes[key] = shape
        return shape

    def record(self, line: str, where: str = "", lineno: int = 0) -> Record | None:
        """The Record of one line (None: not one that matters, or unparsed)."""
        got = self.scan(line, where, lineno)
        return None if got is None else make_record(got)


FAST, SHAPE, RECORD, DELIVERY, CONTENT = 0, 1, 2, 3, 4
# the header/body checks actions the triage reads: REJECT ("reject:") and
# WARN ("warning:"), whose lines hold words that every refusal has (see
# relevant()); HOLD, DISCARD, REDIRECT, ... are read by parse_line() but
# not by the triage, which never looks at a line without such a word
CONTENT_ACTIONS = frozenset(("reject", "warning"))
_DSN = re.compile(r"dsn=[^,\s]*")
_NO_DSN = cast(re.Match, re.compile("").match(""))


def make_record(got) -> Record:
    """The Record of what Reader.scan returned."""
    tag, payload, m = got
    if tag == FAST:
        return build("smtpd_reject", reject_fields(payload), m)
    if tag == SHAPE:
        shape, slots = payload
        return build(shape.kind, shape.fill(slots), m)
    if tag == DELIVERY:
        return build("delivery", delivery_fields(payload), m)
    if tag == CONTENT:
        return build("content_check", content_fields(payload), m)
    return payload


def ident(got) -> tuple:
    """What tells one logged transaction from another (the queue id, pid and
    time stamp aside): strings only, the same in every process that reads
    a part of one log."""
    tag, payload, m = got
    if tag == FAST:
        return (m[2], payload.group("action", "command", "client", "reply", "attrs"))
    if tag == SHAPE:
        shape, slots = payload
        key = [slots[i] for i in shape.ident]
        for k in shape.ports:
            key[k] = _PORT.sub("]", key[k])
        return (m[2], shape.source, *key)
    if tag == CONTENT:  # not the queue id
        return (m[2], "content", payload.group("action", "content_class", "content", "origin", "attrs", "rest"))
    if tag == DELIVERY:
        return (m[2], "delivery", payload.group("angled", "status", "detail"),
                (_DSN.search(payload.group("attrs")) or _NO_DSN).group(0))
    r = payload
    return (r.program, r.kind, r.action, r.command, r.client, r.helo, r.sender, r.recipient, r.reply,
            r.table, r.parameter, r.text)


# Messages with a keyword that are still not refusals (a connect, a
# DISCONNECT, a delivered message, a warning about something else) are not
# "unparsed": only those that look like a refusal and fail the grammar are.
_LOOKS_LIKE = re.compile(r"^\S+: (?:reject|reject_warning|milter-reject): |: SASL \S+ authentication failed"
                         r"|^\S+: warning: (?:header|body) "
                         r"|status=(?:bounced|deferred)"
                         r"|^(?:PREGREET|DNSBL rank|HANGUP|COMMAND PIPELINING|NON-SMTP COMMAND|BARE NEWLINE"
                         r"|COMMAND (?:TIME|COUNT|LENGTH) LIMIT|DENYLISTED|BLACKLISTED) ")


def _needs_reading(msg: str) -> bool:
    return _LOOKS_LIKE.search(msg) is not None


def open_log(path: str):
    """A binary file object for a log path ("-" is stdin; *.gz is gunzipped)
    and its size in bytes (None when unknown)."""
    import os
    import sys

    if path == "-":
        return sys.stdin.buffer, None, None
    raw = open(path, "rb")
    size = os.fstat(raw.fileno()).st_size
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb"), size, raw
    return raw, size, raw


def iter_blocks(fh, on_progress: Callable[[int], None] | None = None, raw=None) -> Iterator[str | None]:
    """A binary stream as blocks of whole lines (about CHUNK bytes each,
    decoded as UTF-8 with bad bytes replaced, joined by "\n", no final
    newline). A line longer than a chunk is yielded as None and never held
    whole; shorter lines longer than MAX_LINE stay in their block."""
    carry = b""
    skipping = False
    pos_of = (raw or fh).tell if hasattr(raw or fh, "tell") else None
    while True:
        chunk = fh.read(CHUNK)
        if not chunk:
            break
        if on_progress is not None and pos_of is not None:
            try:
                on_progress(pos_of())
            except (OSError, ValueError):
                pass
        buf = carry + chunk if carry else chunk
        cut = buf.rfind(b"\n")
        if cut < 0:
            if skipping or len(buf) > MAX_LINE:
                skipping = True
                carry = b""
            else:
                carry = buf
            continue
        block, carry = buf[:cut], buf[cut + 1:]
        if skipping:
            nl = block.find(b"\n")
            skipping = False
            yield None
            if nl < 0:
                if len(carry) > MAX_LINE:
                    skipping, carry = True, b""
                continue
            block = block[nl + 1:]
        yield block.decode("utf-8", "replace")
        if len(carry) > MAX_LINE:
            skipping, carry = True, b""
    if skipping:
        yield None
    elif carry:
        yield carry.decode("utf-8", "replace")


def iter_lines(fh, on_progress: Callable[[int], None] | None = None, raw=None) -> Iterator[str | None]:
    """The lines of a binary stream, decoded as UTF-8 (bad bytes replaced).
    A line longer than MAX_LINE is yielded as None (never held whole)."""
    for block in iter_blocks(fh, on_progress, raw):
        if block is None:
            yield None
            continue
        for line in block.split("\n"):
            yield None if len(line) > MAX_LINE else line


# where a line may hold one of the grammar's messages (see relevant())
CANDIDATE = re.compile(r"reject|warning:|\]: fatal:|status=(?:bounced|deferred|expired|undeliverable)"
                       r"|\]: (?:PREGREET|DNSBL|HANGUP|COMMAND PIPELINING|NON-SMTP|BARE NEWLINE"
                       r"|COMMAND (?:TIME|COUNT|LENGTH) LIMIT|DENYLISTED|BLACKLISTED)")


def read_records(reader: Reader, lines: Iterable[str | None], where: str) -> Iterator[tuple[int, Record]]:
    n = 0
    for line in lines:
        n += 1
        reader.lines += 1
        if line is None:
            reader.unparsed.add(where, n, f"line longer than {MAX_LINE} bytes", "")
            continue
        try:
            rec = reader.record(line, where, n)
        except Exception as exc:  # never stop a triage
            reader.unparsed.add(where, n, f"cannot read: {exc.__class__.__name__}", line)
            continue
        if rec is not None:
            yield n, rec
