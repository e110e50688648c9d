"""Plumbing for the postmap differential tests (no tests of its own).

postmap_batch() feeds keys to `postmap -c DIR -q - TYPE:NAME` (one process
per table, not per key) and returns {key: value} for the keys it printed;
ours_batch() asks our open_table() the same keys. A test compares the two.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tables"
SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def postmap_bin() -> str:
    return shutil.which("postmap") or "/usr/sbin/postmap"


def make_config_dir(path: Path, extra: str = "compatibility_level = 3.6\n") -> Path:
    """A scratch Postfix config dir: postmap -c needs a main.cf."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.cf").write_text(extra)
    return path


def postmap_build(config_dir: Path, spec: str) -> None:
    r = subprocess.run([postmap_bin(), "-c", str(config_dir), spec],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode(errors="replace")


def postmap_batch(config_dir: Path, spec: str, keys: list[str]) -> tuple[dict[str, str], str]:
    """{key: value} for every key postmap -q - found, and its stderr."""
    for k in keys:
        assert "\n" not in k and "\t" not in k, "batch keys cannot hold TAB/newline"
    data = "".join(k + "\n" for k in keys).encode("utf-8", "surrogateescape")
    r = subprocess.run([postmap_bin(), "-c", str(config_dir), "-q", "-", spec],
                       input=data, capture_output=True, timeout=120)
    err = r.stderr.decode("utf-8", "replace")
    assert "fatal" not in err, f"postmap failed: {err}"
    found: dict[str, str] = {}
    for line in r.stdout.decode("utf-8", "surrogateescape").split("\n"):
        if line == "" and not found and not r.stdout:
            continue
        if "\t" not in line:
            continue
        k, _, v = line.partition("\t")
        found[k] = v
    return found, err


def ours_batch(spec: str, keys: list[str], view=None) -> dict[str, str]:
    from tui.core.tables import open_table

    t = open_table(spec, view)
    try:
        out: dict[str, str] = {}
        for k in keys:
            r = t.lookup(k)
            assert r.error is None, f"{spec} {k!r}: {r.error}"
            if r.found:
                out[k] = r.value
        return out
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
    return target
