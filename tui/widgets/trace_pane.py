"""The trace pane: ask "what would smtpd answer?" and see every step.

A form (service, client address and name, HELO, sender, recipient, SASL
login, and a field to paste a log line that fills the others), then the
result: the final reply, the steps (passed / no match / permit / reject /
not evaluated) with the deciding one highlighted and scrolled into view,
and for the selected step its list, file and line, table lookups, the
explanation and the suggested change. Evaluation runs in a worker; the pane
only renders the engine's Trace.
"""
from __future__ import annotations

from rich.console import Group
from rich.table import Table as RichTable
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Grid, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from tui.core.analysis import inventory
from tui.widgets import engine as E

FIELDS = ("client_address", "client_name", "helo", "sender", "recipient", "sasl_login")

OUTCOME_STYLE = {
    "permit": "bold green",
    "reject": "bold red",
    "defer": "bold yellow",
    "not evaluated": "magenta",
    "no match": "",
    "dunno": "dim",
    "warn": "yellow",
}


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


class StepsTable(DataTable):
    BINDINGS = [
        Binding("p", "goto_param", "Parameter", tooltip="Show this step's parameter in the tree"),
    ]

    class GotoParam(Message):
        def __init__(self, param: str, service: str | None) -> None:
            super().__init__()
            self.param = param
            self.service = service

    def action_goto_param(self) -> None:
        pane = self.screen.query_one(TracePane)
        step = pane.highlighted_step
        if step is None:
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

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = None
        self.trace = None
        self.explanation = None
        self._services: list[str] = []

    # -- layout ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Grid(id="trace-form"):
            yield Label("service", classes="flabel")
            yield Select([], id="service", compact=True, allow_blank=True, prompt="smtpd service")
            yield Label("HELO", classes="flabel")
            yield Input(placeholder="HELO/EHLO name (empty: none)", id="helo", compact=True)
            yield Label("client", classes="flabel")
            yield Input(placeholder="client IP address", id="client_address", compact=True)
            yield Label("name", classes="flabel")
            yield Input(placeholder="client hostname / unknown", id="client_name", compact=True)
            yield Label("sender", classes="flabel")
            yield Input(placeholder="MAIL FROM (empty: <>)", id="sender", compact=True)
            yield Label("recipient", classes="flabel")
            yield Input(placeholder="RCPT TO", id="recipient", compact=True)
            yield Label("SASL login", classes="flabel")
            yield Input(placeholder="authenticated user (empty: none)", id="sasl_login", compact=True)
            yield Label("", classes="flabel")
            yield Button("Run ▶ (Enter)", id="run", compact=True, variant="primary")
            yield Label("log line", classes="flabel")
            yield Input(placeholder="paste a Postfix log line here to fill the fields", id="logline",
                        compact=True)
        yield Static(Text("Fill in the form and press Enter.", style="dim"), id="trace-summary")
        with Container(id="trace-results"):
            yield StepsTable(id="steps", cursor_type="row", zebra_stripes=False)
            with VerticalScroll(id="step-detail-scroll"):
                yield Static("", id="step-detail")

    def on_mount(self) -> None:
        table = self.query_one(StepsTable)
        table.add_column("", key="mark", width=1)
        table.add_column("stage", key="stage")
        table.add_column("list", key="list")
        table.add_column("#", key="pos")
        table.add_column("restriction", key="entry")
        table.add_column("result", key="result")

    def on_resize(self, event) -> None:
        self.query_one("#trace-results").set_class(self.size.width >= 130, "-wide")

    # -- data --------------------------------------------------------------

    def set_model(self, model) -> None:
        self.model = model
        names = [s.name for s in model.cfg.smtpd_services()] if model and model.cfg else []
        self._services = names
        select = self.query_one("#service", Select)
        select.set_options([(n, n) for n in names])
        if names and select.is_blank():
            select.value = "smtp" if "smtp" in names else names[0]
        why = E.trace_available()
        if why:
            self.query_one("#trace-summary", Static).update(
                Text(f"Tracing is not available yet: {why}.", style="yellow"))

    def values(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for f in FIELDS:
            out[f] = self.query_one(f"#{f}", Input).value.strip()
        return out

    @property
    def service(self) -> str | None:
        v = self.query_one("#service", Select).value
        return None if v is Select.BLANK else str(v)

    def fill(self, values: dict) -> None:
        for f in FIELDS:
            if f in values and values[f] is not None:
                self.query_one(f"#{f}", Input).value = str(values[f])
        svc = values.get("service")
        if svc and svc in self._services:
            self.query_one("#service", Select).value = svc

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
            if self.paste_log_line(event.value):
                self.action_run()
            return
        self.action_run()

    @on(Input.Changed, "#logline")
    def _logline_changed(self, event: Input.Changed) -> None:
        v = event.value
        if "from=<" in v or "to=<" in v or "postfix/" in v:
            self.paste_log_line(v, quiet=True)

    @on(Button.Pressed, "#run")
    def _run_pressed(self) -> None:
        self.action_run()

    def action_focus_logline(self) -> None:
        self.query_one("#logline", Input).focus()

    def paste_log_line(self, line: str, quiet: bool = False) -> bool:
        line = line.strip()
        if not line:
            return False
        try:
            fields = E.parse_log_line(line)
        except E.EngineMissing as exc:
            self.query_one("#trace-summary", Static).update(Text(str(exc), style="yellow"))
            return False
        except Exception as exc:
            if not quiet:
                self.query_one("#trace-summary", Static).update(
                    Text(f"cannot read that log line: {exc}", style="yellow"))
            return False
        if not fields or not any(fields.get(f) for f in FIELDS):
            if not quiet:
                self.query_one("#trace-summary", Static).update(
                    Text("That line has no client, sender or recipient to fill in.", style="yellow"))
            return False
        self.fill(fields)
        filled = [f for f in FIELDS if fields.get(f)]
        self.query_one("#trace-summary", Static).update(
            Text(f"Filled from the log line: {', '.join(filled)}. Enter runs the trace.", style="green"))
        return True

    def action_run(self) -> None:
        if self.model is None or self.model.cfg is None:
            self.app.notify("The configuration is not loaded yet.", severity="warning")
            return
        why = E.trace_available()
        if why:
            self.query_one("#trace-summary", Static).update(
                Text(f"Tracing is not available yet: {why}.", style="yellow"))
            return
        service = self.service
        if not service:
            self.app.notify("Choose a service first.", severity="warning")
            return
        values = self.values()
        if not values["client_address"]:
            self.app.notify("The client address is needed (e.g. 127.0.0.1).", severity="warning")
            self.query_one("#client_address", Input).focus()
            return
        self.query_one("#trace-results").loading = True
        self.query_one("#trace-summary", Static).update(Text("evaluating…", style="dim italic"))
        self._evaluate(values, service)

    @work(thread=True, exclusive=True, group="trace")
    def _evaluate(self, values: dict, service: str) -> None:
        model = self.model
        try:
            tr = E.evaluate(model.cfg, values, service)
            expl = E.explain(model.cfg, tr)
            self.app.call_from_thread(self.show_trace, tr, expl)
        except E.EngineMissing as exc:
            self.app.call_from_thread(self._show_error, str(exc), "yellow")
        except Exception as exc:
            self.app.call_from_thread(self._show_error,
                                      f"the evaluator failed: {type(exc).__name__}: "
                                      f"{inventory.scrub(str(exc), model.secrets)}", "red")

    def _show_error(self, text: str, style: str) -> None:
        self.query_one("#trace-results").loading = False
        self.query_one("#trace-summary", Static).update(Text(text, style=style))

    # -- rendering ---------------------------------------------------------

    def show_trace(self, tr, explanation=None) -> None:
        self.trace = tr
        self.explanation = explanation
        self.query_one("#trace-results").loading = False
        table = self.query_one(StepsTable)
        table.clear()
        room = max(24, (table.size.width or self.size.width or self.app.size.width) - 36)
        for i, st in enumerate(tr.steps):
            decided = i == tr.decided_index
            style = OUTCOME_STYLE.get(st.outcome, "")
            entry = ("  " * st.depth) + (self.model.display_path(st.entry) if self.model else st.entry)
            if len(entry) > room:
                entry = entry[: room - 1] + "…"
            mark = Text("▶", style="bold red" if st.outcome in ("reject", "defer") else "bold green") \
                if decided else Text("")
            result = Text(outcome_label(st), style=(style + " reverse") if decided else style)
            row_style = "bold" if decided else ("dim" if st.outcome in ("no match", "dunno") else "")
            table.add_row(mark, Text(st.stage, style="dim"), Text(short_list(st.parameter), style=row_style),
                          Text(str(st.position or ""), style="dim"),
                          Text(entry, style=row_style), result, key=str(i))
        self.query_one("#trace-summary", Static).update(self._summary(tr))
        target = tr.decided_index if tr.decided_index is not None else max(len(tr.steps) - 1, 0)
        if tr.steps:
            table.move_cursor(row=target, animate=False, scroll=True)
            self.call_after_refresh(table.move_cursor, row=target, animate=False, scroll=True)
        self._show_step(target)
        table.focus()

    def _summary(self, tr) -> Text:
        ok = tr.accepted
        t = Text()
        t.append(tr.reply or f"{tr.code}", style=("bold green" if ok else "bold red"))
        d = tr.decided_by
        if d is not None:
            t.append("\n")
            t.append("decided by ", style="dim")
            t.append(d.entry, style="bold")
            t.append(" in ", style="dim")
            t.append(d.parameter, style="bold")
            if d.source is not None:
                t.append(f" at {d.source}", style="cyan")
        elif ok:
            t.append("\naccepted: every list ran to its end without a reject", style="dim")
        if tr.conditional:
            t.append("  (assumes answers for checks that were not evaluated)", style="magenta")
        return t

    @on(DataTable.RowHighlighted, "#steps")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_step(event.cursor_row)

    def _show_step(self, index: int) -> None:
        tr = self.trace
        out = self.query_one("#step-detail", Static)
        if tr is None:
            out.update("")
            return
        parts: list = []
        if 0 <= index < len(tr.steps):
            st = tr.steps[index]
            decided = index == tr.decided_index
            final = decided or (tr.decided_index is None and index == len(tr.steps) - 1)
            if final:  # the answer first: why, and what to change
                parts += self._outcome_parts(tr)
                parts.append(Text(""))
            head = Text(self.model.display_path(st.entry) if self.model else st.entry, style="bold")
            head.append(f"  {outcome_label(st)}", style=OUTCOME_STYLE.get(st.outcome, ""))
            if decided:
                head.append("  ← decides", style="bold")
            parts.append(head)
            rows = RichTable.grid(padding=(0, 1))
            rows.add_column(style="bold dim", no_wrap=True)
            rows.add_column(overflow="fold")
            where = Text(st.parameter)
            if st.position:
                where.append(f", entry {st.position}", style="dim")
            rows.add_row("list", where)
            if st.source is not None:
                src = Text(str(st.source), style="cyan")
                if st.source.path and self.model and \
                        self.model.display_path(st.source.path) not in ("main.cf", "master.cf"):
                    src.append(f"  {st.source.path}", style="dim")
                rows.add_row("from", src)
            rows.add_row("stage", st.stage)
            if st.detail:
                rows.add_row("why", Text(st.detail))
            if st.reply:
                rows.add_row("reply", Text(st.reply, style=OUTCOME_STYLE.get(st.outcome, "")))
            if st.conditional:
                rows.add_row("note", Text("outcome assumed: needs DNS or a policy server", style="magenta"))
            parts.append(rows)
            if st.lookups:
                lt = RichTable(box=None, show_header=True, header_style="bold dim", padding=(0, 1),
                               expand=False)
                lt.add_column("table", overflow="fold")
                lt.add_column("key", overflow="fold")
                lt.add_column("result", overflow="fold")
                for lk in st.lookups:
                    res_style = "red" if lk.error else ("green" if lk.found else "dim")
                    res = Text(inventory.scrub(lk.result, self.model.secrets if self.model else set()), style=res_style)
                    if lk.where and lk.where != lk.result:
                        res.append(f"\n{self.model.display_path(lk.where) if self.model else lk.where}",
                                   style="dim")
                    lt.add_row(self.model.display_spec(lk.table) if self.model else lk.table, lk.key, res)
                parts += [Text("lookups:", style="bold"), lt]
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
            parts.append(Text(f"configuration error: {e}", style="bold red"))
        for w in tr.warnings:
            parts.append(Text(f"⚠ {w}", style="yellow"))
        for n in tr.notes:
            parts.append(Text(n, style="dim"))
        if tr.accepted and tr.route is not None:
            parts += route_parts(tr.route, self.model)
        return parts


def explanation_parts(ex) -> list:
    """Render tui.core.analysis.explain's Explanation (summary, reasons, edits)."""
    if ex is None:
        return []
    if isinstance(ex, str):
        return [Text(ex)]
    out: list = []
    summary = getattr(ex, "summary", None)
    if summary:
        out.append(Text(summary, style="bold"))
    reasons = getattr(ex, "reasons", ()) or ()
    if reasons:
        grid = RichTable.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(overflow="fold")
        for r in reasons:
            grid.add_row("•", str(r))
        out.append(grid)
    edits = getattr(ex, "edits", ()) or ()
    if edits:
        out.append(Text("suggested change" + ("s" if len(edits) > 1 else "") + ":", style="bold"))
        grid = RichTable.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(overflow="fold")
        for i, e in enumerate(edits, 1):
            grid.add_row(f"{i}.", getattr(e, "description", str(e)))
            cmd = getattr(e, "command", None)
            if cmd:
                grid.add_row("", Text(cmd, style="green"))
        out.append(grid)
    if not out:
        out.append(Text(str(ex)))
    return out


def route_parts(route, model) -> list:
    parts: list = [Text("delivery route", style="bold")]
    t = RichTable.grid(padding=(0, 1))
    t.add_column(style="bold dim", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("recipient", route.recipient)
    t.add_row("class", Text(route.address_class, style="cyan"))
    if route.expansion:
        t.add_row("aliases to", ", ".join(route.expansion))
    for tg in route.targets:
        t.add_row("→", Text.assemble((tg.address, "bold"), ("  via ", "dim"),
                                     (f"{tg.transport}:{tg.nexthop}", "green"),
                                     (f"  ({model.display_spec(tg.transport_source) if model else tg.transport_source})",
                                      "dim")))
    for n in route.notes:
        t.add_row("note", n)
    parts.append(t)
    return parts
