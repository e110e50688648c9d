"""Nothing large is read before someone looks at it (issue #6, scripts/bench.py):
the app settles without reading a big map, and reads it when its node opens."""
from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import settle
from tui.app import make_app
from tui.loading import BIG_FILE_BYTES


async def test_a_big_map_is_read_only_when_opened(tmp_path: Path):
    big = tmp_path / "big_access"
    line = "spammer{:07d}@bulk.example.com REJECT blocked sender, a long enough value\n"
    n = BIG_FILE_BYTES // len(line.format(0)) + 1000
    big.write_text("".join(line.format(i) for i in range(n)))
    assert big.stat().st_size > BIG_FILE_BYTES
    small = tmp_path / "small_access"
    small.write_text("a@example.org OK\nb@example.org OK\n")
    (tmp_path / "main.cf").write_text(
        f"smtpd_sender_restrictions = check_sender_access texthash:{big},\n"
        f"    check_sender_access texthash:{small}\n")
    (tmp_path / "master.cf").write_text("smtp inet n - n - - smtpd\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert await settle(pilot)
        big_spec, small_spec = f"texthash:{big}", f"texthash:{small}"
        m = app.model
        assert m.table_state(big_spec)[0] == "ok"
        assert m.table_counts.get(small_spec) == 2      # small maps are counted at once
        assert m.table_counts.get(big_spec) is None     # the big one is not read yet
        app.goto_table(big_spec)
        await pilot.pause()
        node = app.tree.table_nodes[big_spec]
        await pilot.press("enter")
        assert await settle(pilot, lambda: any(c.data.kind == "entry" for c in node.children))
        assert m.table_counts.get(big_spec) == n        # opened: read and counted
