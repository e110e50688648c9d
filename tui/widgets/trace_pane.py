"""The trace pane: ask "what would smtpd answer?" and see every step.

A form (client address and name, HELO, SASL login, sender, recipient, the
smtpd service and whether the client used STARTTLS, and a field to paste a
log line that fills the others), then
the answer: the reply, the deciding step, why, and the first suggested
change -- on screen without scrolling even at 80x24 -- then the steps
(no match / permit / reject / defer / not evaluated) with the deciding one
marked, and for the selected step its list, file and line, table lookups
and the full explanation. Evaluation runs in a worker which posts its
result as a message; the pane only renders the engine's Trace.
"""
from __future__ import annotations

from rich.console import Group
from rich.table import Table as RichTable
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Static

from tui.core.text import scrub
from tui.widgets import background
from tui.widgets import engine as E
from tui.widgets.text import lit, visible

FIELDS = ("client_address", "client_name", "helo", "sender", "recipient", "sasl_login")
# the TLS field: did the client use STARTTLS (blank: as the service requires)
TLS_CHOICES = (("STARTTLS", "yes"), ("no TLS", "no"))

# The form, in reading order (Tab follows it): label, field id, placeholder.
FORM = (
    ("client", "client_address", "IP address"),
    ("name", "client_name", "hostname or unknown"),
    ("HELO", "helo", "empty: none sent"),
    ("SASL", "sasl_login", "login (empty: none)"),
    ("sender", "sender", "MAIL FROM (empty: <>)"),
    ("recipient", "recipient", "RCPT TO"),
)

OUTCOME_STYLE = {
    "permit": "bold green",
    "reject": "bold red",
    "defer": "bold yellow",
    "not evaluated": "magenta",
    "no match": "",
    "dunno": "dim",
    "warn": "yellow",
}

# Lists the engine reports that are checks smtpd makes by itself, not
# parameters a user can look up in the tree.
BUILT_IN = ("address syntax", "smtpd startup", "RFC 5321", "defer_if_permit")


def short_list(param: str) -> str:
    if param.startswith("smtpd_") and param.endswith("_restrictions"):
        return param[len("smtpd_"):-len("_restrictions")]
    return param


def outcome_label(step) -> str:
    o = step.outcome
    if o == "no match":
        return "no match"
    if step.conditional and o != "not evaluated":
        return f"{o}?"
    return o


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: max(n - 1, 0)] + "…"


def reply_style(code: int | None, accepted: bool) -> str:
    if accepted:
        return "bold green"
    return "bold yellow" if code is not None and 400 <= code < 500 else "bold red"


def verdict_word(tr) -> str:
    """Postfix's own word for the outcome: accepted, rejected (5xx) or
    deferred (4xx: the client tries again later)."""
    if tr.accepted:
        return "accepted"
    return "deferred" if 400 <= (tr.code or 0) < 500 else "rejected"


def is_parameter(model, name: str) -> bool:
    if not name or name in BUILT_IN or " " in name:
        return False
    try:
        return model.cfg.params().raw(name) is not None
    except Exception:
        return False


def list_endings(tr) -> str:
    """For an accepted trace, in a line: how the last list ended (a permit
    or its end) and how many others did not reject."""
    ends: dict[str, object] = {}
    for st in tr.steps:
        if st.depth == 0:
            ends[st.parameter] = st
    if not ends:
        return ""
    permits = [(p, st) for p, st in ends.items() if st.outcome == "permit"]
    param, st = permits[-1] if permits else list(ends.items())[-1]
    if st.outcome == "permit":
        line = f"{st.entry.split()[0]} ended {param} with a permit"
    else:
        line = f"{param} ran to its end"
    others = len(ends) - 1
    if others:
        line += f"; {others} other list{'s' if others > 1 else ''} did not reject"
    return line


