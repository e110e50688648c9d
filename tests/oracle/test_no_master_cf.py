"""A configuration directory without master.cf, answered by the real Postfix.

postconf warns `open DIR/master.cf: No such file or directory` and prints
the parameters anyway; `params` must do the same (same output, the same
warning text on stderr). The traces of such a directory run in Postfix's
stock smtp service (the scenario tests/oracle/scenarios/no_master_cf is
compared with a real smtpd serving that service); here: the trace says the
service was assumed, and lint keeps postconf's warning.
"""
from __future__ import annotations

import contextlib
import io
import re

import pytest

from tests.conftest import need_postfix
from tests.oracle.scenarios import load_scenario, materialized
from tests.oracle.test_postconf import _without_pid, postconf
from tui.__main__ import main as cli_main

pytestmark = pytest.mark.oracle


@pytest.fixture
def cfg_dir():
    need_postfix()
    with materialized(load_scenario("no_master_cf")) as d:
        assert not (d / "master.cf").exists()
        yield d


def _warning(stderr: str, d) -> list[str]:
    return re.findall(rf"open {re.escape(str(d))}/master\.cf: [^\n]*", stderr)


@pytest.mark.parametrize("flags", [["-n"], ["-n", "-x"], []], ids=["n", "nx", "all"])
def test_params_matches_postconf_without_master_cf(cfg_dir, flags):
    real = postconf("-c", str(cfg_dir), *flags)
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        rc = cli_main(["--config-dir", str(cfg_dir), "params", *flags])
    assert real.returncode == 0, real.stderr
    assert rc == 0, e.getvalue()
    assert _without_pid(o.getvalue()) == _without_pid(real.stdout)
    theirs = _warning(real.stderr, cfg_dir)
    assert theirs, real.stderr  # postconf does warn
    assert _warning(e.getvalue(), cfg_dir) == theirs


def test_trace_says_the_stock_service_was_assumed(cfg_dir):
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    cfg = load_config(cfg_dir)
    assert cfg.master_missing and cfg.services == []
    assert [s.key for s in cfg.smtpd_services()] == ["smtp/inet"]
    tr = evaluate(cfg, Transaction(client_address="127.0.0.1", client_name="localhost",
                                   helo="client.example.net", sender="a@example.net",
                                   recipient="alice@example.com"), service="smtp")
    assert any("stock service 'smtp inet n - y - - smtpd'" in n and "no -o overrides" in n
               for n in tr.notes), tr.notes
    real = postconf("-c", str(cfg_dir), "-n")
    assert [str(d) for d in cfg.diagnostics if "master.cf" in str(d)] \
        and _warning(" ".join(str(d) for d in cfg.diagnostics), cfg_dir) == _warning(real.stderr, cfg_dir)


def test_service_parameters_fail_like_postconf_P(cfg_dir):
    """postconf -P needs master.cf: a fatal error, exit status 1."""
    real = postconf("-c", str(cfg_dir), "-P", "smtp/inet")
    o, e = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        rc = cli_main(["--config-dir", str(cfg_dir), "params", "--service", "smtp", "-n"])
    assert real.returncode == 1 and "fatal: " in real.stderr, real
    assert rc == real.returncode
    assert o.getvalue() == real.stdout == ""
    fatal = re.findall(r"fatal: ([^\n]*)", real.stderr)
    assert re.findall(r"fatal: ([^\n]*)", e.getvalue()) == fatal
