"""The bundled demo: materialised correctly, accepted by the real Postfix."""
from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_postfix
from tui.demo import DB_NAME, PLACEHOLDER, demo_config_dir, template_names


def test_demo_is_a_fresh_self_contained_directory(demo_dir: Path):
    other = demo_config_dir()
    assert other != demo_dir
    names = sorted(p.name for p in demo_dir.iterdir())
    assert names == sorted(template_names() + [DB_NAME])
    for name in template_names():
        text = (demo_dir / name).read_text()
        assert PLACEHOLDER not in text, name
    main_cf = (demo_dir / "main.cf").read_text()
    # every file the configuration names lives in the demo directory
    assert f"texthash:{demo_dir}/access" in main_cf
    assert f"sqlite:{demo_dir}/sqlite_virtual_domains_maps.cf" in main_cf
    assert "/etc/postfix" not in main_cf


def test_demo_database_has_postfixadmin_shapes(demo_dir: Path):
    con = sqlite3.connect(demo_dir / DB_NAME)
    try:
        domains = {r[0]: (r[1], r[2]) for r in con.execute("SELECT domain, active, backupmx FROM domain")}
        aliases = dict(con.execute("SELECT address, goto FROM alias").fetchall())
        alias_domains = con.execute("SELECT alias_domain, target_domain FROM alias_domain").fetchall()
        inactive = con.execute("SELECT count(*) FROM mailbox WHERE active = 0").fetchone()[0]
    finally:
        con.close()
    assert any(backup == 1 for _a, backup in domains.values()), "a backup-MX domain"
    assert any(active == 0 for active, _b in domains.values()), "an inactive domain"
    assert any(a.startswith("@") for a in aliases), "a catch-all"
    assert alias_domains, "an alias domain"
    assert inactive >= 1


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


@pytest.mark.oracle
def test_real_postconf_accepts_the_demo_without_warnings(demo_dir: Path):
    need_postfix()
    for flag in ("-n", "-M", "-P"):
        r = _run("postconf", "-c", str(demo_dir), flag)
        assert r.returncode == 0, r.stderr
        assert r.stderr.strip() == "", f"postconf {flag}: {r.stderr}"


KEYS = {
    "texthash:{d}/access": ["lists.example.org", "bulk.example.com", "[192.0.2.66]", "nobody.example"],
    "texthash:{d}/transport": ["lists.example.org", "example.org"],
    "texthash:{d}/aliases": ["postmaster", "root", "alice"],
    "regexp:{d}/header_checks": ["Subject: cheap viagra here", "X-Mailer: SpamBlaster 3", "Subject: hello"],
    "sqlite:{d}/sqlite_virtual_domains_maps.cf": ["example.org", "EXAMPLE.NET", "old.example.net",
                                                  "partner.example.com", "example.com"],
    "sqlite:{d}/sqlite_relay_domains_maps.cf": ["partner.example.com", "example.org"],
    "sqlite:{d}/sqlite_virtual_alias_maps.cf": ["info@example.org", "@shop.example.net", "former@example.org",
                                                "o'brien@example.org"],
    "sqlite:{d}/sqlite_virtual_alias_domain_maps.cf": ["alice@example.net", "nobody@example.net"],
    "sqlite:{d}/sqlite_virtual_alias_domain_catchall_maps.cf": ["x@example.net"],
    "sqlite:{d}/sqlite_virtual_mailbox_maps.cf": ["bob@example.org", "former@example.org"],
    "sqlite:{d}/sqlite_virtual_alias_domain_mailbox_maps.cf": ["bob@example.net", "sales@example.net"],
}


@pytest.mark.oracle
def test_real_postmap_reads_the_demo_maps_like_our_tables(demo_dir: Path):
    """Every demo map answers postmap -q; our table layer gives the same answers."""
    need_postfix()
    from tui.core.config import load_config
    from tui.core.tables import open_table

    view = load_config(str(demo_dir)).params()
    for spec_t, keys in KEYS.items():
        spec = spec_t.format(d=demo_dir)
        table = open_table(spec, view)
        assert table.status.state == "ok", (spec, table.status)
        for key in keys:
            r = _run("postmap", "-c", str(demo_dir), "-q", key, spec)
            assert r.returncode in (0, 1), (spec, key, r.stderr)
            assert "warning" not in r.stderr, (spec, key, r.stderr)
            expected = r.stdout.rstrip("\n") if r.returncode == 0 else None
            got = table.lookup(key)
            assert got.error is None, (spec, key, got.error)
            assert (got.value if got.found else None) == expected, (spec, key)
