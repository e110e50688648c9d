#!/usr/bin/env python3
"""Start-up time of the command line, side by side with its floor and with Postfix.

    python scripts/bench_startup.py                        # print the figures
    python scripts/bench_startup.py --write BENCHMARKS.md  # and put them in its "Start-up" section
    python scripts/bench_startup.py --runs 50 --no-app     # more runs, skip the app

Runs each command many times, round-robin (one run of each, then again), so
that a change in the machine's load hits every command alike, and reports
median, minimum and maximum wall time, like hyperfine:

  python -c pass                  the bare interpreter
  python -c "import lark"         the interpreter plus lark: the targets are
                                  ratios to it (a command once had to import
                                  lark to read main.cf; plain lines are now
                                  read without it)
  postfix-explorer params -n      on the seed configuration (tests/fixtures/config/seed)
  postconf -c DIR -n              the real thing, same configuration
  postfix-explorer trace ...      the seed case (the Mailman relay), same configuration

Then where a command's time goes (whether it imports lark, what it
imports, the dataclasses created while importing, loading the
configuration, the rest),
and the app's first screen through scripts/bench.py's own measurement
(headless and in a real terminal under tmux), on the seed configuration and
on the demo.

Python caches compiled bytecode next to the sources; an installed package
has it from installation. So that every run is measured like that, whatever
PYTHONDONTWRITEBYTECODE says, the commands run with PYTHONPYCACHEPREFIX set
to a temporary directory (filled by the warm-up runs, removed at the end):
nothing is written into the checkout or the site-packages.

Nothing is asserted; the numbers are for people. --write replaces only the
part of the file between the `<!-- bench:startup -->` markers.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

SEED = ROOT / "tests" / "fixtures" / "config" / "seed"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"
BEGIN, END = "<!-- bench:startup -->", "<!-- /bench:startup -->"
TARGET = 1.5


def seed_case() -> list[str]:
    from tui.demo import SEED_CASE

    c = SEED_CASE
    return ["trace", "--service", c["service"], "--client-address", c["client_address"],
            "--client-name", c["client_name"], "--helo", c["helo"], "--sender", c["sender"],
            "--recipient", c["recipient"]]


def explorer() -> tuple[list[str], str]:
    """How a user starts the CLI: the console script next to this
    interpreter, or `python -m tui` where there is none."""
    script = Path(sys.executable).with_name("postfix-explorer")
    if script.is_file():
        return [sys.executable, str(script)], "postfix-explorer"
    return [sys.executable, "-m", "tui"], "python -m tui"


def environment(pycache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME")}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return env


def commands() -> dict[str, tuple[list[str], str]]:
    cli, how = explorer()
    cfg = ["--config-dir", str(SEED)]
    out = {
        "pass": ([sys.executable, "-c", "pass"], "`python -c pass`"),
        "lark": ([sys.executable, "-c", "import lark"], '`python -c "import lark"`'),
        "params": (cli + cfg + ["params", "-n"], f"`{how} params -n`"),
        "trace": (cli + cfg + seed_case(), f"`{how} trace` (the seed case)"),
    }
    if Path(POSTCONF).exists():
        out["postconf"] = ([POSTCONF, "-c", str(SEED), "-n"], "`postconf -c DIR -n`")
    return out


def run_once(argv: list[str], env: dict) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system, of that process alone: wait4)
    and exit status of one run."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, env=env, cwd=str(ROOT), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, p.returncode


def measure(cmds: dict, env: dict, runs: int, warmup: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    times: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for i in range(warmup + runs):
        for name, (argv, _label) in cmds.items():
            wall, used, rc = run_once(argv, env)
            if rc not in (0, 1):
                raise RuntimeError(f"{' '.join(argv)} exited with {rc}")
            if i >= warmup:
                times[name].append(wall)
                cpu[name].append(used)
    return times, cpu


# ------------------------------------------------------------ where the time goes

_BREAKDOWN = r'''
import contextlib, dataclasses, io, json, sys, time
t0 = time.perf_counter()
made = [0, 0.0]
_orig = dataclasses._process_class
def _timed(*a, **k):
    s = time.perf_counter()
    try:
        return _orig(*a, **k)
    finally:
        made[0] += 1
        made[1] += time.perf_counter() - s
dataclasses._process_class = _timed
import tui.core.config as config
loads = []
_load = config.load_config
def load_config(*a, **k):
    s = time.perf_counter()
    try:
        return _load(*a, **k)
    finally:
        loads.append(time.perf_counter() - s)
config.load_config = load_config
before = set(sys.modules)
from tui.__main__ import main
argv = json.loads(sys.argv[1])
t2 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    rc = main(argv)
t3 = time.perf_counter()
print(json.dumps(dict(lark="lark" in sys.modules, command=t3 - t2, dataclasses=made[0], dataclass_time=made[1],
                      load_config=sum(loads), whole=t3 - t0)))
'''


def importtime(argv: list[str], env: dict, floor: frozenset[str] = frozenset()) -> list[tuple[str, float]]:
    """Self import time (ms) of each module the command imports beyond
    FLOOR, from `python -X importtime` (which adds its own overhead)."""
    r = subprocess.run([sys.executable, "-X", "importtime"] + argv[1:], env=env, cwd=str(ROOT),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    out = []
    for line in r.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, self_us, _cum, name = (x.strip() for x in line.replace("import time:", "|").split("|"))
        if name not in floor:
            out.append((name, int(self_us) / 1000))
    return out


def breakdown(cmds: dict, env: dict, runs: int = 7) -> dict:
    # what the bare interpreter imports as it starts
    floor = frozenset(m for m, _t in importtime([sys.executable, "-c", "pass"], env))
    out = {}
    for name in ("params", "trace"):
        argv = cmds[name][0]
        args = argv[argv.index("--config-dir"):]
        samples = []
        for _ in range(runs):
            r = subprocess.run([sys.executable, "-c", _BREAKDOWN, json.dumps(args)], env=env, cwd=str(ROOT),
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(r.stderr[-2000:])
            samples.append(json.loads(r.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median(s[k] for s in samples) for k in samples[0] if k != "lark"}
        med["lark"] = any(s["lark"] for s in samples)
        runs_mods = [dict(importtime(argv, env, floor)) for _ in range(runs)]
        mods = [(m, statistics.median(r.get(m, 0.0) for r in runs_mods)) for m in runs_mods[0]]
        tui = sorted(((m, t) for m, t in mods if m.split(".")[0] == "tui"), key=lambda x: -x[1])
        other = sorted(((m, t) for m, t in mods if m.split(".")[0] != "tui"), key=lambda x: -x[1])
        med["tui_modules"] = tui
        med["other_modules"] = other
        out[name] = med
    return out


# ------------------------------------------------------------ the app

def app_first_screen(env: dict) -> dict:
    """scripts/bench.py's own measurement of the app's first screen, its
    processes started with ENV (this checkout's tui first, bytecode cached
    in the temporary directory); one unmeasured start first fills that."""
    import bench

    os.environ.clear()
    os.environ.update(env)
    bench.child("app", dict(config_dir=str(SEED), timeout=180))
    R: dict = {}
    bench.part_app("seed (tests/fixtures/config/seed)", str(SEED), False, R)
    bench.part_app("demo", None, True, R)
    return R["app"]


# ------------------------------------------------------------ report

def fmt_ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def report(cmds: dict, times: dict, cpu: dict, bd: dict | None, app: dict | None, meta: dict) -> str:
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["lark"]
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    # the ratio within each round, where the load was the same for both
    def round_ratios(name: str) -> list[float]:
        return [a / b for a, b in zip(times[name], times["lark"])]

    L = []
    L.append(f"Run: {meta['date']}; `scripts/bench_startup.py`, {meta['runs']} runs of each command "
             f"round-robin after {meta['warmup']} warm-up rounds. Machine: {meta['cpu']}, {meta['cores']} cores; "
             f"Python {meta['python']}; lark {meta['lark']}; load average at start {meta['load_start']}, "
             f"at end {meta['load_end']}.")
    L.append("")
    L.append("| command | wall: median | min | max | x `python -c \"import lark\"` (median; per-round range) "
             "| CPU time: median | x lark |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (_argv, label) in cmds.items():
        v = times[name]
        rr = round_ratios(name)
        L.append(f"| {label} | {fmt_ms(med[name])} | {fmt_ms(min(v))} | {fmt_ms(max(v))} | "
                 f"{med[name] / base:.2f}x ({min(rr):.2f}-{max(rr):.2f}) | {fmt_ms(cmed[name])} | "
                 f"{cmed[name] / cmed['lark']:.2f}x |")
    L.append("")
    targets = []
    for name in ("params", "trace"):
        # met only if met both in wall time and in CPU time (a loaded machine
        # can hide a cost in one of them)
        wall_ratio, cpu_ratio = med[name] / base, cmed[name] / cmed["lark"]
        ratio = max(wall_ratio, cpu_ratio)
        targets.append(f"{cmds[name][1]}: {wall_ratio:.2f}x the interpreter plus lark in wall time, "
                       f"{cpu_ratio:.2f}x in CPU time "
                       f"(target at most {TARGET}x: {'met' if ratio <= TARGET else 'not met'})")
    if "postconf" in med:
        targets.append(f"`postconf -n` itself: {fmt_ms(med['postconf'])}; `params -n` takes "
                       f"{med['params'] / med['postconf']:.1f}x as long")
    L += [f"- {t}" for t in targets]
    L.append("")
    if bd:
        L.append("Where a command's time goes (medians of 7 runs of its imports and `main()` in a fresh process; "
                 "import times: medians of 7 runs of `python -X importtime`, which inflates them somewhat):")
        L.append("")
        L.append("| | params -n | trace |")
        L.append("| --- | ---: | ---: |")
        p, t = bd["params"], bd["trace"]
        L.append(f"| lark imported | {'yes' if p['lark'] else 'no'} | {'yes' if t['lark'] else 'no'} |")
        L.append(f"| imports, load, output | {fmt_ms(p['whole'])} | {fmt_ms(t['whole'])} |")
        L.append(f"| of which dataclasses created while importing | {p['dataclasses']:.0f} classes, "
                 f"{fmt_ms(p['dataclass_time'])} | {t['dataclasses']:.0f} classes, {fmt_ms(t['dataclass_time'])} |")
        L.append(f"| of which `load_config()` (parsers loaded, main.cf + master.cf parsed) | "
                 f"{fmt_ms(p['load_config'])} | {fmt_ms(t['load_config'])} |")
        for label, key in (("project modules imported (self time)", "tui_modules"),
                           ("other modules imported, beyond the bare interpreter's (self time)",
                            "other_modules")):
            L.append(f"| {label} | {sum(x for _m, x in p[key]):.1f} ms | {sum(x for _m, x in t[key]):.1f} ms |")
        L.append("")
        L.append("Largest project modules at import (self time, trace): "
                 + ", ".join(f"`{m}` {x:.1f} ms" for m, x in t["tui_modules"][:8]) + ". Other modules "
                 "(trace): " + ", ".join(f"`{m}` {x:.1f} ms" for m, x in t["other_modules"][:8]) + ".")
        L.append("")
    if app:
        L.append("The app's first screen (scripts/bench.py's measurement: headless from `App.run_test()`, "
                 "and the real process in a tmux pane until the tree shows):")
        L.append("")
        L.append("| configuration | headless first screen | imports before it | process start to tree (tmux) |")
        L.append("| --- | ---: | ---: | ---: |")
        for label, a in app.items():
            h, tm = a["headless"], a["tmux"]
            tmx = f"{tm['tree_shown']:.2f} s" if "tree_shown" in tm else tm.get("skipped", "not seen")
            L.append(f"| {label} | {h.get('first_screen', float('nan')):.2f} s | "
                     f"{h.get('import_app', float('nan')):.2f} s | {tmx} |")
        L.append("")
    return "\n".join(L)


def write_section(path: Path, text: str) -> None:
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    if BEGIN not in old:
        old = old.rstrip("\n") + f"\n\n## Start-up\n\n{BEGIN}\n{END}\n"
    head, _, rest = old.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30, help="measured runs of each command (default 30)")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up rounds, not counted (default 3)")
    ap.add_argument("--no-app", action="store_true", help="skip the app's first screen")
    ap.add_argument("--no-breakdown", action="store_true", help="skip where the time goes")
    ap.add_argument("--write", metavar="FILE", help="put the results into FILE's Start-up section")
    ap.add_argument("--json", metavar="FILE", help="also save the raw times as JSON")
    args = ap.parse_args(argv)

    import lark

    cpu = "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    meta = dict(date=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), runs=args.runs,
                warmup=args.warmup, cpu=cpu, cores=os.cpu_count(), python=platform.python_version(),
                lark=lark.__version__, load_start=loadavg())
    cmds = commands()
    pycache = Path(tempfile.mkdtemp(prefix="pfx-startup-pyc-"))
    try:
        env = environment(pycache)
        times, cpu = measure(cmds, env, args.runs, args.warmup)
        bd = None if args.no_breakdown else breakdown(cmds, env)
        saved_env = dict(os.environ)
        try:
            app = None if args.no_app else app_first_screen(env)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
    finally:
        shutil.rmtree(pycache, ignore_errors=True)
    meta["load_end"] = loadavg()
    text = report(cmds, times, cpu, bd, app, meta)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(dict(meta=meta, times=times, cpu=cpu, breakdown=bd, app=app),
                                              indent=1, default=str))
    if args.write:
        write_section(Path(args.write), text)
        print(f"written into {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
