"""`postfix-explorer params` against the real postconf, byte for byte.

For every fixture in tests/fixtures/config/*/ (main.cf + master.cf):
  params -n            == postconf -c DIR -n
  params -n -x         == postconf -c DIR -nx
  params -x NAME...    == postconf -c DIR -x NAME...   (every parameter postconf -n shows)
  params -h -x NAME... == postconf -c DIR -hx NAME...
  params --service S/T -n [-x] == postconf -c DIR -P [-x] S/T
  the "overriding earlier entry" warnings name the same lines
For the compat_* fixtures (compatibility_level unset, 1, 2, 3.6, 3.7) and the
seed, the whole listing with defaults (postconf, postconf -x) must match too,
which checks the defaults table and the host-computed defaults.
tests/fixtures/config/errors/*/ hold broken configurations: Postfix's error
message must be the one we report.
postconf runs once per fixture and mode, never once per parameter.
"""
from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tui.__main__ import main as cli_main
from tui.core.config import load_config

pytestmark = pytest.mark.oracle

FIXTURE_ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "config"
FIXTURES = sorted(p for p in FIXTURE_ROOT.iterdir() if (p / "main.cf").is_file())
ERRORS = sorted(p for p in (FIXTURE_ROOT / "errors").iterdir() if (p / "main.cf").is_file())
FULL_LISTING = [p for p in FIXTURES if p.name.startswith("compat_") or p.name in ("seed", "expansions")]


def postconf(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("postconf") or "/usr/sbin/postconf"
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)


