"""How many connections the explorer holds on a PostfixAdmin database.

A production MySQL server allows 151 connections by default, and Postfix's
own proxymap needs some. Traces on every service of the PostfixAdmin
scenario (ten mysql: tables, each opened per service) and the proven edits
of relay refusals (each evaluated on changed copies of the configuration)
used to hold a connection per table, per service and per copy -- over a
hundred after a few explanations. One login is one connection per process
now (and one more for whole-table reads such as the PostfixAdmin view), and
a forked process opens its own instead of speaking on its parent's.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.oracle.conftest import scenario_config
from tests.oracle.scenarios import load_scenario
from tui.core.analysis.explain import explain
from tui.core.config import load_config
from tui.core.dns import TempFailResolver
from tui.core.smtpd import evaluate
from tui.core.trace import Transaction

pytestmark = pytest.mark.mysql


def _connections(user: str) -> int:
    r = subprocess.run(["mariadb", "-uroot", "-N", "-e",
                        f"SELECT COUNT(*) FROM information_schema.processlist WHERE user = '{user}'"],
                       capture_output=True, text=True, timeout=60, check=True)
    return int(r.stdout.strip())


def _user(cfg_dir) -> str:
    text = (cfg_dir / "mysql_virtual_alias_maps.cf").read_text()
    return next(line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("user"))


def test_one_connection_per_login_whatever_the_services_and_proofs():
    scenario = load_scenario("postfixadmin_mysql")
    with scenario_config(scenario) as cfg_dir:
        user = _user(cfg_dir)
        cfg = load_config(cfg_dir)
        resolver = TempFailResolver()
        tables_asked = set()
        for tx in scenario.transactions:
            if tx.service == "127.0.0.1:3101":
                continue   # its table logs in with a wrong password: no connection at all
            tr = evaluate(cfg, Transaction(client_address=tx.client_address, client_name=tx.client_name,
                                           helo=tx.helo, sender=tx.sender, recipient=tx.recipient,
                                           sasl_login=tx.sasl_login), service=tx.service, resolver=resolver)
            tables_asked |= {lk.table for s in tr.steps for lk in s.lookups if lk.table.startswith(("mysql:",
                                                                                                   "proxy:"))}
            explain(tr, cfg, resolver=resolver)
        services = {tx.service for tx in scenario.transactions}
        assert len(tables_asked) >= 5 and len(services) >= 3, (tables_asked, services)
        assert _connections(user) == 1

        # whole-table reads (the PostfixAdmin view) have the login's second
        # connection: lookups do not wait behind them
        from tui.core.analysis import postfixadmin
        from tui.core.analysis.inventory import collect_tables, cf_secrets

        from tui.core.tables import open_table

        refs = collect_tables(cfg)
        kept: dict = {}   # as the app does: the view's table stays open

        def opener(spec, _view):
            return kept.setdefault(spec, open_table(spec, cfg.params()))

        view = postfixadmin.postfixadmin_view(refs, cf_secrets(refs, cfg.params()), opener=opener)
        assert view is not None and not view.error and view.domains, view
        assert _connections(user) == 2
        # closing a table leaves the connections the others still use
        for t in kept.values():
            t.close()
        assert _connections(user) == 1

        # a forked process connects on its own and leaves the parent's alone
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                tr = evaluate(cfg, Transaction(client_address="198.51.100.20", client_name="mx.example.net",
                                               helo="mx.example.net", sender="a@example.net",
                                               recipient="alice@example.com"), resolver=resolver)
                code = 0 if tr.code is not None and _connections(user) == 2 else 3
            finally:
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        tr = evaluate(cfg, Transaction(client_address="198.51.100.21", client_name="mx.example.net",
                                       helo="mx.example.net", sender="b@example.net", recipient="bob@example.com"),
                      resolver=resolver)
        assert not any(lk.error for s in tr.steps for lk in s.lookups), tr.to_json()
        assert _connections(user) == 1
