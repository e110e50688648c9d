"""Mail-log triage and trace --batch, measured against the real thing.

    python scripts/bench_triage.py [--lines 1000000] [--batch 5000] [--write BENCHMARKS.md]
    python scripts/bench_triage.py --batch-only [--batch 5000]

1. A scratch Postfix instance (tests/oracle/postfix_instance.py) is driven
   through tests/oracle/test_triage_scenario.py's sessions; the mail log it
   writes gives the line templates (connect, every reject form, disconnect,
   SASL failure, table lookup errors, ...).
2. A mail log of --lines lines is generated from those templates: client
   addresses, host names, recipients, pids, queue ids and time stamps vary
   the way the configuration allows without changing the decision, so
   every re-trace must still reproduce the logged reply.
3. `pflogsumm` (Debian's package) and `postfix-explorer triage --json` read
   that file alternately, --rounds times (3), in this run; wall time, CPU
   time and peak RSS of each are measured (/usr/bin/time).
4. --batch transactions are answered by the real smtpd over XCLIENT (one SMTP
   session each, as the oracle does) and by `postfix-explorer trace --batch`
   (the whole process: start-up, configuration load, JSON out).

Our commands run as an installed package runs: with its modules' compiled
bytecode at hand, whatever PYTHONDONTWRITEBYTECODE says (the environment
of scripts/bench_startup.py: a temporary PYTHONPYCACHEPREFIX, filled by one
untimed run of each command first, removed at the end).

With --write FILE the results replace the text between the
`<!-- bench:triage -->` markers of FILE. --batch-only runs step 4 alone
(no log, no pflogsumm, no triage) and prints its table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
PY = sys.executable


CPU: dict[str, float] = {}
# the environment of the measured commands (main() sets it: bench_startup.environment)
ENV: dict[str, str] = dict(os.environ, PYTHONPATH=str(ROOT))


def measured(cmd: list[str], stdout=subprocess.DEVNULL, stdin=None) -> tuple[int, float, float]:
    """(exit status, wall seconds, peak RSS MB) of a command, via /usr/bin/time;
    its CPU seconds (user + system, children included) go to CPU[cmd[0]...]."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.monotonic()
        r = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", tf.name] + cmd, stdout=stdout,
                           stderr=subprocess.PIPE, stdin=stdin, env=ENV)
        wall = time.monotonic() - t0
        rss_kb, user, system = (tf.read().strip().splitlines() or ["0 0 0"])[-1].split()
    CPU["last"] = float(user) + float(system)
    return r.returncode, wall, int(rss_kb) / 1024


# -------------------------------------------------------------- the log

_LINE = re.compile(r"^(\w{3} \d\d \d\d:\d\d:\d\d) (\S+) (\S+)\[(\d+)\]: (.*)$")


def templates(text: str):
    """Sessions of the real log: per smtpd process, the lines from 'connect
    from' to 'disconnect from', plus the lines other processes wrote about
    the queue ids the session created (cleanup, qmgr, discard, smtp)."""
    sessions, open_ = [], {}
    by_qid: dict[str, list] = {}
    for ln in text.splitlines():
        m = _LINE.match(ln)
        if not m:
            continue
        _stamp, _host, prog, pid, msg = m.groups()
        q = re.match(r"([0-9A-F]{8,12}): ", msg)
        if q and not prog.endswith("smtpd"):
            by_qid.setdefault(q.group(1), []).append((prog, msg))
        key = (prog, pid)
        if msg.startswith("connect from"):
            open_[key] = [(prog, msg)]
        elif key in open_:
            open_[key].append((prog, msg))
            if msg.startswith("disconnect from"):
                sessions.append(open_.pop(key))
    out = []
    for s in sessions:
        extra = []
        for _p, msg in s:
            q = re.match(r"([0-9A-F]{8,12}): ", msg)
            if q:
                extra += by_qid.get(q.group(1), [])
        out.append(s + extra)
    return out


