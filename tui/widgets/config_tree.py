"""The configuration tree (left side): parameters, services, lookup tables,
the PostfixAdmin view and the address classes.

The tree only presents; the app loads data in workers and calls the
`show_*` / `set_*` methods here. Map entries are never all turned into
nodes: a table node gets one page (PAGE entries) and a "more..." node.
"""
from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.widgets.text import lit
from tui.widgets.tree_nodes import (KEPT_KINDS, PAGE, PARAM_PAGE, STATE_GLYPH, STATE_STYLE, NodeRef, matches, reason,
                                    short)
from tui.widgets.tree_search import TreeSearch
from tui.widgets.tree_sections import LateSections


class ConfigTree(LateSections, TreeSearch, Tree[NodeRef]):
    """Tree of everything the configuration contains."""

    BINDINGS = [
        Binding("a", "toggle_all_params", "All params", tooltip="Show every parameter, defaults included"),
        Binding("m", "more", "More", show=False),
        Binding("left", "collapse_or_parent", "Collapse", show=False),
        Binding("right", "expand_node", "Expand", show=False),
    ]

    class TableExpanded(Message):
        """A table node was opened (or needs its next page): the app loads entries."""

        def __init__(self, node: TreeNode[NodeRef], offset: int) -> None:
            super().__init__()
            self.node = node
            self.offset = offset

    class AllParamsRequested(Message):
        def __init__(self, node: TreeNode[NodeRef]) -> None:
            super().__init__()
            self.node = node

    def __init__(self, **kwargs) -> None:
        super().__init__("configuration", data=NodeRef("root"), **kwargs)
        self.show_root = False
        self.guide_depth = 3
        self.filter_text: str | None = None
        self.sections: dict[str, TreeNode[NodeRef]] = {}
        self.table_nodes: dict[str, TreeNode[NodeRef]] = {}
        self.param_nodes: dict[str, TreeNode[NodeRef]] = {}
        self.override_nodes: dict[tuple[str, str], TreeNode[NodeRef]] = {}
        self.allparams_node: TreeNode[NodeRef] | None = None

    # -- building ----------------------------------------------------------

    def show_message(self, text: str, style: str = "") -> None:
        self.clear()
        self.root.add_leaf(Text(text, style=style), data=NodeRef("message", text))

    def build(self, model) -> None:
        """(Re)build from the app's ExplorerModel, honouring filter_text."""
        f = self.filter_text
        self._model = model
        self.clear()
        self.sections.clear()
        self.table_nodes.clear()
        self.param_nodes.clear()
        self.override_nodes.clear()
        self.allparams_node = None
        cfg = model.cfg
        main = cfg.params()

        # main.cf ----------------------------------------------------------
        index = self._param_index(model)
        explicit = [n for n, _h in index]
        shown = [n for n, h in index if not f or f.lower() in h]
        sec = self.root.add(Text.assemble(("main.cf", "bold"), (f"  {len(explicit)} set", "dim")),
                            data=NodeRef("section", "main.cf"), expand=True)
        self.sections["main.cf"] = sec
        self._warned = {w.param for w in model.warnings if w.param}
        for n in shown[:PARAM_PAGE]:
            self.param_nodes[n] = sec.add_leaf(self._param_label(n, main.raw(n) or "", model),
                                               data=NodeRef("param", n))
        if len(shown) > PARAM_PAGE:
            rest = f"{len(shown) - PARAM_PAGE} more — type / and part of a name to narrow"
            sec.add_leaf(Text(rest, style="dim italic"), data=NodeRef("message", rest))
        total = len(main.names(explicit_only=False))
        ap = sec.add(Text.assemble(("all parameters", "italic"), (f"  {total}, defaults included  [a]", "dim")),
                     data=NodeRef("allparams", "all"))
        self.allparams_node = ap
        if f or model.show_all:
            self.fill_all_params(model)
            ap.expand()

        # master.cf --------------------------------------------------------
        services = list(getattr(cfg, "services", []))
        sec = self.root.add(Text.assemble(("master.cf", "bold"), (f"  {len(services)} services", "dim")),
                            data=NodeRef("section", "master.cf"), expand=True)
        self.sections["master.cf"] = sec
        for svc in services:
            ov_text = " ".join(f"{k}={v}" for k, (v, _s) in svc.overrides.items())
            if not (matches(f"{svc.name} {svc.type} {svc.command}", f) or (f and matches(ov_text, f))):
                continue
            lab = lit(svc.name, "bold" if svc.command == "smtpd" else "")
            lab.append_text(lit(f" {svc.type} ", "dim"))
            lab.append_text(lit(svc.command, "cyan"))
            if svc.overrides:
                lab.append(f"  {len(svc.overrides)} -o", style="dim")
            data = NodeRef("service", svc.name, extra=svc)
            if svc.overrides:
                node = sec.add(lab, data=data, expand=bool(f))
                for k, (v, _s) in svc.overrides.items():
                    if f and not matches(f"{svc.name} {k} {v}", f):
                        continue
                    ol = Text("-o ", style="dim")
                    ol.append_text(lit(k, "bold"))
                    ol.append("=", style="dim")
                    ol.append_text(lit(short(v, 40)))
                    self.override_nodes[(svc.name, k)] = node.add_leaf(
                        ol, data=NodeRef("override", k, extra=(v, _s), service=svc.name))
            else:
                sec.add_leaf(lab, data=data)

        # lookup tables ----------------------------------------------------
        refs = model.refs
        sec = self.root.add(Text.assemble(("lookup tables", "bold"), (f"  {len(refs)}", "dim")),
                            data=NodeRef("section", "tables"), expand=True)
        self.sections["tables"] = sec
        for ref in refs:
            users = " ".join(p for p, _w in ref.used_by)
            expanded_before = ref.spec in model.expanded_tables
            label = self._table_label(ref, model)
            if f and not (matches(f"{label.plain} {model.display_spec(ref.spec)} {users}", f)
                          or expanded_before):
                continue
            node = sec.add(label, data=NodeRef("table", ref.spec, extra=ref))
            node.data.search = f if (f and expanded_before) else None
            self.table_nodes[ref.spec] = node
            if expanded_before:
                node.expand()  # NodeExpanded loads (and searches) its entries

        # PostfixAdmin -----------------------------------------------------
        self.build_pfa(model)
        # address classes --------------------------------------------------
        self.build_classes(model)
        # warnings (first) -------------------------------------------------
        self.build_warnings(model)
        self.prune()
        if f and not self.root.children:
            self.root.add_leaf(lit(f"no matches for {f!r} — Esc clears the filter", "yellow italic"),
                               data=NodeRef("message", "no matches"))

    def _param_index(self, model) -> list[tuple[str, str]]:
        """main.cf's parameters in file order with the lower-case text the
        filter matches (name = value as shown), computed once per model: a
        main.cf with 200,000 parameters is filtered without re-reading it."""
        cache = getattr(self, "_index_cache", None)
        if cache is not None and cache[0] is model:
            return cache[1]
        main = model.cfg.params()
        names = sorted(main.names(explicit_only=True), key=lambda n: main.source(n).line or 0)
        index = [(n, f"{n} = {model.display_path(main.raw(n) or '')}".lower()) for n in names]
        self._index_cache = (model, index)
        return index

    def prune(self) -> None:
        """With a filter, drop the sections and groups where nothing matched."""
        if not self.filter_text:
            return

        def walk(node: TreeNode[NodeRef]) -> bool:
            for child in list(node.children):
                if not walk(child):
                    child.remove()
            kind = node.data.kind if node.data else ""
            if node is self.root or kind in KEPT_KINDS:
                return True
            if kind == "pfa" and node.data.key in ("error", "loading"):
                return True
            if kind == "allparams" and not node.data.children_built:
                return True
            return bool(node.children)

        walk(self.root)
        alive = self._tree_nodes  # noqa: SLF001 -- textual is pinned
        self.sections = {k: n for k, n in self.sections.items() if n.id in alive}
        if self.allparams_node is not None and self.allparams_node.id not in alive:
            self.allparams_node = None

    def _param_label(self, name: str, raw: str, model) -> Text:
        lab = lit(name, "bold")
        lab.append(" = ", style="dim")
        lab.append_text(lit(short(model.display_path(raw), 44), "not bold"))
        warned = getattr(self, "_warned", None)
        if (name in warned) if warned is not None else any(w.param == name for w in model.warnings):
            lab.append(" ⚠", style="yellow")
        return lab

    @staticmethod
    def _table_name(ref, model) -> tuple[str, str]:
        """(name, type) as the label shows them: the part that tells tables
        apart first, so six proxy:sqlite tables stay distinct in a narrow tree."""
        shown = model.display_spec(ref.spec)
        kind, sep, name = shown.rpartition(":")
        if not sep or not name or "{" in shown:
            return shown, ""
        return name, kind

    def _fit_names(self, model) -> dict[str, str]:
        """Table names cut to what the tree has room for (after guides,
        glyph and spaces), each keeping a head and a tail, with the head
        length chosen so that no two cut names read the same."""
        room = (self.size.width or 60) - 10
        cache = getattr(self, "_fit_cache", None)
        if cache is not None and cache[0] is model and cache[1] == room:
            return cache[2]
        names = {r.spec: self._table_name(r, model)[0] for r in model.refs}
        fitted = dict(names)
        long = {spec: n for spec, n in names.items() if len(n) > room >= 12}
        if long:
            for head in range(room // 3, -1, -1):
                cut = {spec: n[:head] + "…" + n[len(n) - (room - head - 1):] for spec, n in long.items()}
                if len(set(cut.values())) == len(cut) and not set(cut.values()) & set(names.values()):
                    break
            fitted.update(cut)
        self._fit_cache = (model, room, fitted)
        return fitted

    def _table_label(self, ref, model) -> Text:
        state, _msg = model.table_state(ref.spec)
        name, kind = self._table_name(ref, model)
        name = self._fit_names(model).get(ref.spec, name)
        style = "bold red" if state in ("unreadable", "error") else ""
        lab = Text(STATE_GLYPH.get(state, "·") + " ", style=STATE_STYLE.get(state, ""))
        lab.append_text(lit(name, style))
        if kind:
            lab.append_text(lit(f"  {kind}", "dim"))
        lab.append(f"  {state}", style=STATE_STYLE.get(state, ""))
        if state in ("unreadable", "error") and _msg:
            lab.append_text(lit(f": {short(reason(_msg), 60)}", "red"))
        return lab

    def on_resize(self, event) -> None:
        # a wider or narrower tree (the split moved): table labels refit
        model = getattr(self, "_model", None)
        if model is not None:
            for spec in list(self.table_nodes):
                self.refresh_table(spec, model)

    def refresh_table(self, spec: str, model) -> None:
        node = self.table_nodes.get(spec)
        if node is not None:
            node.set_label(self._table_label(node.data.extra, model))

    def fill_all_params(self, model) -> None:
        ap = self.allparams_node
        if ap is None or ap.data.children_built:
            return
        main = model.cfg.params()
        f = self.filter_text
        shown = 0
        cache = getattr(self, "_all_cache", None)
        if cache is None or cache[0] is not model:
            names = main.names(explicit_only=False)
            cache = (model, [(n, f"{n} = {model.display_path(main.raw(n) or '')}".lower()) for n in names])
            self._all_cache = cache
        needle = f.lower() if f else None
        for n, hay in cache[1]:
            if needle is not None and needle not in hay:
                continue
            raw = main.raw(n) or ""
            shown += 1
            if shown > PARAM_PAGE * 4:
                continue
            lab = self._param_label(n, raw, model)
            if not main.is_explicit(n):
                lab.stylize("dim", 0, len(n))
            ap.add_leaf(lab, data=NodeRef("param", n, tags=["all"]))
        if shown > PARAM_PAGE * 4:
            rest = f"{shown - PARAM_PAGE * 4} more — type / and part of a name to narrow"
            ap.add_leaf(Text(rest, style="dim italic"), data=NodeRef("message", rest))
        ap.data.children_built = True

    # -- table entries -----------------------------------------------------

    def add_entries(self, node: TreeNode[NodeRef], entries, offset: int, count: int | None,
                    note: str | None = None) -> None:
        ref = node.data
        if node.id not in self._tree_nodes:  # noqa: SLF001 -- rebuilt meanwhile (filter)
            return
        if offset == 0:
            node.remove_children()
        else:
            for child in list(node.children):
                if child.data and child.data.kind == "more":
                    child.remove()
        if note:
            node.add_leaf(lit(note, "dim italic"), data=NodeRef("message", note))
        for e in entries:
            lab = lit(e.key, "bold")
            lab.append("  ")
            lab.append_text(lit(short(e.value or "", 50)))
            if e.line:
                lab.append(f"  :{e.line}", style="dim")
            node.add_leaf(lab, data=NodeRef("entry", e.key, extra=(ref.key, e)))
        ref.loaded = offset + len(entries)
        if len(entries) >= PAGE:
            more = "more…"
            if count is not None and not ref.search:
                more = f"more… ({ref.loaded} of {count} shown)  [m]"
            node.add_leaf(Text(more, style="italic cyan"), data=NodeRef("more", ref.key, extra=node))
        elif offset == 0 and not entries and not note:
            node.add_leaf(lit("no entries" + (f" matching {ref.search!r}" if ref.search else ""),
                              "dim italic"), data=NodeRef("message", "empty"))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        data = event.node.data
        if data is None:
            return
        if data.kind == "table" and not data.children_built:
            data.children_built = True
            event.node.add_leaf(Text("loading…", style="dim italic"), data=NodeRef("message", "loading"))
            self.post_message(self.TableExpanded(event.node, 0))
        elif data.kind == "allparams" and not data.children_built:
            self.post_message(self.AllParamsRequested(event.node))

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeRef]) -> None:
        data = event.node.data
        if data is not None and data.kind == "more":
            self.load_more(event.node)

    def load_more(self, more_node: TreeNode[NodeRef]) -> None:
        table_node = more_node.data.extra
        more_node.set_label(Text("loading…", style="dim italic"))
        self.post_message(self.TableExpanded(table_node, table_node.data.loaded))

    def action_more(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.data and node.data.kind == "more":
            self.load_more(node)
            return
        # from anywhere inside a table: load its next page
        while node is not None and node.data is not None and node.data.kind != "table":
            node = node.parent
        if node is not None and node.data is not None:
            for child in node.children:
                if child.data and child.data.kind == "more":
                    self.load_more(child)
                    return

    def action_toggle_all_params(self) -> None:
        ap = self.allparams_node
        if ap is None:
            return
        if ap.is_expanded:
            ap.collapse()
        else:
            ap.expand()
            self.move_cursor(ap)
            self.scroll_to_node(ap, animate=False)

    # -- navigation --------------------------------------------------------

    def action_collapse_or_parent(self) -> None:
        """Left: close the node under the cursor, or go to its parent."""
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.children:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)
            self.scroll_to_node(node.parent, animate=False)

    def action_expand_node(self) -> None:
        """Right: open the node under the cursor, or step into it."""
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])