def params(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli_main(["params", *args])
    return rc, out.getvalue(), err.getvalue()


def _without_pid(text: str) -> str:
    # process_id is postconf's own pid: the one line that cannot match
    return "".join(l for l in text.splitlines(True) if not l.startswith("process_id ="))


def _names(listing: str) -> list[str]:
    return [line.split(" =", 1)[0] for line in listing.splitlines() if " =" in line]


@pytest.fixture(params=FIXTURES, ids=lambda p: p.name)
def fixture(request) -> str:
    need_postfix()
    return str(request.param)


def test_n_matches_postconf(fixture):
    want = postconf("-c", fixture, "-n")
    assert want.returncode == 0, want.stderr
    rc, got, _ = params("--config-dir", fixture, "-n")
    assert rc == 0
    assert got == want.stdout


def test_nx_matches_postconf(fixture):
    want = postconf("-c", fixture, "-nx")
    assert want.returncode == 0, want.stderr
    rc, got, _ = params("--config-dir", fixture, "-n", "-x")
    assert rc == 0
    assert got == want.stdout


def test_x_names_match_postconf(fixture):
    names = _names(postconf("-c", fixture, "-n").stdout)
    # a few defaults that depend on what is set, too
    names += ["relay_domains", "mynetworks_style", "smtpd_relay_restrictions",
              "append_dot_mydomain", "mydestination", "myorigin", "mydomain", "myhostname",
              "mynetworks", "inet_interfaces", "config_directory"]
    want = postconf("-c", fixture, "-x", *names)
    assert want.returncode == 0, want.stderr
    rc, got, _ = params("--config-dir", fixture, "-x", *names)
    assert got == want.stdout
    want_h = postconf("-c", fixture, "-hx", *names)
    _, got_h, _ = params("--config-dir", fixture, "-h", "-x", *names)
    assert got_h == want_h.stdout


def test_service_overrides_match_postconf_P(fixture):
    cfg = load_config(fixture)
    keys = [s.key for s in cfg.services]
    listed = [line.split()[:2] for line in postconf("-c", fixture, "-M").stdout.splitlines()]
    dup = {f"{a}/{b}" for a, b in listed if listed.count([a, b]) > 1}
    assert len(cfg.services) == len({tuple(x) for x in listed})
    for key in keys:
        if key in dup:
            continue  # postconf -P lists every duplicate; Postfix's master uses the last
        for flag in ("-P", "-Px"):
            want = postconf("-c", fixture, flag, key)
            extra = ["-x"] if "x" in flag else []
            rc, got, _ = params("--config-dir", fixture, "--service", key, "-n", *extra)
            assert got == want.stdout, (key, flag)


def test_duplicate_warnings_match_postconf(fixture):
    want = postconf("-c", fixture, "-n").stderr
    want_lines = sorted(int(m) for m in re.findall(r"main\.cf, line (\d+): overriding earlier entry", want))
    cfg = load_config(fixture)
    got_lines = sorted(d.line for d in cfg.diagnostics
                       if "overriding earlier entry" in d.message and d.path.endswith("main.cf"))
    assert got_lines == want_lines


def test_unused_parameter_warnings_match_postconf(fixture):
    want = postconf("-c", fixture, "-n").stderr
    want_set = set(re.findall(r"(main\.cf|master\.cf): unused parameter: (\S+?)=", want))
    cfg = load_config(fixture)
    got_set = {(Path(d.path).name, d.message.split(": ", 1)[1].split("=", 1)[0])
               for d in cfg.diagnostics if d.message.startswith("unused parameter:")}
    assert got_set == want_set


@pytest.mark.parametrize("fixture_path", FULL_LISTING, ids=lambda p: p.name)
@pytest.mark.parametrize("flag", ["", "-x"])
def test_full_listing_matches_postconf(fixture_path, flag):
    need_postfix()
    d = str(fixture_path)
    want = postconf("-c", d, *([flag] if flag else []))
    assert want.returncode == 0, want.stderr
    rc, got, _ = params("--config-dir", d, *([flag] if flag else []))
    assert rc == 0
    assert _without_pid(got) == _without_pid(want.stdout)
    assert len(got.splitlines()) > 800


# ------------------------------------------------------------ broken input

def _names_of(broken: str) -> list[str]:
    f = Path(broken) / "names"
    return f.read_text().split() if f.exists() else []


@pytest.fixture(scope="module")
def postconf_on_broken() -> dict[str, subprocess.CompletedProcess]:
    """postconf -x on every broken fixture, run side by side (postconf
    sleeps a little before each fatal exit)."""
    need_postfix()
    exe = shutil.which("postconf") or "/usr/sbin/postconf"
    procs = {str(p): subprocess.Popen([exe, "-c", str(p), "-x", *_names_of(str(p))],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in ERRORS}
    out = {}
    for key, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=60)
        out[key] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    return out


@pytest.fixture(params=ERRORS, ids=lambda p: p.name)
def broken(request) -> str:
    need_postfix()
    return str(request.param)


def _postfix_complaints(stderr: str) -> list[str]:
    out = []
    for line in stderr.splitlines():
        m = re.match(r"^\S*postconf: (warning|fatal): (.*)$", line)
        if m and "macro processing error" not in line:
            out.append(m.group(2))
    return out


def test_errors_are_reported_like_postfix(broken, postconf_on_broken):
    """Every complaint postconf has about the files, we have too, same words."""
    names = _names_of(broken)
    want = postconf_on_broken[broken]
    complaints = set(_postfix_complaints(want.stderr))
    assert complaints, "fixture must make postconf complain"
    cfg = load_config(broken)
    ours = set()
    for d in cfg.diagnostics:
        ours.add(f"{d.path}, line {d.line}: {d.message}" if d.line else d.message)
        ours.add(f"{d.path}: {d.message}")
        ours.add(f"file {d.path}: line {d.line}: {d.message}")
        ours.add(d.message)
    view = cfg.params()
    for n in names:
        ours.update(view.expand_errors(n))
    for c in complaints:
        # our duplicate/undefined/unused messages carry extra detail after Postfix's text
        assert any(o == c or o.startswith(c) or _strip_line_suffix(o) == c for o in ours), (c, sorted(ours))
    rc, out, err = params("--config-dir", broken, "-x", *names)
    assert "Traceback" not in err
    if "macro processing error" in want.stderr:
        assert rc == 1 and "macro processing error" in err


def _strip_line_suffix(text: str) -> str:
    return re.sub(r" \(line \d+\)$", "", text)


def test_missing_files_are_one_line_errors(tmp_path):
    rc, out, err = params("--config-dir", str(tmp_path), "-n")
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "main.cf" in err
    # without master.cf postconf -n warns once and prints the parameters
    # (tests/oracle/test_no_master_cf.py compares both with postconf)
    (tmp_path / "main.cf").write_text("myhostname = x.example\n")
    rc, out, err = params("--config-dir", str(tmp_path), "-n")
    assert rc == 0 and len(err.strip().splitlines()) == 1 and "master.cf" in err
    assert "myhostname = x.example" in out
    need_postfix()
    assert postconf("-c", str(tmp_path), "-P").returncode != 0
    assert params("--config-dir", str(tmp_path), "--service", "smtp", "-n")[0] != 0


def test_service_view_matches_postconf_with_overrides(fixture):
    """params --service S -x NAME... equals postconf -x -o name=value... NAME...
    (postconf -o puts the service's settings over main.cf, as master(8) does
    for the service's process)."""
    cfg = load_config(fixture)
    base = _names(postconf("-c", fixture, "-n").stdout)
    seen = set()
    for svc in cfg.services:
        if not svc.overrides or svc.key in seen:
            continue
        seen.add(svc.key)
        names = sorted(n for n in set(base) | set(svc.overrides) | {"mynetworks", "relay_domains"}
                       if cfg.is_known(n) and n not in ("process_name", "service_name"))
        if any("$process_name" in v or "$service_name" in v or "${service_name}" in v
               for v, _ in svc.overrides.values()):
            continue  # postconf -o cannot play master(8)'s part for these two
        opts = [x for n, (v, _) in sorted(svc.overrides.items()) for x in ("-o", f"{n}={v}")]
        want = postconf("-c", fixture, "-x", *opts, *names)
        assert want.returncode == 0, want.stderr
        rc, got, _ = params("--config-dir", fixture, "--service", svc.key, "-x", *names)
        assert got == want.stdout, svc.key


def test_defaults_table_is_what_postconf_d_says(tmp_path):
    """tui/core/data/defaults_3.7.json regenerated from this Postfix is identical."""
    need_postfix()
    import json
    import sys

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "defaults.json"
    subprocess.run([sys.executable, str(root / "scripts" / "gen_defaults.py"), "--out", str(out)],
                   check=True, capture_output=True, timeout=120)
    fresh = json.loads(out.read_text())
    shipped = json.loads((root / "tui" / "core" / "data" / "defaults_3.7.json").read_text())
    assert fresh["mail_version"].startswith("3.7.")
    assert fresh == shipped
