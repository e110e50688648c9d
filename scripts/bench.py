#!/usr/bin/env python3
"""Benchmarks against the real thing (issue #6). Run by hand, not by CI.

    python scripts/bench.py [--quick] [--write BENCHMARKS.md] [--keep]
    python scripts/bench.py --only maps,scaling      # a subset

Builds large configurations in a temp dir and measures, in one run on one
machine, our engine next to the real Postfix doing the same work:

  maps     a 1,000,000-line hash access map: our load (open + first lookup,
           as a trace needs it) and peak RSS, in a fresh process, against
           `postmap -c DIR hash:FILE` building the same map (its own RSS too)
  pfa      a PostfixAdmin database in MariaDB (50,000 mailboxes, 100,000
           aliases, 2,000 domains; tests/sql/postfixadmin_schema.sql, a
           throw-away database and a SELECT-only user, both dropped after):
           opening the configuration and reading the PostfixAdmin view the
           way the app does (its first page of each table)
  trace    1,000 transactions (a seeded mix) on file-only maps and on
           MySQL-backed maps: our evaluate() per trace (median, p99,
           traces/s) against a real smtpd answering the same transactions
           over SMTP with XCLIENT on loopback (tests/oracle/postfix_instance.py),
           in alternating blocks of 100 (both under the same load), and how
           many answers agree
  app      time to the first full screen: headless (App.run_test until the
           tree is built, then until app.settled, then opening the
           PostfixAdmin mailboxes group), and the real process
           `postfix-explorer --config-dir X` in a tmux pane until the tree
           shows -- on the large configuration and on the demo
  scaling  load time, peak RSS, postmap time and trace time at 10k, 100k and
           1M map entries

--quick uses a 100,000-line map, a tenth of the database, 200 transactions
and sizes 10k/100k: a smoke run of a minute or two. Every measurement that
needs memory or a cold start runs in its own Python process (this script
with --child). Nothing is asserted: the numbers are for people. --write FILE
puts the results between the `<!-- bench:results -->` markers of FILE (the
rest of the file is left alone) together with the machine they ran on.

Needs Postfix 3.7 (postmap, postfix), MariaDB on /run/mysqld/mysqld.sock
(root over the socket, empty password) and tmux for the process-start probe;
a part whose tool is missing is reported as skipped.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as _dt
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
MARIADB = shutil.which("mariadb") or shutil.which("mysql") or "/usr/bin/mariadb"
MYSQL_SOCKET = "/run/mysqld/mysqld.sock"
SCHEMA = ROOT / "tests" / "sql" / "postfixadmin_schema.sql"
EXPLORER = Path(sys.executable).with_name("postfix-explorer")
# the environment of the real process the tmux probe starts: with its
# compiled bytecode at hand, as an installed package runs, whatever
# PYTHONDONTWRITEBYTECODE says (bench_startup.environment; main() sets it,
# part_app fills the cache with one untimed start)
APP_ENV: dict[str, str] = dict(os.environ)
_APP_WARM: list[bool] = []

FULL = dict(map_lines=1_000_000, domains=2_000, mailboxes=50_000, aliases=100_000,
            alias_domains=100, transactions=1_000, sizes=(10_000, 100_000, 1_000_000),
            scaling_traces=300)
QUICK = dict(map_lines=100_000, domains=200, mailboxes=5_000, aliases=10_000,
             alias_domains=10, transactions=200, sizes=(10_000, 100_000), scaling_traces=100)


# ---------------------------------------------------------------------------
# small helpers

def now() -> float:
    return time.perf_counter()


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def ms(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x * 1000:.2f} ms" if x < 0.1 else f"{x * 1000:.0f} ms" if x < 10 else f"{x:.1f} s"


def secs(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f} s"


def mb(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f} MB"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def backdate(top: Path, age: float = 120) -> None:
    """Postfix re-reads a configuration file changed within the last
    seconds (300 ms sleeps): make everything old so postmap is timed fairly."""
    old = time.time() - age
    for dirpath, _d, files in os.walk(top):
        for f in files:
            os.utime(os.path.join(dirpath, f), (old, old))


def run_measured(cmd: list[str], **kw) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run CMD; return (result, wall seconds, peak RSS in MB of that child)."""
    t = now()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix children)
    out_chunks, err_chunks = [], []
    import threading

    def drain(src, dst):
        for chunk in iter(lambda: src.read(65536), b""):
            dst.append(chunk)

    th = [threading.Thread(target=drain, args=(p.stdout, out_chunks)),
          threading.Thread(target=drain, args=(p.stderr, err_chunks))]
    for x in th:
        x.start()
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = now() - t
    for x in th:
        x.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    res = subprocess.CompletedProcess(cmd, p.returncode, b"".join(out_chunks), b"".join(err_chunks))
    return res, wall, ru.ru_maxrss / 1024


def child(mode: str, payload: dict, timeout: float = 900) -> dict:
    """Run `bench.py --child MODE` in a fresh interpreter; its JSON answer,
    plus wall time and peak RSS of the whole process."""
    payload = dict(payload, spawned=time.time())
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, json.dumps(payload)]
    res, wall, rss = run_measured(cmd, cwd=str(ROOT))
    if res.returncode != 0:
        raise RuntimeError(f"child {mode} failed ({res.returncode}):\n"
                           + res.stderr.decode(errors="replace")[-3000:])
    lines = [ln for ln in res.stdout.decode().splitlines() if ln.startswith("{")]
    out = json.loads(lines[-1])
    out["process_wall"] = wall
    out["process_maxrss_mb"] = rss
    return out


# ---------------------------------------------------------------------------
# machine

def machine_info() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    pf = "?"
    try:
        pf = subprocess.run([POSTCONF, "-d", "-h", "mail_version"], capture_output=True, text=True,
                            timeout=30).stdout.strip() or "?"
    except OSError:
        pass
    maria = "?"
    try:
        maria = subprocess.run([MARIADB, "-uroot", "-N", "-e", "SELECT VERSION()"], capture_output=True,
                               text=True, timeout=30).stdout.strip() or "?"
    except OSError:
        pass
    try:
        import textual
        tv = textual.__version__
    except Exception:
        tv = "?"
    return dict(cpu=cpu, cores=os.cpu_count(), memory=mem,
                python=platform.python_version(), postfix=pf, mariadb=maria, textual=tv,
                kernel=platform.release(),
                date=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                load_start=loadavg())


# ---------------------------------------------------------------------------
# data: the PostfixAdmin installation and the big access map

