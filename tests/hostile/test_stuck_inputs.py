"""Stuck inputs: a FIFO or a device where a file is expected, a MySQL server
that drips.

A FIFO as main.cf, master.cf or a map source blocks a reader forever;
/dev/zero never ends and fills memory. Every such input is refused with a
message naming the file (tui.core.safeio), and a lookup against a MySQL
server that sends one byte every 2 s ends within the table's whole-lookup
deadline. Each run is a child process with a deadlock guard: a command
that blocks fails the test (no timing is asserted).
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from tests.conftest import need_postfix
from tests.hostile.util import REPO, ScriptedServer, drip, drip_on_select
from tui.core import safeio

GUARD = 20  # seconds: a command still running then is stuck


def _run(*args: str, stdin: bytes = b"", memory: int | None = None) -> subprocess.CompletedProcess:
    def limits():
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    try:
        r = subprocess.run([sys.executable, "-m", "tui", *args], input=stdin, capture_output=True,
                           timeout=GUARD, cwd="/", env=env, preexec_fn=limits)
    except subprocess.TimeoutExpired:
        pytest.fail(f"stuck: {args}")
    r.out, r.err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    return r


def _config(d):
    (d / "main.cf").write_text("compatibility_level = 3.6\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")


# ---------------------------------------------------------------- safeio itself
def test_safeio_refuses_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path, why in ((fifo, "FIFO"), ("/dev/zero", "character device"), ("/dev/null", "character device")):
        with pytest.raises(OSError) as e:
            safeio.read_bytes(path)
        assert why in e.value.strerror and e.value.filename == str(path)
    with pytest.raises(IsADirectoryError):
        safeio.read_text(tmp_path)
    f = tmp_path / "big"
    f.write_bytes(b"x" * 1000)
    assert safeio.read_bytes(f, limit=1000) == b"x" * 1000
    with pytest.raises(OSError) as e:
        safeio.read_bytes(f, limit=999)
    assert "larger than 999 bytes" in e.value.strerror
    link = tmp_path / "link"
    link.symlink_to(fifo)
    with pytest.raises(OSError):
        safeio.read_bytes(link)
    (tmp_path / "ok").write_bytes(b"a\xffb")
    assert safeio.read_text(tmp_path / "ok") == "a\udcffb"


# ---------------------------------------------------------------- table modules
@pytest.mark.parametrize("kind", ["regexp", "pcre"])
def test_fifo_or_device_as_pattern_table(tmp_path, kind):
    _config(tmp_path)
    fifo = tmp_path / f"rules.{kind}"
    os.mkfifo(fifo)
    for src in (str(fifo), "/dev/zero"):
        r = _run("lookup", "--config-dir", str(tmp_path), f"{kind}:{src}", "key", memory=2 << 30)
        assert r.returncode == 2, r.err
        assert src in r.err and "not a regular file" in r.err, r.err


@pytest.mark.parametrize("kind", ["mysql", "sqlite"])
def test_fifo_as_sql_cf(tmp_path, kind):
    _config(tmp_path)
    fifo = tmp_path / f"{kind}.cf"
    os.mkfifo(fifo)
    r = _run("lookup", "--config-dir", str(tmp_path), f"{kind}:{fifo}", "key")
    assert r.returncode == 2 and str(fifo) in r.err and "not a regular file (FIFO)" in r.err, r.err
    r = _run("lint", "--config-dir", str(tmp_path))
    assert r.returncode in (0, 1), r.err


def test_fifo_as_sqlite_database_option_file_and_domain_file(tmp_path):
    _config(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = {
        "sqlite": f"dbpath = {fifo}\nquery = SELECT 'x' WHERE '%s' = 'k'\n",
        "mysql": f"hosts = 127.0.0.1\nuser = u\ndbname = d\noption_file = {fifo}\nquery = SELECT 1\n",
    }
    for kind, text in cases.items():
        cf = tmp_path / f"{kind}.cf"
        cf.write_text(text)
        r = _run("lookup", "--config-dir", str(tmp_path), f"{kind}:{cf}", "key")
        assert r.returncode == 2 and str(fifo) in r.err and "not a regular file" in r.err, r.err
    db = tmp_path / "real.sqlite"
    import sqlite3
    sqlite3.connect(db).close()
    cf = tmp_path / "dom.cf"
    cf.write_text(f"dbpath = {db}\ndomain = {fifo}\nquery = SELECT 'x' WHERE '%s' = 'k'\n")
    r = _run("lookup", "--config-dir", str(tmp_path), f"sqlite:{cf}", "a@example.org")
    assert str(fifo) in r.err and "not a regular file" in r.err, r.err


# -------------------------------------------------- MySQL that drips or misbehaves
def test_mysql_server_that_drips_ends_within_the_deadline(tmp_path):
    from tui.core.tables import mysql

    _config(tmp_path)
    with ScriptedServer(drip) as srv:
        cf = tmp_path / "drip.cf"
        cf.write_text(f"hosts = inet:127.0.0.1:{srv.port}\nuser = u\npassword = pw\ndbname = d\n"
                      "query = SELECT goto FROM alias WHERE address = '%s'\n")
        r = _run("lookup", "--config-dir", str(tmp_path), f"mysql:{cf}", "a@example.org")
        assert r.returncode == 2, r.err
        assert f"no answer within {mysql.LOOKUP_TIMEOUT} s" in r.err, r.err
        r = _run("trace", "--config-dir", str(tmp_path), "--client-address", "192.0.2.1",
                 "--recipient", "a@example.org")
        assert "Traceback" not in r.err


def test_mysql_drip_after_the_handshake(tmp_path, monkeypatch):
    """The deadline covers the query too: the server logs the client in,
    then answers the SELECT one byte every 2 s."""
    from tui.core.tables import mysql, open_table

    monkeypatch.setattr(mysql, "LOOKUP_TIMEOUT", 4)
    with ScriptedServer(drip_on_select) as srv:
        cf = tmp_path / "drip.cf"
        cf.write_text(f"hosts = inet:127.0.0.1:{srv.port}\nuser = u\ndbname = d\n"
                      "query = SELECT goto FROM alias WHERE address = '%s'\n")
        t = open_table(f"mysql:{cf}")
        import threading

        got = []
        worker = threading.Thread(target=lambda: got.append(t.lookup("a@example.org")), daemon=True)
        worker.start()
        worker.join(GUARD)  # deadlock guard
        assert got, "the lookup is stuck"
        t.close()
        r = got[0]
        assert r.error and "no complete answer within 4 s" in r.error, r


# -------------------------------------------- every reader goes through safeio
def test_fifo_as_main_cf(tmp_path):
    os.mkfifo(tmp_path / "main.cf")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    r = _run("params", "--config-dir", str(tmp_path), "-n")
    assert r.returncode == 2 and "main.cf" in r.err and "not a regular file (FIFO)" in r.err, r.err


def test_dev_zero_as_main_cf(tmp_path):
    (tmp_path / "main.cf").symlink_to("/dev/zero")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    r = _run("params", "--config-dir", str(tmp_path), "-n", memory=2 << 30)
    assert r.returncode == 2 and "main.cf" in r.err and "not a regular file (character device)" in r.err, r.err


def test_fifo_as_master_cf(tmp_path):
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\n")
    os.mkfifo(tmp_path / "master.cf")
    r = _run("params", "--config-dir", str(tmp_path), "-n")
    # postconf -n reads main.cf only and warns when master.cf cannot be read
    # (a FIFO it would wait on forever): the parameters, and a warning
    assert r.returncode == 0 and "master.cf" in r.err and "not a regular file (FIFO)" in r.err, r.err
    assert "compatibility_level = 3.6" in r.out


@pytest.mark.parametrize("kind", ["texthash", "hash"])
def test_fifo_as_file_map_source(tmp_path, kind):
    _config(tmp_path)
    os.mkfifo(tmp_path / "access")
    if kind == "hash":
        need_postfix()
        (tmp_path / "access.db").write_bytes(b"")
    r = _run("lookup", "--config-dir", str(tmp_path), f"{kind}:{tmp_path}/access", "key")
    if kind == "hash":  # answered from the (empty, so unusable) index, as smtpd does: no wait
        assert r.returncode == 2 and "access.db" in r.err, r.err
    else:
        assert r.returncode == 2 and "access" in r.err and "not a regular file (FIFO)" in r.err, r.err


def test_fifo_as_cidr_source(tmp_path):
    _config(tmp_path)
    os.mkfifo(tmp_path / "clients.cidr")
    r = _run("lookup", "--config-dir", str(tmp_path), f"cidr:{tmp_path}/clients.cidr", "192.0.2.1")
    assert r.returncode == 2 and "clients.cidr" in r.err and "not a regular file (FIFO)" in r.err, r.err


def test_fifo_as_a_mynetworks_file(tmp_path):
    os.mkfifo(tmp_path / "nets")
    (tmp_path / "main.cf").write_text(f"compatibility_level = 3.6\nmynetworks = {tmp_path}/nets\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    r = _run("trace", "--config-dir", str(tmp_path), "--client-address", "192.0.2.1",
             "--recipient", "a@example.org")
    assert "nets" in r.err + r.out and "not a regular file (FIFO)" in r.err + r.out, r.err
