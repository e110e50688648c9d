"""smtpd's restriction evaluation.

    from tui.core.smtpd import evaluate
    trace = evaluate(cfg, Transaction(...), service="smtp", resolver=None)

The layers, bottom up (each module imports only those below it):
registry (every restriction's name, argument kind and deprecated aliases),
state (one evaluation's state), replies, walk (generic_checks), access
(access tables), checks and dnsxl (what the built-in restrictions test),
restrictions_client / restrictions_mail (the handlers, registered once
with @restriction, each given a registry.Call), startup (smtpd's start-up
checks), session (what smtpd answers itself: milters, the daemons it
waits for, the queue file, commands refused before any restriction) and
evaluator (the stage walk).
"""
from __future__ import annotations

from tui.core.smtpd.evaluator import Evaluator, evaluate
from tui.core.smtpd.registry import RESTRICTIONS, Restriction, deprecated_names, names_with_argument

__all__ = ["Evaluator", "evaluate", "RESTRICTIONS", "Restriction", "deprecated_names",
           "names_with_argument"]
