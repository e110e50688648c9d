"""How a trace reads in the trace pane: the answer, the steps' labels, the
detail of one step, the explanation and the delivery route, as rich
renderables (no widgets here: the pane places them)."""
from __future__ import annotations

from rich.table import Table as RichTable
from rich.text import Text

from tui.core.text import scrub
from tui.widgets.text import lit

OUTCOME_STYLE = {
    "permit": "bold green",
    "reject": "bold red",
    "defer": "bold yellow",
    "not evaluated": "magenta",
    "no match": "",
    "dunno": "dim",
    "warn": "yellow",
}

# Lists the engine reports that are checks smtpd makes by itself, not
# parameters a user can look up in the tree.
BUILT_IN = ("address syntax", "smtpd startup", "RFC 5321", "defer_if_permit")


def short_list(param: str) -> str:
    if param.startswith("smtpd_") and param.endswith("_restrictions"):
        return param[len("smtpd_"):-len("_restrictions")]
    return param


def outcome_label(step) -> str:
    o = step.outcome
    if o == "no match":
        return "no match"
    if step.conditional and o != "not evaluated":
        return f"{o}?"
    return o


def clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: max(n - 1, 0)] + "…"


def reply_style(code: int | None, accepted: bool) -> str:
    if accepted:
        return "bold green"
    return "bold yellow" if code is not None and 400 <= code < 500 else "bold red"


def verdict_word(tr) -> str:
    """Postfix's own word for the outcome: accepted, rejected (5xx) or
    deferred (4xx: the client tries again later)."""
    if tr.accepted:
        return "accepted"
    return "deferred" if 400 <= (tr.code or 0) < 500 else "rejected"


def is_parameter(model, name: str) -> bool:
    if not name or name in BUILT_IN or " " in name:
        return False
    try:
        return model.cfg.params().raw(name) is not None
    except Exception:
        return False


def list_endings(tr) -> str:
    """For an accepted trace, in a line: how the last list ended (a permit
    or its end) and how many others did not reject."""
    ends: dict[str, object] = {}
    for st in tr.steps:
        if st.depth == 0:
            ends[st.parameter] = st
    if not ends:
        return ""
    permits = [(p, st) for p, st in ends.items() if st.outcome == "permit"]
    param, st = permits[-1] if permits else list(ends.items())[-1]
    if st.outcome == "permit":
        line = f"{st.entry.split()[0]} ended {param} with a permit"
    else:
        line = f"{param} ran to its end"
    others = len(ends) - 1
    if others:
        line += f"; {others} other list{'s' if others > 1 else ''} did not reject"
    return line


def summary(tr, ex, model, logged_reply: str | None) -> tuple[RichTable, str]:
    """The answer: reply, verdict and deciding step, why, the first
    suggested change, short enough for 80x24 (the rest is below); and the
    hint of the keys that show the rest."""
    ok = tr.accepted
    grid = RichTable.grid(padding=(0, 1))
    grid.add_column(style="bold dim", no_wrap=True, width=3)
    grid.add_column()
    style = reply_style(tr.code, ok)
    grid.add_row(Text("▶", style=style), lit(tr.answer, style))
    d = tr.decided_by
    by = Text(verdict_word(tr), style=style)
    if d is not None:
        by.append(" by ")
        by.append_text(lit(model.display_path(d.entry) if model else d.entry, "bold"))
        if model is not None and not is_parameter(model, d.parameter):
            by.append(", a check smtpd makes by itself", style="dim")
        else:
            by.append(" · ", style="dim")
            by.append_text(lit(d.parameter))
            if d.position:
                by.append(f" #{d.position}", style="dim")
        if d.source is not None:
            by.append(" · ", style="dim")
            by.append_text(lit(str(d.source), "cyan"))
    elif ok:
        by.append(": ")
        by.append_text(lit(list_endings(tr) or "no restriction list applies", "dim"))
    grid.add_row(Text(""), by)
    why = ""
    if isinstance(ex, str):
        why = ex
    elif ex is not None:
        why = getattr(ex, "summary", "") or ""
        reply = tr.reply or ""
        if reply and why.startswith(reply):
            why = why[len(reply):].lstrip(": ").strip()
        if d is not None:  # the line above names the step and its list
            why = why.removeprefix(f"{d.entry} in {d.parameter} ").strip()
        if not why or why.startswith("Accepted"):
            # the first reason that is more than the line above repeated
            reasons = [str(r) for r in getattr(ex, "reasons", ()) or () if not str(r).startswith("Decided by")]
            why = reasons[0] if reasons else ""
    if why:
        grid.add_row(Text("why"), lit(model.display_path(why) if model else why))
    edits = (getattr(ex, "edits", ()) or ()) if ex is not None and not isinstance(ex, str) else ()
    if edits:
        e = edits[0]
        desc = getattr(e, "description", str(e))
        grid.add_row(Text("fix"), lit(model.display_path(desc) if model else desc))
        cmd = getattr(e, "command", None)
        if cmd:
            c = lit(cmd, "green")
            c.no_wrap = True
            c.overflow = "ellipsis"
            grid.add_row(Text(""), c)
    if logged_reply and logged_reply != tr.reply:
        grid.add_row(Text("log", style="bold magenta"),
                     lit(f"the pasted log line says {logged_reply}: today's configuration "
                         f"answers differently", "magenta"))
    if tr.conditional:
        grid.add_row(Text("?", style="bold magenta"),
                     Text("assumes answers for checks that were not evaluated (DNS, policy)",
                          style="magenta"))
    more = len(edits) - 1 if edits else 0
    hint = "↑↓ steps · Tab: full explanation"
    if edits:
        hint += " and command"
    if more > 0:
        hint += f", {more} more change{'s' if more > 1 else ''}"
    hint += " · p parameter"
    return grid, hint


