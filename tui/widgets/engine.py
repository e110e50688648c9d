"""The app's adapter over tui.core: load a configuration, open a table, run
a trace, explain it, parse a log line -- as plain data for the widgets.

Pure Python (no textual, no rich). When an engine part is missing, the
functions here raise `EngineMissing` naming it, and the UI says "not
available yet" instead of inventing an answer.

Postfix knowledge does not live here: which tables a configuration names is
tui.core.analysis.inventory, configuration warnings are tui.core.analysis.lint, the
PostfixAdmin reader is tui.core.analysis.postfixadmin.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class EngineMissing(Exception):
    """An engine module this feature needs is not there (yet)."""

    def __init__(self, part: str, detail: str = ""):
        super().__init__(f"{part} is not available yet" + (f" ({detail})" if detail else ""))
        self.part = part


def _import(module: str, part: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name) or exc.name == module:
            raise EngineMissing(part, module) from None
        raise


def have(module: str) -> bool:
    try:
        importlib.import_module(module)
        return True
    except Exception:
        return False


# ---------------------------------------------------------------------------
# Loading


@dataclass
class Loaded:
    config_dir: Path
    cfg: Any = None
    error: str | None = None  # main.cf missing/unreadable, or engine missing


def load(config_dir: str | Path) -> Loaded:
    config_dir = Path(config_dir)
    try:
        mod = _import("tui.core.config", "the configuration loader (tui.core.config)")
    except EngineMissing as exc:
        return Loaded(config_dir, None, str(exc))
    from tui.core.model import ExplorerError

    try:
        cfg = mod.load_config(str(config_dir))
    except ExplorerError as exc:
        return Loaded(config_dir, None, str(exc))
    except OSError as exc:
        return Loaded(config_dir, None, f"{config_dir}: {exc.strerror or exc}")
    return Loaded(config_dir, cfg, None)


def open_table(spec: str, view):
    mod = _import("tui.core.tables", "the lookup tables (tui.core.tables)")
    if not hasattr(mod, "open_table"):
        raise EngineMissing("the lookup tables (tui.core.tables.open_table)")
    return mod.open_table(spec, view)


# ---------------------------------------------------------------------------
# Trace


def trace_available() -> str | None:
    """None when evaluation works; otherwise why not."""
    try:
        mod = _import("tui.core.smtpd", "the restriction evaluator (tui.core.smtpd)")
        _import("tui.core.trace", "the trace model (tui.core.trace)")
    except EngineMissing as exc:
        return str(exc)
    if not hasattr(mod, "evaluate"):
        return "the restriction evaluator (tui.core.smtpd.evaluate) is not available yet"
    return None


def evaluate(cfg, fields: dict[str, str | None], service: str):
    """Run the engine's evaluator on the form's fields."""
    mod = _import("tui.core.smtpd", "the restriction evaluator (tui.core.smtpd)")
    trace_mod = _import("tui.core.trace", "the trace model (tui.core.trace)")
    tx = trace_mod.Transaction(
        client_address=fields.get("client_address") or "",
        client_name=fields.get("client_name") or "unknown",
        helo=fields.get("helo") or None,
        sender=fields.get("sender") or "",
        recipient=fields.get("recipient") or "",
        sasl_login=fields.get("sasl_login") or None,
    )
    return mod.evaluate(cfg, tx, service=service)


def explain(cfg, trace) -> Any:
    """The engine's explanation of a trace (tui.core.analysis.explain.explain), or None
    when that part is not there."""
    try:
        mod = _import("tui.core.analysis.explain", "explanations (tui.core.analysis.explain)")
    except EngineMissing:
        return None
    fn = getattr(mod, "explain", None)
    if fn is None:
        return None
    return fn(trace, cfg)


def parse_log_line(line: str) -> dict[str, str | None]:
    """Fields for the trace form from a Postfix log line (tui.core.analysis.logline)."""
    mod = _import("tui.core.analysis.logline", "log-line parsing (tui.core.analysis.logline)")
    fn = None
    for fname in ("parse_log_line", "parse", "parse_line"):
        fn = getattr(mod, fname, None)
        if fn is not None:
            break
    if fn is None:
        raise EngineMissing("log-line parsing (tui.core.analysis.logline.parse_log_line)")
    res = fn(line)
    if res is None:
        return {}
    if isinstance(res, dict):
        return dict(res)
    out: dict[str, Any] = {}
    for k in ("client_address", "client_name", "helo", "sender", "recipient", "sasl_login", "reply"):
        v = getattr(res, k, None)
        if v is not None and not callable(v):
            out[k] = v
    hint = getattr(res, "service_hint", None)
    if isinstance(hint, str) and hint:
        out["service"] = hint
    return out
