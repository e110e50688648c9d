"""Build the indexes of a configuration's maps, as its admin would.

smtpd reads `hash:`/`btree:`/`lmdb:`/`cdb:` tables from the index postmap
builds (`alias_maps`/`alias_database`: postalias), never from the source; a
test configuration whose maps were never compiled is one the real smtpd
would answer 451 for. `compile_maps(DIR)` runs, for every such map named in
DIR/main.cf and DIR/master.cf whose source exists, `postmap -c DIR TYPE:FILE`
(`postalias` for the alias tables) -- the same commands the oracle harness
(postfix_instance.PostfixInstance) runs before it starts a real Postfix.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.oracle.postfix_instance import _MAP_REF, POSTALIAS, POSTMAP, _logical_lines


def compile_maps(config_dir) -> list[str]:
    """Compile every map source named by the configuration; returns the
    commands run. Raises RuntimeError when postmap/postalias fails."""
    d = Path(config_dir)
    text = ""
    for name in ("main.cf", "master.cf"):
        p = d / name
        if p.exists():
            text += p.read_text(encoding="utf-8", errors="surrogateescape") + "\n"
    alias_refs = set()
    for _n, line in _logical_lines(text):
        if re.match(r"(alias_maps|alias_database)\s*=", line):
            alias_refs.update(_MAP_REF.findall(line))
    done: list[str] = []
    todo = [(typ, path) for typ, path in dict.fromkeys(_MAP_REF.findall(text))
            # a missing map is part of some scenario; dbm is not built into Debian's Postfix
            if typ != "dbm" and os.path.isfile(path)]
    if todo:
        from tests.conftest import need_postfix
        need_postfix()   # without postmap there is no index: skip (fail under CI=true)
    for typ, path in todo:
        tool = POSTALIAS if (typ, path) in alias_refs else POSTMAP
        r = subprocess.run([tool, "-c", str(d), f"{typ}:{path}"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{tool} {typ}:{path} failed: {r.stderr.strip()}")
        done.append(f"{os.path.basename(tool)} {typ}:{path}")
    return done
