"""The Textual app: configuration tree, detail pane, trace pane.

`make_app(config_dir)` builds the app (the CLI and the tests use it);
`run_app(args)` runs it for `postfix-explorer [--config-dir DIR | --demo]`.

All slow work -- loading the configuration, opening tables (a MySQL server
may be slow or down), reading PostfixAdmin, paging map entries, evaluating
a trace -- runs in thread workers, with a loading indicator where the result
will appear; the screen never freezes.
"""
from __future__ import annotations

import os
import re
import signal
import threading
from functools import partial
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Footer, Header, Input

from tui.core.text import scrub
from tui.core.analysis import inventory, lint, postfixadmin
from tui.widgets import background
from tui.widgets import engine as E
from tui.widgets.config_tree import PAGE, PARAM_PAGE, ConfigTree
from tui.widgets.detail_pane import DetailPane
from tui.widgets.text import lit, visible
from tui.widgets.trace_pane import StepsTable, TracePane


# A file map bigger than this is not read before someone opens it (the
# first screen and "settled" must not wait for a million-line map).
BIG_FILE_BYTES = 4 << 20


def _big_file(ref) -> bool:
    if ref.type in ("mysql", "sqlite", "pgsql", "ldap") or not ref.path:
        return False
    try:
        return os.path.getsize(ref.path) > BIG_FILE_BYTES
    except OSError:
        return False


class ExplorerModel:
    """What the app knows about the loaded configuration (no widgets here)."""

    def __init__(self, config_dir: Path, cfg) -> None:
        self.config_dir = Path(config_dir)
        self.cfg = cfg
        self.refs: list[inventory.TableRef] = []
        self.secrets: set[str] = set()
        self.warnings: list[lint.LintWarning] = []
        self.table_objs: dict[str, Any] = {}
        self.table_status: dict[str, tuple[str, str]] = {}
        self.table_counts: dict[str, int | None] = {}
        self.pfa: postfixadmin.PFAView | None = None
        self.pfa_loading = False
        self.classes: list[lint.ClassInfo] | None = None
        self.show_all = False
        self.expanded_tables: set[str] = set()
        self._referred: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    # -- display helpers ---------------------------------------------------

    def display_path(self, path: str) -> str:
        if not path:
            return path
        prefix = str(self.config_dir).rstrip("/") + "/"
        return path.replace(prefix, "")

    def display_spec(self, spec: str) -> str:
        return self.display_path(spec)

    # -- tables ------------------------------------------------------------

    def table_state(self, spec: str) -> tuple[str, str]:
        return self.table_status.get(spec, ("checking", ""))

    def get_table(self, spec: str):
        with self._lock:
            t = self.table_objs.get(spec)
        if t is None:
            t = E.open_table(spec, self.cfg.params())
            with self._lock:
                self.table_objs[spec] = t
        return t

    def tables_of_param(self, name: str) -> list[str]:
        return [r.spec for r in self.refs if any(p == name for p, _w in r.used_by)]

    # -- references --------------------------------------------------------

    @staticmethod
    def _names_in(raw: str) -> list[str]:
        try:
            from tui.core.expand import referenced_names

            return list(dict.fromkeys(referenced_names(raw)))
        except Exception:
            return list(dict.fromkeys(re.findall(r"\$\{?\(?([A-Za-z0-9_]+)", raw or "")))

    def refers_to(self, name: str, raw: str | None) -> list[str]:
        return self._names_in(raw or "")

    def referred_by(self, name: str) -> list[str]:
        if self._referred is None:
            idx: dict[str, list[str]] = {}
            main = self.cfg.params()
            for n in main.names():
                raw = main.raw(n) or ""
                if "$" not in raw:
                    continue
                for r in self._names_in(raw):
                    idx.setdefault(r, []).append(n)
            self._referred = idx
        return self._referred.get(name, [])

    def diagnostics_for(self, src) -> list:
        if src is None or not src.path or not src.line:
            return []
        return [d for d in self.cfg.diagnostics if d.path == src.path and d.line == src.line]

    def class_of(self, domain: str) -> str | None:
        if not self.classes:
            return None
        for c in self.classes:
            if domain in c.literals or domain in c.members:
                return c.name
        return None