def step_parts(tr, index: int, ex, model, logged_reply: str | None) -> list:
    """What the detail under the steps shows for step INDEX (the answer
    first when that step decides; the answer alone for no step)."""
    secrets = model.secrets if model else set()

    def shown(s: str) -> str:
        return model.display_path(s) if model else s

    parts: list = []
    if 0 <= index < len(tr.steps):
        st = tr.steps[index]
        decided = index == tr.decided_index
        final = decided or (tr.decided_index is None and index == len(tr.steps) - 1)
        if final:  # the answer first: why, and what to change
            parts += outcome_parts(tr, ex, model, logged_reply)
            parts.append(Text(""))
        head = lit(shown(st.entry), "bold")
        head.append(f"  {outcome_label(st)}", style=OUTCOME_STYLE.get(st.outcome, ""))
        if decided:
            head.append("  ← decides", style="bold")
        parts.append(head)
        rows = RichTable.grid(padding=(0, 1))
        rows.add_column(style="bold dim", no_wrap=True)
        rows.add_column()
        where = lit(st.parameter)
        if st.position:
            where.append(f", entry {st.position}", style="dim")
        rows.add_row("list", where)
        if st.source is not None:
            src = lit(str(st.source), "cyan")
            if st.source.path and model and model.display_path(st.source.path) not in ("main.cf", "master.cf"):
                src.append_text(lit(f"  {st.source.path}", "dim"))
            rows.add_row("from", src)
        rows.add_row("stage", lit(st.stage))
        if st.detail:
            rows.add_row("why", lit(scrub(st.detail, secrets), multiline=True))
        if st.reply:
            rows.add_row("reply", lit(st.reply, OUTCOME_STYLE.get(st.outcome, "")))
        if st.conditional:
            rows.add_row("note", Text("outcome assumed: needs DNS or a policy server", style="magenta"))
        parts.append(rows)
        if st.lookups:
            lt = RichTable(box=None, show_header=True, header_style="bold dim", padding=(0, 1), expand=False)
            lt.add_column("table")
            lt.add_column("key")
            lt.add_column("result")
            for lk in st.lookups:
                res_style = "red" if lk.error else ("green" if lk.found else "dim")
                res = lit(scrub(lk.result, secrets), res_style)
                if lk.where and lk.where != lk.result:
                    res.append("\n")
                    res.append_text(lit(scrub(shown(lk.where), secrets), "dim"))
                lt.add_row(lit(model.display_spec(lk.table) if model else lk.table), lit(lk.key), res)
            parts += [Text("lookups:", style="bold"), lt]
        if model is not None and is_parameter(model, st.parameter):
            parts.append(Text("p: show this parameter in the tree", style="dim italic"))
    else:
        parts += outcome_parts(tr, ex, model, logged_reply)
    return parts


def outcome_parts(tr, ex, model, logged_reply: str | None) -> list:
    """The answer at length: the explanation, the configuration errors,
    warnings and notes, the pasted log line's reply, the delivery route."""
    parts: list = []
    if ex is not None:
        parts += explanation_parts(ex)
    for e in tr.config_errors:
        parts.append(lit(f"configuration error: {e}", "bold red"))
    for w in tr.warnings:
        parts.append(lit(f"⚠ {w}", "yellow"))
    for n in tr.notes:
        parts.append(lit(n, "dim"))
    if logged_reply and logged_reply != tr.reply:
        parts.append(lit(f"The pasted log line says: {logged_reply}", "magenta"))
        parts.append(lit(f"Today's configuration answers: {tr.reply}", "magenta"))
    if tr.accepted and tr.route is not None:
        parts += route_parts(tr.route, model)
    return parts


def explanation_parts(ex) -> list:
    """Render tui.core.analysis.explain's Explanation (summary, reasons, edits)."""
    if ex is None:
        return []
    if isinstance(ex, str):
        return [lit(ex)]
    out: list = []
    summary = getattr(ex, "summary", None)
    if summary:
        out.append(lit(summary, "bold"))
    reasons = getattr(ex, "reasons", ()) or ()
    if reasons:
        grid = RichTable.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column()
        for r in reasons:
            grid.add_row("•", lit(r))
        out.append(grid)
    edits = getattr(ex, "edits", ()) or ()
    if edits:
        out.append(Text("suggested change" + ("s" if len(edits) > 1 else "") + ":", style="bold"))
        grid = RichTable.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column()
        for i, e in enumerate(edits, 1):
            grid.add_row(f"{i}.", lit(getattr(e, "description", str(e))))
            cmd = getattr(e, "command", None)
            if cmd:
                grid.add_row("", lit(cmd, "green"))
        out.append(grid)
    if not out:
        out.append(lit(str(ex)))
    return out


def route_parts(route, model) -> list:
    parts: list = [Text("delivery route", style="bold")]
    t = RichTable.grid(padding=(0, 1))
    t.add_column(style="bold dim", no_wrap=True)
    t.add_column()
    t.add_row("recipient", lit(route.recipient))
    t.add_row("class", lit(route.address_class, "cyan"))
    if route.expansion:
        t.add_row("aliases to", lit(", ".join(route.expansion)))
    for tg in route.targets:
        row = lit(tg.address, "bold")
        row.append("  via ", style="dim")
        row.append_text(lit(f"{tg.transport}:{tg.nexthop}", "green"))
        src = model.display_spec(tg.transport_source) if model else tg.transport_source
        row.append_text(lit(f"  ({src})", "dim"))
        t.add_row("→", row)
    for n in route.notes:
        t.add_row("note", lit(n))
    parts.append(t)
    return parts
