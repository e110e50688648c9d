"""Plumbing for the postmap differential tests (no tests of its own).

postmap_batch() feeds keys to `postmap -c DIR -q - TYPE:NAME` (one process
per table, not per key) and returns {key: value} for the keys it printed;
ours_batch() asks our open_table() the same keys. A test compares the two.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tables"
SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def postmap_bin() -> str:
    return shutil.which("postmap") or "/usr/sbin/postmap"


def settle(*paths) -> None:
    """Backdate files by a minute. Postfix re-reads a main.cf or .cf file
    that changed within the last second or two (sleeping 300 ms a time);
    written-just-now files would cost ~2 s per postmap run."""
    when = time.time() - 60
    for p in paths:
        os.utime(p, (when, when))


def make_config_dir(path: Path, extra: str = "compatibility_level = 3.6\n") -> Path:
    """A scratch Postfix config dir: postmap -c needs a main.cf."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.cf").write_text(extra)
    settle(path / "main.cf")
    return path


def postmap_build(config_dir: Path, spec: str) -> None:
    r = subprocess.run([postmap_bin(), "-c", str(config_dir), spec],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode(errors="replace")


ERROR = "<lookup error>"


def postmap_one(config_dir: Path, spec: str, key: str) -> str | None:
    """postmap -q KEY: the value, None (not found) or ERROR."""
    r = subprocess.run([postmap_bin(), "-c", str(config_dir), "-q", key, spec],
                       capture_output=True, timeout=60)
    if b"fatal:" in r.stderr:
        return ERROR
    if r.returncode == 0:
        return r.stdout.decode("utf-8", "surrogateescape").removesuffix("\n")
    return None


def postmap_batch(config_dir: Path, spec: str, keys: list[str]) -> tuple[dict[str, str], str]:
    """{key: value} for every key postmap -q - found (value ERROR when the
    lookup failed), and postmap's stderr. A lookup error stops postmap -q -,
    so then every key is asked on its own with postmap -q KEY."""
    for k in keys:
        assert "\n" not in k and "\t" not in k, "batch keys cannot hold TAB/newline"
    data = "".join(k + "\n" for k in keys).encode("utf-8", "surrogateescape")
    r = subprocess.run([postmap_bin(), "-c", str(config_dir), "-q", "-", spec],
                       input=data, capture_output=True, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    found: dict[str, str] = {}
    if "fatal:" in err:
        for k in keys:
            v = postmap_one(config_dir, spec, k)
            if v is not None:
                found[k] = v
        return found, err
    for line in r.stdout.decode("utf-8", "surrogateescape").split("\n"):
        if "\t" not in line:
            continue
        k, _, v = line.partition("\t")
        found[k] = v
    return found, err


def table_answers(t, keys: list[str]) -> dict[str, str]:
    """What table T answers for each key: its value, ERROR, or nothing."""
    out: dict[str, str] = {}
    for k in keys:
        r = t.lookup(k)
        if r.error is not None:
            out[k] = ERROR
        elif r.found:
            out[k] = r.value
    return out


def ours_batch(spec: str, keys: list[str], view=None) -> dict[str, str]:
    from tui.core.tables import open_table

    t = open_table(spec, view)
    try:
        return table_answers(t, keys)
    finally:
        t.close()


def view_for(config_dir: Path):
    """The ParamView of config_dir (tables read smtputf8_enable from it)."""
    from tui.core.config import load_config

    return load_config(str(config_dir)).params()


def read_keys(name: str = "keys.txt") -> list[str]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    keys = text.split("\n")
    if keys and keys[-1] == "":
        keys.pop()
    return keys


def diff(ours: dict, theirs: dict) -> list[str]:
    out = []
    for k in sorted(set(ours) | set(theirs)):
        a, b = ours.get(k), theirs.get(k)
        if a != b:
            out.append(f"{k!r}: ours={a!r} postmap={b!r}")
    return out


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copyfile(FIXTURES / name, target)
    os.chmod(target, 0o644)
    settle(target)
    return target
