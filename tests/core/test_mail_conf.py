"""The daemons' start-up data (tui/core/data/daemon_params_3.7.json, from
scripts/gen_daemon_params.py, which asks the real daemons) against what
the engine hand-orders: the lists of tables the real smtpd opened when it
started are exactly those the evaluator checks in smtpd's order."""
from __future__ import annotations

from tui.core.postfix.mail_conf import opened_maps, typed_names
from tui.core.smtpd.startup import INIT_MAPS, LATE_MAPS


def test_smtpd_opens_the_lists_the_evaluator_checks():
    assert sorted(opened_maps("smtpd")) == sorted(INIT_MAPS + ("smtpd_command_filter",) + LATE_MAPS)


def test_each_daemon_has_its_own_lists():
    assert "transport_maps" in opened_maps("trivial-rewrite")
    assert "swap_bangpath" in typed_names("trivial-rewrite") and "swap_bangpath" not in typed_names("smtpd")

