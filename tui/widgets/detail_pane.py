"""The detail pane (right side): everything about the selected tree node.

For a parameter: raw and expanded value, where it came from, what it refers
to and what refers to it, a one-line description and the warnings that
concern it. For a table: type, file, state, who uses it, and a field to look
a key up. Presentation only: the app computes and passes the data.
"""
from __future__ import annotations

import os
import stat

from rich.console import Group
from rich.table import Table as RichTable
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from tui.core.text import scrub
from tui.core.analysis import inventory, lint
from tui.widgets.tree_nodes import NodeRef, STATE_STYLE
from tui.widgets.descriptions import describe
from tui.widgets import background
from tui.widgets.text import lit, visible


def _kv(rows: list[tuple[str, object]]) -> RichTable:
    t = RichTable.grid(padding=(0, 1))
    t.add_column(style="bold dim", no_wrap=True)
    t.add_column(overflow="fold")
    for k, v in rows:
        t.add_row(lit(k), v if isinstance(v, Text) else lit(v, multiline=True))
    return t


def _break_name(item: str, width: int) -> str:
    """ITEM broken after ':' or '/' when it is wider than WIDTH, so a narrow
    pane never cuts a table or file name in the middle of a word."""
    lines = []
    while len(item) > width > 8:
        cut = max(item.rfind(":", 0, width), item.rfind("/", 0, width))
        if cut <= 0:
            break
        lines.append(item[: cut + 1])
        item = item[cut + 1:]
    lines.append(item)
    return "\n".join(lines)


def _one_per_line(value: str, width: int = 0) -> str:
    """A long list value one item per line, so a narrow pane wraps between
    items instead of in the middle of a table name."""
    value = " ".join((value or "").split())
    if len(value) > 40 and "," in value:
        items = [i.strip() for i in value.split(",") if i.strip()]
        value = ",\n".join(items)
    if width:
        value = "\n".join(" ".join(_break_name(w, width) if len(w) > width else w for w in line.split(" "))
                          for line in value.split("\n"))
    return value


def _title(text: str, sub: str = "") -> Text:
    t = lit(text, "bold reverse")
    if sub:
        t.append_text(lit("  " + sub, "dim"))
    return t