class ExplorerCommands(Provider):
    """Command palette: jump to a parameter or a table, open the trace."""

    def _commands(self) -> list[tuple[str, Any, str]]:
        app: ExplorerApp = self.app  # type: ignore[assignment]
        cached = getattr(app, "_palette_commands", None)
        if cached is not None and cached[0] is app.model:
            return cached[1]
        out = self._build(app)
        app._palette_commands = (app.model, out)
        return out

    def _build(self, app) -> list[tuple[str, Any, str]]:
        out: list[tuple[str, Any, str]] = [
            ("Trace: open the trace pane", app.action_trace, "What would smtpd answer?"),
            ("Filter the tree", app.action_filter, "Type to narrow the tree"),
            ("Show all parameters (defaults included)", app.action_all_params, ""),
            ("Help", app.action_help, "Keys and what the panes show"),
        ]
        if app.model is not None and app.model.cfg is not None:
            for n in app.model.cfg.params().names():
                out.append((f"Parameter: {visible(n)}", partial(app.goto_param, n, None), ""))
            for r in app.model.refs:
                out.append((f"Table: {visible(app.model.display_spec(r.spec))}", partial(app.goto_table, r.spec), ""))
        return out

    async def discover(self) -> Hits:
        for name, cb, help_text in self._commands()[:4]:
            yield DiscoveryHit(name, cb, help=help_text)

    async def search(self, query: str) -> Hits:
        # Substring matching (all words, any order): cheap over a thousand
        # parameter names, and what an admin who types "relay_dom" expects.
        matcher = self.matcher(query)
        words = query.lower().split()
        hits = 0
        for name, cb, help_text in self._commands():
            low = name.lower()
            if not all(w in low for w in words):
                continue
            score = 1.0 / (1 + low.find(words[0]) + len(low) / 100) if words else 0.5
            yield Hit(score, matcher.highlight(name), cb, help=help_text)
            hits += 1
            if hits >= 60:
                break


