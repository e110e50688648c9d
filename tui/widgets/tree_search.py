"""Finding nodes of the configuration tree again: after a rebuild, for a
parameter, for a main.cf or master.cf line, and showing one."""
from __future__ import annotations

from textual.widgets.tree import TreeNode

from tui.widgets.tree_nodes import KEPT_KINDS, NodeRef, same


class TreeSearch:
    """ConfigTree's ways to find a node (a mixin: what it reads is
    ConfigTree's)."""

    def scroll_to_cursor(self) -> None:
        node = self.cursor_node
        if node is not None:
            self.call_after_refresh(self.scroll_to_node, node, animate=False)

    def find_same(self, ref: NodeRef) -> TreeNode[NodeRef] | None:
        """The node standing for the same thing as REF after a rebuild."""
        if ref.kind == "param" and not ref.tags:
            return self.param_nodes.get(ref.key)
        if ref.kind == "table":
            return self.table_nodes.get(ref.key)
        if ref.kind == "override":
            return self.override_nodes.get((ref.service or "", ref.key))
        if ref.kind == "section":
            return self.sections.get(ref.key)
        stack = list(self.root.children)
        while stack:
            n = stack.pop(0)
            if n.data is not None and same(n.data, ref):
                return n
            if n.is_expanded:
                stack[:0] = list(n.children)
        return None

    def first_match(self) -> TreeNode[NodeRef] | None:
        """The first leaf the filter kept (or the message saying there is none)."""
        node = self.root
        while node.children:
            node = node.children[0]
            if node.data is not None and node.data.kind in KEPT_KINDS:
                return node
        return node if node is not self.root else None

    def reveal(self, node: TreeNode[NodeRef]) -> None:
        p = node.parent
        while p is not None:
            p.expand()
            p = p.parent
        _ = self._tree_lines  # noqa: SLF001 -- rebuild line numbers now (textual is pinned)
        self.move_cursor(node)
        self.call_after_refresh(self.scroll_to_node, node, animate=False)

    def find_line(self, path: str, line: int) -> TreeNode[NodeRef] | None:
        """The parameter or -o override node defined at PATH:LINE."""
        nodes = list(self.param_nodes.values()) + list(self.override_nodes.values())
        for node in nodes:
            d = node.data
            src = d.extra[1] if d.kind == "override" else None
            if d.kind == "override" and src is not None and src.path == path and src.line == line:
                return node
        return None

    def find_param(self, name: str, model, service: str | None = None) -> TreeNode[NodeRef] | None:
        if service and (service, name) in self.override_nodes:
            return self.override_nodes[(service, name)]
        if name in self.param_nodes:
            return self.param_nodes[name]
        main = model.cfg.params()
        sec = self.sections.get("main.cf")
        if sec is not None and not self.filter_text and main.is_explicit(name):
            # beyond the first page of a huge main.cf: give it a node now
            node = sec.add_leaf(self._param_label(name, main.raw(name) or "", model),
                                data=NodeRef("param", name), before=self.allparams_node)
            self.param_nodes[name] = node
            return node
        if self.allparams_node is not None:
            if not self.allparams_node.data.children_built:
                self.fill_all_params(model)
            for child in self.allparams_node.children:
                if child.data and child.data.key == name:
                    return child
        return None
