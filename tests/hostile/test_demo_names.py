"""Names as the app shows them work in the CLI.

The app writes tables under the configuration directory relative to it
(`texthash:access`, `proxy:sqlite:sqlite_relay_domains_maps.cf`); `lookup
--demo texthash:access KEY` must find that table, and `lint --demo` must
report what the tree flags (old restriction names).
"""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import need_postfix
from tests.hostile.util import REPO, cli
from tui.core.analysis import lint as core_lint
from tui.core.config import load_config
from tui.core.analysis.inventory import collect_tables
from tui.demo import materialise


def test_lookup_demo_with_the_name_the_tree_shows():
    r = cli("lookup", "--demo", "texthash:access", "bulk.example.com")
    assert r.rc == 0, r.all
    assert r.out == "REJECT Bulk mail from this domain is not accepted\n"
    r = cli("lookup", "--demo", "proxy:sqlite:sqlite_relay_domains_maps.cf", "lists.example.org", "nosuch.example")
    assert r.rc in (0, 1) and "cannot" not in r.err, r.all


def test_every_table_of_the_demo_by_its_shown_name(tmp_path):
    d = materialise(tmp_path)
    cfg = load_config(str(d))
    prefix = str(d).rstrip("/") + "/"
    for ref in collect_tables(cfg):
        shown = ref.spec.replace(prefix, "")
        full = cli("lookup", "--config-dir", str(d), ref.spec, "postmaster@example.org", "example.org")
        short = cli("lookup", "--config-dir", str(d), shown, "postmaster@example.org", "example.org")
        assert (short.rc, short.out) == (full.rc, full.out), (shown, short.all, full.all)


def test_shown_name_answers_like_postmap(tmp_path):
    need_postfix()
    d = materialise(tmp_path)
    keys = ["bulk.example.com", "mail.example.org", "nosuch.example"]
    want = subprocess.run(["postmap", "-c", str(d), "-q", "-", f"texthash:{d}/access"],
                          input="".join(k + "\n" for k in keys).encode(), capture_output=True, timeout=60)
    r = cli("lookup", "--config-dir", str(d), "texthash:access", *keys)
    assert r.out.encode() == want.stdout


def test_a_name_relative_to_the_current_directory_keeps_postmaps_meaning(tmp_path):
    (tmp_path / "conf").mkdir()
    d = materialise(tmp_path / "conf")
    (tmp_path / "access").write_text("here.example OK-HERE\n")
    r = subprocess.run([sys.executable, "-m", "tui", "lookup", "--config-dir", str(d), "texthash:access",
                        "here.example"], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert r.stdout == "OK-HERE\n", r.stderr


def test_lint_demo_reports_what_the_tree_flags(tmp_path):
    d = materialise(tmp_path)
    cfg = load_config(str(d))
    flagged = []
    for name in core_lint.RESTRICTION_LISTS:
        for _pos, text, note in core_lint.restriction_items(cfg.params(), name):
            if note.startswith("old name of"):
                flagged.append(text)
    assert flagged, "the demo has old restriction names (the seed case had them)"
    r = cli("lint", "--demo")
    assert r.rc == 1, r.all
    for text in flagged:
        assert f"'{text}' is the old name of" in r.out, (text, r.out)
    assert "postfix-explorer-demo-" not in r.out  # a temporary directory, gone at exit