class ExplorerApp(App):
    """postfix-explorer."""

    CSS_PATH = "app.tcss"
    TITLE = "postfix-explorer"
    AUTO_FOCUS = None
    COMMANDS = App.COMMANDS | {ExplorerCommands}
    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter the tree"),
        Binding("t", "trace", "Trace", tooltip="What would smtpd answer?"),
        Binding("l", "open_log", "Log", tooltip="Every refusal in the mail log, explained"),
        Binding("question_mark", "help", "Help"),
        Binding("escape", "back", "Back"),
        Binding("q", "quit", "Quit"),
        # htop and k9s quit on Ctrl+C too (in a text field it copies)
        Binding("ctrl+c", "quit", "Quit", show=False),
        Binding("ctrl+r", "run_trace", "Run", show=False),
        Binding("ctrl+l", "trace_logline", "Log line", show=False),
        Binding("less_than_sign", "resize_split(-4)", "Narrower tree", show=False),
        Binding("greater_than_sign", "resize_split(4)", "Wider tree", show=False),
    ]

    def __init__(self, config_dir: str | Path, *, trace_defaults: dict | None = None,
                 subtitle: str | None = None, log_paths: list[str] | None = None) -> None:
        super().__init__()
        self.config_dir = Path(config_dir)
        # mail logs for the Log view (l); given on the command line (--log),
        # the view opens once the configuration is loaded
        self.log_paths = list(log_paths or [])
        self._open_log_when_loaded = bool(log_paths)
        self.subtitle = subtitle
        self.model: ExplorerModel | None = None
        self.load_error: str | None = None
        self.trace_defaults = trace_defaults or {}
        self.ready = threading.Event()
        self.split_width: int | None = None  # the tree's width once the user changed it

    def check_action(self, action: str, parameters) -> bool | None:
        # In the trace, t would go where the user already is: hide it from
        # the footer there (the footer then fits 80 columns).
        # The same for l (the Log view): it opens from the tree, and the
        # trace's own keys need the room.
        if action in ("trace", "open_log"):
            try:
                return self.query_one("#switcher", ContentSwitcher).current != "trace"
            except Exception:
                return True
        return True

    # -- layout ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with ContentSwitcher(initial="explore", id="switcher"):
            with Horizontal(id="explore"):
                with Vertical(id="left"):
                    yield Input(placeholder="filter (Enter keeps it, Esc clears)", id="filter", compact=True,
                                disabled=True)
                    yield ConfigTree(id="tree")
                yield DetailPane(id="detail")
            yield TracePane(id="trace")
        yield Footer()

    @property
    def settled(self) -> bool:
        """True once every background load (config, tables, PostfixAdmin,
        classes) has finished -- or loading failed."""
        if self.load_error is not None:
            return True
        m = self.model
        return (m is not None and not m.pfa_loading and m.classes is not None
                and all(r.spec in m.table_status for r in m.refs))

    @property
    def tree(self) -> ConfigTree:
        return self.query_one(ConfigTree)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def trace_pane(self) -> TracePane:
        return self.query_one(TracePane)

    def on_mount(self) -> None:
        self.sub_title = visible(self.subtitle or str(self.config_dir))
        self.tree.show_message("loading the configuration…", "dim italic")
        self.tree.loading = True
        self.tree.focus()
        background.start("load", self._load, self.config_dir)

    # -- loading (background threads post messages; handlers change state) --

    class Loaded(Message):
        def __init__(self, model: ExplorerModel | None, error: str | None) -> None:
            super().__init__()
            self.model = model
            self.error = error

    class TableChecked(Message):
        def __init__(self, model, spec: str, state: str, msg: str, count: int | None, warnings: list) -> None:
            super().__init__()
            self.model = model
            self.spec = spec
            self.state = state
            self.msg = msg
            self.count = count
            self.warnings = warnings

    class PfaLoaded(Message):
        def __init__(self, model, pfa) -> None:
            super().__init__()
            self.model = model
            self.pfa = pfa

    class ClassesLoaded(Message):
        def __init__(self, model, classes, overlaps) -> None:
            super().__init__()
            self.model = model
            self.classes = classes
            self.overlaps = overlaps

    class EntriesLoaded(Message):
        def __init__(self, model, node, entries, offset: int, count: int | None, note: str | None) -> None:
            super().__init__()
            self.model = model
            self.node = node
            self.entries = entries
            self.offset = offset
            self.count = count
            self.note = note

    def _load(self, config_dir: Path) -> None:
        """(background) Load the configuration and build the model the UI
        will own from then on."""
        try:
            loaded = E.load(config_dir)
        except Exception as exc:  # a bug in the loader must not take the app down
            background.post(self, self.Loaded(None, f"cannot load {config_dir}: internal error: "
                                                    f"{type(exc).__name__}: {exc}"))
            return
        if loaded.cfg is None:
            background.post(self, self.Loaded(None, loaded.error or "cannot load"))
            return
        model = ExplorerModel(config_dir, loaded.cfg)
        try:
            model.refs = inventory.collect_tables(loaded.cfg)
            model.secrets = inventory.cf_secrets(model.refs, loaded.cfg.params())
            model.warnings = lint.restriction_warnings(loaded.cfg)
            for ref in model.refs:
                model.warnings += lint.table_warnings(ref, None)
        except Exception as exc:  # the tree still shows what loaded
            model.warnings.append(lint.LintWarning(f"analysis failed: {type(exc).__name__}: {exc}"))
        model.pfa_loading = bool(postfixadmin.candidates(model.refs))
        background.post(self, self.Loaded(model, None))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        if event.model is None:
            self._load_failed(event.error or "cannot load")
            return
        model = event.model
        self.model = model
        self.tree.loading = False
        try:
            self.tree.build(model)
        except Exception as exc:
            self.log.error("tree build failed", exc)
            self.tree.show_message(f"cannot show this configuration: internal error: "
                                   f"{type(exc).__name__}: {exc}", "bold red")
        self.tree.move_cursor(self.tree.root.children[0] if self.tree.root.children else None)
        self.tree.focus()
        self.trace_pane.set_model(model)
        if self.trace_defaults:
            self.trace_pane.fill(self.trace_defaults)
        if self._open_log_when_loaded:
            self._open_log_when_loaded = False
            self.call_after_refresh(self.action_open_log)
        # The background reads (table probes, PostfixAdmin, classes) start
        # once the tree is on screen: started here they competed with the
        # first paint for the GIL (1.0 s -> 2.1 s on the large configuration
        # of scripts/bench.py).
        self.call_after_refresh(self._start_background, model)
        self.ready.set()

    def _load_failed(self, message: str) -> None:
        self.load_error = message
        self.tree.loading = False
        self.tree.show_message(message, "bold red")
        self.detail.show_text(lit(message, "bold red", multiline=True))
        self.ready.set()

    def _start_background(self, model: ExplorerModel) -> None:
        if model is not self.model:
            return
        # one thread per table: a table stuck in a read keeps only its own
        # node "checking", never the tables after it
        for ref in model.refs:
            background.start(f"check {ref.spec}", self._check_table, model, ref)
        if model.pfa_loading:
            background.start("postfixadmin", self._load_pfa, model)
        else:
            background.start("classes", self._load_classes, model, None)

    def _check_table(self, model: ExplorerModel, ref: inventory.TableRef) -> None:
        state, msg, count = self._probe(model, ref)
        t = model.table_objs.get(ref.spec)
        try:
            ws = [w for w in lint.table_warnings(ref, t and getattr(t, "status", None))
                  if "stale" in w.message]
        except Exception:
            ws = []
        background.post(self, self.TableChecked(model, ref.spec, state, msg, count, ws))

    @staticmethod
    def _probe(model: ExplorerModel, ref: inventory.TableRef) -> tuple[str, str, int | None]:
        try:
            t = model.get_table(ref.spec)
        except Exception as exc:
            return "error", scrub(f"{type(exc).__name__}: {exc}", model.secrets), None
        st = getattr(t, "status", None)
        state = getattr(st, "state", "ok") if st is not None else "ok"
        msg = scrub(getattr(st, "message", "") or "", model.secrets)
        if state in ("ok", "stale") and ref.type in ("mysql", "pgsql", "sqlite"):
            # An SQL table is only known to work once a query ran: ask one.
            try:
                r = t.lookup("postfix-explorer-probe.invalid")
                if r.error:
                    return "unreadable", scrub(r.error, model.secrets), None
            except Exception as exc:
                return "unreadable", scrub(str(exc), model.secrets), None
        try:
            # counting a file map reads all of it: a big one waits until it
            # is opened in the tree (then _load_entries counts it)
            count = t.count() if state in ("ok", "stale") and not _big_file(ref) else None
        except Exception:
            count = None
        return state, msg, count

    @on(TableChecked)
    def _table_checked(self, event: TableChecked) -> None:
        model = event.model
        if model is not self.model:
            return
        model.table_status[event.spec] = (event.state, event.msg)
        if event.spec not in model.table_counts or event.count is not None:
            model.table_counts[event.spec] = event.count
        for w in event.warnings:
            if w not in model.warnings:
                model.warnings.append(w)
        self.tree.refresh_table(event.spec, model)
        if self.settled:
            self.tree.build_warnings(model)
        ref = self.detail.ref
        if ref is not None and ref.kind == "table" and ref.key == event.spec:
            self.detail.show(ref, model)

    def _load_pfa(self, model: ExplorerModel) -> None:
        try:
            pfa = postfixadmin.postfixadmin_view(model.refs, model.secrets,
                                                 opener=lambda s, v: model.get_table(s))
        except Exception as exc:
            pfa = postfixadmin.PFAView(source="?", via="?",
                                       error=scrub(f"{type(exc).__name__}: {exc}", model.secrets))
        background.post(self, self.PfaLoaded(model, pfa))
        self._load_classes(model, pfa)

    @on(PfaLoaded)
    def _pfa_loaded(self, event: PfaLoaded) -> None:
        if event.model is not self.model:
            return
        self.model.pfa = event.pfa
        self.model.pfa_loading = False
        self.tree.build_pfa(self.model)
        self.tree.build_warnings(self.model)

    def _load_classes(self, model: ExplorerModel, pfa) -> None:
        cands: list[str] = []
        if pfa is not None:
            cands += [d.domain.lower() for d in pfa.domains]
            cands += [a.lower() for a, _t, _x in pfa.alias_domains]
        try:
            classes = lint.address_classes(model.cfg, list(dict.fromkeys(cands)),
                                           opener=lambda s, v: model.get_table(s))
        except Exception as exc:
            classes = [lint.ClassInfo("error", "", errors=[scrub(str(exc), model.secrets)])]
        for c in classes:
            c.errors = [scrub(e, model.secrets) for e in c.errors]
        try:
            overlaps = lint.class_overlaps(classes)
        except Exception:
            overlaps = []
        background.post(self, self.ClassesLoaded(model, classes, overlaps))

    @on(ClassesLoaded)
    def _classes_loaded(self, event: ClassesLoaded) -> None:
        if event.model is not self.model:
            return
        self.model.classes = event.classes
        self.model.warnings += event.overlaps
        self.tree.build_classes(self.model)
        self.tree.build_warnings(self.model)

    # -- table entries -----------------------------------------------------

    @on(ConfigTree.TableExpanded)
    def _table_expanded(self, event: ConfigTree.TableExpanded) -> None:
        if self.model is None:
            return
        self.model.expanded_tables.add(event.node.data.key)
        background.start(f"entries {event.node.data.key}", self._load_entries, self.model,
                         event.node, event.node.data.key, event.offset, event.node.data.search)

    def _load_entries(self, model: ExplorerModel, node, spec: str, offset: int, search: str | None) -> None:
        note = None
        entries: list = []
        count = None
        try:
            t = model.get_table(spec)
            st = getattr(t, "status", None)
            if st is not None and st.state in ("unreadable", "not evaluated"):
                note = f"{st.state}: {scrub(st.message, model.secrets)}"
            else:
                entries = list(t.entries(offset, PAGE, search=search or None))
                count = t.count()
                if not entries and offset == 0 and count is None:
                    note = "entries cannot be listed for this table type; look keys up in the detail pane"
        except Exception as exc:
            note = scrub(f"cannot read entries: {exc}", model.secrets)
        background.post(self, self.EntriesLoaded(model, node, entries, offset, count, note))

    @on(EntriesLoaded)
    def _entries_loaded(self, event: EntriesLoaded) -> None:
        if event.model is not self.model:
            return
        if event.count is not None:
            self.model.table_counts[event.node.data.key] = event.count
        self.tree.add_entries(event.node, event.entries, event.offset, event.count, event.note)

    @on(ConfigTree.NodeCollapsed)
    def _node_collapsed(self, event: ConfigTree.NodeCollapsed) -> None:
        data = event.node.data
        if self.model is not None and data is not None and data.kind == "table":
            self.model.expanded_tables.discard(data.key)

    @on(ConfigTree.AllParamsRequested)
    def _all_params(self, event: ConfigTree.AllParamsRequested) -> None:
        if self.model is not None:
            self.tree.fill_all_params(self.model)

    # -- selection ---------------------------------------------------------

    @on(ConfigTree.NodeHighlighted)
    def _node_highlighted(self, event: ConfigTree.NodeHighlighted) -> None:
        if self.model is None:
            return
        self.detail.show(event.node.data, self.model)

    @on(ConfigTree.NodeSelected)
    def _node_selected(self, event: ConfigTree.NodeSelected) -> None:
        data = event.node.data
        if data is None:
            return
        if data.kind == "table-link":
            self.goto_table(data.key)
        elif data.kind == "warning":
            w = data.extra
            if getattr(w, "table", None):
                self.goto_table(w.table)
            elif getattr(w, "param", None) and not getattr(w, "domain", None):
                self.goto_param(w.param)
            elif getattr(w, "path", None) and getattr(w, "line", None):  # a loader Diagnostic
                node = self.tree.find_line(w.path, w.line)
                if node is None and self.model is not None:
                    main = self.model.cfg.params()
                    for n in main.names(explicit_only=True):
                        src = main.source(n)
                        if src.path == w.path and src.line == w.line:
                            node = self.tree.find_param(n, self.model)
                            break
                if node is not None:
                    self.tree.reveal(node)
                    self.detail.show(node.data, self.model)

    # -- filter ------------------------------------------------------------

    def action_filter(self) -> None:
        if self.query_one("#switcher", ContentSwitcher).current != "explore":
            self.action_explore()
        f = self.query_one("#filter", Input)
        f.disabled = False
        f.add_class("-visible")
        f.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        timer = getattr(self, "_filter_timer", None)
        if timer is not None:
            timer.stop()
        big = self.model is not None and len(self.tree.param_nodes) >= PARAM_PAGE
        if big:  # a huge main.cf: filter once typing pauses, not on every key
            self._filter_timer = self.set_timer(0.25, partial(self._apply_filter, event.value))
        else:
            self._apply_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        f = self.query_one("#filter", Input)
        timer = getattr(self, "_filter_timer", None)
        if timer is not None:
            timer.stop()
        self._apply_filter(f.value)
        if not f.value.strip():
            f.remove_class("-visible")
            f.disabled = True
        self.tree.focus()

    def _apply_filter(self, text: str) -> None:
        if self.model is None:
            return
        text = text.strip() or None
        if text == self.tree.filter_text:
            return
        tree = self.tree
        keep = tree.cursor_node.data if tree.cursor_node is not None else None
        tree.filter_text = text
        tree.build(self.model)
        node = tree.find_same(keep) if keep is not None else None
        if node is None:
            node = tree.first_match() if text else (tree.root.children[0] if tree.root.children else None)
        if node is not None:
            tree.reveal(node)
        self._sync_detail()

    def _sync_detail(self) -> None:
        """The detail pane shows the node under the tree's cursor."""
        node = self.tree.cursor_node
        if self.model is not None and node is not None and node.data is not None:
            self.detail.show(node.data, self.model)

    # -- navigation --------------------------------------------------------

    def action_trace(self) -> None:
        switcher = self.query_one("#switcher", ContentSwitcher)
        if switcher.current == "trace":
            return
        switcher.current = "trace"
        self.refresh_bindings()
        pane = self.trace_pane
        if pane.trace is not None:
            pane.query_one(StepsTable).focus()
        else:
            pane.query_one("#client_address", Input).focus()

    def action_open_log(self) -> None:
        """The Log view: the refusals in the mail logs, grouped by the rule
        that decided them and checked against this configuration."""
        if self.model is None:
            self.notify("The configuration is not loaded yet.", severity="warning", markup=False)
            return
        from tui.screens.log_view import LogView  # the Log view's code loads when first opened

        self.push_screen(LogView(self.log_paths or ["/var/log/mail.log"], self.model.cfg), self._traced_from_log)

    def _traced_from_log(self, values: dict | None) -> None:
        """A transaction picked in the Log view: into the trace form, run."""
        if values:
            self.action_trace()
            self.trace_pane.fill(values)
            self.trace_pane.action_run()

    def action_run_trace(self) -> None:
        """Ctrl+R from anywhere: the trace pane, run."""
        self.action_trace()
        self.trace_pane.action_run()

    def action_trace_logline(self) -> None:
        """Ctrl+L from anywhere: the trace pane's log-line field."""
        self.trace_pane.action_focus_logline()

    def action_explore(self) -> None:
        self.query_one("#switcher", ContentSwitcher).current = "explore"
        self.refresh_bindings()
        self.tree.focus()

    def action_back(self) -> None:
        f = self.query_one("#filter", Input)
        if self.query_one("#switcher", ContentSwitcher).current == "trace":
            self.action_explore()
            self.tree.scroll_to_cursor()
            return
        if f.has_focus or f.value:
            timer = getattr(self, "_filter_timer", None)
            if timer is not None:
                timer.stop()
            f.value = ""
            f.remove_class("-visible")
            f.disabled = True
            self._apply_filter("")
            self.tree.focus()
            self.tree.scroll_to_cursor()
            return
        if self.detail.has_focus_within:
            self.tree.focus()
            self.tree.scroll_to_cursor()
            return
        node = self.tree.cursor_node
        if node is not None and node.parent is not None and node.parent is not self.tree.root:
            # k9s-style: Esc in the tree climbs to the enclosing section
            self.tree.reveal(node.parent)
            self._sync_detail()

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_all_params(self) -> None:
        self.action_explore()
        self.tree.action_toggle_all_params()

    def action_resize_split(self, delta: int) -> None:
        """Make the tree wider or narrower (remembered until the app quits)."""
        if self.query_one("#switcher", ContentSwitcher).current != "explore":
            self.notify("The split is between the tree and the detail pane: press Esc to get there.",
                        markup=False)
            return
        left = self.query_one("#left")
        width = self.split_width or left.outer_size.width or 36
        width = max(20, min(width + delta, max(self.size.width - 20, 20)))
        self.split_width = width
        left.styles.width = width
        left.styles.max_width = None

    def goto_param(self, name: str, service: str | None = None) -> None:
        if self.model is None:
            return
        if self.tree.filter_text:
            self.query_one("#filter", Input).value = ""
            self._apply_filter("")
        node = self.tree.find_param(name, self.model, service)
        if node is None:
            self.notify(f"{visible(name)} is not in the tree (a restriction class or a check smtpd makes by itself)",
                        severity="warning", markup=False)
            return
        self.action_explore()
        self.tree.reveal(node)
        self.detail.show(node.data, self.model)

    def goto_table(self, spec: str) -> None:
        if self.model is None:
            return
        node = self.tree.table_nodes.get(spec)
        if node is None and self.tree.filter_text:
            self.query_one("#filter", Input).value = ""
            self._apply_filter("")
            node = self.tree.table_nodes.get(spec)
        if node is None:
            self.notify(f"{visible(spec)} is not in the tree", severity="warning", markup=False)
            return
        self.action_explore()
        self.tree.reveal(node)
        self.detail.show(node.data, self.model)

    @on(StepsTable.GotoParam)
    def _goto_param(self, event: StepsTable.GotoParam) -> None:
        self.goto_param(event.param, event.service)


