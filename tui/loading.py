"""What the app reads in background threads, and what it knows once read.

Each loader runs in a thread worker (tui.widgets.background) and changes
nothing the UI owns: it posts one of the messages below to the app, whose
handler (on the UI thread) takes the result in. A slow MySQL server or a
huge map keeps only its own part of the screen waiting.
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

from textual.message import Message

from tui.core.analysis import inventory, lint, postfixadmin
from tui.core.text import scrub
from tui.widgets import background
from tui.widgets import engine as E
from tui.widgets.tree_nodes import PAGE

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


# -- what the loaders post ---------------------------------------------------

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


# -- the loaders (each runs in a thread worker and posts to APP) -------------

def load(app, config_dir: Path) -> None:
    """Load the configuration and build the model the UI will own from then on."""
    try:
        loaded = E.load(config_dir)
    except Exception as exc:  # a bug in the loader must not take the app down
        background.post(app, Loaded(None, f"cannot load {config_dir}: internal error: "
                                          f"{type(exc).__name__}: {exc}"))
        return
    if loaded.cfg is None:
        background.post(app, Loaded(None, loaded.error or "cannot load"))
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
    background.post(app, Loaded(model, None))


def check_table(app, model: ExplorerModel, ref: inventory.TableRef) -> None:
    """Open one table and say what state it is in."""
    state, msg, count = probe(model, ref)
    t = model.table_objs.get(ref.spec)
    try:
        ws = [w for w in lint.table_warnings(ref, t and getattr(t, "status", None))
              if "stale" in w.message]
    except Exception:
        ws = []
    background.post(app, TableChecked(model, ref.spec, state, msg, count, ws))


def probe(model: ExplorerModel, ref: inventory.TableRef) -> tuple[str, str, int | None]:
    """(state, message, entry count or None) of one table."""
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
        # is opened in the tree (then load_entries counts it)
        count = t.count() if state in ("ok", "stale") and not _big_file(ref) else None
    except Exception:
        count = None
    return state, msg, count


def load_pfa(app, model: ExplorerModel) -> None:
    """The PostfixAdmin view, then the address classes with its domains."""
    try:
        pfa = postfixadmin.postfixadmin_view(model.refs, model.secrets,
                                             opener=lambda s, v: model.get_table(s))
    except Exception as exc:
        pfa = postfixadmin.PFAView(source="?", via="?",
                                   error=scrub(f"{type(exc).__name__}: {exc}", model.secrets))
    background.post(app, PfaLoaded(model, pfa))
    load_classes(app, model, pfa)


def load_classes(app, model: ExplorerModel, pfa) -> None:
    """The address classes (with PFA's domains as candidates, when there is one)."""
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
    background.post(app, ClassesLoaded(model, classes, overlaps))


def load_entries(app, model: ExplorerModel, node, spec: str, offset: int, search: str | None) -> None:
    """One page of a table's entries, for its tree node."""
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
    background.post(app, EntriesLoaded(model, node, entries, offset, count, note))
