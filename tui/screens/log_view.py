"""The Log view: every refusal in mail logs, grouped by the rule that decides
it today (tui.core.analysis.triage).

    app.push_screen(LogView(["/var/log/mail.log"], cfg), app_callback)

The logs are read in a worker thread (a progress bar shows how far), so keys
keep working while a large log is read. The groups are a table; Enter on a
group lists its transactions; Enter on a transaction closes the view with
that transaction's trace fields (service, client_address, client_name, helo,
sender, recipient), which push_screen's callback receives (None when the
view is left with Esc). `/` filters: free words match anywhere in a group;
`code:554`, `restriction:check_client_access`, `client:203.0.113.7`,
`today:differs` match one field.
"""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, ProgressBar, Static
from rich.text import Text

from tui.widgets.text import lit, visible

TODAY_STYLE = {"same": "green", "differs": "bold red", "undecidable": "yellow"}


def _group_words(g) -> dict[str, str]:
    d = g.decided_by or {}
    clients = " ".join(f"{o.record.client_name}[{o.record.client_address}]" for o in g.occurrences)
    return {
        "code": g.reply[:9],
        "restriction": f"{d.get('entry', '')} {d.get('parameter', '')}",
        "client": clients,
        "today": g.today,
        "service": g.service,
        "stage": g.stage,
    }


def matches(g, text: str) -> bool:
    """Does group g pass the filter TEXT (words; key:value for one field)?"""
    if not text.strip():
        return True
    words = _group_words(g)
    everything = " ".join(list(words.values()) + [g.reply, g.action, g.reason, g.today_reply]).lower()
    for tok in text.lower().split():
        key, sep, val = tok.partition(":")
        if sep and key in words:
            if val not in words[key].lower():
                return False
        elif tok not in everything:
            return False
    return True


