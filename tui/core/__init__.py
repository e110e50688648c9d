"""The pure engine: configuration, lookup tables, restriction evaluation.

Nothing under tui.core may import textual or rich (tests/core/test_purity.py
proves it), so the engine can be used from scripts and tested on its own.
Its imports run one way, bottom up: model, trace, grammar, dns, filewatch
<- expand <- config <- tables <- postfix <- rewrite <- cache <- smtpd <-
analysis (tests/core/test_layers.py enforces it).
"""