def vary(session, rng, pools):
    """The session with what does not change its decision varied. Clients
    come from a pool and each keeps its own target (a sending host retries
    what it tried before, as botnets and misconfigured senders do), so the
    log holds many refusals of a bounded number of distinct transactions."""
    body = "\n".join(m for _p, m in session)
    out = body
    client = rng.randrange(pools["clients"])
    for addr in set(re.findall(r"\[(203\.0\.113\.\d+)\]", body)):
        out = out.replace(f"[{addr}]", f"[203.0.{113 + client // 250}.{client % 250 + 1}]")
    if "Relay access denied" in out:
        n = client % pools["targets"]
        out = out.replace("x@elsewhere.test", f"user{n}@elsewhere{n % 40}.test")
    if "User unknown in virtual mailbox table" in out and "nobody@example.test" in out:
        out = out.replace("nobody@example.test", f"nobody{client % pools['targets']}@example.test")
    if "remote.invalid" in out:
        out = out.replace("someone@remote.invalid", f"someone{client % 500}@remote.invalid")
    if "status=sent" in out:
        # delivered mail: senders and recipients vary as in any real log
        n = rng.randrange(50_000)
        out = out.replace("a@other.test", f"sender{n}@domain{n % 3000}.test")
        out = out.replace("alice@example.test", f"user{rng.randrange(5000)}@example.test")
    qid = f"{rng.getrandbits(40):010X}"
    out = re.sub(r"\b[0-9A-F]{10,12}\b", qid, out)
    return [(p, m) for (p, _), m in zip(session, out.split("\n"))]


def generate(text: str, path: Path, lines: int, seed: int = 16, clients: int = 4000,
             targets: int = 1500) -> dict:
    rng = random.Random(seed)
    sessions = templates(text)
    if not sessions:
        raise SystemExit("no sessions in the real log")
    # weights: most sessions of a real log deliver mail
    delivering = [s for s in sessions if any("status=" in m for _p, m in s)]
    weights = [12 if s in delivering else 1 for s in sessions]
    pools = {"clients": clients, "targets": targets}
    t = time.mktime((2026, 12, 1, 0, 0, 0, 0, 0, -1))
    n = 0
    kinds: dict[str, int] = {}
    with open(path, "w") as fh:
        while n < lines:
            s = vary(rng.choices(sessions, weights)[0], rng, pools)
            pids: dict[str, int] = {}
            for prog, msg in s:
                if n >= lines:
                    break
                t += 0.02
                stamp = time.strftime("%b %d %H:%M:%S", time.localtime(t))
                pid = pids.setdefault(prog, rng.randint(1000, 65000))
                fh.write(f"{stamp} mx {prog}[{pid}]: {msg}\n")
                n += 1
                k = re.search(r"(reject_warning|reject): (\S+)|SASL \w+ authentication failed|lookup error"
                              r"|is unavailable|status=\w+", msg)
                if k:
                    kinds[k.group(0)] = kinds.get(k.group(0), 0) + 1
    return {"lines": n, "bytes": path.stat().st_size, "kinds": kinds, "templates": len(sessions),
            "clients": clients, "targets": targets}


# -------------------------------------------------------------- batch

def batch_transactions(n: int, seed: int = 7) -> list[dict]:
    from tests.oracle.test_triage_scenario import SESSIONS

    rng = random.Random(seed)
    out = []
    for i in range(n):
        svc, addr, name, helo, sender, rcpt, _ = rng.choice(SESSIONS)
        if addr.startswith("203.0.113."):
            addr = f"203.0.113.{rng.randint(1, 254)}"
        if rcpt == "x@elsewhere.test":
            rcpt = f"user{rng.randint(1, 3000)}@elsewhere.test"
        out.append({"id": i, "service": svc, "client_address": addr, "client_name": name, "helo": helo,
                    "sender": sender, "recipient": rcpt})
    return out


