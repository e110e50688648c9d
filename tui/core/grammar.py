"""The lark parsers for the grammars in grammars/, ready made.

Grammars ship inside the wheel as tui/grammars/*.lark; in a source checkout
they live in the top-level grammars/ folder. Building an LALR parser from a
grammar takes lark 6-15 ms per grammar, most of what a CLI command spent
starting, so it is done ahead of time: `scripts/build_parsers.py` builds
each parser and writes lark's serialised form of it (parse table,
terminals, rules) as JSON to tui/core/parsers/NAME.json, committed and
shipped in the wheel. parser() loads that in 0.3-2 ms.

Each JSON file records the SHA-256 of the grammar text it was built from
and the lark version that built it. When either differs (a grammar edited
in a checkout without running the script, another lark), parser() builds
the parser from the grammar instead: slower, never wrong.
tests/core/test_startup_parsers.py fails when a committed file is not what
a fresh build gives.

Nothing is ever written at run time (lark's own on-disk cache breaks on
read-only or shared installs and would leave files on the user's machine);
an lru_cache keeps one parser per grammar and transformer per
process.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from lark import Lark, Transformer

_HERE = Path(__file__).resolve().parent

# how every grammar is built, ahead of time or not
OPTIONS = {"parser": "lalr", "propagate_positions": True}
PREBUILT_FORMAT = 1


def grammar_dir() -> Path:
    """tui/grammars (installed wheel) or grammars/ (source checkout)."""
    for candidate in (_HERE.parent / "grammars", _HERE.parent.parent / "grammars"):
        if (candidate / "main_cf.lark").is_file():
            return candidate
    raise FileNotFoundError("grammars/ not found next to the tui package")


def grammar_path(name: str) -> Path:
    return grammar_dir() / f"{name}.lark"


def prebuilt_dir() -> Path:
    return _HERE / "parsers"


def prebuilt_path(name: str) -> Path:
    return prebuilt_dir() / f"{name}.json"


def source_digest(text: bytes) -> str:
    """TEXT's SHA-256, hex. Every start of a command checks a grammar's digest:
    the interpreter's own SHA-256 is taken where it has one, without
    hashlib, whose OpenSSL set-up costs ~3 ms of that start."""
    return _sha256(text).hexdigest()


def _builtin_sha256():
    try:
        from _sha256 import sha256   # type: ignore[import-not-found]  # Python 3.11
        return sha256
    except ImportError:
        pass
    try:
        from _sha2 import sha256   # type: ignore[import-not-found]  # Python 3.12 on
        return sha256
    except ImportError:
        from hashlib import sha256
        return sha256


_sha256 = _builtin_sha256()


@lru_cache(maxsize=16)
def _file_digest(path: Path, mtime_ns: int, size: int) -> str:
    return source_digest(path.read_bytes())


def follows(name: str, digest: str) -> bool:
    """Is grammars/NAME.lark the very text whose SHA-256 is DIGEST? Code
    that reads lines without lark, the way it was checked against one
    grammar text, asks this first (a changed grammar is then read by lark).
    False when the grammar cannot be read (lark then says why)."""
    try:
        path = grammar_path(name)
        st = path.stat()
        return _file_digest(path, st.st_mtime_ns, st.st_size) == digest
    except OSError:
        return False


# The rules a grammar's text can be parsed from. A grammar with several is
# parsed with parse(text, start=RULE); the others with parse(text).
START_RULES = {"maillog": ("line", "message")}


def start_rules(name: str) -> list[str]:
    return list(START_RULES.get(name, ("start",)))


def compile_grammar(name: str, transformer: Transformer[Any, Any] | None = None,
                    text: str | None = None) -> Lark:
    """Build the parser from grammars/NAME.lark (what the prebuilt form
    saves lark from doing)."""
    from lark import Lark

    if text is None:
        text = grammar_path(name).read_text(encoding="utf-8")
    return Lark(text, start=start_rules(name), transformer=transformer, cache=False, **OPTIONS)


def _prebuilt(name: str, digest: str) -> dict[str, Any] | None:
    """The saved parser for NAME if it was built from this very grammar
    text, with its start rules, by this lark; else None."""
    import lark

    try:
        saved: dict[str, Any] = json.loads(prebuilt_path(name).read_bytes())
    except (OSError, ValueError):
        return None
    if (saved.get("format") != PREBUILT_FORMAT or saved.get("sha256") != digest
            or saved.get("lark") != lark.__version__ or saved.get("start") != start_rules(name)):
        return None
    return saved


def _int_keys(d: dict[str, Any]) -> dict[int, Any]:
    return {int(k): v for k, v in d.items()}


def load_prebuilt(saved: dict[str, Any], transformer: Transformer[Any, Any] | None = None) -> Lark:
    """A Lark instance from a saved parser (see scripts/build_parsers.py).

    JSON keys are strings: the memo, the token names and the parse table are
    keyed by numbers in lark's form, so they are turned back here. The
    transformer is passed the way lark's own loader takes it (it may be set
    when loading; the grammar and the tables do not depend on it)."""
    from lark import Lark

    memo = _int_keys(saved["memo"])
    data = saved["data"]
    table = data["parser"]["parser"]
    table["tokens"] = _int_keys(table["tokens"])
    table["states"] = {int(s): _int_keys(actions) for s, actions in table["states"].items()}
    return cast("Lark", Lark._load_from_dict(data, memo, transformer=transformer))  # type: ignore[no-untyped-call, unused-ignore]


@lru_cache(maxsize=None)
def parser(name: str, transformer: Transformer[Any, Any] | None = None) -> Lark:
    """The LALR parser for grammars/NAME.lark, with positions.

    With a transformer, lark calls it while parsing (no tree is built) and
    parse() returns what the transformer's start rule returns; the
    transformer must not need `meta` (v_args(meta=True) is not available
    there; tokens still carry line/column/start_pos).

    Raises OSError when the grammar file cannot be read (a broken install),
    lark's errors when a grammar edited in a checkout does not build."""
    raw = grammar_path(name).read_bytes()
    saved = _prebuilt(name, source_digest(raw))
    if saved is not None:
        return load_prebuilt(saved, transformer)
    return compile_grammar(name, transformer, raw.decode("utf-8"))
