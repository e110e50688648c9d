#!/usr/bin/env python3
"""Dump the engine's traces of a large, seeded set of transactions.

A tool for changes that must not change behaviour (refactoring, speed
work): run it before the change, run it after, compare the sha256.

    python scripts/trace_dump.py --out before.jsonl
    ... change the engine ...
    python scripts/trace_dump.py --out after.jsonl
    cmp before.jsonl after.jsonl

What it traces:

- every configuration of the oracle corpus (tests/oracle/scenarios/*,
  except those that need MariaDB), with the scenario's own
  transactions.tsv rows plus seeded variations of them: clients inside
  and outside mynetworks, IPv6 clients, senders and recipients drawn from
  every domain the scenario mentions, unknown users, the null sender,
  SASL logins, each smtpd service the scenario names;
- the files-only configuration scripts/bench.py builds (a small
  PostfixAdmin-shaped installation in hash: maps) with bench.py's own
  transaction mix.

Every transaction is traced twice on one loaded Config (a first pass over
all of them, then a second, warm pass), and each trace is written as one
line: `<config>\\t<pass>\\t<index>\\t<service>\\t<Trace.to_json()>`. The
temporary directory the configurations are written to is replaced by
`__DIR__`, so two runs give the same bytes. The last line on stdout is the
sha256 of the dump. Nothing depends on the network, the clock or this
machine's DNS (a fixed resolver answers "not found" to every query).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.oracle.scenarios import all_scenarios, materialize  # noqa: E402
from tui.core import dns  # noqa: E402
from tui.core.config import load_config  # noqa: E402
from tui.core.smtpd import evaluate  # noqa: E402
from tui.core.trace import Transaction  # noqa: E402

VARIATIONS_PER_SCENARIO = 300
BENCH_TRANSACTIONS = 800

MYNETWORKS_CLIENTS = ["127.0.0.1", "127.0.0.2", "10.1.2.3", "192.168.1.20", "::1",
                      "::ffff:127.0.0.1"]
OUTSIDE_CLIENTS = ["192.0.2.44", "198.51.100.77", "203.0.113.9", "2001:db8::25",
                   "2001:db8:1::7", "fe80::1", "8.8.8.8"]
EXTRA_DOMAINS = ["example.org", "example.com", "elsewhere.example", "localhost",
                 "mail.example.org", "nodots", "sub.example.net"]
HELOS = ["mail.example.net", "[192.0.2.7]", "localhost", "bad_helo!", "nodots",
         "mx.elsewhere.example", "[IPv6:2001:db8::25]", None]


def _split(addr: str) -> tuple[str, str]:
    if "@" in addr:
        local, _, domain = addr.rpartition("@")
        return local, domain
    return addr, ""


def scenario_transactions(scenario, rnd: random.Random) -> list[tuple[str, Transaction]]:
    """The scenario's own rows, then seeded variations of them."""
    out: list[tuple[str, Transaction]] = []
    services, clients, names, helos, senders, rcpts, logins = (set() for _ in range(7))
    for tx in scenario.transactions:
        out.append((tx.service, Transaction(client_address=tx.client_address,
                                            client_name=tx.client_name, helo=tx.helo,
                                            sender=tx.sender, recipient=tx.recipient,
                                            sasl_login=tx.sasl_login,
                                            reverse_client_name=tx.reverse_client_name)))
        services.add(tx.service)
        clients.add(tx.client_address)
        names.add(tx.client_name)
        helos.add(tx.helo)
        senders.add(tx.sender)
        rcpts.add(tx.recipient)
        if tx.sasl_login is not None:
            logins.add(tx.sasl_login)
    addrs = sorted(a for a in senders | rcpts if a)
    locals_ = sorted({_split(a)[0] for a in addrs} | {"postmaster", "abuse", "root"})
    domains = sorted({_split(a)[1] for a in addrs if _split(a)[1]} | set(EXTRA_DOMAINS))
    clients_l = sorted(clients) + MYNETWORKS_CLIENTS + OUTSIDE_CLIENTS
    names_l = sorted(names | {"unknown", "host.example.net", "localhost"})
    helos_l = sorted({h for h in helos if h is not None}) + HELOS
    logins_l = sorted(logins | {"alice@example.com", "someone"})
    services_l = sorted(services)

    def address(kind: float) -> str:
        if kind < 0.45 and addrs:
            return rnd.choice(addrs)                                   # as the scenario has it
        if kind < 0.65:
            return f"{rnd.choice(locals_)}@{rnd.choice(domains)}"      # known local part, any class
        if kind < 0.80:
            return f"nobody{rnd.randrange(1000)}@{rnd.choice(domains)}"  # unknown user
        if kind < 0.88:
            return rnd.choice(locals_)                                 # bare local part
        if kind < 0.94:
            return f"{rnd.choice(locals_)}+ext@{rnd.choice(domains)}"  # address extension
        return f"{rnd.choice(locals_)}@{rnd.choice(domains).upper()}"  # case

    for _ in range(VARIATIONS_PER_SCENARIO):
        sender = "" if rnd.random() < 0.1 else address(rnd.random())
        out.append((rnd.choice(services_l), Transaction(
            client_address=rnd.choice(clients_l),
            client_name=rnd.choice(names_l),
            helo=rnd.choice(helos_l),
            sender=sender,
            recipient=address(rnd.random()),
            sasl_login=rnd.choice(logins_l) if rnd.random() < 0.25 else None,
        )))
    return out