def batch_part(n: int, cfg_dir, inst, work: Path) -> dict:
    """trace --batch vs the real smtpd over XCLIENT, on n transactions."""
    # trace --batch vs the real smtpd over XCLIENT
    txs = batch_transactions(n)
    t0 = time.monotonic()
    answers = [inst.query(t["service"], t["client_address"], t["client_name"], t["helo"],
                          t["sender"], t["recipient"]) for t in txs]
    smtpd_wall = time.monotonic() - t0
    inp = work / "batch.jsonl"
    # untimed: compiles what the command imports into the bytecode cache
    inp.write_text(json.dumps(txs[0]) + "\n")
    measured([PY, "-m", "tui", "trace", "--config-dir", str(cfg_dir), "--batch", str(inp)])
    inp.write_text("".join(json.dumps(t) + "\n" for t in txs))
    bout = work / "batch.out"
    with open(bout, "w") as fh:
        rc, bwall, brss = measured([PY, "-m", "tui", "trace", "--config-dir", str(cfg_dir),
                                    "--batch", str(inp)], stdout=fh)
    bcpu = CPU["last"]
    outs = [json.loads(x) for x in bout.read_text().splitlines()]
    agree = sum(1 for a, o in zip(answers, outs) if (a.code, a.reply) == (o.get("code"), o.get("reply")))
    distinct = len({json.dumps({k: v for k, v in t.items() if k != "id"}, sort_keys=True) for t in txs})
    b = {"n": len(txs), "distinct": distinct, "smtpd_wall": smtpd_wall,
         "smtpd_tps": len(txs) / smtpd_wall, "batch_wall": bwall, "batch_cpu": bcpu,
         "batch_tps": len(txs) / bwall, "rss": brss, "agree": agree, "rc": rc}
    # the same with every transaction distinct (no repeated answer to reuse)
    uniq = [dict(t, recipient=f"u{i}@elsewhere.test") if "elsewhere" in t["recipient"]
            else dict(t, client_address=f"203.0.{113 + i // 254 % 3}.{i % 254 + 1}")
            if t["client_address"].startswith("203.") else t for i, t in enumerate(txs)]
    inp.write_text("".join(json.dumps(t) + "\n" for t in uniq))
    with open(bout, "w") as fh:
        rc, uwall, _ = measured([PY, "-m", "tui", "trace", "--config-dir", str(cfg_dir),
                                 "--batch", str(inp)], stdout=fh)
    b["unique_cpu"] = CPU["last"]
    b["unique_wall"] = uwall
    b["unique_distinct"] = len({json.dumps({k: v for k, v in t.items() if k != "id"}, sort_keys=True)
                                for t in uniq})
    b["unique_tps"] = len(uniq) / uwall
    print(f"batch: {b}", file=sys.stderr)
    return b


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3, help="pflogsumm and triage, alternately, this many times")
    ap.add_argument("--write", metavar="FILE")
    ap.add_argument("--batch-only", action="store_true", help="only trace --batch against the real smtpd")
    args = ap.parse_args()
    if args.batch_only and args.write:
        ap.error("--batch-only prints its table; it does not --write")

    from tests.oracle.test_triage_scenario import real_maillog

    R: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
               "python": platform.python_version()}
    work = Path(tempfile.mkdtemp(prefix="bench-triage-"))
    os.chmod(work, 0o755)
    from bench_startup import environment

    ENV.clear()
    ENV.update(environment(work / "pycache"))
    try:
        with real_maillog() as (cfg_dir, text, inst):
            if args.batch_only:
                R["batch"] = batch_part(args.batch, cfg_dir, inst, work)
                print(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({R['machine']} at the start, "
                      f"load {os.getloadavg()[0]:.2f} at the end, Python {R['python']}).\n")
                print(render_batch(R["batch"]))
                return 0
            log = work / "mail.log"
            t0 = time.monotonic()
            R["log"] = generate(text, log, args.lines)
            R["log"]["generate_s"] = time.monotonic() - t0
            print(f"log: {R['log']['lines']} lines, {R['log']['bytes'] / 1e6:.1f} MB", file=sys.stderr)

            # both read it from the page cache: the file was just written, and
            # whichever read it first would also wait for the disk
            os.sync()
            with open(log, "rb") as fh:
                while fh.read(1 << 20):
                    pass
            # the two alternate, ROUNDS times: on a shared machine one program's
            # time moves from run to run (pflogsumm's by up to 1.7x here)
            pf_runs, tr_runs = [], []
            out = work / "triage.json"
            small = work / "small.log"   # untimed: fills the bytecode cache
            small.write_text(text)
            measured([PY, "-m", "tui", "triage", "--config-dir", str(cfg_dir), "--json", str(small)])
            for _ in range(args.rounds):
                rc, wall, rss = measured(["pflogsumm", str(log)])
                pf_runs.append({"rc": rc, "wall": wall, "rss": rss, "cpu": CPU["last"]})
                print(f"pflogsumm: {wall:.2f} s, {rss:.0f} MB", file=sys.stderr)
                with open(out, "w") as fh:
                    rc, wall, rss = measured([PY, "-m", "tui", "triage", "--config-dir", str(cfg_dir), "--json",
                                              str(log)], stdout=fh)
                tr_runs.append({"rc": rc, "wall": wall, "rss": rss, "cpu": CPU["last"]})
                print(f"triage: {wall:.2f} s, {rss:.0f} MB", file=sys.stderr)
            R["pflogsumm"] = dict(_median_run(pf_runs), runs=[r["wall"] for r in pf_runs])
            res = json.loads(out.read_text())
            groups = res["groups"]
            R["triage"] = dict(_median_run(tr_runs), runs=[r["wall"] for r in tr_runs], groups=len(groups),
                               retraced=res["retraced"], unparsed=res["unparsed"]["count"],
                               refusals=sum(g["count"] for g in groups),
                               today={k: sum(g["count"] for g in groups if g["today"] == k)
                                      for k in ("same", "differs", "undecidable")})
            print(f"triage: {R['triage']}", file=sys.stderr)

            R["batch"] = batch_part(args.batch, cfg_dir, inst, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    R["load_end"] = f"load {os.getloadavg()[0]:.2f}"
    md = render(R)
    print(md)
    if args.write:
        p = Path(args.write)
        s = p.read_text()
        a, b = "<!-- bench:triage -->", "<!-- /bench:triage -->"
        if a in s and b in s:
            s = s[: s.index(a) + len(a)] + "\n" + md + "\n" + s[s.index(b):]
        else:
            s = s.rstrip("\n") + "\n\n## Mail-log triage\n\n" + a + "\n" + md + "\n" + b + "\n"
        p.write_text(s)
    return 0


def _each(walls: list[float]) -> str:
    return ", ".join(f"{w:.2f}" for w in walls) + " s"


def _median_run(runs: list[dict]) -> dict:
    """The run of median wall time (its CPU time and RSS with it)."""
    return sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]


def render(R: dict) -> str:
    lg, pf, tr, b = R["log"], R["pflogsumm"], R["triage"], R["batch"]
    kinds = ", ".join(f"{k.strip(': ')} {v}" for k, v in sorted(lg["kinds"].items(), key=lambda x: -x[1]))
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `scripts/bench_triage.py` "
        f"({R['machine']} at the start, {R.get('load_end', '?')} at the end, Python {R['python']}).",
        "",
        f"The log: {lg['lines']:,} lines, {lg['bytes'] / 1e6:.0f} MB, generated from {lg['templates']} "
        f"sessions a real Postfix logged in this run (smtpd, cleanup, qmgr, discard, smtp; delivering "
        f"sessions weighted 12:1 against each refusing one). Client addresses come from a pool of "
        f"{lg['clients']:,}, each retrying its own target ({lg['targets']:,} recipients); pids, queue ids "
        f"and time stamps vary. Lines by form: {kinds}.",
        "",
        f"| on the same file, alternately, {len(pf['runs'])} times | wall time (median) | each run | "
        "CPU of the median run (user+sys, workers included) | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| `pflogsumm` (Debian's package) | {pf['wall']:.2f} s | {_each(pf['runs'])} | {pf['cpu']:.2f} s "
        f"| {pf['rss']:.0f} MB |",
        f"| `postfix-explorer triage --json` (read, group, re-trace) | {tr['wall']:.2f} s | {_each(tr['runs'])} "
        f"| {tr['cpu']:.2f} s | {tr['rss']:.0f} MB |",
        "",
        f"triage: {tr['refusals']:,} refusals in {tr['groups']} groups, {tr['retraced']:,} distinct "
        f"transactions re-traced; today same {tr['today']['same']:,}, differs {tr['today']['differs']:,}, "
        f"undecidable {tr['today']['undecidable']:,} (DATA, END-OF-MESSAGE, ETRN, VRFY, SASL, table "
        f"warnings, delivery status=bounced); {tr['unparsed']} lines not understood; exit {tr['rc']}.",
        "",
        render_batch(b),
    ]
    return "\n".join(lines)