class LogView(Screen):
    """Refusals in mail logs, grouped; drill into transactions."""

    DEFAULT_CSS = """
    LogView #log-progress { height: 1; margin: 0 1; }
    LogView #log-summary { height: auto; margin: 0 1; }
    LogView #log-filter { display: none; }
    LogView #log-filter.-visible { display: block; }
    LogView DataTable { height: 1fr; }
    LogView #log-transactions { display: none; }
    LogView #log-transactions.-visible { display: block; }
    LogView #log-groups.-hidden { display: none; }
    """

    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="code:554 restriction:NAME client:ADDR today:differs"),
        Binding("escape", "back", "Back"),
    ]

    class Loaded(Message):
        """The triage finished (result: TriageResult)."""

        def __init__(self, result) -> None:
            super().__init__()
            self.result = result

    def __init__(self, paths, cfg, *, resolver=None, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.paths = [paths] if isinstance(paths, str) else [str(p) for p in paths]
        self.cfg = cfg
        self.resolver = resolver
        self.result = None
        self.shown: list = []          # groups in the table, in row order
        self.group = None              # the group whose transactions are listed

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(lit("reading " + ", ".join(self.paths) + " ..."), id="log-summary")
            yield ProgressBar(id="log-progress", show_eta=False)
            yield Input(placeholder="filter: words, or code:554 restriction:NAME client:ADDR today:differs",
                        id="log-filter", disabled=True)
            yield DataTable(id="log-groups", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="log-transactions", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        g = self.query_one("#log-groups", DataTable)
        g.add_columns("today", "count", "service", "stage", "reply", "decided by", "first", "last")
        t = self.query_one("#log-transactions", DataTable)
        t.add_columns("count", "client", "HELO", "sender", "recipient", "today", "first", "last")
        g.focus()
        self._read(self.query_one("#log-progress", ProgressBar))

    # -- reading (worker thread) ----------------------------------------------

    @work(thread=True, exclusive=True, group="log-view")
    def _read(self, bar: ProgressBar) -> None:
        from tui.core.analysis.triage import Triage

        t = Triage(self.cfg, resolver=self.resolver)
        sizes = []
        for p in self.paths:
            try:
                import os
                sizes.append(os.path.getsize(p) if p != "-" else 0)
            except OSError:
                sizes.append(0)
        total = sum(sizes) or None
        self.app.call_from_thread(bar.update, total=(total or 0) + 100, progress=0)
        done = 0
        for p, size in zip(self.paths, sizes):
            def progress(pos, _size, base=done):
                self.app.call_from_thread(bar.update, progress=base + pos)
            t.read(p, progress)
            done += size
        base = total or 0

        def tracing(i, n):
            self.app.call_from_thread(bar.update, progress=base + (100 * i // max(n, 1)))
        result = t.finish(tracing)
        self.app.call_from_thread(bar.update, progress=base + 100)
        self.post_message(self.Loaded(result))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.result = res = event.result
        differs = sum(1 for g in res.groups if g.today == "differs")
        text = Text()
        text.append(f"{res.lines:,} lines, {sum(g.count for g in res.groups):,} refusals in "
                    f"{len(res.groups)} groups, {res.retraced:,} transactions re-traced, "
                    f"{res.unparsed.count:,} lines not understood")
        if differs:
            text.append(f"  --  {differs} group(s) answered differently today", style="bold red")
        for e in res.errors:
            text.append("\n")
            text.append(visible(e), style="red")
        self.query_one("#log-summary", Static).update(text)
        self._fill_groups()

    # -- tables --------------------------------------------------------------

    def _fill_groups(self) -> None:
        table = self.query_one("#log-groups", DataTable)
        table.clear()
        if self.result is None:
            return
        text = self.query_one("#log-filter", Input).value
        self.shown = [g for g in self.result.groups if matches(g, text)]
        for g in self.shown:
            d = g.decided_by
            decided = f"{d['entry']} ({d['parameter']}{', ' + d['source'] if d.get('source') else ''})" if d else (
                g.reason if g.today == "undecidable" else "")
            today = g.today if g.today != "differs" else f"differs: {g.today_reply}"
            table.add_row(lit(today, TODAY_STYLE.get(g.today, "")), lit(f"{g.count:,}"), lit(g.service),
                          lit(g.stage), lit(g.reply), lit(decided), lit(g.first), lit(g.last))

    def _fill_transactions(self, g) -> None:
        self.group = g
        table = self.query_one("#log-transactions", DataTable)
        table.clear()
        for o in g.occurrences:
            r = o.record
            today = o.today if o.today != "differs" else f"differs: {o.today_reply}"
            table.add_row(lit(f"{o.count:,}"), lit(f"{r.client_name}[{r.client_address}]"),
                          lit(r.helo if r.helo is not None else "(none)"),
                          lit("<>" if r.sender == "" else r.sender if r.sender is not None else ""),
                          lit(r.recipient or ""), lit(today, TODAY_STYLE.get(o.today, "")),
                          lit(o.first), lit(o.last))
        self.query_one("#log-groups").add_class("-hidden")
        table.add_class("-visible")
        table.focus()

    @on(DataTable.RowSelected, "#log-groups")
    def _group_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.shown):
            self._fill_transactions(self.shown[event.cursor_row])

    @on(DataTable.RowSelected, "#log-transactions")
    def _transaction_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        g = self.group
        if g is None or not 0 <= event.cursor_row < len(g.occurrences):
            return
        o = g.occurrences[event.cursor_row]
        r = o.record
        if r.kind == "fatal":
            self.app.notify(f"{visible(r.program)} exited before it answered anyone ({visible(r.text)}): "
                            "there is no transaction to trace", severity="warning", markup=False)
            return
        if o.service is None and r.kind == "reject":
            why = o.reason
            if r.content_check and not why:  # cleanup's header/body checks decided, not smtpd's restrictions
                why = f"cleanup's {(g.decided_by or {}).get('parameter') or r.command + ' checks'} decided it"
            self.app.notify("This refusal cannot be traced: " + visible(why), severity="warning", markup=False)
            return
        self.dismiss(transaction_fields(o))

    # -- keys ------------------------------------------------------------------

    def action_filter(self) -> None:
        f = self.query_one("#log-filter", Input)
        f.disabled = False
        f.add_class("-visible")
        f.focus()

    @on(Input.Changed, "#log-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._fill_groups()

    @on(Input.Submitted, "#log-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.query_one("#log-groups", DataTable).focus()

    def action_back(self) -> None:
        t = self.query_one("#log-transactions", DataTable)
        f = self.query_one("#log-filter", Input)
        if t.has_class("-visible"):
            t.remove_class("-visible")
            self.query_one("#log-groups").remove_class("-hidden")
            self.query_one("#log-groups", DataTable).focus()
            self.group = None
            return
        if f.has_focus or f.value:
            f.value = ""
            f.remove_class("-visible")
            f.disabled = True
            self.query_one("#log-groups", DataTable).focus()
            return
        self.dismiss(None)


def transaction_fields(o) -> dict:
    """The trace pane's fields (tui.widgets.trace_pane.FIELDS, service and
    TLS: as the service requires) for one logged transaction."""
    r = o.record
    return {"service": o.service, "client_address": r.client_address,
            "client_name": r.client_name or "unknown", "helo": r.helo or "",
            "sender": r.sender or "", "recipient": r.recipient or "", "sasl_login": "", "tls": None,
            "log_reply": r.reply}