class Data:
    """A deterministic PostfixAdmin-shaped installation."""

    def __init__(self, domains: int, mailboxes: int, aliases: int, alias_domains: int):
        self.domains = [f"dom{i:04d}.example.net" for i in range(domains)]
        # every 50th domain is a backup MX (relay_domains), every 97th inactive
        self.backupmx = {d for i, d in enumerate(self.domains) if i % 50 == 49}
        self.inactive = {d for i, d in enumerate(self.domains) if i % 97 == 96}
        self.mailboxes = [f"user{j}@{self.domains[j % domains]}" for j in range(mailboxes)]
        extra = aliases - mailboxes  # PostfixAdmin: one alias per mailbox + the others
        self.aliases: list[tuple[str, str]] = [(m, m) for m in self.mailboxes]
        for k in range(max(0, extra)):
            dom = self.domains[k % domains]
            if k % 500 == 0 and k // 500 < domains:
                dom = self.domains[k // 500]
                self.aliases.append((f"@{dom}", self.mailboxes[k % mailboxes]))  # catch-all
            else:
                self.aliases.append((f"alias{k}@{dom}",
                                     self.mailboxes[(k * 7) % mailboxes] + ("," + self.mailboxes[k % mailboxes]
                                                                            if k % 3 == 0 else "")))
        self.alias_domains = [(f"aliasdom{i}.example.org", self.domains[i * 3 % domains])
                              for i in range(alias_domains)]

    def active_domains(self):
        return [d for d in self.domains if d not in self.inactive and d not in self.backupmx]


def generate_access(path: Path, lines: int) -> list[str]:
    """An access(5) source of LINES entries (a few comments, continuation
    lines and one duplicate mixed in). Returns some listed keys."""
    listed = []
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# sender access map generated by scripts/bench.py\n")
        for i in range(lines):
            if i % 100_000 == 50_000:
                fh.write("# a comment line\n")
            if i % 10 == 3:
                key = f"bulk{i}.example.com"           # a whole domain
            else:
                key = f"spammer{i}@bulk{i % 5000}.example.com"
            if i % 250_000 == 1:
                fh.write(f"{key}  REJECT blocked, continued\n   on the next line\n")
            else:
                fh.write(f"{key}  REJECT blocked sender number {i}\n")
            if i % max(1, lines // 200) == 7:
                listed.append(key)
        fh.write("spammer7@bulk7.example.com  OK duplicate: postmap keeps the first\n")
    return listed


def _sql_str(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def data_sql(data: Data):
    """INSERT statements for DATA, in batches (yielded as strings)."""
    yield "SET autocommit=0;\n"

    def batches(table, cols, rows, n=2000):
        for i in range(0, len(rows), n):
            vals = ",".join("(" + ",".join(_sql_str(str(v)) for v in r) + ")" for r in rows[i:i + n])
            yield f"INSERT INTO `{table}` ({','.join(cols)}) VALUES {vals};\n"

    yield from batches("domain", ("domain", "description", "backupmx", "active"),
                       [(d, f"domain {i}", int(d in data.backupmx), int(d not in data.inactive))
                        for i, d in enumerate(data.domains)])
    yield from batches("mailbox", ("username", "password", "name", "maildir", "local_part", "domain", "active"),
                       [(m, "{CRYPT}x", f"User {i}", f"{m.split('@')[1]}/{m.split('@')[0]}/",
                         m.split("@")[0], m.split("@")[1], int(i % 211 != 5))
                        for i, m in enumerate(data.mailboxes)])
    yield from batches("alias", ("address", "goto", "domain", "active"),
                       [(a, g, a.split("@")[1], int(i % 307 != 11)) for i, (a, g) in enumerate(data.aliases)])
    yield from batches("alias_domain", ("alias_domain", "target_domain", "active"),
                       [(a, t, 1) for a, t in data.alias_domains])
    yield "COMMIT;\n"


def mariadb(sql: str, db: str | None = None, timeout: float = 600) -> str:
    cmd = [MARIADB, "-uroot", "--batch", "-N"]
    if db:
        cmd.append(db)
    r = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"mariadb failed: {r.stderr.strip()[:500]}")
    return r.stdout


@contextlib.contextmanager
def pfa_database(data: Data):
    """A throw-away PostfixAdmin database + SELECT-only user; dropped after."""
    tag = secrets.token_hex(4)
    db = user = f"pfx_bench_{tag}"
    password = secrets.token_hex(12)
    mariadb(f"CREATE DATABASE `{db}`;")
    try:
        mariadb(SCHEMA.read_text(), db)
        t = now()
        with tempfile.TemporaryFile("w+") as fh:  # no pipe to deadlock on
            for stmt in data_sql(data):
                fh.write(stmt)
            fh.seek(0)
            r = subprocess.run([MARIADB, "-uroot", "--batch", db], stdin=fh, capture_output=True,
                               text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"loading the data failed: {r.stderr[:500]}")
        log(f"database {db}: {len(data.domains)} domains, {len(data.mailboxes)} mailboxes, "
            f"{len(data.aliases)} aliases loaded in {now() - t:.1f}s")
        mariadb(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}';"
                f"GRANT SELECT ON `{db}`.* TO '{user}'@'localhost';")
        yield dict(db=db, user=user, password=password)
    finally:
        try:
            mariadb(f"DROP USER IF EXISTS '{user}'@'localhost';")
        finally:
            mariadb(f"DROP DATABASE IF EXISTS `{db}`;")
            log(f"database {db} and its user dropped")


# ---------------------------------------------------------------------------
# configurations

MAIN_COMMON = """\
# generated by scripts/bench.py
compatibility_level = 3.6
myhostname = mail.example.org
mydomain = example.org
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination = $myhostname, localhost
mynetworks = 127.0.0.0/8, 10.0.0.0/8
alias_maps =
local_recipient_maps =
smtpd_helo_required = no
# the benchmark aborts every accepted message (QUIT after RCPT) and nothing
# is delivered, so cleanup's flow control would make each accepted
# transaction wait in_flow_delay (1 s) for a token; restrictions are the same
in_flow_delay = 0s
smtpd_client_restrictions = check_client_access cidr:{d}/client_access
smtpd_helo_restrictions = check_helo_access regexp:{d}/helo_checks
smtpd_sender_restrictions = reject_non_fqdn_sender, check_sender_access hash:{access}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access hash:{d}/recipient_access, reject_unlisted_recipient
"""

MASTER = """\
smtp      inet  n       -       n       -       -       smtpd
"""

MYSQL_QUERIES = {
    "mysql_virtual_domains_maps.cf":
        "SELECT domain FROM domain WHERE domain='%s' AND backupmx = '0' AND active = '1'",
    "mysql_relay_domains.cf":
        "SELECT domain FROM domain WHERE domain='%s' AND backupmx = '1' AND active = '1'",
    "mysql_virtual_alias_maps.cf":
        "SELECT goto FROM alias WHERE address='%s' AND active = '1'",
    "mysql_virtual_alias_domain_maps.cf":
        "SELECT goto FROM alias,alias_domain WHERE alias_domain.alias_domain = '%d' and alias.address = "
        "CONCAT('%u', '@', alias_domain.target_domain) AND alias.active = 1 AND alias_domain.active='1'",
    "mysql_virtual_alias_domain_catchall_maps.cf":
        "SELECT goto FROM alias,alias_domain WHERE alias_domain.alias_domain = '%d' and alias.address = "
        "CONCAT('@', alias_domain.target_domain) AND alias.active = 1 AND alias_domain.active='1'",
    "mysql_virtual_mailbox_maps.cf":
        "SELECT maildir FROM mailbox WHERE username='%s' AND active = '1'",
    "mysql_virtual_alias_domain_mailbox_maps.cf":
        "SELECT maildir FROM mailbox,alias_domain WHERE alias_domain.alias_domain = '%d' and mailbox.username = "
        "CONCAT('%u', '@', alias_domain.target_domain) AND mailbox.active = 1 AND alias_domain.active='1'",
}


def _small_maps(d: Path, data: Data) -> None:
    lines = ["# client access (cidr)"]
    for i in range(200):
        lines.append(f"203.0.113.{i}/32  REJECT client {i} is blocked")
    lines.append("198.51.100.0/24  DUNNO")
    (d / "client_access").write_text("\n".join(lines) + "\n")
    (d / "helo_checks").write_text(
        "/^\\[?[0-9.]+\\]?$/  REJECT no bare IP addresses as HELO, please\n"
        "/(^|\\.)localhost$/  REJECT you are not me\n"
        "/\\.invalid$/  REJECT invalid HELO\n")
    rlines = [f"postmaster@{dom}  OK" for dom in data.domains[:50]]
    rlines += [f"blocked{i}@{data.domains[i % len(data.domains)]}  REJECT this address takes no mail"
               for i in range(500)]
    (d / "recipient_access").write_text("\n".join(rlines) + "\n")


def write_files_config(d: Path, data: Data, access: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    _small_maps(d, data)
    main = MAIN_COMMON.format(d=d, access=access) + (
        f"virtual_mailbox_domains = hash:{d}/vdomains\n"
        f"virtual_mailbox_maps = hash:{d}/vmailbox\n"
        f"virtual_alias_maps = hash:{d}/valias\n"
        f"relay_domains = hash:{d}/relay_domains\n")
    (d / "main.cf").write_text(main)
    (d / "master.cf").write_text(MASTER)
    # the same installation as flat files: active mailboxes and aliases only
    with open(d / "vdomains", "w") as fh:
        for dom in data.active_domains():
            fh.write(f"{dom}  OK\n")
    with open(d / "relay_domains", "w") as fh:
        for dom in sorted(data.backupmx - data.inactive):
            fh.write(f"{dom}  OK\n")
    with open(d / "vmailbox", "w") as fh:
        for i, m in enumerate(data.mailboxes):
            if i % 211 != 5:
                fh.write(f"{m}  {m.split('@')[1]}/{m.split('@')[0]}/\n")
    with open(d / "valias", "w") as fh:
        for i, (a, g) in enumerate(data.aliases):
            if i % 307 != 11:
                fh.write(f"{a}  {g}\n")


def write_mysql_config(d: Path, data: Data, access: Path, creds: dict) -> None:
    d.mkdir(parents=True, exist_ok=True)
    _small_maps(d, data)
    for name, q in MYSQL_QUERIES.items():
        (d / name).write_text(f"hosts = unix:{MYSQL_SOCKET}\nuser = {creds['user']}\n"
                              f"password = {creds['password']}\ndbname = {creds['db']}\nquery = {q}\n")
        os.chmod(d / name, 0o640)
    main = MAIN_COMMON.format(d=d, access=access) + (
        f"virtual_mailbox_domains = mysql:{d}/mysql_virtual_domains_maps.cf\n"
        f"virtual_alias_maps = mysql:{d}/mysql_virtual_alias_maps.cf,\n"
        f"    mysql:{d}/mysql_virtual_alias_domain_maps.cf,\n"
        f"    mysql:{d}/mysql_virtual_alias_domain_catchall_maps.cf\n"
        f"virtual_mailbox_maps = mysql:{d}/mysql_virtual_mailbox_maps.cf,\n"
        f"    mysql:{d}/mysql_virtual_alias_domain_mailbox_maps.cf\n"
        f"relay_domains = mysql:{d}/mysql_relay_domains.cf\n")
    (d / "main.cf").write_text(main)
    (d / "master.cf").write_text(MASTER)


def transactions(data: Data, listed: list[str], n: int, seed: int = 6) -> list[dict]:
    """A seeded mix: accepted mail, unknown users, relay attempts, listed
    senders, blocked clients, bad HELOs, the null sender, alias domains."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        kind = rnd.random()
        client = f"192.0.2.{rnd.randrange(1, 255)}"
        name = f"host{rnd.randrange(1000)}.example.com" if rnd.random() < 0.7 else "unknown"
        helo = f"mx{rnd.randrange(100)}.example.com"
        sender = f"someone{rnd.randrange(10 ** 6)}@sender{rnd.randrange(500)}.example.com"
        rcpt = rnd.choice(data.mailboxes)
        if kind < 0.25:
            pass                                                  # a mailbox (or its inactive twin)
        elif kind < 0.40:
            a = rnd.choice(data.aliases)[0]
            rcpt = a if not a.startswith("@") else f"anything{rnd.randrange(99)}{a}"
        elif kind < 0.50:
            rcpt = f"nobody{rnd.randrange(10 ** 6)}@{rnd.choice(data.domains)}"   # unknown user
        elif kind < 0.60:
            rcpt = f"friend{rnd.randrange(999)}@elsewhere{rnd.randrange(99)}.example.com"  # relay
            if rnd.random() < 0.4:
                client = f"10.{rnd.randrange(255)}.{rnd.randrange(255)}.{rnd.randrange(1, 255)}"
        elif kind < 0.72:
            s = rnd.choice(listed)                                # a listed sender
            sender = s if "@" in s else f"news@{s}"
        elif kind < 0.77:
            client = f"203.0.113.{rnd.randrange(0, 220)}"         # blocked client (most)
        elif kind < 0.82:
            helo = rnd.choice(["[192.0.2.7]", "localhost", "foo.invalid", "mail.example.com"])
        elif kind < 0.86:
            sender = ""                                           # the null sender
        elif kind < 0.90:
            sender = rnd.choice(["nodomain", "user@nodots"])       # reject_non_fqdn_sender
        elif kind < 0.95 and data.alias_domains:
            ad, target = rnd.choice(data.alias_domains)
            same = [m for m in data.mailboxes[:5000] if m.endswith("@" + target)]
            rcpt = (same[0].split("@")[0] if same else "x") + "@" + ad
        elif kind < 0.97:
            rcpt = f"blocked{rnd.randrange(500)}@{data.domains[rnd.randrange(500) % len(data.domains)]}"
        else:
            rcpt = f"user{rnd.randrange(10 ** 6)}@{rnd.choice(sorted(data.backupmx))}"  # backup MX
        out.append(dict(client_address=client, client_name=name, helo=helo, sender=sender,
                        recipient=rcpt))
    return out


# ---------------------------------------------------------------------------
# children (fresh processes)

def child_load(p: dict) -> dict:
    import resource
    t0 = now()
    from tui.core.tables import open_table
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t1 = now()
    t = open_table("hash:" + p["path"])
    t2 = now()
    r = t.lookup(p["key"])
    t3 = now()
    lat = []
    for k in p["keys"]:
        a = now()
        t.lookup(k)
        lat.append(now() - a)
    a = now()
    page = t.entries(p["deep"], 100)
    deep_page = now() - a
    return dict(import_=t1 - t0, open=t2 - t1, first_lookup=t3 - t2, load=t3 - t1, found=r.found,
                lookup_median=statistics.median(lat) if lat else None, count=t.count(),
                deep_page=deep_page, page_len=len(page), status=t.status.state,
                rss_base_mb=rss0, maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _machine_resolver():
    """What this machine's DNS looks like to smtpd (see tests/oracle/conftest.py)."""
    import socket
    from tui.core import dns
    try:
        socket.getaddrinfo("oracle-probe.example.com", None)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            return dns.StaticResolver(default=dns.NOTFOUND)
        return dns.TempFailResolver()
    return dns.TempFailResolver()


GC_YOUNG = 20_000


def settle_gc() -> None:
    """What a long-running user of the engine (the app, a batch of traces)
    does once a configuration and its maps are loaded: collect, then move
    everything alive to the collector's permanent generation (gc.freeze()),
    and collect the young generation after GC_YOUNG new objects instead of
    700. Full collections then no longer walk the configuration and the
    loaded maps (~30,000 objects on the files configuration, 20-40 ms a
    collection), and the young collections, which a trace met one time in
    nine (each trace leaves ~25 objects in reference cycles and ~30 new
    cached answers), come every few hundred traces: measured in CPU time per
    trace, p99 0.54-0.62 ms as Python sets it, 0.47-0.50 ms frozen, 0.30-0.40
    ms frozen with this threshold -- what the traces without any collection
    give (0.27-0.36 ms); the median does not move (0.11-0.12 ms). Set here,
    in the process that owns the loop, never by the engine."""
    import gc
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG)


def child_trace(p: dict) -> dict:
    import resource
    t0 = now()
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction
    t1 = now()
    cfg = load_config(p["config_dir"])
    t2 = now()
    settle_gc()
    resolver = _machine_resolver()
    txs = json.loads(Path(p["transactions"]).read_text())
    if p.get("limit"):
        txs = txs[:p["limit"]]
    answers, lat = [], []
    cold = None
    for i, tx in enumerate(txs):
        a = now()
        tr = evaluate(cfg, Transaction(**tx), service="smtp", resolver=resolver)
        d = now() - a
        if i == 0:
            cold = d
            settle_gc()  # the maps the first trace loaded
        else:
            lat.append(d)
        answers.append([tr.code, tr.reply, tr.stage])
    # a second pass over the same transactions: everything warm
    warm = []
    for tx in txs[: p.get("second_pass", 0)]:
        a = now()
        evaluate(cfg, Transaction(**tx), service="smtp", resolver=resolver)
        warm.append(now() - a)
    return dict(import_=t1 - t0, load_config=t2 - t1, cold=cold, lat=lat, answers=answers,
                total=sum(lat) + (cold or 0), warm=warm,
                maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def child_trace_server(p: dict) -> dict:
    """The engine side of the interleaved trace part: load the
    configuration, trace the first transaction (cold), say so on stdout,
    then trace the blocks of transactions asked for on stdin, one JSON line
    each ({"run": [start, end]}), answering with their latencies and answers;
    {"finish": N} runs the first N transactions again (warm) and ends."""
    import resource
    t0 = now()
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction
    t1 = now()
    cfg = load_config(p["config_dir"])
    t2 = now()
    settle_gc()
    resolver = _machine_resolver()
    txs = json.loads(Path(p["transactions"]).read_text())

    def trace(tx):
        return evaluate(cfg, Transaction(**tx), service="smtp", resolver=resolver)

    a = now()
    tr = trace(txs[0])
    cold = now() - a
    settle_gc()  # the maps the first trace loaded
    print(json.dumps(dict(import_=t1 - t0, load_config=t2 - t1, cold=cold,
                          answer=[tr.code, tr.reply, tr.stage])), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if "run" in cmd:
            start, end = cmd["run"]
            lat, answers = [], []
            for tx in txs[start:end]:
                a = now()
                tr = trace(tx)
                lat.append(now() - a)
                answers.append([tr.code, tr.reply, tr.stage])
            print(json.dumps(dict(lat=lat, answers=answers)), flush=True)
        else:
            warm = []
            for tx in txs[: cmd["finish"]]:
                a = now()
                trace(tx)
                warm.append(now() - a)
            return dict(warm=warm, maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {}


def child_pfa(p: dict) -> dict:
    """The app's loading path without the UI: what tui.loading's load,
    load_pfa and load_classes do, timed part by part."""
    import resource
    t0 = now()
    from tui.core.analysis import inventory, lint, postfixadmin
    from tui.widgets import engine as E
    t1 = now()
    loaded = E.load(p["config_dir"])
    t2 = now()
    cfg = loaded.cfg
    refs = inventory.collect_tables(cfg)
    secrets_ = inventory.cf_secrets(refs, cfg.params())
    warnings = lint.restriction_warnings(cfg)
    for ref in refs:
        warnings += lint.table_warnings(ref, None)
    t3 = now()
    tables: dict = {}

    def opener(spec, view):
        if spec not in tables:
            from tui.core.tables import open_table
            tables[spec] = open_table(spec, cfg.params())
        return tables[spec]

    view = postfixadmin.postfixadmin_view(refs, secrets_, opener=opener)
    t4 = now()
    out = dict(import_=t1 - t0, load_config=t2 - t1, analyse=t3 - t2, open_total=t3 - t1,
               pfa_view=t4 - t3, refs=len(refs), error=view.error if view else "no PostfixAdmin view")
    if view is not None:
        for g in ("domains", "mailboxes", "aliases", "alias_domains"):
            rows = getattr(view, g)
            out[f"{g}_rows"] = len(rows) if hasattr(rows, "__len__") else None
            cnt = getattr(view, "count", None)
            out[f"{g}_count"] = cnt(g) if callable(cnt) else None
        # the paged form: a first page of each table, and a later one, if the
        # view pages (a view that read everything has nothing more to do)
        pager = getattr(view, "page", None)
        if callable(pager):
            for g in ("domains", "mailboxes", "aliases", "alias_domains"):
                a = now()
                pager(g, 0, 100)
                out[f"{g}_page0"] = now() - a
                a = now()
                pager(g, 10_000, 100)
                out[f"{g}_page100"] = now() - a
        cands = [d.domain.lower() for d in view.domains] + [a.lower() for a, _t, _x in view.alias_domains]
        a = now()
        lint.address_classes(cfg, list(dict.fromkeys(cands)), opener=opener)
        out["classes"] = now() - a
        out["class_candidates"] = len(cands)
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def child_app(p: dict) -> dict:
    """Headless app: time to the built tree, to settled, to the PostfixAdmin
    mailboxes group opened; and the largest stall of the event loop."""
    t_proc = time.time() - p["spawned"]
    t0 = now()
    from tui.app import make_app
    t_import = now() - t0
    app = make_app(p["config_dir"])
    res: dict = dict(process_to_import=t_proc, import_app=t_import)
    timeout = p.get("timeout", 120)

    async def run():
        lag = [0.0]
        stop = [False]

        async def watch():  # how long the event loop is unavailable at worst
            while not stop[0]:
                a = now()
                await asyncio.sleep(0.01)
                lag[0] = max(lag[0], now() - a - 0.01)

        t_start = now()
        async with app.run_test(size=(120, 40)) as pilot:
            w = asyncio.create_task(watch())
            while not app.ready.is_set() and now() - t_start < timeout:
                await asyncio.sleep(0.002)
            res["tree_built"] = now() - t_start
            # the first screen: the refresh that follows building the tree
            painted = asyncio.Event()
            app.call_after_refresh(painted.set)
            await painted.wait()
            res["first_screen"] = now() - t_start
            res["lag_to_first_screen"] = lag[0]
            await pilot.pause()  # pending messages handled (background work may still run)
            res["first_idle"] = now() - t_start
            res["tree_lines"] = len(app.tree._tree_lines) if hasattr(app.tree, "_tree_lines") else None
            while not app.settled and now() - t_start < timeout:
                await asyncio.sleep(0.02)
            res["settled"] = (now() - t_start) if app.settled else None
            res["lag_to_settled"] = lag[0]
            m = app.model
            # the PostfixAdmin section, mailboxes group
            if m is not None and (m.pfa is not None or m.pfa_loading):
                while m.pfa_loading and now() - t_start < timeout:
                    await asyncio.sleep(0.02)
                res["pfa_loaded"] = now() - t_start
                sec = app.tree.sections.get("pfa")
                grp = None
                if sec is not None:
                    for c in sec.children:
                        if c.data is not None and c.data.kind == "pfa-group" and c.data.key == "mailboxes":
                            grp = c
                if grp is not None:
                    lag[0] = 0.0
                    a = now()
                    app.tree.reveal(grp) if hasattr(app.tree, "reveal") else None
                    grp.expand()
                    app.tree.move_cursor(grp)
                    await pilot.pause()
                    # a group that pages in the background fills in later
                    while (not grp.children or all(getattr(c.data, "kind", "") == "message"
                                                   and "loading" in str(c.label) for c in grp.children)) \
                            and now() - a < timeout:
                        await asyncio.sleep(0.01)
                    await pilot.pause()
                    res["open_mailboxes"] = now() - a
                    res["mailbox_nodes"] = len(grp.children)
                    res["lag_open_mailboxes"] = lag[0]
            stop[0] = True
            await w
    asyncio.run(run())
    import resource
    res["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return res


def child_bare(p: dict) -> dict:
    """The floor: a bare Textual app (header, tree, footer) to its first paint."""
    t0 = now()
    from textual.app import App
    from textual.widgets import Footer, Header, Tree
    t_import = now() - t0

    class Bare(App):
        def compose(self):
            yield Header()
            t = Tree("root")
            for i in range(30):
                t.root.add_leaf(f"node {i}")
            yield t
            yield Footer()

    res: dict = dict(import_app=t_import)

    async def run():
        a = now()
        app = Bare()
        async with app.run_test(size=(120, 40)) as pilot:
            painted = asyncio.Event()
            app.call_after_refresh(painted.set)
            await painted.wait()
            res["first_screen"] = now() - a
            await pilot.pause()
    asyncio.run(run())
    return res


CHILDREN = dict(bare=child_bare, load=child_load, trace=child_trace, pfa=child_pfa, app=child_app,
                trace_server=child_trace_server)


# ---------------------------------------------------------------------------
# the real process in a terminal (tmux)

def tmux_first_paint(config_dir: str | None, demo: bool, marker: str, timeout: float = 60,
                     settle_marker_gone: str | None = None) -> dict:
    tmux = shutil.which("tmux")
    if tmux is None or not EXPLORER.exists():
        return dict(skipped="tmux or postfix-explorer missing")
    sock = f"pfx-bench-{os.getpid()}"
    args = [str(EXPLORER)] + (["--demo"] if demo else ["--config-dir", config_dir])
    base = [tmux, "-L", sock, "-f", "/dev/null"]
    env = dict(APP_ENV, TERM="xterm-256color")
    out: dict = {}
    t0 = now()
    subprocess.run(base + ["new-session", "-d", "-s", "bench", "-x", "120", "-y", "40",
                           " ".join(args)], check=True, env=env)
    try:
        first_any = None
        while now() - t0 < timeout:
            r = subprocess.run(base + ["capture-pane", "-p", "-t", "bench"], capture_output=True, text=True)
            screen = r.stdout
            if first_any is None and "postfix-explorer" in screen:
                first_any = now() - t0
                out["first_paint"] = first_any   # header drawn: the app is up
            if re.search(marker, screen):
                out["tree_shown"] = now() - t0
                break
            time.sleep(0.01)
        if settle_marker_gone and "tree_shown" in out:
            while now() - t0 < timeout:
                r = subprocess.run(base + ["capture-pane", "-p", "-t", "bench"], capture_output=True, text=True)
                if settle_marker_gone not in r.stdout:
                    out["pfa_shown"] = now() - t0
                    break
                time.sleep(0.02)
    finally:
        subprocess.run(base + ["kill-server"], capture_output=True)
        tmpdir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        with contextlib.suppress(OSError):
            (tmpdir / sock).unlink()  # the server is gone; its socket file is not
    return out


# ---------------------------------------------------------------------------
# parts

def part_maps(work: Path, cfg: dict, R: dict) -> None:
    n = cfg["map_lines"]
    d = work / "maps"
    d.mkdir()
    (d / "main.cf").write_text("compatibility_level = 3.6\n")
    src = d / "access"
    t = now()
    listed = generate_access(src, n)
    log(f"maps: {n:,}-line access map written ({src.stat().st_size / 1e6:.0f} MB) in {now() - t:.1f}s")
    backdate(d)
    res, pm_wall, pm_rss = run_measured([POSTMAP, "-c", str(d), f"hash:{src}"])
    ours = child("load", dict(path=str(src), key=listed[-1], keys=listed[:200], deep=n // 2))
    R["maps"] = dict(lines=n, size_mb=src.stat().st_size / 1e6, postmap=pm_wall, postmap_rss=pm_rss,
                     postmap_rc=res.returncode, ours=ours)
    log(f"maps: postmap {pm_wall:.2f}s ({pm_rss:.0f} MB); ours {ours['load']:.2f}s "
        f"({ours['maxrss_mb']:.0f} MB peak)")


def part_scaling(work: Path, cfg: dict, R: dict, data: Data, files_dir: Path | None) -> None:
    rows = []
    for n in cfg["sizes"]:
        d = work / f"scale_{n}"
        d.mkdir()
        (d / "main.cf").write_text("compatibility_level = 3.6\n")
        src = d / "access"
        listed = generate_access(src, n)
        backdate(d)
        _res, pm_wall, pm_rss = run_measured([POSTMAP, "-c", str(d), f"hash:{src}"])
        ld = child("load", dict(path=str(src), key=listed[-1], keys=listed[:200], deep=n // 2))
        # a trace configuration around this map (the file-only installation)
        cd = d / "config"
        write_files_config(cd, data, src)
        backdate(cd)
        for m in ("vdomains", "vmailbox", "valias", "relay_domains", "recipient_access"):
            run_measured([POSTMAP, "-c", str(cd), f"hash:{cd}/{m}"])
        txs = transactions(data, listed, cfg["scaling_traces"], seed=60)
        tf = d / "transactions.json"
        tf.write_text(json.dumps(txs))
        tr = child("trace", dict(config_dir=str(cd), transactions=str(tf)))
        rows.append(dict(n=n, postmap=pm_wall, postmap_rss=pm_rss, load=ld["load"], rss=ld["maxrss_mb"],
                         rss_base=ld["rss_base_mb"], lookup=ld["lookup_median"], deep_page=ld["deep_page"],
                         cold_trace=tr["cold"], trace_median=statistics.median(tr["lat"]),
                         trace_p99=pct(tr["lat"], 99), load_config=tr["load_config"]))
        log(f"scaling {n:,}: load {ld['load']:.3f}s, postmap {pm_wall:.3f}s, cold trace "
            f"{tr['cold'] * 1000:.0f} ms, trace median {statistics.median(tr['lat']) * 1000:.2f} ms")
        shutil.rmtree(d, ignore_errors=True)
    R["scaling"] = rows


def _compare(ours: list, theirs: list) -> tuple[int, list]:
    agree, diffs = 0, []
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if list(a) == list(b):
            agree += 1
        elif len(diffs) < 5:
            diffs.append(dict(i=i, ours=a, smtpd=b))
    return agree, diffs


BLOCK = 100


def _interleaved_run(config_dir: Path, txs: list[dict], tf: Path) -> tuple[dict, dict]:
    """smtpd and our engine (a fresh process, bench.py --child trace_server)
    answer the transactions in alternating blocks of BLOCK, so that both
    are measured under the same load of the machine: run one after the
    other, a busy minute for either moved the ratio by 2-3x between runs."""
    from tests.oracle.postfix_instance import PostfixInstance
    t = now()
    with PostfixInstance(config_dir, timeout=30) as inst:
        start = now() - t
        inst.query("smtp", "192.0.2.1", "warmup.example.com", "warmup.example.com",
                   "a@example.com", "b@example.com")  # the first smtpd process starts
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "trace_server",
               json.dumps(dict(config_dir=str(config_dir), transactions=str(tf)))]
        eng = subprocess.Popen(cmd, cwd=str(ROOT), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            hello = json.loads(eng.stdout.readline())
            ours = dict(hello, lat=[], answers=[hello.pop("answer")], blocks=[])
            real = dict(start=start, lat=[], answers=[], total=0.0, blocks=[])
            for b, s in enumerate(range(0, len(txs), BLOCK)):
                e = min(s + BLOCK, len(txs))

                def smtpd_block():
                    lat = []
                    for tx in txs[s:e]:
                        a = now()
                        ans = inst.query("smtp", tx["client_address"], tx["client_name"], tx["helo"],
                                         tx["sender"], tx["recipient"])
                        lat.append(now() - a)
                        real["answers"].append([ans.code, ans.reply, ans.stage])
                    real["lat"] += lat
                    real["total"] += sum(lat)
                    real["blocks"].append(statistics.median(lat))

                def engine_block():
                    eng.stdin.write(json.dumps(dict(run=[max(s, 1), e])) + "\n")
                    eng.stdin.flush()
                    got = json.loads(eng.stdout.readline())
                    ours["lat"] += got["lat"]
                    ours["answers"] += got["answers"]
                    ours["blocks"].append(statistics.median(got["lat"]) if got["lat"] else None)

                for part in ((smtpd_block, engine_block) if b % 2 == 0 else (engine_block, smtpd_block)):
                    part()
            eng.stdin.write(json.dumps(dict(finish=len(txs))) + "\n")
            eng.stdin.close()
            lines = [ln for ln in eng.stdout.read().splitlines() if ln.startswith("{")]
            ours.update(json.loads(lines[-1]))
        finally:
            if eng.wait(timeout=300) != 0:
                raise RuntimeError(f"engine child failed ({eng.returncode})")
    return real, ours


def warm_page_cache(top: Path) -> None:
    """Read every file under TOP once. A running mail server has its maps in
    the page cache; a map postmap has just written may not be there (on this
    kind of virtual disk a cold 4 KB read takes 25-50 us), and in the
    alternating blocks whichever of smtpd and the engine first asks for a
    page pays for the disk, block by block."""
    for path in sorted(top.rglob("*")):
        if path.is_file():
            with open(path, "rb") as fh:
                while fh.read(1 << 20):
                    pass


def part_trace(name: str, config_dir: Path, txs: list[dict], R: dict) -> None:
    tf = config_dir.parent / f"{name}_transactions.json"
    tf.write_text(json.dumps(txs))
    warm_page_cache(config_dir.parent)
    log(f"trace/{name}: real smtpd and the engine, {len(txs)} transactions in alternating blocks of {BLOCK}...")
    real, ours = _interleaved_run(config_dir, txs, tf)
    agree, diffs = _compare(ours["answers"], real["answers"])
    lat = ours["lat"]
    block_ratios = [r / o for r, o in zip(real["blocks"], ours["blocks"]) if o]
    R.setdefault("trace", {})[name] = dict(
        n=len(txs), ours=dict(load_config=ours["load_config"], cold=ours["cold"],
                              median=statistics.median(lat), p99=pct(lat, 99), mean=statistics.mean(lat),
                              per_s=len(lat) / sum(lat), warm_median=statistics.median(ours["warm"])
                              if ours["warm"] else None, maxrss=ours["maxrss_mb"]),
        block_ratios=block_ratios,
        smtpd=dict(start=real["start"], median=statistics.median(real["lat"]), p99=pct(real["lat"], 99),
                   per_s=len(real["lat"]) / real["total"]),
        agree=agree, diffs=diffs,
        codes=_code_mix(real["answers"]))
    log(f"trace/{name}: ours median {statistics.median(lat) * 1000:.2f} ms p99 {pct(lat, 99) * 1000:.2f} ms; "
        f"agree {agree}/{len(txs)}")


def _code_mix(answers) -> dict:
    mix: dict[str, int] = {}
    for code, _r, stage in answers:
        k = f"{code} {stage}"
        mix[k] = mix.get(k, 0) + 1
    return dict(sorted(mix.items(), key=lambda kv: -kv[1]))


def part_pfa(config_dir: Path, R: dict) -> None:
    R["pfa"] = child("pfa", dict(config_dir=str(config_dir)))
    log(f"pfa: open {R['pfa']['open_total']:.2f}s, PostfixAdmin view {R['pfa']['pfa_view']:.2f}s")


def part_app(label: str, config_dir: str | None, demo: bool, R: dict) -> None:
    if demo:
        from tui.demo import demo_config_dir
        config_dir = str(demo_config_dir())
    head = child("app", dict(config_dir=config_dir, timeout=180))
    if not _APP_WARM:
        _APP_WARM.append(True)
        tmux_first_paint(config_dir, demo=False, marker=r"main\.cf +\d+ set")   # untimed: compiles
    tm = tmux_first_paint(config_dir, demo=False, marker=r"main\.cf +\d+ set",
                          settle_marker_gone="loading…")
    R.setdefault("app", {})[label] = dict(headless=head, tmux=tm)
    log(f"app/{label}: headless first screen {head.get('first_screen', float('nan')):.2f}s, "
        f"settled {head.get('settled')}, tmux {tm}")


# ---------------------------------------------------------------------------
# report

def report(R: dict, cfg: dict, quick: bool) -> str:
    M = R["machine"]
    L = []
    L.append(f"Run: {M['date']}{' (--quick)' if quick else ''}; `scripts/bench.py` in {R.get('elapsed', 0):.0f} s.")
    L.append("")
    L.append(f"Machine: {M['cpu']}, {M['cores']} cores, {M['memory']} RAM; Linux {M['kernel']}; "
             f"Python {M['python']}; Postfix {M['postfix']}; MariaDB {M['mariadb']}; Textual {M['textual']}. "
             f"Load average (1/5/15 min) at start {M['load_start']}, at end {M.get('load_end', '?')} "
             "(the 2 cores are shared with other work).")
    L.append("")
    T = []  # targets
    if "maps" in R:
        m = R["maps"]
        o = m["ours"]
        L.append(f"### Loading a {m['lines']:,}-line hash access map ({m['size_mb']:.0f} MB source)")
        L.append("")
        L.append("| | time | peak RSS |")
        L.append("| --- | ---: | ---: |")
        L.append(f"| `postmap -c DIR hash:FILE` (builds access.db) | {secs(m['postmap'])} | {mb(m['postmap_rss'])} |")
        L.append(f"| ours: open_table + first lookup (fresh process) | {secs(o['load'])} | "
                 f"{mb(o['maxrss_mb'])} (interpreter alone {mb(o['rss_base_mb'])}) |")
        L.append("")
        L.append(f"Then: a lookup {ms(o['lookup_median'])} (median of 200), a page of 100 entries at "
                 f"{m['lines'] // 2:,} {ms(o['deep_page'])}, count() = {o['count']:,}; "
                 f"whole process {secs(o['process_wall'])} including imports.")
        L.append("")
        T.append(("1M-line map loads faster than postmap builds it",
                  f"{o['load']:.2f} s vs {m['postmap']:.2f} s (ratio {o['load'] / m['postmap']:.2f})",
                  o["load"] < m["postmap"]))
        T.append(("... in under 500 MB", f"peak RSS {o['maxrss_mb']:.0f} MB", o["maxrss_mb"] < 500))
    if "pfa" in R:
        p = R["pfa"]
        L.append(f"### PostfixAdmin in MariaDB ({cfg['domains']:,} domains, {cfg['mailboxes']:,} mailboxes, "
                 f"{cfg['aliases']:,} aliases, {cfg['alias_domains']} alias domains)")
        L.append("")
        L.append("| step (app's loading path, no UI) | time |")
        L.append("| --- | ---: |")
        L.append(f"| load_config (main.cf, master.cf) | {ms(p['load_config'])} |")
        L.append(f"| tables named, secrets, warnings | {ms(p['analyse'])} |")
        L.append(f"| PostfixAdmin view (`postfixadmin_view`) | {ms(p['pfa_view'])} |")
        if "classes" in p:
            L.append(f"| address classes of {p['class_candidates']:,} PostfixAdmin domains (`lint.address_classes`) "
                     f"| {ms(p['classes'])} |")
        for g in ("domains", "mailboxes", "aliases", "alias_domains"):
            if f"{g}_page0" in p:
                L.append(f"| {g}: first page / page at row 10,000 | {ms(p[f'{g}_page0'])} / {ms(p[f'{g}_page100'])} |")
        rows = ", ".join(f"{g} {p.get(f'{g}_rows')}" + (f" of {p.get(f'{g}_count')}" if p.get(f"{g}_count") is not None else "")
                         for g in ("domains", "mailboxes", "aliases", "alias_domains"))
        L.append("")
        L.append(f"Rows held in memory after reading the view: {rows}; peak RSS {mb(p['maxrss_mb'])}."
                 + (f" Error: {p['error']}" if p.get("error") else ""))
        L.append("")
    if "trace" in R:
        L.append("### Traces: our evaluate() vs the real smtpd (SMTP + XCLIENT on loopback)")
        L.append("")
        L.append("| maps | n | ours median | ours p99 | ours traces/s | smtpd median | smtpd p99 | smtpd /s | "
                 "speed-up (median) | answers agree |")
        L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, t in R["trace"].items():
            o, s = t["ours"], t["smtpd"]
            L.append(f"| {name} | {t['n']} | {ms(o['median'])} | {ms(o['p99'])} | {o['per_s']:.0f} | "
                     f"{ms(s['median'])} | {ms(s['p99'])} | {s['per_s']:.0f} | "
                     f"{s['median'] / o['median']:.1f}x | {t['agree']}/{t['n']} |")
            T.append((f"one trace on {name} maps at least 10x faster than asking smtpd",
                      f"median {ms(o['median'])} vs {ms(s['median'])} ({s['median'] / o['median']:.1f}x)",
                      s["median"] / o["median"] >= 10 if name == "files" else None))
        L.append("")
        for name, t in R["trace"].items():
            o = t["ours"]
            L.append(f"- {name}: the first trace (cold: loads every map it touches) {ms(o['cold'])}; "
                     f"load_config {ms(o['load_config'])}; a second pass over the same transactions "
                     f"median {ms(o['warm_median'])}; peak RSS {mb(o['maxrss'])}; smtpd instance start "
                     f"(postmap of its maps + postfix start) {secs(t['smtpd']['start'])}. "
                     f"smtpd's answers: {', '.join(f'{k}: {v}' for k, v in list(t['codes'].items())[:6])}."
                     + (f" Speed-up block by block ({BLOCK} transactions each, smtpd's and ours back to back): "
                        f"{min(t['block_ratios']):.1f}x-{max(t['block_ratios']):.1f}x."
                        if t.get("block_ratios") else ""))
            for d in t["diffs"]:
                L.append(f"  - differs at #{d['i']}: ours {d['ours']} / smtpd {d['smtpd']}")
        L.append("")
    if "app" in R:
        L.append("### The app: time to the first full screen")
        L.append("")
        L.append("| configuration | headless: first screen (tree built, then refreshed) | settled (tables checked, PostfixAdmin, classes) "
                 "| worst event-loop stall | PostfixAdmin mailboxes opened | process start to tree (tmux) | peak RSS |")
        L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, a in R["app"].items():
            h, tm = a["headless"], a["tmux"]
            opened = (f"{ms(h['open_mailboxes'])} ({h.get('mailbox_nodes')} nodes)"
                      if h.get("open_mailboxes") is not None else "n/a")
            tmx = (secs(tm.get("tree_shown")) if "tree_shown" in tm else tm.get("skipped", "not seen"))
            L.append(f"| {label} | {secs(h.get('first_screen'))} | {secs(h.get('settled'))} | "
                     f"{ms(h.get('lag_to_settled'))} | {opened} | {tmx} | {mb(h.get('maxrss_mb'))} |")
            if label.startswith("large"):
                T.append((f"first screen on the {label} configuration under 1 s",
                          f"headless {secs(h.get('first_screen'))}, real process {tmx}",
                          (h.get("first_screen") or 99) < 1))
        L.append("")
        if "app_floor" in R:
            L.append(f"For scale: a bare Textual app (header, a 30-node tree, footer) paints its first "
                     f"screen in {secs(R['app_floor']['first_screen'])} headless on the same machine "
                     "in the same run -- the framework's own floor.")
            L.append("")
        L.append("Headless times count from entering `App.run_test()` (imports excluded: "
                 + ", ".join(f"{k} {secs(a['headless'].get('import_app'))}" for k, a in R["app"].items())
                 + "); the tmux column counts from `tmux new-session` running "
                 "`postfix-explorer --config-dir DIR` until the pane shows the tree's "
                 "section header (\"main.cf  N set\"; interpreter start and imports included, with "
                 "the package's compiled bytecode at hand, as installed).")
        L.append("")
    if "scaling" in R:
        L.append("### Scaling with the size of the map")
        L.append("")
        L.append("| entries | postmap | our load | per 1k entries | peak RSS | lookup | page at n/2 | "
                 "first trace (cold) | trace median | trace p99 |")
        L.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in R["scaling"]:
            L.append(f"| {r['n']:,} | {secs(r['postmap'])} | {secs(r['load'])} | {r['load'] / r['n'] * 1e6:.1f} ms | "
                     f"{mb(r['rss'])} | {ms(r['lookup'])} | {ms(r['deep_page'])} | {ms(r['cold_trace'])} | "
                     f"{ms(r['trace_median'])} | {ms(r['trace_p99'])} |")
        L.append("")
    if T:
        L.append("### Targets")
        L.append("")
        L.append("| target | measured | met |")
        L.append("| --- | --- | :---: |")
        for name, val, ok in T:
            L.append(f"| {name} | {val} | {'yes' if ok else 'no' if ok is not None else '-'} |")
        L.append("")
    return "\n".join(L)


def write_results(path: Path, text: str) -> None:
    begin, end = "<!-- bench:results -->", "<!-- /bench:results -->"
    old = path.read_text() if path.exists() else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin not in old:
        old = old.rstrip("\n") + f"\n\n{begin}\n{end}\n"
    head, _, rest = old.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{begin}\n{text}\n{end}{tail}")


# ---------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--only", default="maps,pfa,trace,app,scaling",
                    help="comma-separated parts (maps, pfa, trace, app, scaling)")
    ap.add_argument("--write", metavar="FILE", help="put the results into FILE (between its markers)")
    ap.add_argument("--json", metavar="FILE", help="also save the raw numbers as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "JSON"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        res = CHILDREN[args.child[0]](json.loads(args.child[1]))
        print(json.dumps(res))
        return 0

    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))
    cfg = QUICK if args.quick else FULL
    parts = set(args.only.split(","))
    R: dict = {"machine": machine_info(), "config": cfg}
    log(f"machine: {R['machine']}")
    t_all = now()
    work = Path(tempfile.mkdtemp(prefix="pfx-bench-"))
    os.chmod(work, 0o755)  # the postfix user reads the maps
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_startup import environment

    APP_ENV.clear()
    APP_ENV.update(environment(work / "pycache"))
    try:
        data = Data(cfg["domains"], cfg["mailboxes"], cfg["aliases"], cfg["alias_domains"])
        if "maps" in parts:
            part_maps(work, cfg, R)
        need_big = parts & {"pfa", "trace", "app"}
        if need_big:
            access = work / "sender_access"
            listed = generate_access(access, cfg["map_lines"])
            files_dir = work / "files"
            write_files_config(files_dir, data, access)
            txs = transactions(data, listed, cfg["transactions"])
            if "trace" in parts:
                part_trace("files", files_dir, txs, R)
            with pfa_database(data) as creds:
                mysql_dir = work / "mysql"
                write_mysql_config(mysql_dir, data, access, creds)
                if "pfa" in parts:
                    part_pfa(mysql_dir, R)
                if "trace" in parts:
                    part_trace("mysql", mysql_dir, txs, R)
                if "app" in parts:
                    part_app("large (1M-line map + PostfixAdmin in MariaDB)", str(mysql_dir), False, R)
                    part_app("large, files only", str(files_dir), False, R)
            if "app" in parts:
                part_app("demo", None, True, R)
                R["app_floor"] = child("bare", {})
                log(f"app: a bare Textual app paints in {R['app_floor']['first_screen']:.2f}s")
        if "scaling" in parts:
            part_scaling(work, cfg, R, data, None)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")
    R["elapsed"] = now() - t_all
    R["machine"]["load_end"] = loadavg()
    text = report(R, cfg, args.quick)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(R, indent=1, default=str))
    if args.write:
        write_results(Path(args.write), text)
        log(f"results written to {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
