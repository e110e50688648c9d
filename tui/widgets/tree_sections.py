"""The tree's sections that the app fills in when their background loads
end: the warnings on top, the PostfixAdmin view, the address classes."""
from __future__ import annotations

from rich.text import Text
from textual.widgets.tree import TreeNode

from tui.widgets.text import lit
from tui.widgets.tree_nodes import PAGE, NodeRef, matches, short


class LateSections:
    """ConfigTree's sections that come after the first build (a mixin: the
    tree's root, sections and filter_text are ConfigTree's)."""

    root: TreeNode[NodeRef]
    sections: dict[str, TreeNode[NodeRef]]
    filter_text: str | None

    def build_warnings(self, model) -> None:
        """A "warnings" section on top when the configuration has problems."""
        old = self.sections.pop("warnings", None)
        if old is not None:
            old.remove()
        f = self.filter_text
        cache = getattr(self, "_diag_cache", None)
        if cache is None or cache[0] is not model:
            diags = [(str(d), d) for d in model.cfg.diagnostics]
            cache = (model, diags, [model.display_path(m).lower() for m, _d in diags])
            self._diag_cache = cache
        items = [(w.message, w) for w in model.warnings if matches(model.display_path(w.message), f)]
        needle = f.lower() if f else None
        items += [item for item, low in zip(cache[1], cache[2]) if needle is None or needle in low]
        if not items:
            return
        first = self.root.children[0] if self.root.children else None
        where = {"before": first} if first is not None else {}
        sec = self.root.add(Text.assemble(("⚠ warnings", "bold yellow"), (f"  {len(items)}", "dim")),
                            data=NodeRef("section", "warnings"), expand=len(items) <= 6, **where)
        self.sections["warnings"] = sec
        for message, w in items[:PAGE]:
            severe = getattr(w, "severity", "warning") == "error"
            sec.add_leaf(lit(short(model.display_path(message), 90), "red" if severe else "yellow"),
                         data=NodeRef("warning", message, extra=w))
        if len(items) > PAGE:  # a main.cf full of unused names: never a node per warning
            rest = f"{len(items) - PAGE} more — type / and part of a name to narrow"
            sec.add_leaf(Text(rest, style="dim italic"), data=NodeRef("message", rest))

    def build_pfa(self, model) -> None:
        old = self.sections.pop("pfa", None)
        if old is not None:
            old.remove()
        pfa = model.pfa
        f = self.filter_text
        if pfa is None and not model.pfa_loading:
            return
        where = {"after": self.sections["tables"]} if "tables" in self.sections else {}
        if model.pfa_loading:
            self.sections["pfa"] = self.root.add_leaf(
                Text.assemble(("PostfixAdmin", "bold"), ("  loading…", "dim italic")),
                data=NodeRef("pfa", "loading"), **where)
            return
        if pfa.error and not pfa.domains:
            lab = Text("PostfixAdmin", style="bold red")
            lab.append_text(lit("  " + short(pfa.error, 60), "red"))
            self.sections["pfa"] = self.root.add_leaf(lab, data=NodeRef("pfa", "error", extra=pfa), **where)
            return
        lab = Text("PostfixAdmin", style="bold")
        lab.append_text(lit("  " + model.display_path(pfa.source), "dim"))
        if pfa.error:
            lab.append("  partly unreadable", style="red")
        sec = self.root.add(lab, data=NodeRef("pfa", "view", extra=pfa), expand=True, **where)
        self.sections["pfa"] = sec

        def group(title, rows, plain, make):
            # Labels (rich Text) and nodes only for the page shown: a
            # PostfixAdmin with 100,000 aliases must not build 100,000 Texts
            # on the UI thread. The filter matches the same plain text.
            if f:
                rows = [r for r in rows if matches(plain(r), f)]
            g = sec.add(Text.assemble((title, "bold"), (f"  {len(rows)}", "dim")),
                        data=NodeRef("pfa-group", title), expand=bool(f))
            for r in rows[:PAGE]:
                lab, d = make(r)
                g.add_leaf(lab, data=d)
            if len(rows) > PAGE:  # a big installation: never a node per row
                rest = f"{len(rows) - PAGE} more — type / and part of a name to narrow"
                g.add_leaf(Text(rest, style="dim italic"), data=NodeRef("message", rest))

        def flag(t: Text, active: bool, extra: str = "") -> Text:
            if extra:
                t.append(f"  {extra}", style="cyan")
            if not active:
                t.append("  inactive", style="yellow")
                t.stylize("dim", 0, len(t.plain.split("  ")[0]))
            return t

        def tail(active: bool, extra: str = "") -> str:  # what flag() appends, as plain text
            return (f"  {extra}" if extra else "") + ("" if active else "  inactive")

        group("domains", pfa.domains,
              lambda d: d.domain + tail(d.active, "backup MX" if d.backupmx else ""),
              lambda d: (flag(lit(d.domain), d.active, "backup MX" if d.backupmx else ""),
                         NodeRef("pfa-item", d.domain, extra=("domain", d))))
        group("mailboxes", pfa.mailboxes,
              lambda r: r[0] + tail(r[2]),
              lambda r: (flag(lit(r[0]), r[2]), NodeRef("pfa-item", r[0], extra=("mailbox", r))))
        group("aliases", pfa.aliases,
              lambda r: f"{r[0]} → {short(r[1], 40)}" + tail(r[2]),
              lambda r: (flag(lit(f"{r[0]} → {short(r[1], 40)}"), r[2]),
                         NodeRef("pfa-item", r[0], extra=("alias", r))))
        group("alias domains", pfa.alias_domains,
              lambda r: f"{r[0]} → {r[1]}" + tail(r[2]),
              lambda r: (flag(lit(f"{r[0]} → {r[1]}"), r[2]),
                         NodeRef("pfa-item", r[0], extra=("alias_domain", r))))

    def build_classes(self, model) -> None:
        old = self.sections.pop("classes", None)
        if old is not None:
            old.remove()
        f = self.filter_text
        prev = self.sections.get("pfa") or self.sections.get("tables")
        where = {"after": prev} if prev is not None else {}
        if model.classes is None:
            self.sections["classes"] = self.root.add_leaf(
                Text.assemble(("address classes", "bold"), ("  checking…", "dim italic")),
                data=NodeRef("section", "classes"), **where)
            return
        sec = self.root.add(Text("address classes", style="bold"), data=NodeRef("section", "classes"),
                            expand=True, **where)
        self.sections["classes"] = sec
        for c in model.classes:
            members = [(d, "literal") for d in c.literals] + [(d, "table") for d in c.members]
            members = [(d, how) for d, how in members if matches(d + " " + c.name, f)]
            lab = lit(c.name, "bold")
            lab.append_text(lit(f"  {c.param}", "dim"))
            if c.errors:
                lab.append("  lookup error", style="bold red")
            node = sec.add(lab, data=NodeRef("class", c.name, extra=c), expand=bool(members))
            for d, how in members:
                t = lit(d)
                if how == "table":
                    t.append("  (table)", style="dim")
                if any(w.domain == d for w in model.warnings):
                    t.append(" ⚠ two classes", style="yellow")
                node.add_leaf(t, data=NodeRef("class-item", d, extra=c))
            for spec in c.tables:
                if f and not matches(spec + " " + c.name, f):
                    continue
                node.add_leaf(Text("table ", style="dim") + lit(model.display_spec(spec)),
                              data=NodeRef("table-link", spec))