def make_app(config_dir: str | Path, *, trace_defaults: dict | None = None,
             subtitle: str | None = None, log_paths: list[str] | None = None) -> ExplorerApp:
    """The app for CONFIG_DIR (TRACE_DEFAULTS pre-fills the trace form;
    SUBTITLE replaces the directory in the header; LOG_PATHS are the mail
    logs of the Log view, opened at start when given)."""
    return ExplorerApp(config_dir, trace_defaults=trace_defaults, subtitle=subtitle, log_paths=log_paths)


def run_app(args) -> int:
    config_dir = getattr(args, "config_dir", None) or "/etc/postfix"
    defaults = None
    subtitle = None
    if getattr(args, "demo", False):
        from tui.demo import SEED_CASE

        defaults = dict(SEED_CASE)  # press t, then Enter: the case the project was born from
        subtitle = f"demo ({config_dir})"
    app = make_app(config_dir, trace_defaults=defaults, subtitle=subtitle, log_paths=getattr(args, "log", None))
    try:
        app.run()
    except KeyboardInterrupt:  # a Ctrl-C that reached us while the terminal was being restored
        return 130
    finally:
        # the terminal is ours again: a second Ctrl-C typed while Python
        # finishes must not end in a KeyboardInterrupt traceback
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return app.return_code or 0
