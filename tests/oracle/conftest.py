"""Fixtures of the differential oracle: scratch Postfix instances per scenario.

Every instance is stopped by a finalizer, whatever happens in the test; the
session finish hook and an atexit handler in postfix_instance stop any that
slipped through, so no master process outlives the test run.
"""
from __future__ import annotations

import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.conftest import need_mariadb, need_postfix
from tests.oracle import postfix_instance
from tests.oracle.postfix_instance import PostfixInstance
from tests.oracle.scenarios import Scenario, load_scenario, materialized

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "tests" / "sql" / "postfixadmin_schema.sql"
MYSQL_SOCKET = "/run/mysqld/mysqld.sock"


def _mariadb(sql: str, db: str | None = None) -> None:
    cmd = ["mariadb", "-uroot", "--batch"]
    if db:
        cmd.append(db)
    r = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"mariadb failed: {r.stderr.strip()}")


@contextmanager
def mysql_database(scenario: Scenario):
    """A throw-away PostfixAdmin database with a SELECT-only user.

    Yields the placeholder substitutions for the scenario's .cf files; the
    database and the user are dropped afterwards.
    """
    need_mariadb()
    if not SCHEMA.exists():
        pytest.fail(f"{SCHEMA} is missing: the PostfixAdmin schema is needed for {scenario.name}")
    tag = secrets.token_hex(4)
    db, user, password = f"pfx_oracle_{tag}", f"pfx_oracle_{tag}", secrets.token_hex(12)
    _mariadb(f"CREATE DATABASE `{db}`;")
    try:
        _mariadb(SCHEMA.read_text(), db)
        data = scenario.meta["mysql"].get("data")
        if data:
            _mariadb((scenario.source / data).read_text(), db)
        _mariadb(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}';"
                 f"GRANT SELECT ON `{db}`.* TO '{user}'@'localhost';")
        yield {"__DB_NAME__": db, "__DB_USER__": user, "__DB_PASSWORD__": password,
               "__DB_SOCKET__": MYSQL_SOCKET}
    finally:
        try:
            _mariadb(f"DROP USER IF EXISTS '{user}'@'localhost';")
        finally:
            _mariadb(f"DROP DATABASE IF EXISTS `{db}`;")


@contextmanager
def scenario_config(scenario: Scenario):
    """The scenario copied to a temp dir (and its database, if it has one)."""
    with ExitStack() as stack:
        subs = {}
        if scenario.needs_mysql:
            subs = stack.enter_context(mysql_database(scenario))
        yield stack.enter_context(materialized(scenario, subs))


# the start of a scratch main.cf: an IPv4 loopback server for example.com
SCRATCH_MAIN_CF = """\
compatibility_level = 3.6
myhostname = mx.example.com
mydomain = example.com
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination = $myhostname, localhost, example.com
mynetworks = 127.0.0.0/8
alias_maps =
"""


def scratch_master_cf(services) -> str:
    """A scratch master.cf: the stock smtp service, then one loopback smtpd
    service per (port, its -o overrides) of SERVICES."""
    return "smtp      inet  n       -       n       -       -       smtpd\n" + "".join(
        f"127.0.0.1:{port} inet n - n - - smtpd\n" + "".join(f"  -o {o}\n" for o in opts)
        for port, opts in services)


@contextmanager
def scratch_instance(prefix: str, main_cf: str, master_cf: str, files: dict[str, str] | None = None):
    """(config dir, running PostfixInstance) for a configuration written
    out here: main.cf, master.cf and FILES (name -> text), "__DIR__" in
    each replaced by the config dir; removed after."""
    need_postfix()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)   # the postfix user reads the maps
    cfg = root / "etc"
    cfg.mkdir()
    for name, text in {"main.cf": main_cf, "master.cf": master_cf, **(files or {})}.items():
        (cfg / name).write_text(text.replace("__DIR__", str(cfg)))
    try:
        with PostfixInstance(cfg) as inst:
            yield cfg, inst
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def running_scenario(scenario: Scenario):
    """(config_dir, PostfixInstance) for a scenario; everything undone after."""
    need_postfix()
    with scenario_config(scenario) as cfg_dir, PostfixInstance(cfg_dir) as inst:
        yield cfg_dir, inst


def machine_resolver():
    """The engine's resolver that behaves like this machine's DNS.

    There is no working DNS on the test machines, but "no DNS" can look
    two ways to smtpd: every name answered NXDOMAIN (a resolver that knows
    nothing), or every lookup failing temporarily (no resolver reachable).
    Ask the system resolver once and pick the engine's resolver to match.
    """
    from tui.core import dns

    try:
        socket.getaddrinfo("oracle-probe.example.com", None)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            return dns.StaticResolver(default=dns.NOTFOUND)
        return dns.TempFailResolver()
    return dns.TempFailResolver()  # resolves?! unexpected; keep the documented default


@pytest.fixture
def scenario_instance(request):
    """Indirect fixture: param is a scenario name -> (scenario, cfg_dir, instance)."""
    scenario = load_scenario(request.param)
    with running_scenario(scenario) as (cfg_dir, inst):
        yield scenario, cfg_dir, inst


def pytest_sessionfinish(session, exitstatus):
    postfix_instance._stop_all()


def _sigterm_to_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# A SIGTERM (a timeout wrapper, a CI run being stopped) would end Python
# without running finalizers or atexit handlers and leave master processes
# behind; turn it into KeyboardInterrupt, which pytest unwinds cleanly.
if threading.current_thread() is threading.main_thread() \
        and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
