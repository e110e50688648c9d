"""smtpd's replies: smtpd_check_reject(), defer_if(), the reject footer, the final answer."""
from __future__ import annotations

from typing import NoReturn

from tui.core.cache import resolve_addr, route as route_recipient
from tui.core.postfix.dsn import dsn_valid
from tui.core.postfix.maps import TableFailure, maps_find
from tui.core.smtpd.state import (EvalState, MAIL_ERROR_DATA, MAIL_ERROR_RESOURCE, MAIL_ERROR_SOFTWARE, SMTPD_CHECK_DUNNO, SMTPD_CHECK_OK, SMTPD_CHECK_REJECT, _Defer, _Longjmp)
from tui.core.trace import Trace, WARN


def printable(s: str, utf8: bool = True, replacement: str = " ") -> str:
    """Postfix's printable(text, REPLACEMENT), as smtpd_check_reject()
    applies it to a reply (" ") and smtpd to a HELO name ("?"): an ASCII
    control character is replaced; a UTF-8 character is kept when
    smtputf8_enable = yes, else each of its bytes is replaced."""
    if s.isascii() and s.isprintable():   # \r and \n are not printable
        return s
    out = []
    for c in s:
        if c.isascii():
            out.append(c if c.isprintable() else replacement)
        elif utf8 and not ("\udc80" <= c <= "\udcff"):   # not an undecodable byte
            out.append(c)
        else:
            out.append(replacement * len(c.encode("utf-8", "surrogateescape")))
    return "".join(out)


def _mac_expand(template: str, vals: dict) -> str:
    out = ""
    i = 0
    n = len(template)
    while i < n:
        c = template[i]
        if c == "$" and i + 1 < n:
            if template[i + 1] == "$":
                out += "$"
                i += 2
                continue
            if template[i + 1] in "{(":
                close = "}" if template[i + 1] == "{" else ")"
                depth = 1
                j = i + 2
                while j < n and depth:
                    if template[j] == template[i + 1]:
                        depth += 1
                    elif template[j] == close:
                        depth -= 1
                    j += 1
                inner = template[i + 2:j - 1]
                for op in ("?", ":"):
                    if op in inner:
                        name, _, rest = inner.partition(op)
                        v = vals.get(name.strip(), "")
                        if (op == "?" and v) or (op == ":" and not v):
                            out += _mac_expand(rest, vals)
                        break
                else:
                    out += vals.get(inner, "")
                i = j
                continue
            j = i + 1
            while j < n and (template[j].isalnum() or template[j] == "_"):
                j += 1
            out += vals.get(template[i + 1:j], "")
            i = j
            continue
        out += c
        i += 1
    return out


def _with_footer(lines: list[str], footer: str, vals: dict) -> list[str]:
    """The reply LINES with smtpd_reject_footer FOOTER ("\\n" separates its
    lines, a leading "\\c" continues the last reply line) expanded with VALS
    and added with the last line's code and DSN."""
    last = lines[-1]
    code = last[:3]
    rest = last[4:]
    dsn = rest.split(" ", 1)[0] if rest else ""
    if not dsn_valid(dsn):
        dsn = ""
    lines = list(lines)
    parts = footer.split("\\n")
    added = False
    for i, part in enumerate(parts):
        text = _mac_expand(part[2:] if (i == 0 and part.startswith("\\c")) else part, vals)
        if i == 0 and part.startswith("\\c"):
            lines[-1] += text
            continue
        sep = "-" if i < len(parts) - 1 else " "
        lines.append(f"{code}{sep}" + (f"{dsn} " if dsn else "") + text)
        added = True
    if added:
        # every line but the last is a continuation line
        lines = [ln[:3] + "-" + ln[4:] for ln in lines[:-1]] + [lines[-1]]
    return lines


def _soft_bounced(line: str) -> str:
    """soft_bounce = yes: a 5XX reply line (and its 5.X.X DSN) as 4XX."""
    if line[:1] == "5":
        line = "4" + line[1:]
        if line[4:5] == "5":
            line = line[:4] + "4" + line[5:]
    return line


