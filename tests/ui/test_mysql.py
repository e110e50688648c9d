"""MySQL in the app: a server that does not answer shows as a red node with
the reason and the app stays usable; a working one feeds the PostfixAdmin
view. The password never reaches the screen."""
from __future__ import annotations

import secrets
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_mariadb
from tests.ui.conftest import plain, screen_text, settle
from tui.app import make_app

PASSWORD = "Zq7-not-on-screen-" + secrets.token_hex(4)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return port


def write_config(d: Path, hosts: str, dbname: str, user: str, password: str, mode: int = 0o640) -> str:
    cf = d / "mysql_virtual_domains_maps.cf"
    cf.write_text(f"hosts = {hosts}\nuser = {user}\npassword = {password}\ndbname = {dbname}\n"
                  "query = SELECT domain FROM domain WHERE domain='%s' AND active = '1' AND backupmx = '0'\n")
    cf.chmod(mode)
    (d / "main.cf").write_text(
        f"virtual_mailbox_domains = proxy:mysql:{cf}\n"
        "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return f"proxy:mysql:{cf}"


async def test_unreachable_mysql_is_a_red_node_and_the_app_stays_responsive(tmp_path: Path):
    spec = write_config(tmp_path, f"inet:127.0.0.1:{closed_port()}", "postfixadmin", "postfix",
                        PASSWORD, mode=0o644)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await settle(pilot)
        node = app.tree.table_nodes[spec]
        assert "  unreadable: " in node.label.plain
        assert "refused" in node.label.plain.lower() or "connect" in node.label.plain.lower()
        assert "red" in str(node.label.style)
        state, reason = app.model.table_state(spec)
        assert state == "unreadable" and reason  # with the reason
        pfa = app.tree.sections["pfa"]
        assert "red" in str(pfa.label.spans[0].style)
        assert "connect" in pfa.label.plain.lower()
        # still responsive: move around, open the table, open help and close it
        app.goto_table(spec)
        await pilot.pause()
        detail = plain(app.detail.body.content)
        assert "unreadable" in detail
        assert "world-readable" in detail  # the .cf holds a password and is mode 0644
        assert "(set, not shown)" in detail
        await pilot.press("down", "up", "question_mark")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.press("t")
        assert app.query_one("#switcher").current == "trace"
        await pilot.press("escape")
        await pilot.press("a")
        await pilot.pause()
        assert app.tree.allparams_node.is_expanded
        app.goto_table(spec)
        await pilot.pause()
        assert PASSWORD not in screen_text(app)
        assert PASSWORD not in plain(app.detail.body.content)


def _mariadb(sql: str, db: str | None = None) -> None:
    cmd = ["mariadb", "-uroot", "--batch"] + ([db] if db else [])
    r = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.mark.mysql
async def test_postfixadmin_view_through_mysql(tmp_path: Path):
    need_mariadb()
    repo = Path(__file__).resolve().parents[2]
    tag = secrets.token_hex(4)
    db = user = f"pfx_ui_{tag}"
    _mariadb(f"CREATE DATABASE `{db}`;")
    try:
        _mariadb((repo / "tests" / "sql" / "postfixadmin_schema.sql").read_text(), db)
        _mariadb("INSERT INTO domain (domain, description, backupmx, active) VALUES "
                 "('example.org', 'main', 0, 1), ('partner.example.com', 'mx2', 1, 1);"
                 "INSERT INTO alias (address, goto, domain) VALUES "
                 "('info@example.org', 'alice@example.org', 'example.org');", db)
        _mariadb(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{PASSWORD}';"
                 f"GRANT SELECT ON `{db}`.* TO '{user}'@'localhost';")
        spec = write_config(tmp_path, "unix:/run/mysqld/mysqld.sock", db, user, PASSWORD)
        app = make_app(tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            assert await settle(pilot)
            assert app.model.table_state(spec)[0] == "ok"
            groups = {c.data.key: c for c in app.tree.sections["pfa"].children}
            doms = [c.label.plain for c in groups["domains"].children]
            assert doms[0] == "example.org" and doms[1].startswith("partner.example.com")
            classes = {c.data.key: c for c in app.tree.sections["classes"].children}
            vm = [c.data.key for c in classes["virtual mailbox"].children if c.data.kind == "class-item"]
            assert vm == ["example.org"]  # the backup-MX domain is not answered by this query
            app.goto_table(spec)
            await pilot.pause()
            assert PASSWORD not in screen_text(app)
    finally:
        _mariadb(f"DROP DATABASE IF EXISTS `{db}`; DROP USER IF EXISTS '{user}'@'localhost';")
