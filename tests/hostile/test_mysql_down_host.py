"""A MySQL host that failed is not tried again until retry_interval has
passed (Postfix marks it down the same way), so a hung server costs one
timeout per table, not one per lookup of a trace. Counted by connections,
not by time."""
from __future__ import annotations

from tests.hostile.util import SilentServer, closed_port
from tui.core.tables import open_table


def _cf(tmp_path, hosts: str, extra: str = "") -> str:
    cf = tmp_path / "mysql.cf"
    cf.write_text(f"hosts = {hosts}\nuser = postfix\npassword = pw-down-host\ndbname = postfix\n"
                  f"query = SELECT goto FROM alias WHERE address='%s'\n{extra}")
    return f"mysql:{cf}"


def test_a_hung_host_is_waited_on_once(tmp_path):
    with SilentServer() as server:
        table = open_table(_cf(tmp_path, f"inet:127.0.0.1:{server.port}"))
        first = table.lookup("a@example.org")
        second = table.lookup("b@example.org")
        third = table.lookup("c@example.org")
        assert first.error and second.error and third.error
        assert server.accepted == 1, "the down host was contacted again"
        assert "not retried" in second.error
        assert "pw-down-host" not in first.error + second.error
        table.close()


def test_retry_interval_zero_tries_every_time(tmp_path):
    port = closed_port()
    table = open_table(_cf(tmp_path, f"inet:127.0.0.1:{port}", "retry_interval = 0\n"))
    for key in ("a@example.org", "b@example.org"):
        r = table.lookup(key)
        assert r.error and "not retried" not in r.error
    table.close()