class StepsTable(DataTable):
    BINDINGS = [
        Binding("p", "goto_param", "Parameter", tooltip="Show this step's parameter in the tree"),
    ]

    class GotoParam(Message):
        def __init__(self, param: str, service: str | None) -> None:
            super().__init__()
            self.param = param
            self.service = service

    def on_resize(self, event) -> None:
        # the widths come from the table's own size: refill when it changes;
        # a new height only moves the rows so the cursor row is the last shown
        pane = self.screen.query_one(TracePane)
        if pane.trace is None:
            return
        if event.size.width != getattr(self, "_filled_width", None):
            pane.call_after_refresh(pane._fill_rows)
        else:
            self.call_after_refresh(self.show_cursor_row)

    def show_cursor_row(self) -> None:
        """Scroll so the cursor row is in view, the same way whatever the
        table's scroll was before: rows above it fill the view."""
        rows = max(self.scrollable_content_region.height - 1, 1)  # minus the header
        self.scroll_to(y=max(0, self.cursor_row - rows + 1), animate=False, immediate=True)

    def action_goto_param(self) -> None:
        pane = self.screen.query_one(TracePane)
        step = pane.highlighted_step
        if step is None:
            self.app.notify("No step is selected: run a trace first (Ctrl+R).", severity="warning",
                            markup=False)
            return
        if pane.model is None or not is_parameter(pane.model, step.parameter):
            self.app.notify(f"{visible(step.entry)} is a check smtpd makes by itself: it has no "
                            "parameter to show in the tree.", severity="information", markup=False)
            return
        service = None
        if step.source is not None and step.source.kind == "master.cf":
            service = step.source.service
        self.post_message(self.GotoParam(step.parameter, service))


