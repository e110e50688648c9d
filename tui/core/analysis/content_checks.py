"""cleanup's header_checks / mime_header_checks / nested_header_checks /
body_checks, asked again about a line cleanup logged: the part of the
mail-log triage (triage.py) that judges those refusals.
"""
from __future__ import annotations

import re
from typing import Any

from tui.core.analysis.maillog import Record
from tui.core.tables import open_table, split_spec, view_signature

# what the triage says of a logged refusal, checked against today's configuration
SAME, DIFFERS, UNDECIDABLE = "same", "differs", "undecidable"

# cleanup_act_log() logs the header or body line as "%.200s": at most this
# many bytes of it
CONTENT_LIMIT = 200
# the headers header_opts.c marks HDR_OPT_MIME: cleanup checks them with
# mime_header_checks wherever they are, also in the message's own headers
MIME_HEADERS = frozenset(("content-description", "content-disposition", "content-id",
                          "content-transfer-encoding", "content-type", "mime-version"))
# the word cleanup_act() logs for each action (None: it logs nothing)
LOGGED_AS = {"REJECT": "reject", "WARN": "warning", "INFO": "info", "FILTER": "filter", "PASS": "pass",
             "DISCARD": "discard", "HOLD": "hold", "PREPEND": "prepend", "REPLACE": "replace",
             "REDIRECT": "redirect", "BCC": "bcc", "STRIP": "strip", "IGNORE": None, "DUNNO": None, "OK": None}
_DSN_CODE = re.compile(r"[245]\.\d{1,3}\.\d{1,3}(?=[ \t\r\n\f\v]|$)")
_IS_HEADER = re.compile(r"[!-9;-~]+[ \t]*:")
_SPACE = " \t\r\n\f\v"
# table types whose rules the triage asks for header/body checks
_CONTENT_TYPES = ("regexp", "pcre")


def content_action(value: str, cls: str) -> tuple[str | None, str]:
    """What cleanup_act() logs for a header/body checks result: (the word,
    its text), as in "reject: header ...: 5.7.1 text"; (None, why) when it
    logs nothing (DUNNO, IGNORE, an action it refuses with a warning)."""
    i = 0
    while i < len(value) and value[i] not in " \t":
        i += 1
    cmd, text = value[:i].upper(), value[i:].lstrip(_SPACE)
    if cmd not in LOGGED_AS:
        return None, f"unknown command {value[:i]!r} (cleanup warns and ignores it)"
    word = LOGGED_AS[cmd]
    if word is None:
        return None, cmd
    if cmd == "REJECT":
        if not text:
            return word, "5.7.1 message content rejected"
        m = _DSN_CODE.match(text)  # dsn_prepend("5.7.1", text)
        dsn, rest = (m.group(0), text[m.end() + 1:].lstrip(_SPACE)) if m else ("5.7.1", text)
        if dsn[0] not in "45":  # "bad DSN action ... need 4.x.x or 5.x.x"
            dsn = "4" + dsn[1:]
        return word, f"{dsn} {rest}"
    if cmd == "FILTER" and ":" not in text:
        return None, "FILTER without transport:destination (cleanup warns and ignores it)"
    if cmd in ("REDIRECT", "BCC") and "@" not in text:
        return None, f"{cmd} without user@domain (cleanup warns and ignores it)"
    if cmd in ("PREPEND", "REPLACE") and (not text or (cls == "header" and not _IS_HEADER.match(text))):
        return None, f"{cmd} without header text (cleanup warns and ignores it)"
    return word, text