def _warnings(ws, model=None) -> list:
    out = []
    for w in ws:
        style = "bold red" if w.severity == "error" else "yellow"
        t = Text("⚠ ", style=style)
        t.append_text(lit(model.display_path(w.message) if model is not None else w.message))
        if w.where and w.where not in w.message:
            t.append_text(lit(f"  ({w.where})", "dim"))
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
        self.can_focus = True
        self.body.update(text)
        self.query_one("#lookup-result", Static).update("")

    def show(self, ref: NodeRef | None, model) -> None:
        self.model = model
        self.ref = ref
        is_table = ref is not None and ref.kind == "table"
        self.set_class(is_table, "-table")
        # Tab from the tree lands in the lookup field of a table at once;
        # elsewhere it lands here, where the arrows and PageDown scroll
        self.can_focus = not is_table
        self.query_one("#lookup-result", Static).update("")
        if ref is None or model is None or model.cfg is None:
            return
        render = getattr(self, f"_render_{ref.kind.replace('-', '_')}", None)
        try:
            content = render(ref, model) if render else lit(ref.key or ref.kind)
        except Exception as exc:  # never let one odd node take the app down
            content = lit(f"cannot show this node: {type(exc).__name__}: {exc}", "red")
        self.body.update(content)
        self.scroll_home(animate=False)

    # -- renderers ---------------------------------------------------------

    def _value_width(self) -> int:
        """Columns left for a value next to its key (keys are up to 11 wide)."""
        return max((self.size.width or 60) - 2 - 12 - 1, 20)

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
            ("raw", lit(_one_per_line(model.display_path(raw), self._value_width()) or "(empty)",
                        "" if raw else "dim", multiline=True)),
        ]
        classes = lint.restriction_classes(model.cfg)
        if name in lint.RESTRICTION_LISTS or name in classes:
            items = lint.restriction_items(view, name, classes)
            lst = Text()
            for pos, text, note in items:
                if lst:
                    lst.append("\n")
                lst.append(f"{pos:>2} ", style="dim")
                lst.append(visible(model.display_path(text)),
                           style="bold red" if note.startswith("unknown") else
                           ("dim strike" if note.startswith("never") else ""))
                if note:
                    lst.append(f"  ← {note}", style="yellow")
            rows.append(("entries", lst if items else Text("(empty: nothing is checked)", style="dim")))
        elif expanded != raw:
            rows.append(("expanded", lit(_one_per_line(model.display_path(expanded), self._value_width())
                                         or "(empty)", "green" if expanded else "dim", multiline=True)))
        src_text = lit(str(src), "cyan" if src.kind in ("main.cf", "master.cf") else "dim")
        if src.path and src.kind in ("main.cf", "master.cf") and \
                model.display_path(src.path) not in ("main.cf", "master.cf"):
            src_text.append_text(lit(f"   {src.path}", "dim"))
        rows.append(("from", src_text))
        if service:
            main_raw = view.main.raw(name) if hasattr(view, "main") else None
            if main_raw is not None and main_raw != raw:
                rows.append(("main.cf has", lit(main_raw or "(empty)", "dim")))
        refs = model.refers_to(name, raw)
        if refs:
            rows.append(("refers to", lit(", ".join("$" + r for r in refs), "magenta")))
        back = model.referred_by(name)
        if back:
            shown = back[:12]
            t = lit(", ".join(shown), "magenta")
            if len(back) > len(shown):
                t.append(f" and {len(back) - len(shown)} more", style="dim")
            rows.append(("used by", t))
        tables = [s for s in model.tables_of_param(name)]
        if tables:
            rows.append(("tables", lit("\n".join(f"{_break_name(model.display_spec(s), self._value_width())}"
                                                 f"  {model.table_state(s)[0]}" for s in tables),
                                       multiline=True)))
        parts: list = [_title(name, "-o on " + service if service else ""), _kv(rows)]
        desc = describe(name)
        if desc:
            parts += [Text(""), lit(desc, "italic")]
        ws = [w for w in model.warnings if w.param == name or (w.domain and f"({name})" in w.message)]
        ws += [w for s in tables for w in model.warnings if w.table == s]
        diags = model.diagnostics_for(src)
        if ws or diags:
            parts.append(Text(""))
            parts += _warnings(ws, model)
            for d in diags:
                parts.append(lit(f"⚠ {model.display_path(str(d))}", "yellow"))
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
            ("command", lit(" ".join([svc.command] + list(svc.args)), "cyan")),
            ("from", lit(f"master.cf:{svc.line}", "cyan")),
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
                t.add_row(lit(k), lit(v) if v else Text("(empty)", style="dim"),
                          Text(f":{src.line}" if src.line else ""))
            parts.append(t)
        if svc.type == "inet" and getattr(svc, "process_name", svc.command) == "smtpd":
            parts += [Text(""), Text("An smtpd service: it can be traced (press t).", style="italic dim")]
        return Group(*parts)

    def _render_table(self, ref: NodeRef, model):
        tref = ref.extra
        state, msg = model.table_state(tref.spec)
        rows: list[tuple[str, object]] = [
            ("spec", lit(model.display_spec(tref.spec))),
            ("type", tref.type + ("  (through proxymap)" if tref.spec.startswith("proxy:") else "")),
            ("state", lit(state + (f": {model.display_path(msg)}" if msg else ""), STATE_STYLE.get(state, ""),
                          multiline=True)),
        ]
        if tref.path:
            # relative to the configuration directory, like every name in the tree
            rows.append(("file", lit(model.display_path(tref.path))))
            try:
                st = os.stat(tref.path)
                rows.append(("mode", f"{stat.filemode(st.st_mode)}  ({stat.S_IMODE(st.st_mode):04o})"))
            except OSError as exc:
                rows.append(("mode", lit(exc.strerror or str(exc), "red")))
        count = model.table_counts.get(tref.spec)
        if count is not None:
            rows.append(("entries", str(count)))
        used = Text()
        for i, (p, where) in enumerate(tref.used_by):
            if i:
                used.append("\n")
            used.append_text(lit(p, "bold"))
            used.append_text(lit(f"  {where}", "dim"))
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
                    t.add_row(lit(k), lit(scrub(v, model.secrets)))
                parts.append(t)
        ws = [w for w in model.warnings if w.table == tref.spec]
        if ws:
            parts.append(Text(""))
            parts += _warnings(ws, model)
        parts.append(Text(""))
        parts.append(Text("Enter opens its entries (paged); / filters them.", style="dim italic"))
        return Group(*parts)

    def _render_entry(self, ref: NodeRef, model):
        spec, e = ref.extra
        rows = [("key", lit(e.key, "bold")), ("value", lit(e.value or "", multiline=True))]
        if e.line:
            rows.append(("line", f"{model.display_spec(spec)}:{e.line}"))
        rows.append(("table", model.display_spec(spec)))
        return Group(_title("table entry"), _kv(rows))

    def _render_pfa(self, ref: NodeRef, model):
        pfa = ref.extra or model.pfa
        if pfa is None:
            return Text("PostfixAdmin: loading…", style="dim")
        rows = [("database", scrub(model.display_path(pfa.source), model.secrets)),
                ("settings from", model.display_path(pfa.via))]
        parts: list = [_title("PostfixAdmin", "read with the configuration's own SQL settings"), _kv(rows)]
        if pfa.error:
            parts += [Text(""), lit("⚠ " + scrub(pfa.error, model.secrets), "bold red", multiline=True)]
        else:
            parts += [Text(""), Text(f"{len(pfa.domains)} domains, {len(pfa.mailboxes)} mailboxes, "
                                     f"{len(pfa.aliases)} aliases, {len(pfa.alias_domains)} alias domains")]
        return Group(*parts)

    def _render_pfa_item(self, ref: NodeRef, model):
        kind, item = ref.extra
        if kind == "domain":
            d = item
            rows = [("domain", lit(d.domain, "bold")), ("description", lit(d.description or "")),
                    ("active", "yes" if d.active else Text("no", style="yellow")),
                    ("backup MX", "yes (relay_domains)" if d.backupmx else "no")]
            cls = model.class_of(d.domain)
            if cls:
                rows.append(("address class", lit(cls, "cyan")))
            return Group(_title("PostfixAdmin domain"), _kv(rows))
        if kind == "mailbox":
            u, m, a = item
            return Group(_title("PostfixAdmin mailbox"),
                         _kv([("username", lit(u, "bold")), ("maildir", lit(m or "")),
                              ("active", "yes" if a else Text("no", style="yellow"))]))
        if kind == "alias":
            a, g, act = item
            tgt = lit("\n".join(x.strip() for x in g.split(",") if x.strip()), multiline=True)
            rows = [("address", lit(a, "bold")), ("goes to", tgt),
                    ("active", "yes" if act else Text("no", style="yellow"))]
            if a.startswith("@"):
                rows.append(("note", "catch-all: every address of the domain without its own alias"))
            return Group(_title("PostfixAdmin alias"), _kv(rows))
        a, t, act = item
        return Group(_title("PostfixAdmin alias domain"),
                     _kv([("alias domain", lit(a, "bold")), ("target", lit(t)),
                          ("active", "yes" if act else Text("no", style="yellow")),
                          ("means", f"user@{a} is delivered as user@{t}")]))

    def _render_pfa_group(self, ref: NodeRef, model):
        return lit(f"PostfixAdmin {ref.key}", "bold")

    def _render_class(self, ref: NodeRef, model):
        c = ref.extra
        rows = [("decided by", lit(c.param, "bold")),
                ("literal", lit(", ".join(c.literals)) if c.literals else Text("(none)", style="dim")),
                ("tables", lit("\n".join(model.display_spec(s) for s in c.tables), multiline=True)
                 if c.tables else Text("(none)", style="dim")),
                ("from tables", lit(", ".join(c.members)) if c.members else Text("(none found)", style="dim"))]
        parts: list = [_title(f"{c.name} address class"), _kv(rows)]
        for e in c.errors:
            parts.append(lit("⚠ " + scrub(e, model.secrets), "bold red", multiline=True))
        parts += [Text(""), Text("Domains found in tables are the PostfixAdmin and map domains this "
                                 "table answers for, asked through the table itself.", style="dim italic")]
        return Group(*parts)

    def _render_class_item(self, ref: NodeRef, model):
        c = ref.extra
        parts: list = [_title(ref.key, f"{c.name} class"),
                       _kv([("because of", lit(c.param, "bold"))])]
        parts += _warnings([w for w in model.warnings if w.domain == ref.key], model)
        return Group(*parts)

    def _render_table_link(self, ref: NodeRef, model):
        for tref in model.refs:
            if tref.spec == ref.key:
                return self._render_table(NodeRef("table", tref.spec, extra=tref), model)
        return lit(ref.key)

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
            parts += [Text("")] + [lit(f"⚠ {model.display_path(str(d))}", "yellow")
                                   for d in model.cfg.diagnostics[:20]]
            parts += _warnings([w for w in model.warnings if w.param and not w.table][:20], model)
        return Group(*parts)

    def _render_warning(self, ref: NodeRef, model):
        w = ref.extra
        parts: list = [_title("warning")]
        if isinstance(w, lint.LintWarning):
            parts += _warnings([w], model)
            rows: list[tuple[str, object]] = []
            if w.param:
                rows.append(("parameter", lit(w.param, "bold")))
            if w.table:
                rows.append(("table", lit(model.display_spec(w.table))))
            if w.domain:
                rows.append(("domain", lit(w.domain)))
            loc = w.location()
            if loc:
                rows.append(("file", lit(model.display_path(loc), "cyan")))
            elif w.where:
                rows.append(("where", lit(w.where, "cyan")))
            if rows:
                parts += [Text(""), _kv(rows)]
            target = w.table or (w.param if not w.domain else None)
            if target:
                parts += [Text(""), lit(f"Enter: show {model.display_spec(target)}", "dim italic")]
        else:  # a Diagnostic of the configuration loader: "path:line: text"
            parts.append(lit(model.display_path(str(w)), "yellow", multiline=True))
            if getattr(w, "path", None) and getattr(w, "line", None):
                parts += [Text(""), Text("Enter: show the line it is about", style="dim italic")]
        return Group(*parts)

    def _render_allparams(self, ref: NodeRef, model):
        return Text("Every parameter Postfix knows, defaults included. Dim names are defaults.")

    def _render_more(self, ref: NodeRef, model):
        return Text("Enter loads the next page of entries.", style="dim")

    def _render_message(self, ref: NodeRef, model):
        return lit(ref.key, multiline=True)

    # -- lookups -----------------------------------------------------------

    class LookedUp(Message):
        def __init__(self, spec: str, result: Text) -> None:
            super().__init__()
            self.spec = spec
            self.result = result

    @on(Input.Submitted, "#lookup")
    def _lookup_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.ref is None or self.ref.kind != "table" or self.model is None:
            return
        key = event.value.strip()
        if not key:
            self.query_one("#lookup-result", Static).update(Text("type a key first", style="yellow"))
            return
        self.query_one("#lookup-result", Static).update(lit(f"looking up {key}…", "dim italic"))
        background.start(f"lookup {self.ref.key}", self._run_lookup, self.model, self.ref.key, key)

    def _run_lookup(self, model, spec: str, key: str) -> None:
        """(background) Ask the table; post the answer."""
        try:
            t = model.get_table(spec)
            r = t.lookup(key)
            if r.error:
                out = lit(f"{key}: error: {scrub(r.error, model.secrets)}", "bold red", multiline=True)
            elif r.found:
                out = lit(key, "bold")
                out.append(" → ", style="dim")
                out.append_text(lit(r.value or "", "green"))
                if r.where:
                    out.append("\n")
                    out.append_text(lit(scrub(model.display_path(r.where), model.secrets), "dim"))
            else:
                out = lit(f"{key}: not found", "yellow")
        except Exception as exc:
            out = lit(f"lookup failed: {scrub(str(exc), model.secrets)}", "red")
        background.post(self, self.LookedUp(spec, out))

    @on(LookedUp)
    def _looked_up(self, event: LookedUp) -> None:
        if self.ref is not None and self.ref.key == event.spec:
            self.query_one("#lookup-result", Static).update(event.result)
