"""Line numbers deep in a big map (scripts/bench.py made line numbers cheaper
with a checkpoint every 16 KiB): on a file of many checkpoints, postmap and
we warn about the same duplicate keys, our warnings name the duplicates'
lines, a lookup's `where` is the line of its entry and its value is what
postmap -q answers."""
from __future__ import annotations

import os
import re
import subprocess
import time

from tests.conftest import need_postfix
from tui.core.tables import open_table


def test_line_numbers_in_a_big_map_match_postmap(tmp_path):
    need_postfix()
    (tmp_path / "main.cf").write_text("compatibility_level = 3.6\n")
    src = tmp_path / "access"
    lines = []
    for i in range(20_000):
        if i % 997 == 3:
            lines.append("# a comment")
        if i % 1500 == 7:
            lines.append(f"key{i}.example OK continued")
            lines.append("   on a continuation line")
            continue
        lines.append(f"key{i}.example REJECT number {i}")
    dups = [5, 4321, 19_998]  # early, middle, last checkpoints
    lines += [f"key{i}.example OK a duplicate" for i in dups]
    src.write_text("\n".join(lines) + "\n")
    old = time.time() - 120  # no settle delay for a just-written main.cf
    for f in (src, tmp_path / "main.cf"):
        os.utime(f, (old, old))
    r = subprocess.run(["postmap", "-c", str(tmp_path), f"hash:{src}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    theirs = sorted(re.findall(r'duplicate entry: "([^"]+)"', r.stderr))  # postmap names no line
    assert theirs == sorted(f"key{i}.example" for i in dups), r.stderr
    t = open_table(f"hash:{src}")
    assert t.lookup("key0.example").found  # loads the map
    warned = [d for d in t.status.diagnostics if "duplicate entry" in d.message]
    assert sorted(re.search(r'"([^"]+)"', d.message).group(1) for d in warned) == theirs
    # each warning names the line of the duplicate in the file we wrote
    assert sorted(d.line for d in warned) == [len(lines) - len(dups) + k + 1 for k in range(len(dups))]
    # the line a lookup names is the line of the entry (first occurrence)
    for i in (0, 1, 5, 7, 9_999, 19_998, 19_999):
        res = t.lookup(f"key{i}.example")
        line = int(res.where.rsplit(":", 1)[1])
        assert lines[line - 1].startswith(f"key{i}.example "), (i, line)
        q = subprocess.run(["postmap", "-c", str(tmp_path), "-q", f"key{i}.example", f"hash:{src}"],
                           capture_output=True, text=True)
        assert q.stdout.rstrip("\n") == res.value
