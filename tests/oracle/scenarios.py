"""The oracle's scenario corpus: configurations plus the transactions to ask.

A scenario is a directory under tests/oracle/scenarios/:

    main.cf, master.cf      the configuration (master.cf's inet smtpd
                            services are the ones transactions name)
    <map files>             anything main.cf/master.cf refer to
    transactions.tsv        the transactions (format below)
    scenario.json           optional: {"description": ..., "mysql": {"data": "data.sql"}}
    data.sql                optional: rows for the PostfixAdmin tables

Files refer to each other through placeholders that `materialize()`
replaces in every copied file: `__DIR__` becomes the absolute path of the
copy (so our engine and the real Postfix read the very same files), and a
MySQL scenario also gets `__DB_NAME__`, `__DB_USER__`, `__DB_PASSWORD__`,
`__DB_SOCKET__`.

transactions.tsv: tab-separated, `#` starts a comment line, first non-comment
line is the header

    service  client_address  client_name  helo  sender  recipient  sasl_login  note

- helo `-` : the client sends no HELO/EHLO at all
- sender `<>` : the null sender (MAIL FROM:<>)
- sasl_login `-` : not authenticated
- client_name `unknown` : no (verified) reverse name, a temporary lookup
  failure (as a mail log prints it); `[UNAVAILABLE]` a permanent one,
  `[TEMPUNAVAIL]` a temporary one (XCLIENT's words)
- optional column reverse_client_name : the unverified PTR name (same
  forms); `-` or no column: the same as client_name
- note : free text saying which rule the transaction is meant to reach
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.oracle.compile_maps import compile_maps

SCENARIO_ROOT = Path(__file__).resolve().parent / "scenarios"
COLUMNS = ("service", "client_address", "client_name", "helo", "sender", "recipient",
           "sasl_login", "note")
NOT_COPIED = {"transactions.tsv", "scenario.json", "data.sql"}


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Tx:
    service: str
    client_address: str
    client_name: str
    helo: str | None
    sender: str
    recipient: str
    sasl_login: str | None
    note: str = ""
    line: int = 0
    reverse_client_name: str | None = None

    def query_args(self) -> dict:
        return dict(service=self.service, client_address=self.client_address,
                    client_name=self.client_name, helo=self.helo, sender=self.sender,
                    recipient=self.recipient, sasl_login=self.sasl_login,
                    reverse_client_name=self.reverse_client_name)

    def describe(self) -> str:
        helo = "(no HELO)" if self.helo is None else self.helo
        login = f" login={self.sasl_login}" if self.sasl_login is not None else ""
        rev = f" reverse={self.reverse_client_name}" if self.reverse_client_name is not None else ""
        return (f"line {self.line}: {self.service} client={self.client_name}[{self.client_address}]{rev} "
                f"helo={helo} from=<{self.sender}> to=<{self.recipient}>{login}"
                + (f"  # {self.note}" if self.note else ""))


@dataclass
class Scenario:
    name: str
    source: Path
    transactions: list[Tx]
    meta: dict = field(default_factory=dict)

    @property
    def needs_mysql(self) -> bool:
        return "mysql" in self.meta

    @property
    def description(self) -> str:
        return self.meta.get("description", "")


def scenario_names() -> list[str]:
    return sorted(p.name for p in SCENARIO_ROOT.iterdir()
                  if p.is_dir() and (p / "main.cf").exists())


def parse_transactions(text: str, origin: str = "transactions.tsv") -> list[Tx]:
    out: list[Tx] = []
    header: list[str] | None = None
    for no, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cells = raw.rstrip("\n").split("\t")
        if header is None:
            header = [c.strip() for c in cells]
            missing = [c for c in COLUMNS[:-1] if c not in header]
            if missing:
                raise ScenarioError(f"{origin}:{no}: header lacks {missing}")
            continue
        if len(cells) > len(header):
            raise ScenarioError(f"{origin}:{no}: {len(cells)} cells, header has {len(header)}")
        row = dict(zip(header, (c.strip() for c in cells)))
        for c in COLUMNS[:-1]:
            if c not in row or row[c] == "":
                raise ScenarioError(f"{origin}:{no}: empty {c}")
        out.append(Tx(
            service=row["service"],
            client_address=row["client_address"],
            client_name=row["client_name"],
            helo=None if row["helo"] == "-" else row["helo"],
            sender="" if row["sender"] == "<>" else row["sender"],
            recipient=row["recipient"],
            sasl_login=None if row["sasl_login"] == "-" else row["sasl_login"],
            note=row.get("note", ""),
            line=no,
            reverse_client_name=None if row.get("reverse_client_name", "-") in ("-", "")
            else row["reverse_client_name"],
        ))
    return out


def load_scenario(name: str) -> Scenario:
    src = SCENARIO_ROOT / name
    if not (src / "main.cf").exists():
        raise ScenarioError(f"no scenario {name!r} under {SCENARIO_ROOT}")
    meta = {}
    if (src / "scenario.json").exists():
        meta = json.loads((src / "scenario.json").read_text())
    txs = parse_transactions((src / "transactions.tsv").read_text(), f"{name}/transactions.tsv")
    return Scenario(name, src, txs, meta)


def all_scenarios() -> list[Scenario]:
    return [load_scenario(n) for n in scenario_names()]


def materialize(scenario: Scenario, dest: Path, substitutions: dict[str, str] | None = None) -> Path:
    """Copy the scenario's configuration files into dest, placeholders replaced."""
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    subs = {"__DIR__": str(dest)}
    subs.update(substitutions or {})
    for p in sorted(scenario.source.rglob("*")):
        rel = p.relative_to(scenario.source)
        if p.is_dir():
            (dest / rel).mkdir(exist_ok=True)
            continue
        if rel.name in NOT_COPIED and rel.parent == Path("."):
            continue
        text = p.read_text()
        for k, v in subs.items():
            text = text.replace(k, v)
        (dest / rel).write_text(text)
    leftovers = [str(p) for p in dest.rglob("*") if p.is_file() and "__DB_" in p.read_text()]
    if leftovers:
        raise ScenarioError(f"unreplaced __DB_*__ placeholders in {leftovers}")
    compile_maps(dest)  # as an admin would: smtpd reads the .db, never the source
    return dest


@contextmanager
def materialized(scenario: Scenario, substitutions: dict[str, str] | None = None):
    """A temp copy of the scenario (world-readable: smtpd runs as postfix)."""
    root = Path(tempfile.mkdtemp(prefix=f"pfx-scenario-{scenario.name}-"))
    os.chmod(root, 0o755)
    try:
        yield materialize(scenario, root / "etc", substitutions)
    finally:
        shutil.rmtree(root, ignore_errors=True)
