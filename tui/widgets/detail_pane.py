"""The detail pane (right side): everything about the selected tree node.

For a parameter: raw and expanded value, where it came from, what it refers
to and what refers to it, a one-line description and the warnings that
concern it. For a table: type, file, state, who uses it, and a field to look
a key up. Presentation only: the app computes and passes the data.
"""
from __future__ import annotations

import os
import re
import stat

from rich.console import Group
from rich.table import Table as RichTable
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from tui.core.analysis import inventory, lint
from tui.widgets.config_tree import NodeRef, STATE_STYLE
from tui.widgets.descriptions import describe
from tui.widgets import engine as E


def _kv(rows: list[tuple[str, object]]) -> RichTable:
    t = RichTable.grid(padding=(0, 1))
    t.add_column(style="bold dim", no_wrap=True)
    t.add_column(overflow="fold")
    for k, v in rows:
        t.add_row(k, v if isinstance(v, Text) else Text(str(v)))
    return t


def _title(text: str, sub: str = "") -> Text:
    t = Text(text, style="bold reverse")
    if sub:
        t.append("  " + sub, style="dim")
    return t


def _warnings(ws) -> list:
    out = []
    for w in ws:
        style = "bold red" if w.severity == "error" else "yellow"
        t = Text("⚠ ", style=style)
        t.append(w.message)
        if w.where and w.where not in w.message:
            t.append(f"  ({w.where})", style="dim")
        out.append(t)
    return out