class Replies(EvalState):
    """Turning a decision into smtpd's reply (smtpd_check.c smtpd_check_reject, smtpd_chat.c)."""

    # ------------------------------------------------------------ replies
    def check_reject(self, error_class: str, code: int, dsn: str, text: str) -> int:
        if self.warn_if_reject and error_class not in (MAIL_ERROR_SOFTWARE, MAIL_ERROR_RESOURCE,
                                                        MAIL_ERROR_DATA):
            warn = True
        else:
            warn = False
        et = f"{code} {dsn} {text}"
        if code < 400 or code > 599:
            self.warnings.append(f"SMTP reply code configuration error: {et}")
            et = "450 4.7.1 Service unavailable"
        elif not dsn_valid(dsn):
            self.warnings.append(f"DSN detail code configuration error: {et}")
            et = "450 4.7.1 Service unavailable"
        # smtpd_check_reject() calls vstring_truncate(error_text, 510), which
        # moves the write position without ending the string: nothing is
        # appended after it, so the reply goes out whole (checked against
        # smtpd 3.7 with a 2,000-character recipient)
        if not (et.isascii() and et.isprintable()):
            et = printable(et, self.pbool("smtputf8_enable"))
        if not warn and self.defer_if_reject.active and et[0] == "5":
            d = self.defer_if_reject
            self.warn_if_reject = 0
            d.active = False
            self.note_cur(f"would reject ({et}), but an earlier defer_if_reject turns it into a "
                          f"temporary error")
            return self.check_reject(d.cls, d.code, d.dsn, d.reason)
        if self.vp.soft_bounce and et[0] == "5":
            et = "4" + et[1:]
        if len(et) > 4:
            et = et[:4] + et[0] + et[5:]
        stack = self.stack
        cur = stack[-1] if stack else None
        if warn:
            if cur is not None:
                cur.outcome = WARN
                cur.reply = et
                self.note_cur("warn_if_reject: logged as reject_warning, not rejected")
            return SMTPD_CHECK_DUNNO
        self.error_text = et
        if cur is not None:
            cur.reply = et
            if self.decider is None or self.decider not in stack:
                self.decider = cur
        return SMTPD_CHECK_REJECT

    def defer_if(self, which: _Defer, error_class: str, code: int, dsn: str, text: str) -> int:
        if not which.active:
            which.active = True
            which.cls, which.code, which.dsn, which.reason = error_class, code, dsn, text
            which.step = self.cur
            if self.cur is not None:
                kind = "defer_if_permit" if which is self.defer_if_permit else "defer_if_reject"
                self.note_cur(f"{kind} raised: {code} {dsn} {text}")
        return SMTPD_CHECK_DUNNO

    def defer_if_permit2(self, act_param: str | None, error_class, code, dsn, text) -> int:
        act = self.p(act_param).strip().lower() if act_param else "defer_if_permit"
        if self.warn_if_reject == 0 and act == "defer_if_permit":
            return self.defer_if(self.defer_if_permit, error_class, code, dsn, text)
        return self.check_reject(error_class, code, dsn, text)

    def reject_dict_retry(self, reply_name: str, why: str = "") -> NoReturn:
        if why:
            self.note_cur(f"table lookup failed: {why}")
        raise _Longjmp(self.check_reject(MAIL_ERROR_DATA, 451, "4.3.0",
                                         f"<{reply_name}>: Temporary lookup failure"))

    def reject_server_error(self, why: str = "") -> NoReturn:
        if why:
            self.note_cur(why)
            self.warnings.append(why)
        raise _Longjmp(self.check_reject(MAIL_ERROR_SOFTWARE, 451, "4.3.5", "Server configuration error"))

    def resolve(self, addr: str):
        try:
            r = resolve_addr(self, addr, with_transport=False)
        except TableFailure as exc:
            self.add_lookups(exc.lookups)
            self.reject_dict_retry(addr, exc.message)
        lk = r.lookups
        if lk and self.stack:   # self.add_lookups(r.lookups)
            self.stack[-1].lookups.extend(lk)
        return r

    # ------------------------------------------------------------ DNS
    def permit(self) -> int:
        return SMTPD_CHECK_OK

    def finish_reject(self, stage: str) -> Trace:
        text = self.error_text
        code = int(text[:3]) if text[:3].isdigit() else 0
        return self.finish(code, text, stage)

    def chat_reply(self, reply: str) -> str:
        """smtpd_chat_reply(): the reject footer and the soft_bounce safety net."""
        if not reply or reply[0] not in "45":
            return reply
        footer = None
        vp = self.vp
        specs = vp.footer_maps
        if specs:
            lk: list = []
            footer, _err, _spec = maps_find(self.tables, self.view, specs, reply, lk)
        if footer is None:
            footer = vp.footer
        lines = reply.split("\n")
        if footer:
            lines = _with_footer(lines, footer, self._footer_values())
        if vp.soft_bounce:
            lines = [_soft_bounced(ln) for ln in lines]
        return "\n".join(lines)

    def _footer_values(self) -> dict:
        """The $names a reject footer may use (smtpd_expand_lookup)."""
        vals = {"server_name": self.p("myhostname"), "client": self.namaddr, "client_port": "",
                "client_address": self.client_addr, "client_name": self.client_name,
                "reverse_client_name": self.reverse_name, "helo_name": self.helo_name or "",
                "localtime": ""}
        for prefix, addr in (("sender", self.sender if self.stage == "rcpt" else None), ("recipient", None)):
            vals[prefix] = "" if addr is None else (addr or "<>")
            vals[prefix + "_name"] = "" if addr is None else (addr.rsplit("@", 1)[0] if addr else "<>")
            vals[prefix + "_domain"] = "" if not addr or "@" not in addr else addr.rsplit("@", 1)[1]
        return vals

    def finish(self, code: int, reply: str, stage: str, route_addr: str | None = None) -> Trace:
        reply = self.chat_reply(reply)
        if reply[:3].isdigit():
            code = int(reply[:3])
        route = None
        if route_addr is not None and 200 <= code < 300:
            try:
                route = route_recipient(self, route_addr)
            except TableFailure as exc:
                self.notes.append(f"route not computed: {exc.message}")
            except Exception as exc:  # never let routing break the verdict
                self.notes.append(f"route not computed: {exc}")
        if self.tables.not_evaluated:
            self.conditional = True
            self.notes.append("tables not evaluated: " + ", ".join(self.tables.not_evaluated))
        steps = tuple([s.freeze() for s in self.steps])
        idx = None
        if self.decider is not None and not (200 <= code < 300):
            for i, s in enumerate(self.steps):
                if s is self.decider:
                    idx = i
                    break
        w = self.warnings
        return Trace.make(self.tx, self.service, code, reply, stage, steps, idx, self.conditional,
                          tuple(self.config_errors), tuple(dict.fromkeys(w)) if w else (), route,
                          tuple(self.notes))