def bench_config(work: Path) -> tuple[Path, list[tuple[str, Transaction]]]:
    """scripts/bench.py's files-only configuration, at a small size."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench
    finally:
        sys.path.pop(0)
    data = bench.Data(domains=60, mailboxes=600, aliases=1500, alias_domains=6)
    access = work / "sender_access"
    listed = bench.generate_access(access, 3000)
    d = work / "bench_files"
    bench.write_files_config(d, data, access)
    txs = bench.transactions(data, listed, BENCH_TRANSACTIONS, seed=6)
    return d, [("smtp", Transaction(**t)) for t in txs]


def dump(out, seed: int) -> tuple[int, str]:
    rnd = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="trace-dump-")).resolve()
    digest = hashlib.sha256()
    lines = 0
    try:
        configs: list[tuple[str, Path, list[tuple[str, Transaction]]]] = []
        for sc in all_scenarios():
            if sc.needs_mysql:
                continue
            d = materialize(sc, work / sc.name / "etc")
            configs.append((sc.name, d, scenario_transactions(sc, rnd)))
        d, txs = bench_config(work)
        configs.append(("bench_files", d, txs))
        for name, d, txs in configs:
            cfg = load_config(str(d))
            resolver = dns.StaticResolver(default=dns.NOTFOUND)
            for pass_no in (1, 2):
                for i, (service, tx) in enumerate(txs):
                    try:
                        body = json.dumps(evaluate(cfg, tx, service=service,
                                                   resolver=resolver).to_json(),
                                          ensure_ascii=False)
                    except Exception as exc:  # noqa: BLE001 - a crash is behaviour too
                        body = json.dumps({"error": f"{type(exc).__name__}: {exc}",
                                           "transaction": tx.to_json()})
                    line = f"{name}\t{pass_no}\t{i}\t{service}\t{body}\n"
                    line = line.replace(str(work), "__DIR__")
                    data = line.encode("utf-8")
                    digest.update(data)
                    out.write(data)
                    lines += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return lines, digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="write the dump here (default: only print the sha256)")
    ap.add_argument("--seed", type=int, default=12, help="seed of the variations (default 12)")
    args = ap.parse_args(argv)
    if args.out:
        with open(args.out, "wb") as fh:
            lines, sha = dump(fh, args.seed)
    else:
        class _Null:
            def write(self, _b: bytes) -> None:
                pass
        lines, sha = dump(_Null(), args.seed)
    print(f"{lines} traces ({lines // 2} transactions, each traced twice)")
    print(f"sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
