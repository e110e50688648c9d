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
from tui.widgets.trace_text import (OUTCOME_STYLE, clip, is_parameter, outcome_label, short_list, step_parts,
                                     summary)

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
            cells += [Text(clip(visible(lists[i]), w_list), style=row_style),
                      Text(str(st.position or ""), style="dim"),
                      Text(clip(entry, w_entry), style=row_style), result]
            table.add_row(*cells, key=str(i))
        if tr.steps:
            target = min(target, len(tr.steps) - 1)
            table.move_cursor(row=target, animate=False, scroll=False)
            # the rows on screen do not depend on how often the table was
            # refilled or resized before
            table.show_cursor_row()
            self.call_after_refresh(table.show_cursor_row)

    def _summary(self, tr) -> RichTable:
        grid, hint = summary(tr, self.explanation, self.model, self.logged_reply)
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
        out.update(Group(*step_parts(tr, index, self.explanation, self.model, self.logged_reply)))
        self.query_one("#step-detail-scroll").scroll_home(animate=False)
