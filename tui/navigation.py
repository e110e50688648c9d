"""The app's moves between its views: the tree, the trace, the Log view,
help; Esc's way back; the split; and going to a parameter or a table."""
from __future__ import annotations

from textual.widgets import ContentSwitcher, Input

from tui.widgets.text import visible
from tui.widgets.trace_pane import StepsTable


class Navigation:
    """ExplorerApp's actions that move the user around (a mixin: the
    widgets and the model it reads are ExplorerApp's)."""

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
