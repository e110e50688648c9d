"""An aliases(5) table answers from its own index on every lookup, not only
on the first one (FileTable.lookup's shortcut reads FileTable's index, which
an AliasTable leaves empty; a trace asks alias_maps many times)."""
from __future__ import annotations

from tui.core.tables import open_table


def test_alias_table_answers_after_it_is_loaded(tmp_path):
    src = tmp_path / "aliases"
    src.write_text("postmaster: root\ntest-list: \"|/usr/lib/mailman/mail/mailman post test\"\n")
    t = open_table(f"hash:{src}", aliases=True)
    for _ in range(3):
        r = t.lookup("test-list")
        assert r.found and "mailman" in r.value, r
        assert t.lookup("Postmaster").value == "root"
        assert not t.lookup("nobody").found


def test_plain_map_answers_after_it_is_loaded(tmp_path):
    src = tmp_path / "access"
    src.write_text("Example.COM  OK\n\u00e9x.example  REJECT\n")
    t = open_table(f"hash:{src}")
    for _ in range(3):
        assert t.lookup("example.com").value == "OK"
        assert t.lookup("EXAMPLE.com").where.endswith(":1")
        assert t.lookup("\u00e9x.example").value == "REJECT"
        assert not t.lookup("other.example").found
