"""Secrets by another road.

A password set through a macro (`x_password = $db_secret`) makes db_secret
-- and whatever db_secret is built from -- a secret, wherever it is shown:
`params -n`, `-nx`, `--json`, `--service`, lint. A `password=` line that a
library quotes back in an error (pymysql's option_file parser) is hidden
in `lookup`, `trace` and `trace --json`. Everything else params prints is
still postconf's output (asked at test time).
"""
from __future__ import annotations

import json
import subprocess

from tests.conftest import need_postfix
from tests.hostile.util import cli

SECRETS = ("Hunter2", "Zq9Xw7", "Sekrit77", "TopSecret99")


def _clean(text: str) -> None:
    for s in SECRETS:
        assert s not in text, (s, text)


def _config(d):
    (d / "main.cf").write_text(
        "compatibility_level = 3.6\n"
        "db_secret = Hunter2${pepper}\n"
        "pepper = Zq9Xw7\n"
        "virtual_password = $db_secret\n"
        "relay_password = ${svc_pw?{$svc_pw}}\n"
        "svc_pw = Sekrit77\n"
        "myhostname = mx.example.org\n"
        "smtpd_banner = $myhostname ESMTP\n")
    (d / "master.cf").write_text(
        "smtp inet n - n - - smtpd\n"
        "sub inet n - n - - smtpd\n"
        "  -o virtual_bind_pw=$svc_pw\n")


def test_values_that_flow_into_a_password_are_hidden(tmp_path):
    _config(tmp_path)
    for args in (["-n"], ["-nx"], ["-n", "--json"], ["--json"], ["-x"], ["db_secret", "pepper"],
                 ["-x", "db_secret"], ["--service", "sub", "-n", "-x"], ["--service", "sub", "-x"],
                 ["--service", "sub", "-n", "--json"]):
        r = cli("params", "--config-dir", str(tmp_path), *args)
        assert "Traceback" not in r.err
        _clean(r.all)
    r = cli("params", "--config-dir", str(tmp_path), "-n", "--json")
    data = json.loads(r.out)
    for name in ("db_secret", "pepper", "svc_pw"):
        assert data[name]["value"] == data[name]["expanded"] == "(set, not shown)"
    assert data["myhostname"]["value"] == "mx.example.org"
    r = cli("lint", "--config-dir", str(tmp_path), "--no-database")
    _clean(r.all)
    r = cli("lint", "--config-dir", str(tmp_path), "--no-database", "--json")
    _clean(r.all)


def test_everything_else_is_still_postconfs_output(tmp_path):
    need_postfix()
    _config(tmp_path)
    for args in (["-n"], ["-nx"]):
        want = subprocess.run(["postconf", "-c", str(tmp_path), *args], capture_output=True, text=True,
                              timeout=60).stdout.splitlines()
        got = cli("params", "--config-dir", str(tmp_path), *args).out.splitlines()
        assert len(got) == len(want)
        hidden = [g for g in got if g.endswith("= (set, not shown)")]
        assert {h.split(" =")[0] for h in hidden} >= {"db_secret", "pepper", "svc_pw"}
        assert [g for g in got if g not in hidden] == [w for w, g in zip(want, got) if g not in hidden]


def _option_file_config(d):
    cnf = d / "my.cnf"
    cnf.write_text("password=TopSecret99\n[client]\nuser = postfix\n")
    cf = d / "aliases.cf"
    cf.write_text(f"hosts = 127.0.0.1:1\nuser = postfix\ndbname = mail\noption_file = {cnf}\n"
                  "query = SELECT goto FROM alias WHERE address = '%s'\n")
    (d / "main.cf").write_text("compatibility_level = 3.6\nmydestination = localhost\n"
                               f"virtual_alias_maps = mysql:{cf}\n"
                               "virtual_alias_domains = example.org\n")
    (d / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    return cf


def test_option_file_password_is_not_quoted_back(tmp_path):
    cf = _option_file_config(tmp_path)
    r = cli("lookup", "--config-dir", str(tmp_path), f"mysql:{cf}", "a@example.org")
    assert r.rc == 2 and "my.cnf, line 1" in r.err, r.err
    _clean(r.all)
    for extra in ([], ["--json"]):
        r = cli("trace", "--config-dir", str(tmp_path), "--client-address", "127.0.0.1",
                "--recipient", "a@example.org", *extra)
        assert "Traceback" not in r.err
        assert "my.cnf" in r.all, r.all
        _clean(r.all)


def test_library_error_texts_are_scrubbed():
    from tui.core.text import scrub_assignments

    assert scrub_assignments("line: 'password=abc\\n'") == "line: 'password=********\\n'"
    assert scrub_assignments("dsn user=x password = 'a b' host=y") == "dsn user=x password = ******** host=y"
    assert scrub_assignments("passwords are checked") == "passwords are checked"