class DetailPane(VerticalScroll):
    """Shows the selected node; has a lookup field for table nodes."""

    DEFAULT_CSS = """
    DetailPane #lookup { display: none; }
    DetailPane.-table #lookup { display: block; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = None
        self.ref: NodeRef | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Select something in the tree.", style="dim"), id="detail-body")
        yield Input(placeholder="look a key up in this table (Enter)", id="lookup", compact=True)
        yield Static("", id="lookup-result")

    @property
    def body(self) -> Static:
        return self.query_one("#detail-body", Static)

    def show_text(self, text: Text | str) -> None:
        self.ref = None
        self.remove_class("-table")
        self.body.update(text)
        self.query_one("#lookup-result", Static).update("")

    def show(self, ref: NodeRef | None, model) -> None:
        self.model = model
        self.ref = ref
        self.set_class(ref is not None and ref.kind == "table", "-table")
        self.query_one("#lookup-result", Static).update("")
        if ref is None or model is None or model.cfg is None:
            return
        render = getattr(self, f"_render_{ref.kind.replace('-', '_')}", None)
        try:
            content = render(ref, model) if render else Text(ref.key or ref.kind)
        except Exception as exc:  # never let one odd node take the app down
            content = Text(f"cannot show this node: {exc}", style="red")
        self.body.update(content)
        self.scroll_home(animate=False)

    # -- renderers ---------------------------------------------------------

    def _param_group(self, name: str, view, model, service: str | None = None) -> Group:
        raw = view.raw(name)
        if raw is None:
            return Group(_title(name), Text("Postfix does not know this parameter.", style="yellow"))
        src = view.source(name)
        try:
            expanded = view.expand(name)
        except Exception as exc:
            expanded = f"(cannot expand: {exc})"
        rows: list[tuple[str, object]] = [
            ("raw", Text(" ".join(raw.split()) or "(empty)", style="" if raw else "dim")),
        ]
        classes = lint.restriction_classes(model.cfg)
        if name in lint.RESTRICTION_LISTS or name in classes:
            items = lint.restriction_items(view, name, classes)
            lst = Text()
            for pos, text, note in items:
                if lst:
                    lst.append("\n")
                lst.append(f"{pos:>2} ", style="dim")
                lst.append(model.display_path(text),
                           style="bold red" if note.startswith("unknown") else
                           ("dim strike" if note.startswith("never") else ""))
                if note:
                    lst.append(f"  ← {note}", style="yellow")
            rows.append(("entries", lst if items else Text("(empty: nothing is checked)", style="dim")))
        elif expanded != raw:
            rows.append(("expanded", Text(expanded or "(empty)", style="green" if expanded else "dim")))
        src_text = Text(str(src), style="cyan" if src.kind in ("main.cf", "master.cf") else "dim")
        if src.path and src.kind in ("main.cf", "master.cf") and \
                model.display_path(src.path) not in ("main.cf", "master.cf"):
            src_text.append(f"   {src.path}", style="dim")
        rows.append(("from", src_text))
        if service:
            main_raw = view.main.raw(name) if hasattr(view, "main") else None
            if main_raw is not None and main_raw != raw:
                rows.append(("main.cf has", Text(main_raw or "(empty)", style="dim")))
        refs = model.refers_to(name, raw)
        if refs:
            rows.append(("refers to", Text(", ".join("$" + r for r in refs), style="magenta")))
        back = model.referred_by(name)
        if back:
            shown = back[:12]
            t = Text(", ".join(shown), style="magenta")
            if len(back) > len(shown):
                t.append(f" and {len(back) - len(shown)} more", style="dim")
            rows.append(("used by", t))
        tables = [s for s in model.tables_of_param(name)]
        if tables:
            rows.append(("tables", Text("\n".join(f"{model.display_spec(s)}  {model.table_state(s)[0]}"
                                                  for s in tables))))
        parts: list = [_title(name, "-o on " + service if service else ""), _kv(rows)]
        desc = describe(name)
        if desc:
            parts += [Text(""), Text(desc, style="italic")]
        ws = [w for w in model.warnings if w.param == name or (w.domain and f"({name})" in w.message)]
        ws += [w for s in tables for w in model.warnings if w.table == s]
        diags = model.diagnostics_for(src)
        if ws or diags:
            parts.append(Text(""))
            parts += _warnings(ws)
            for d in diags:
                parts.append(Text(f"⚠ {d}", style="yellow"))
        return Group(*parts)

    def _render_param(self, ref: NodeRef, model):
        return self._param_group(ref.key, model.cfg.params(), model)

    def _render_override(self, ref: NodeRef, model):
        svc = model.cfg.service(ref.service) if ref.service else None
        view = model.cfg.params(svc) if svc is not None else model.cfg.params()
        return self._param_group(ref.key, view, model, service=ref.service)

    def _render_service(self, ref: NodeRef, model):
        svc = ref.extra
        rows = [
            ("type", svc.type), ("private", svc.private), ("unpriv", svc.unpriv),
            ("chroot", svc.chroot), ("wakeup", svc.wakeup), ("maxproc", svc.maxproc),
            ("command", Text(" ".join([svc.command] + list(svc.args)), style="cyan")),
            ("from", Text(f"master.cf:{svc.line}", style="cyan")),
        ]
        parts: list = [_title(f"{svc.name} {svc.type}", "master.cf service"), _kv(rows)]
        if svc.overrides:
            parts.append(Text(""))
            parts.append(Text("overrides (this service only):", style="bold"))
            t = RichTable.grid(padding=(0, 1))
            t.add_column(style="bold", no_wrap=True)
            t.add_column(overflow="fold")
            t.add_column(style="dim", no_wrap=True)
            for k, (v, src) in svc.overrides.items():
                t.add_row(k, v or Text("(empty)", style="dim"), f":{src.line}" if src.line else "")
            parts.append(t)
        if svc.type == "inet" and getattr(svc, "process_name", svc.command) == "smtpd":
            parts += [Text(""), Text("An smtpd service: it can be traced (press t).", style="italic dim")]
        return Group(*parts)

    def _render_table(self, ref: NodeRef, model):
        tref = ref.extra
        state, msg = model.table_state(tref.spec)
        rows: list[tuple[str, object]] = [
            ("spec", Text(model.display_spec(tref.spec))),
            ("type", tref.type + ("  (through proxymap)" if tref.spec.startswith("proxy:") else "")),
            ("state", Text(state + (f": {msg}" if msg else ""), style=STATE_STYLE.get(state, ""))),
        ]
        if tref.path:
            rows.append(("file", tref.path))
            try:
                st = os.stat(tref.path)
                rows.append(("mode", f"{stat.filemode(st.st_mode)}  ({stat.S_IMODE(st.st_mode):04o})"))
            except OSError as exc:
                rows.append(("mode", Text(exc.strerror or str(exc), style="red")))
        count = model.table_counts.get(tref.spec)
        if count is not None:
            rows.append(("entries", str(count)))
        used = Text()
        for i, (p, where) in enumerate(tref.used_by):
            if i:
                used.append("\n")
            used.append(p, style="bold")
            used.append(f"  {where}", style="dim")
        rows.append(("used by", used))
        parts: list = [_title("lookup table"), _kv(rows)]
        if tref.type in ("mysql", "sqlite", "pgsql") and tref.path:
            cf, err = inventory.cf_settings(tref.path)
            settings = {k: v for k, (v, _line) in cf.items()}
            if settings:
                parts.append(Text(""))
                parts.append(Text("settings (.cf):", style="bold"))
                t = RichTable.grid(padding=(0, 1))
                t.add_column(style="bold", no_wrap=True)
                t.add_column(overflow="fold")
                for k, v in settings.items():
                    if k in inventory.SECRET_SETTINGS:
                        v = "(set, not shown)" if v else "(empty)"
                    t.add_row(k, inventory.scrub(v, model.secrets))
                parts.append(t)
        ws = [w for w in model.warnings if w.table == tref.spec]
        if ws:
            parts.append(Text(""))
            parts += _warnings(ws)
        parts.append(Text(""))
        parts.append(Text("Enter opens its entries (paged); / filters them.", style="dim italic"))
        return Group(*parts)

    def _render_entry(self, ref: NodeRef, model):
        spec, e = ref.extra
        rows = [("key", Text(e.key, style="bold")), ("value", e.value or "")]
        if e.line:
            rows.append(("line", f"{model.display_spec(spec)}:{e.line}"))
        rows.append(("table", model.display_spec(spec)))
        return Group(_title("table entry"), _kv(rows))

    def _render_pfa(self, ref: NodeRef, model):
        pfa = ref.extra or model.pfa
        if pfa is None:
            return Text("PostfixAdmin: loading…", style="dim")
        rows = [("database", inventory.scrub(model.display_path(pfa.source), model.secrets)),
                ("settings from", model.display_path(pfa.via))]
        parts: list = [_title("PostfixAdmin", "read with the configuration's own SQL settings"), _kv(rows)]
        if pfa.error:
            parts += [Text(""), Text("⚠ " + inventory.scrub(pfa.error, model.secrets), style="bold red")]
        else:
            parts += [Text(""), Text(f"{len(pfa.domains)} domains, {len(pfa.mailboxes)} mailboxes, "
                                     f"{len(pfa.aliases)} aliases, {len(pfa.alias_domains)} alias domains")]
        return Group(*parts)

    def _render_pfa_item(self, ref: NodeRef, model):
        kind, item = ref.extra
        if kind == "domain":
            d = item
            rows = [("domain", Text(d.domain, style="bold")), ("description", d.description),
                    ("active", "yes" if d.active else Text("no", style="yellow")),
                    ("backup MX", "yes (relay_domains)" if d.backupmx else "no")]
            cls = model.class_of(d.domain)
            if cls:
                rows.append(("address class", Text(cls, style="cyan")))
            return Group(_title("PostfixAdmin domain"), _kv(rows))
        if kind == "mailbox":
            u, m, a = item
            return Group(_title("PostfixAdmin mailbox"),
                         _kv([("username", Text(u, style="bold")), ("maildir", m),
                              ("active", "yes" if a else Text("no", style="yellow"))]))
        if kind == "alias":
            a, g, act = item
            tgt = Text("\n".join(x.strip() for x in g.split(",") if x.strip()))
            rows = [("address", Text(a, style="bold")), ("goes to", tgt),
                    ("active", "yes" if act else Text("no", style="yellow"))]
            if a.startswith("@"):
                rows.append(("note", "catch-all: every address of the domain without its own alias"))
            return Group(_title("PostfixAdmin alias"), _kv(rows))
        a, t, act = item
        return Group(_title("PostfixAdmin alias domain"),
                     _kv([("alias domain", Text(a, style="bold")), ("target", t),
                          ("active", "yes" if act else Text("no", style="yellow")),
                          ("means", f"user@{a} is delivered as user@{t}")]))

    def _render_pfa_group(self, ref: NodeRef, model):
        return Text(f"PostfixAdmin {ref.key}", style="bold")

    def _render_class(self, ref: NodeRef, model):
        c = ref.extra
        rows = [("decided by", Text(c.param, style="bold")),
                ("literal", ", ".join(c.literals) or Text("(none)", style="dim")),
                ("tables", "\n".join(model.display_spec(s) for s in c.tables) or Text("(none)", style="dim")),
                ("from tables", ", ".join(c.members) or Text("(none found)", style="dim"))]
        parts: list = [_title(f"{c.name} address class"), _kv(rows)]
        for e in c.errors:
            parts.append(Text("⚠ " + inventory.scrub(e, model.secrets), style="bold red"))
        parts += [Text(""), Text("Domains found in tables are the PostfixAdmin and map domains this "
                                 "table answers for, asked through the table itself.", style="dim italic")]
        return Group(*parts)

    def _render_class_item(self, ref: NodeRef, model):
        c = ref.extra
        parts: list = [_title(ref.key, f"{c.name} class"),
                       _kv([("because of", Text(c.param, style="bold"))])]
        parts += _warnings([w for w in model.warnings if w.domain == ref.key])
        return Group(*parts)

    def _render_table_link(self, ref: NodeRef, model):
        for tref in model.refs:
            if tref.spec == ref.key:
                return self._render_table(NodeRef("table", tref.spec, extra=tref), model)
        return Text(ref.key)

    def _render_section(self, ref: NodeRef, model):
        texts = {
            "main.cf": "Parameters set in main.cf, in file order. 'all parameters' (a) lists every "
                       "parameter Postfix knows, defaults included.",
            "master.cf": "Services of master.cf and their -o overrides, which apply to that service only.",
            "tables": "Every lookup table the configuration names, with its state: ok, stale (the "
                      "compiled file is older than its source), unreadable, or not evaluated.",
            "classes": "Which recipient domains are local, virtual alias, virtual mailbox or relay.",
        }
        parts: list = [_title(ref.key), Text(texts.get(ref.key, ""))]
        if ref.key == "main.cf":
            parts += [Text("")] + [Text(f"⚠ {d}", style="yellow") for d in model.cfg.diagnostics[:20]]
            parts += _warnings([w for w in model.warnings if w.param and not w.table][:20])
        return Group(*parts)

    def _render_warning(self, ref: NodeRef, model):
        w = ref.extra
        parts: list = [_title("warning")]
        if hasattr(w, "message") and hasattr(w, "where") and not hasattr(w, "path"):
            parts += _warnings([w])
            target = w.table or (w.param if not w.domain else None)
            if target:
                parts += [Text(""), Text(f"Enter: show {model.display_spec(target)}", style="dim italic")]
        else:  # a Diagnostic of the configuration loader
            parts.append(Text(str(w), style="yellow"))
        return Group(*parts)

    def _render_allparams(self, ref: NodeRef, model):
        return Text("Every parameter Postfix knows, defaults included. Dim names are defaults.")

    def _render_more(self, ref: NodeRef, model):
        return Text("Enter loads the next page of entries.", style="dim")

    def _render_message(self, ref: NodeRef, model):
        return Text(ref.key)

    # -- lookups -----------------------------------------------------------

    @on(Input.Submitted, "#lookup")
    def _lookup_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.ref is None or self.ref.kind != "table" or self.model is None:
            return
        key = event.value.strip()
        if not key:
            return
        self.query_one("#lookup-result", Static).update(Text(f"looking up {key}…", style="dim italic"))
        self._run_lookup(self.ref.key, key)

    @work(thread=True, exclusive=True, group="lookup")
    def _run_lookup(self, spec: str, key: str) -> None:
        model = self.model
        try:
            t = model.get_table(spec)
            r = t.lookup(key)
            if r.error:
                out = Text(f"{key}: error: {inventory.scrub(r.error, model.secrets)}", style="bold red")
            elif r.found:
                out = Text.assemble((key, "bold"), (" → ", "dim"), (r.value or "", "green"))
                if r.where:
                    out.append(f"\n{inventory.scrub(r.where, model.secrets)}", style="dim")
            else:
                out = Text(f"{key}: not found", style="yellow")
        except E.EngineMissing as exc:
            out = Text(str(exc), style="yellow")
        except Exception as exc:
            out = Text(f"lookup failed: {inventory.scrub(str(exc), model.secrets)}", style="red")
        self.app.call_from_thread(self.query_one("#lookup-result", Static).update, out)