class TracePane(Vertical):
    """Form + result of one trace."""

    BINDINGS = [
        Binding("ctrl+r", "run", "Run", priority=True),
        Binding("ctrl+l", "focus_logline", "Log line", priority=True),
    ]

    class Evaluated(Message):
        """The worker's result (posted from the worker thread)."""

        def __init__(self, trace, explanation, error: str | None = None, style: str = "red",
                     generation: int = 0) -> None:
            super().__init__()
            self.generation = generation
            self.trace = trace
            self.explanation = explanation
            self.error = error
            self.style = style

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = None
        self.trace = None
        self.explanation = None
        self.logged_reply: str | None = None   # the reply of a pasted log line
        self.logged_before_rcpt = False         # ... which ends before RCPT TO (names no recipient)
        self._target = 0                        # the row the cursor goes to when the rows are filled
        self._generation = 0                    # which run the shown answer belongs to
        self._services: list[str] = []

    # -- layout ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Grid(id="trace-form"):
            for label, fid, hint in FORM:
                yield Label(label, classes="flabel")
                yield Input(placeholder=hint, id=fid, compact=True)
            yield Label("service", classes="flabel")
            with Horizontal(id="service-cell"):
                yield Select([], id="service", compact=True, allow_blank=True, prompt="smtpd service")
                # left blank, the trace assumes the TLS state the service
                # requires (and says so where it requires TLS)
                yield Select(TLS_CHOICES, id="tls", compact=True, allow_blank=True, prompt="TLS?")
            yield Label("log line", classes="flabel")
            yield Input(placeholder="paste a log line", id="logline", compact=True)
        yield Static(Text("Fill in the form; Enter or Ctrl+R runs the trace.", style="dim"),
                     id="trace-summary")
        with Container(id="trace-results"):
            yield StepsTable(id="steps", cursor_type="row", zebra_stripes=False)
            with VerticalScroll(id="step-detail-scroll"):
                yield Static("", id="step-detail")

    def on_resize(self, event) -> None:
        self.query_one("#trace-results").set_class(self.size.width >= 130, "-wide")
        self.call_after_refresh(self._fill_rows)

    # -- data --------------------------------------------------------------

    def set_model(self, model) -> None:
        self.model = model
        names = [s.name for s in model.cfg.smtpd_services()] if model and model.cfg else []
        self._services = names
        select = self.query_one("#service", Select)
        select.set_options([(n, n) for n in names])
        if names and select.is_blank():
            select.value = "smtp" if "smtp" in names else names[0]

    def values(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for f in FIELDS:
            out[f] = self.query_one(f"#{f}", Input).value.strip()
        tls = self.query_one("#tls", Select).value
        out["tls"] = None if tls is Select.NULL else str(tls)
        return out

    @property
    def service(self) -> str | None:
        v = self.query_one("#service", Select).value
        return None if v is Select.NULL else str(v)

    def fill(self, values: dict) -> None:
        for f in FIELDS:
            if f in values and values[f] is not None:
                inp = self.query_one(f"#{f}", Input)
                inp.value = str(values[f])
                # an unfocused field shows its start (the local part of a
                # long sender), not its scrolled-away end
                inp.cursor_position = 0
        svc = values.get("service")
        if svc and svc in self._services:
            self.query_one("#service", Select).value = svc
        if "tls" in values:   # "yes", "no" or None (blank: as the service requires)
            tls = values["tls"]
            self.query_one("#tls", Select).value = tls if tls in ("yes", "no") else Select.NULL

    @property
    def highlighted_step(self):
        if self.trace is None:
            return None
        table = self.query_one(StepsTable)
        row = table.cursor_row
        if 0 <= row < len(self.trace.steps):
            return self.trace.steps[row]
        return None

    # -- events ------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "lookup":
            return
        event.stop()
        if event.input.id == "logline":
            if not event.value.strip():
                self.action_run()
            elif self.paste_log_line(event.value):
                self.action_run()
            return
        self.action_run()

    @on(Input.Changed, "#logline")
    def _logline_changed(self, event: Input.Changed) -> None:
        v = event.value
        if "from=<" in v or "to=<" in v or "postfix/" in v:
            self.paste_log_line(v, quiet=True)
        elif not v.strip():
            self.logged_reply = None
            self.logged_before_rcpt = False

    def action_focus_logline(self) -> None:
        self.app.action_trace()
        self.query_one("#logline", Input).focus()

    def _say(self, text: Text) -> None:
        self.query_one("#trace-summary", Static).update(text)

    def paste_log_line(self, line: str, quiet: bool = False) -> bool:
        line = line.strip()
        if not line:
            return False
        try:
            fields = E.parse_log_line(line)
        except E.LogLineError as exc:
            if not quiet:
                self._say(lit(f"cannot read that log line: {exc}", "yellow"))
            return False
        except Exception as exc:  # an engine bug must not take the app down
            if not quiet:
                self._say(lit(f"cannot read that log line: {type(exc).__name__}: {exc}", "yellow"))
            return False
        if not fields or not any(fields.get(f) for f in FIELDS):
            if not quiet:
                self._say(Text("That line has no client, sender or recipient to fill in.", style="yellow"))
            return False
        # a logged reject says nothing of STARTTLS, and the client got past
        # whatever TLS the service requires: the TLS field goes back to that
        self.fill(dict(fields, tls=None))
        self.logged_reply = fields.get("reply") or None
        self.logged_before_rcpt = (not fields.get("recipient")
                                   and str(fields.get("command") or "").upper() in ("CONNECT", "HELO", "EHLO", "MAIL"))
        if self.logged_before_rcpt:   # the line's transaction has no RCPT TO: none from an earlier one
            self.query_one("#recipient", Input).value = ""
        filled = [f for f in FIELDS if fields.get(f)]
        self._say(Text(f"Filled from the log line: {', '.join(filled)}. Enter runs the trace"
                       + (" (no recipient: it ends at MAIL FROM)." if self.logged_before_rcpt else "."),
                       style="green"))
        return True

    def action_run(self) -> None:
        self.app.action_trace()
        if self.model is None or self.model.cfg is None:
            self._say(Text("The configuration is not loaded yet.", style="yellow"))
            self.app.notify("The configuration is not loaded yet.", severity="warning", markup=False)
            return
        service = self.service
        values = self.values()
        if not values["recipient"] and self.logged_before_rcpt:
            values["recipient"] = None   # as the pasted line: no RCPT TO, the trace ends at MAIL FROM
        missing = [(fid, label) for label, fid, _h in FORM
                   if fid in ("client_address", "recipient") and values[fid] == ""]
        if not service:
            missing.insert(0, ("service", "service"))
        if missing:
            names = " and ".join(label for _f, label in missing)
            msg = f"Cannot run: the {names} {'is' if len(missing) == 1 else 'are'} needed " \
                  "(or paste a log line into the log line field)."
            self._say(Text(msg, style="yellow"))
            self.app.notify(msg, severity="warning", markup=False)
            self.query_one(f"#{missing[0][0]}").focus()
            return
        self.query_one("#trace-results").loading = True
        self._say(Text("evaluating…", style="dim italic"))
        self._generation += 1
        background.start("trace", self._evaluate, self.model, values, service, self._generation)

    def _evaluate(self, model, values: dict, service: str, generation: int) -> None:
        """(background) Evaluate; post the trace or the error."""
        try:
            tr = E.evaluate(model.cfg, values, service)
            expl = E.explain(model.cfg, tr)
            background.post(self, self.Evaluated(tr, expl, generation=generation))
        except Exception as exc:
            background.post(self, self.Evaluated(None, None, f"the evaluator failed: {type(exc).__name__}: "
                                                 f"{scrub(str(exc), model.secrets)}",
                                                 generation=generation))

    @on(Evaluated)
    def _evaluated(self, event: Evaluated) -> None:
        if event.generation != self._generation:  # an older run answered late
            return
        if event.error is not None:
            self.query_one("#trace-results").loading = False
            self._say(lit(event.error, event.style))
            return
        self.show_trace(event.trace, event.explanation)

    # -- rendering ---------------------------------------------------------

    def show_trace(self, tr, explanation=None) -> None:
        self.trace = tr
        self.explanation = explanation
        self.query_one("#trace-results").loading = False
        self._say(self._summary(tr))
        target = tr.decided_index if tr.decided_index is not None else max(len(tr.steps) - 1, 0)
        self._target = target
        self.query_one(StepsTable).clear()
        self._fill_rows(target)
        self._show_step(target)
        self.query_one(StepsTable).focus()

    def _fill_rows(self, target: int | None = None) -> None:
        """(Re)build the steps table with widths that fit the pane now: the
        result column is never the one cut, and a long list name in one
        trace does not widen the columns of the next."""
        tr = self.trace
        table = self.query_one(StepsTable)
        if tr is None:
            return
        if target is None:
            target = self._target if not table.row_count else table.cursor_row
        self._target = target
        if not table.size.width:  # not laid out yet (hidden, loading): its resize refills,
            table._filled_width = None  # even when it comes back at the width of the last fill
            return
        table._filled_width = table.size.width
        width = table.size.width - 2
        pad = 2 * table.cell_padding
        labels = [outcome_label(st) for st in tr.steps]
        lists = [short_list(st.parameter) for st in tr.steps]
        w_res = max([6] + [len(x) for x in labels])
        w_pos = max([1] + [len(str(st.position or "")) for st in tr.steps])
        w_stage = max([5] + [len(st.stage) for st in tr.steps])
        w_list = min(max([4] + [len(x) for x in lists]), 12 if width < 100 else 24)
        show_stage = width >= 60
        fixed = 1 + w_pos + w_res + w_list + (w_stage if show_stage else 0)
        ncols = 5 + (1 if show_stage else 0)
        w_entry = max(8, width - fixed - pad * ncols)
        table.clear(columns=True)
        table.add_column("", key="mark", width=1)
        if show_stage:
            table.add_column("stage", key="stage", width=w_stage)
        table.add_column("list", key="list", width=w_list)
        table.add_column("#", key="pos", width=w_pos)
        table.add_column("restriction", key="entry", width=w_entry)
        table.add_column("result", key="result", width=w_res)
        for i, st in enumerate(tr.steps):
            decided = i == tr.decided_index
            style = OUTCOME_STYLE.get(st.outcome, "")
            entry = ("  " * st.depth) + visible(self.model.display_path(st.entry) if self.model else st.entry)
            mark = Text("▶", style="bold red" if st.outcome in ("reject", "defer") else "bold green") \
                if decided else Text("")
            result = Text(labels[i], style=(style + " reverse") if decided else style)
            row_style = "bold" if decided else ("dim" if st.outcome in ("no match", "dunno") else "")
            cells = [mark]
            if show_stage:
                cells.append(Text(st.stage, style="dim"))
            cells += [Text(_clip(visible(lists[i]), w_list), style=row_style),
                      Text(str(st.position or ""), style="dim"),
                      Text(_clip(entry, w_entry), style=row_style), result]
            table.add_row(*cells, key=str(i))
        if tr.steps:
            target = min(target, len(tr.steps) - 1)
            table.move_cursor(row=target, animate=False, scroll=False)
            # the rows on screen do not depend on how often the table was
            # refilled or resized before
            table.show_cursor_row()
            self.call_after_refresh(table.show_cursor_row)

    def _summary(self, tr) -> Group:
        """The answer: reply, verdict and deciding step, why, the first
        suggested change. Short enough for 80x24; the rest is below."""
        ok = tr.accepted
        model = self.model
        grid = RichTable.grid(padding=(0, 1))
        grid.add_column(style="bold dim", no_wrap=True, width=3)
        grid.add_column()
        style = reply_style(tr.code, ok)
        grid.add_row(Text("▶", style=style), lit(tr.answer, style))
        d = tr.decided_by
        by = Text(verdict_word(tr), style=style)
        if d is not None:
            by.append(" by ")
            by.append_text(lit(model.display_path(d.entry) if model else d.entry, "bold"))
            if model is not None and not is_parameter(model, d.parameter):
                by.append(", a check smtpd makes by itself", style="dim")
            else:
                by.append(" · ", style="dim")
                by.append_text(lit(d.parameter))
                if d.position:
                    by.append(f" #{d.position}", style="dim")
            if d.source is not None:
                by.append(" · ", style="dim")
                by.append_text(lit(str(d.source), "cyan"))
        elif ok:
            by.append(": ")
            by.append_text(lit(list_endings(tr) or "no restriction list applies", "dim"))
        grid.add_row(Text(""), by)
        ex = self.explanation
        why = ""
        if isinstance(ex, str):
            why = ex
        elif ex is not None:
            why = getattr(ex, "summary", "") or ""
            reply = tr.reply or ""
            if reply and why.startswith(reply):
                why = why[len(reply):].lstrip(": ").strip()
            if d is not None:  # the line above names the step and its list
                why = why.removeprefix(f"{d.entry} in {d.parameter} ").strip()
            if not why or why.startswith("Accepted"):
                # the first reason that is more than the line above repeated
                reasons = [str(r) for r in getattr(ex, "reasons", ()) or () if not str(r).startswith("Decided by")]
                why = reasons[0] if reasons else ""
        if why:
            grid.add_row(Text("why"), lit(model.display_path(why) if model else why))
        edits = (getattr(ex, "edits", ()) or ()) if ex is not None and not isinstance(ex, str) else ()
        if edits:
            e = edits[0]
            desc = getattr(e, "description", str(e))
            grid.add_row(Text("fix"), lit(model.display_path(desc) if model else desc))
            cmd = getattr(e, "command", None)
            if cmd:
                c = lit(cmd, "green")
                c.no_wrap = True
                c.overflow = "ellipsis"
                grid.add_row(Text(""), c)
        if self.logged_reply and self.logged_reply != tr.reply:
            grid.add_row(Text("log", style="bold magenta"),
                         lit(f"the pasted log line says {self.logged_reply}: today's configuration "
                             f"answers differently", "magenta"))
        if tr.conditional:
            grid.add_row(Text("?", style="bold magenta"),
                         Text("assumes answers for checks that were not evaluated (DNS, policy)",
                              style="magenta"))
        more = len(edits) - 1 if edits else 0
        hint = "↑↓ steps · Tab: full explanation"
        if edits:
            hint += " and command"
        if more > 0:
            hint += f", {more} more change{'s' if more > 1 else ''}"
        hint += " · p parameter"
        self.query_one("#trace-summary", Static).border_title = hint
        return grid

    @on(DataTable.RowHighlighted, "#steps")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_step(event.cursor_row)

    def _show_step(self, index: int) -> None:
        tr = self.trace
        out = self.query_one("#step-detail", Static)
        if tr is None:
            out.update("")
            return
        model = self.model
        secrets = model.secrets if model else set()

        def shown(s: str) -> str:
            return model.display_path(s) if model else s

        parts: list = []
        if 0 <= index < len(tr.steps):
            st = tr.steps[index]
            decided = index == tr.decided_index
            final = decided or (tr.decided_index is None and index == len(tr.steps) - 1)
            if final:  # the answer first: why, and what to change
                parts += self._outcome_parts(tr)
                parts.append(Text(""))
            head = lit(shown(st.entry), "bold")
            head.append(f"  {outcome_label(st)}", style=OUTCOME_STYLE.get(st.outcome, ""))
            if decided:
                head.append("  ← decides", style="bold")
            parts.append(head)
            rows = RichTable.grid(padding=(0, 1))
            rows.add_column(style="bold dim", no_wrap=True)
            rows.add_column()
            where = lit(st.parameter)
            if st.position:
                where.append(f", entry {st.position}", style="dim")
            rows.add_row("list", where)
            if st.source is not None:
                src = lit(str(st.source), "cyan")
                if st.source.path and model and model.display_path(st.source.path) not in ("main.cf", "master.cf"):
                    src.append_text(lit(f"  {st.source.path}", "dim"))
                rows.add_row("from", src)
            rows.add_row("stage", lit(st.stage))
            if st.detail:
                rows.add_row("why", lit(scrub(st.detail, secrets), multiline=True))
            if st.reply:
                rows.add_row("reply", lit(st.reply, OUTCOME_STYLE.get(st.outcome, "")))
            if st.conditional:
                rows.add_row("note", Text("outcome assumed: needs DNS or a policy server", style="magenta"))
            parts.append(rows)
            if st.lookups:
                lt = RichTable(box=None, show_header=True, header_style="bold dim", padding=(0, 1), expand=False)
                lt.add_column("table")
                lt.add_column("key")
                lt.add_column("result")
                for lk in st.lookups:
                    res_style = "red" if lk.error else ("green" if lk.found else "dim")
                    res = lit(scrub(lk.result, secrets), res_style)
                    if lk.where and lk.where != lk.result:
                        res.append("\n")
                        res.append_text(lit(scrub(shown(lk.where), secrets), "dim"))
                    lt.add_row(lit(model.display_spec(lk.table) if model else lk.table), lit(lk.key), res)
                parts += [Text("lookups:", style="bold"), lt]
            if model is not None and is_parameter(model, st.parameter):
                parts.append(Text("p: show this parameter in the tree", style="dim italic"))
        else:
            parts += self._outcome_parts(tr)
        out.update(Group(*parts))
        self.query_one("#step-detail-scroll").scroll_home(animate=False)

    def _outcome_parts(self, tr) -> list:
        parts: list = []
        ex = self.explanation
        if ex is not None:
            parts += explanation_parts(ex)
        for e in tr.config_errors:
            parts.append(lit(f"configuration error: {e}", "bold red"))
        for w in tr.warnings:
            parts.append(lit(f"⚠ {w}", "yellow"))
        for n in tr.notes:
            parts.append(lit(n, "dim"))
        if self.logged_reply and self.logged_reply != tr.reply:
            parts.append(lit(f"The pasted log line says: {self.logged_reply}", "magenta"))
            parts.append(lit(f"Today's configuration answers: {tr.reply}", "magenta"))
        if tr.accepted and tr.route is not None:
            parts += route_parts(tr.route, self.model)
        return parts


def explanation_parts(ex) -> list:
    """Render tui.core.analysis.explain's Explanation (summary, reasons, edits)."""
    if ex is None:
        return []
    if isinstance(ex, str):
        return [lit(ex)]
    out: list = []
    summary = getattr(ex, "summary", None)
    if summary:
        out.append(lit(summary, "bold"))
    reasons = getattr(ex, "reasons", ()) or ()
    if reasons:
        grid = RichTable.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column()
        for r in reasons:
            grid.add_row("•", lit(r))
        out.append(grid)
    edits = getattr(ex, "edits", ()) or ()
    if edits:
        out.append(Text("suggested change" + ("s" if len(edits) > 1 else "") + ":", style="bold"))
        grid = RichTable.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column()
        for i, e in enumerate(edits, 1):
            grid.add_row(f"{i}.", lit(getattr(e, "description", str(e))))
            cmd = getattr(e, "command", None)
            if cmd:
                grid.add_row("", lit(cmd, "green"))
        out.append(grid)
    if not out:
        out.append(lit(str(ex)))
    return out


def route_parts(route, model) -> list:
    parts: list = [Text("delivery route", style="bold")]
    t = RichTable.grid(padding=(0, 1))
    t.add_column(style="bold dim", no_wrap=True)
    t.add_column()
    t.add_row("recipient", lit(route.recipient))
    t.add_row("class", lit(route.address_class, "cyan"))
    if route.expansion:
        t.add_row("aliases to", lit(", ".join(route.expansion)))
    for tg in route.targets:
        row = lit(tg.address, "bold")
        row.append("  via ", style="dim")
        row.append_text(lit(f"{tg.transport}:{tg.nexthop}", "green"))
        src = model.display_spec(tg.transport_source) if model else tg.transport_source
        row.append_text(lit(f"  ({src})", "dim"))
        t.add_row("→", row)
    for n in route.notes:
        t.add_row("note", lit(n))
    parts.append(t)
    return parts
