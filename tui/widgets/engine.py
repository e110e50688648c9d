"""The app's adapter over tui.core: load a configuration, open a table, run
a trace, explain it, parse a log line -- as plain data for the widgets.

Pure Python (no textual, no rich), called from the app's worker threads.
Postfix knowledge does not live here: which tables a configuration names is
tui.core.analysis.inventory, configuration warnings are tui.core.analysis.lint, the
PostfixAdmin reader is tui.core.analysis.postfixadmin.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.analysis import explain as _explain
from tui.core.analysis import maillog as _maillog
from tui.core import smtpd as _smtpd
from tui.core import tables as _tables
from tui.core.config import load_config
from tui.core.model import ExplorerError
from tui.core.trace import Transaction


@dataclass
class Loaded:
    config_dir: Path
    cfg: Any = None
    error: str | None = None  # main.cf missing or unreadable


def load(config_dir: str | Path) -> Loaded:
    config_dir = Path(config_dir)
    try:
        cfg = load_config(str(config_dir))
    except ExplorerError as exc:
        return Loaded(config_dir, None, str(exc))
    except OSError as exc:
        return Loaded(config_dir, None, f"{config_dir}: {exc.strerror or exc}")
    return Loaded(config_dir, cfg, None)


def open_table(spec: str, view):
    return _tables.open_table(spec, view)


def evaluate(cfg, fields: dict[str, str | None], service: str):
    """Run the engine's evaluator on the form's fields."""
    tx = Transaction(
        client_address=fields.get("client_address") or "",
        client_name=fields.get("client_name") or "unknown",
        helo=fields.get("helo") or None,
        sender=fields.get("sender") or "",
        recipient=None if fields.get("recipient") is None else fields["recipient"],   # None: no RCPT TO
        sasl_login=fields.get("sasl_login") or None,
        tls={"yes": True, "no": False}.get(fields.get("tls") or ""),   # None: as the service requires
    )
    return _smtpd.evaluate(cfg, tx, service=service)


def explain(cfg, trace) -> Any:
    """tui.core.analysis.explain's explanation of a trace."""
    return _explain.explain(trace, cfg)


LogLineError = _maillog.LogLineError


def parse_log_line(line: str) -> dict[str, str | None]:
    """Fields for the trace form from a Postfix log line (raises LogLineError)."""
    res = _maillog.parse_line(line)
    out: dict[str, Any] = {}
    for k in ("client_address", "client_name", "helo", "sender", "recipient", "sasl_login", "reply", "command"):
        v = getattr(res, k, None)
        if v is not None and not callable(v):
            out[k] = v
    hint = getattr(res, "service_hint", None)
    if isinstance(hint, str) and hint:
        out["service"] = hint
    return out
