"""`params` never prints a database password set in main.cf (mysql:NAME
tables read NAME_password), in any output form, nor in a warning."""
from __future__ import annotations

import subprocess
import sys

import pytest

PASSWORD = "Zq7-params-secret"


@pytest.fixture
def cfg_dir(tmp_path):
    (tmp_path / "main.cf").write_text(
        "virtual_alias_maps = proxy:mysql:pfa\n"
        "pfa_hosts = 127.0.0.1\n"
        f"pfa_password = {PASSWORD}\n"
        "pfa_query = SELECT goto FROM alias WHERE address='%s'\n"
        f"stray_password = {PASSWORD}x\n"          # unused: a warning names it
        "ldap_bind_pw = other-secret\n")
    (tmp_path / "master.cf").write_text(
        "smtp inet n - n - - smtpd\n"
        f"submission inet n - n - - smtpd -o pfa_password={PASSWORD}\n")
    return tmp_path


@pytest.mark.parametrize("argv", [
    ["-n"], ["-n", "-x"], [], ["-x"], ["pfa_password"], ["-x", "pfa_password"],
    ["--json"], ["--json", "-n"], ["--service", "submission", "-n"],
    ["--service", "submission", "-n", "-x"], ["--service", "submission", "--json", "-n"],
])
def test_password_is_never_printed(cfg_dir, argv):
    r = subprocess.run([sys.executable, "-m", "tui", "params", "--config-dir", str(cfg_dir), *argv],
                       capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    for stream in (r.stdout, r.stderr):
        assert PASSWORD not in stream
        assert "other-secret" not in stream
    if argv in (["-n"], ["pfa_password"]):
        # the setting itself is still listed, like postconf, just not its value
        assert "pfa_password = (set, not shown)" in r.stdout
        assert "pfa_hosts = 127.0.0.1" in r.stdout or argv == ["pfa_password"]
