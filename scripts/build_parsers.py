#!/usr/bin/env python3
"""Build the lark parsers ahead of time: grammars/NAME.lark -> tui/core/parsers/NAME.json.

    python scripts/build_parsers.py               # rewrite tui/core/parsers/*.json
    python scripts/build_parsers.py --out DIR     # write them into DIR instead
    python scripts/build_parsers.py --check       # exit 1 if a committed file is stale

Run it after editing a grammar and commit the JSON with it
(tests/core/test_startup_parsers.py fails until then). Each file holds
lark's own serialised form of the LALR parser (what `Lark.save()` pickles:
parse table, terminals, rules, options) as JSON, plus the SHA-256 of the
grammar text and the lark version it was built from; tui/core/grammar.py
loads it instead of building the parser at every start.

Lark numbers parser states and tokens in an order that depends on Python's
hashing, so the same grammar gives different tables from run to run. The
table is renumbered here into one canonical order (states breadth-first
from the start state, following tokens in name order; tokens by name) so
that a fresh build can be compared byte for byte with the committed file.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lark  # noqa: E402
from lark.grammar import Rule  # noqa: E402
from lark.lexer import TerminalDef  # noqa: E402

from tui.core import grammar  # noqa: E402

GRAMMARS = ROOT / "grammars"


def canonical_table(table: dict) -> dict:
    """The serialised LALR table with states and tokens renumbered in a
    canonical order (see the module's docstring)."""
    names = table["tokens"]
    states = table["states"]

    def by_name(actions: dict) -> list:
        return sorted(actions.items(), key=lambda item: names[item[0]])

    new_id: dict[int, int] = {}
    queue = [table["start_states"][s] for s in sorted(table["start_states"])]
    while queue:
        state = queue.pop(0)
        if state in new_id:
            continue
        new_id[state] = len(new_id)
        queue += [arg for _tok, (action, arg) in by_name(states[state]) if action == 0]
    for state in sorted(states, key=lambda s: repr(sorted((names[t], a) for t, a in states[s].items()))):
        new_id.setdefault(state, len(new_id))   # unreachable states (none expected), in content order
    tokens = sorted({names[t] for actions in states.values() for t in actions}
                    | set(names.values()))
    tok_id = {n: i for i, n in enumerate(tokens)}
    new_states = {}
    for state, sid in sorted(new_id.items(), key=lambda item: item[1]):
        new_states[sid] = {tok_id[names[t]]: [action, new_id[arg] if action == 0 else arg]
                           for t, (action, arg) in by_name(states[state])}
    return {
        "tokens": dict(enumerate(tokens)),
        "states": new_states,
        "start_states": {k: new_id[v] for k, v in table["start_states"].items()},
        "end_states": {k: new_id[v] for k, v in table["end_states"].items()},
    }


def build(name: str) -> str:
    """The JSON text for grammars/NAME.lark."""
    raw = (GRAMMARS / f"{name}.lark").read_bytes()
    p = grammar.compile_grammar(name, text=raw.decode("utf-8"))
    data, memo = p.memo_serialize([TerminalDef, Rule])
    data["parser"]["parser"] = canonical_table(data["parser"]["parser"])
    saved = {
        "comment": f"generated from grammars/{name}.lark by scripts/build_parsers.py; do not edit",
        "format": grammar.PREBUILT_FORMAT,
        "sha256": grammar.source_digest(raw),
        "lark": lark.__version__,
        "start": grammar.start_rules(name),
        "data": data,
        "memo": memo,
    }
    # compact (it is read at every start), one line per top-level key so
    # that a diff shows which grammar, digest and lark version changed
    items = [f"{json.dumps(k)}:{json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=True)}"
             for k, v in sorted(saved.items())]
    return "{\n" + ",\n".join(items) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="directory to write into (default: tui/core/parsers)")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a committed file differs")
    args = ap.parse_args(argv)
    out = args.out or grammar.prebuilt_dir()
    names = sorted(p.stem for p in GRAMMARS.glob("*.lark"))
    stale = []
    for name in names:
        text = build(name)
        target = out / f"{name}.json"
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        out.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
              f"{len(text):,} bytes", file=sys.stderr)
    if args.check:
        extra = sorted(p.stem for p in out.glob("*.json") if p.stem not in names)
        for name in stale:
            print(f"{name}: grammars/{name}.lark changed; run scripts/build_parsers.py", file=sys.stderr)
        for name in extra:
            print(f"{name}.json: no grammars/{name}.lark any more; remove it", file=sys.stderr)
        return 1 if stale or extra else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