class ContentChecks:
    """Today's answer of cleanup's header/body checks to a logged line.

    The log says the class ("header" or "body") but not which table
    decided: body lines go to body_checks; a MIME header (Content-Type:,
    MIME-Version:, ...) to mime_header_checks; any other header to
    header_checks in the message's own headers, nested_header_checks in an
    attached message's, mime_header_checks in a multipart body part's (only
    header_checks when disable_mime_input_processing = yes).
    mime_header_checks and nested_header_checks default to $header_checks,
    and then one answer serves them all. When their values differ, each is
    asked (an empty one checks nothing, so it could not have logged the
    line, and is left out): "same" when every one reproduces the logged
    action and text, "differs" when none does, else the line cannot be
    decided. The cleanup service is the one whose syslog_name the process
    name carries (the -o overrides of a second cleanup service count).
    When every service that would hand such mail to cleanup today has
    receive_override_options = no_header_body_checks, nothing is checked:
    "differs", whatever the line.

    The logged line is the header or body line as cleanup saw it, unless it
    is CONTENT_LIMIT bytes long (cut: undecidable) or holds "?" where
    Postfix may have written a control character (a folded header's line
    break: both readings are asked, and they must agree).
    """

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self._tables: dict[tuple, Any] = {}
        self._services: dict[str, list[tuple[str | None, Any]]] = {}
        self._memo: dict[tuple, Any] = {}

    def verdict(self, r: Record) -> tuple[tuple[str, str, str, dict | None], str | None]:
        """((today, today_reply, reason, decided_by), the cleanup service)."""
        services = self._cleanup_services(r.program, r.syslog_name)
        label = services[0][0]
        key = (r.program, r.command, r.action, r.reply, r.text)
        got = self._memo.get(key)
        if got is None:
            try:
                got = self._verdict(r, services)
            except Exception as exc:  # never the end of a triage
                got = (UNDECIDABLE, "", f"the explorer could not ask the checks: {exc.__class__.__name__}", None)
            if len(self._memo) < 100_000:
                self._memo[key] = got
        return got, label

    def _cleanup_services(self, program: str, syslog_name: str) -> list[tuple[str | None, Any]]:
        got = self._services.get(program)
        if got is not None:
            return got
        found: list[tuple[str | None, Any]] = []
        for s in self.cfg.services:
            if s.process_name != "cleanup":
                continue
            try:
                view = self.cfg.params(s)
                if view.expand("syslog_name") == syslog_name:
                    found.append((s.name, view))
            except Exception:
                continue
        found.sort(key=lambda sv: sv[0] != "cleanup")
        if not found:  # no cleanup service logs so: main.cf's values
            found = [(None, self.cfg.params())]
        self._services[program] = found
        return found

    @staticmethod
    def parameters(cls: str, line: str, view) -> list[str]:
        """The parameters whose tables cleanup may have asked for a logged
        line of class CLS ("header" / "body"), most likely first."""
        if cls == "body":
            return ["body_checks"]
        name = line.split(":", 1)[0].rstrip(_SPACE).lower()
        if name in MIME_HEADERS:
            return ["mime_header_checks"]
        if view.get_bool("disable_mime_input_processing"):
            return ["header_checks"]
        return ["header_checks", "nested_header_checks", "mime_header_checks"]

    def _verdict(self, r: Record, services) -> tuple[str, str, str, dict | None]:
        off = self._not_checked(r)
        if off:  # whatever the line was
            return DIFFERS, off, "", None
        line = r.text
        values: dict[str, str] = {}  # value -> the first parameter that has it
        for _s, view in services:
            for p in self.parameters(r.command, line, view):
                values.setdefault(view.expand(p) or "", p)
        params = ", ".join(dict.fromkeys(p for v, p in values.items() if v.strip()) or values.values())
        if len(line.encode("utf-8", "surrogateescape")) >= CONTENT_LIMIT:
            return (UNDECIDABLE, "", f"{params}: Postfix logs at most {CONTENT_LIMIT} bytes of a {r.command} "
                    f"line (cleanup_act_log); this one is cut there, and the rest of it is not known", None)
        if "\ufffd" in line:
            return (UNDECIDABLE, "", f"{params}: the logged {r.command} line is not valid UTF-8: the bytes "
                    "cleanup saw are not known", None)
        got = self._ask_all(r, line, services)
        if "?" in line:
            # printable() writes a control character as "?": a folded
            # header's line break and tab (or space) are "??" / "? "
            other = line.replace("??", "\n\t").replace("? ", "\n ")
            if other != line and self._ask_all(r, other, services) != got:
                return (UNDECIDABLE, "", f"the logged {r.command} line has \"?\" where Postfix may have "
                        "written a control character (a folded header's line break), and today's rules "
                        "answer differently for the two readings", None)
        return got

    def _not_checked(self, r: Record) -> str:
        """Why cleanup today checks no header or body of mail from the line's
        origin ("" when some service that hands such mail to cleanup asks
        for the checks): receive_override_options = no_header_body_checks
        is read by the service that receives the mail (input_transp.c) --
        pickup for the origin "local", else smtpd and qmqpd."""
        daemons = ("pickup",) if r.client_name == "local" and not r.client_address else ("smtpd", "qmqpd")
        key = ("not checked", daemons)
        got = self._memo.get(key)
        if got is None:
            names: list[str] = []
            for s in self.cfg.services:
                if s.process_name not in daemons:
                    continue
                try:
                    opts = self.cfg.params(s).get_list("receive_override_options")
                except Exception:
                    opts = []
                if "no_header_body_checks" not in opts:
                    names = []
                    break
                names.append(s.name)
            got = self._memo[key] = (
                (f"receive_override_options = no_header_body_checks in every {' and '.join(daemons)} service "
                 f"({', '.join(names)}): cleanup checks no header or body of this mail") if names else "",)
        return got[0]

    def _ask_all(self, r: Record, line: str, services) -> tuple[str, str, str, dict | None]:
        """Every (service, parameter) that may have decided, asked; their
        answers compared with the logged one."""
        answers = []   # (where, answer)
        seen: dict[tuple, tuple] = {}
        for svc, view in services:
            for param in self.parameters(r.command, line, view):
                value = view.expand(param) or ""
                k = (value, param == "body_checks")
                if k not in seen:
                    seen[k] = self._ask(view, param, value, r.command, line)
                ans = seen[k]
                answers.append(((svc, param), ans))
        # an empty parameter checks nothing: with it, those headers could
        # not have been logged (unless every candidate is empty)
        answers = [(w, a) for w, a in answers if a[0] != "empty"] or answers
        unknown = [a for _w, a in answers if a[0] == "unknown"]
        if unknown:
            return UNDECIDABLE, "", unknown[0][1], None
        logged = (r.action, r.reply)
        same = [(w, a) for w, a in answers if (a[1], a[2]) == logged]
        if len(same) == len(answers):
            (_svc, param), ans = same[0]
            return SAME, r.reply, "", ans[3]
        if not same:
            _w, ans = answers[0]
            return DIFFERS, ans[4], "", ans[3]
        # some reading of the log reproduces it, another does not
        where = "; ".join(dict.fromkeys(
            f"{param}{' (' + svc + ')' if svc and len(services) > 1 else ''}: "
            + a[4].replace(f"no rule of {param} matches: the {r.command} is accepted", "no rule matches")
            for (svc, param), a in answers))
        return (UNDECIDABLE, "", f"the log does not say which table cleanup asked for this {r.command}, and "
                f"today they answer differently ({where})", None)

    def _ask(self, view, param: str, value: str, cls: str, line: str) -> tuple:
        """(state, logged word, logged text, decided_by, today's answer in
        words): state "hit", "miss", "empty", "broken" or "unknown" (its
        text: why)."""
        if not value.strip():
            return ("empty", None, "", None, f"{param} is empty: the {cls} is not checked")
        for pos, spec in enumerate(view.get_list(param), 1):
            inner = spec.strip()
            while inner.lower().startswith("proxy:"):
                inner = inner[6:]
            type_ = split_spec(inner)[0]
            if type_ not in _CONTENT_TYPES:
                return ("unknown", f"{param} has {spec}: the explorer asks only regexp: and pcre: tables "
                        f"for {cls} checks", "", None, "")
            t = self._table(spec, view)
            if not t.status.usable:
                return ("broken", "(cleanup fails)", "", None,
                        f"cleanup cannot open {spec} ({param}): {t.status.message}")
            res = t.lookup(line)
            if res.error:
                return ("unknown", f"{spec} ({param}): {res.error}", "", None, "")
            # a rule the explorer could not translate is skipped by it, not
            # by Postfix: an answer that passed it is not known
            hit_line = int(res.where.rpartition(":")[2]) if res.found and res.where and \
                res.where.rpartition(":")[2].isdigit() else None
            skipped = [d for d in t.status.diagnostics if d.severity == "error" and d.line is not None
                       and (hit_line is None or d.line < hit_line)]
            if skipped:
                d = skipped[0]
                return ("unknown", f"{spec} ({param}), line {d.line}: {d.message}", "", None, "")
            if res.found:
                word, text = content_action(res.value or "", cls)
                src = res.where or ""
                entry = self._entry(t, src)
                decider = {"parameter": param, "entry": entry or (res.value or ""), "position": pos,
                           "source": src or spec, "table": spec}
                if word is None:
                    return ("hit", None, "", decider, f"{text} ({param}, {src or spec}): nothing is logged")
                answer = text if word == "reject" else f"{word}: {text}" if text else word
                return ("hit", word, text, decider, answer)
        return ("miss", None, "", None, f"no rule of {param} matches: the {cls} is accepted")

    def _table(self, spec: str, view):
        key = (spec, view_signature(spec, view))
        t = self._tables.get(key)
        if t is None:
            t = self._tables[key] = open_table(spec, view)
        return t

    @staticmethod
    def _entry(t, where: str) -> str:
        """The rule as written at WHERE ("path:line")."""
        _path, _, n = where.rpartition(":")
        if not n.isdigit():
            return ""
        line = int(n)
        for e in t.entries(0, t.count() or 0):
            if e.line == line:
                return f"{e.key} {e.value}".strip()
        return ""
