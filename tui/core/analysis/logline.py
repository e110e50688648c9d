"""Parse a Postfix smtpd log line such as

    May 11 09:06:42 gabble postfix/smtpd[8390]: NOQUEUE: reject: RCPT from
    localhost[127.0.0.1]: 554 5.7.1 <a@b.test>: Relay access denied;
    from=<list@lists.example.org> to=<a@b.test> proto=ESMTP helo=<mail.example.org>

into the transaction it describes (grammar: grammars/log_line.lark).
"""
from __future__ import annotations

from dataclasses import dataclass

from lark import Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput

from tui.core.grammar import parser
from tui.core.model import ExplorerError
from tui.core.postfix.peer_name import client_names_from_log
from tui.core.trace import Transaction


class LogLineError(ExplorerError):
    """The text is not a Postfix smtpd reject log line."""

    def __init__(self, message: str, column: int | None = None, text: str = ""):
        super().__init__(message)
        self.column = column
        self.text = text

    def __str__(self) -> str:
        where = f"column {self.column}: " if self.column else ""
        return f"log line, {where}{self.message}"


@dataclass(frozen=True)
class LogLine:
    action: str                 # reject, reject_warning, warn, ...
    command: str                # RCPT, MAIL, CONNECT, HELO, EHLO, DATA, ...
    client_name: str
    client_address: str
    reply: str                  # "554 5.7.1 <a@b>: Relay access denied"
    sender: str | None = None   # "" is the null sender; None: not in the line
    recipient: str | None = None
    proto: str | None = None
    helo: str | None = None     # None: no helo= (the client sent no HELO/EHLO)
    queue_id: str = "NOQUEUE"
    program: str | None = None  # "postfix/submission/smtpd" from the syslog prefix

    @property
    def code(self) -> int:
        return int(self.reply[:3])

    @property
    def service_hint(self) -> str | None:
        """master.cf service name when syslog_name says it (postfix/submission/smtpd)."""
        if not self.program:
            return None
        parts = self.program.split("/")
        if len(parts) >= 3 and parts[-1] == "smtpd":
            return parts[-2]
        return None

    def transaction(self) -> Transaction:
        name, reverse = client_names_from_log(self.client_name, self.reply)
        return Transaction(client_address=self.client_address, client_name=name,
                           helo=self.helo or None, sender=self.sender or "",
                           recipient=self.recipient or "", proto=self.proto,
                           reverse_client_name=reverse)


class _ToLogLine(Transformer):
    def start(self, items):
        d: dict = {}
        for it in items:
            if isinstance(it, tuple):
                k, v = it
                if k == "attr":
                    d.setdefault("attrs", {})[v[0]] = v[1]
                else:
                    d[k] = v
        return d

    def prefix(self, items):
        text = str(items[0])
        prog = None
        for word in text.split():
            if "postfix" in word and "[" in word:
                prog = word.split("[", 1)[0]
        return ("program", prog)

    def queue_id(self, items):
        return ("queue_id", str(items[0]))

    def action(self, items):
        return ("action", str(items[0]))

    def command(self, items):
        return ("command", str(items[0]))

    def client(self, items):
        text = str(items[0])
        name, _, rest = text.partition("[")
        return ("client", (name, rest[:-1]))

    def reply(self, items):
        return ("reply", str(items[0]).strip())

    def attr(self, items):
        name = str(items[0])
        v = items[1]
        val = str(v)
        if isinstance(v, Token) and v.type == "ANGLED":
            val = val[1:-1]
        return ("attr", (name, val))


def parse_log_line(text: str) -> LogLine:
    line = text.strip()
    if not line:
        raise LogLineError("empty log line")
    try:
        tree = parser("log_line").parse(line)
    except UnexpectedInput as exc:
        col = getattr(exc, "column", None)
        snippet = line[max(0, (col or 1) - 1):(col or 1) + 30]
        raise LogLineError(f"not a Postfix smtpd reject line near {snippet!r}", col, line) from None
    except LarkError as exc:
        raise LogLineError(f"cannot parse: {exc}", None, line) from None
    d = _ToLogLine().transform(tree)
    attrs = d.get("attrs", {})
    name, addr = d["client"]
    if addr.lower().startswith("ipv6:"):
        addr = addr[5:]
    return LogLine(action=d["action"], command=d["command"], client_name=name or "unknown",
                   client_address=addr, reply=d["reply"], sender=attrs.get("from"),
                   recipient=attrs.get("to"), proto=attrs.get("proto"), helo=attrs.get("helo"),
                   queue_id=d.get("queue_id", "NOQUEUE"), program=d.get("program"))
