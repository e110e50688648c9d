"""The Textual app: configuration tree, detail pane, trace pane.

`make_app(config_dir)` builds the app (the CLI and the tests use it);
`run_app(args)` runs it for `postfix-explorer [--config-dir DIR | --demo]`.

All slow work -- loading the configuration, opening tables (a MySQL server
may be slow or down), reading PostfixAdmin, paging map entries, evaluating
a trace -- runs in thread workers, with a loading indicator where the result
will appear; the screen never freezes. The workers' code is in tui/loading.py:
they post messages, and the handlers here take the results in on the UI
thread. The moves between views are tui/navigation.py's.
"""
from __future__ import annotations

import signal
import threading
from functools import partial
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, Footer, Header, Input

from tui import loading
from tui.loading import ClassesLoaded, EntriesLoaded, ExplorerModel, Loaded, PfaLoaded, TableChecked
from tui.navigation import Navigation
from tui.widgets import background
from tui.widgets.config_tree import ConfigTree
from tui.widgets.detail_pane import DetailPane
from tui.widgets.text import lit, visible
from tui.widgets.trace_pane import StepsTable, TracePane
from tui.widgets.tree_nodes import PARAM_PAGE


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


class ExplorerApp(Navigation, App):
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
        background.start("load", loading.load, self, self.config_dir)

    # -- what the loaders (tui.loading) post, taken in on the UI thread -----

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
            background.start(f"check {ref.spec}", loading.check_table, self, model, ref)
        if model.pfa_loading:
            background.start("postfixadmin", loading.load_pfa, self, model)
        else:
            background.start("classes", loading.load_classes, self, model, None)

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

    @on(PfaLoaded)
    def _pfa_loaded(self, event: PfaLoaded) -> None:
        if event.model is not self.model:
            return
        self.model.pfa = event.pfa
        self.model.pfa_loading = False
        self.tree.build_pfa(self.model)
        self.tree.build_warnings(self.model)

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
        background.start(f"entries {event.node.data.key}", loading.load_entries, self, self.model,
                         event.node, event.node.data.key, event.offset, event.node.data.search)

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

    # -- a step of the trace names a parameter -------------------------------

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