def render_batch(b: dict) -> str:
    lines = [
        "| trace --batch vs the real smtpd (XCLIENT, one session each) | n | distinct | wall | CPU (user+sys) "
        "| transactions/s | speed-up |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| real smtpd | {b['n']} | {b['distinct']} | {b['smtpd_wall']:.2f} s | not measured | "
        f"{b['smtpd_tps']:.0f} | 1x |",
        f"| `trace --batch` (whole process) | {b['n']} | {b['distinct']} | {b['batch_wall']:.2f} s | "
        f"{b['batch_cpu']:.2f} s | {b['batch_tps']:.0f} | {b['batch_tps'] / b['smtpd_tps']:.1f}x |",
        f"| `trace --batch`, every transaction distinct | {b['n']} | {b['unique_distinct']} | "
        f"{b['unique_wall']:.2f} s | {b['unique_cpu']:.2f} s | {b['unique_tps']:.0f} | "
        f"{b['unique_tps'] / b['smtpd_tps']:.1f}x |",
        "",
        f"Answers of `trace --batch` equal to smtpd's: {b['agree']}/{b['n']}; peak RSS {b['rss']:.0f} MB. "
        "A transaction asked again within a second reuses the answer printed before (the engine trusts "
        "a table file's stat() for 1 s anyway). An input of 1,000 lines or more is answered by forked "
        "workers, one per core (the CPU column counts them all).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
