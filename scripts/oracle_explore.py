#!/usr/bin/env python3
"""Look for answers where the engine and a real smtpd differ, at random.

The oracle scenarios (tests/oracle/scenarios/*) ask the real smtpd the
transactions someone wrote down. This asks it transactions nobody wrote:
for each scenario, N transactions recombined from the scenario's own rows
(client of one, HELO of another, sender and recipient of others, each
service the scenario names) and mutated the way clients get addresses
wrong or unusual -- case, trailing dots, extensions, quoted local parts,
source routes, % and ! forms, literals, extra brackets, comments,
phrases, stray brackets and quotes, command lines longer than smtpd
reads -- and prints every transaction whose
(code, reply, stage) differ between the real smtpd (over SMTP + XCLIENT,
as the oracle asks it) and the engine.

    python scripts/oracle_explore.py                    # 150 per scenario, a random seed
    python scripts/oracle_explore.py -n 40 --seed 7 address_syntax map_types
    python scripts/oracle_explore.py --variants 5 -n 30 # also 5 changed main.cf per scenario

With --variants K each scenario is also run K more times, each time with
one to three main.cf parameters of CHANGES (reply codes, address
rewriting, delay_reject, unlisted sender/recipient checks, ...) set to a
random value at the end of its main.cf; both sides read the same file.
With --lists, most variants also set one smtpd_*_restrictions list to a
random sequence of restrictions: no table but inline ones, no policy
service, DNS only as this machine answers it.
With --results, most variants also give some entries of the scenario's
access tables (the key/value, cidr, regexp and pcre files that a
check_*_access names) another action of ACTIONS: every kind access(5)
knows, bad ones included.
With --overrides, half the variants set their changes as master.cf -o
overrides of one of the services the transactions use, instead of in
main.cf (smtpd reads them; trivial-rewrite and cleanup do not).
With --edits N, for each configuration up to N of the proven edits that the
explainer offers for refused transactions are pasted into a copy of it
(the printed postconf commands, with -c) and a real smtpd on the copy is
asked the transaction again: it must answer what the edit promised.

Needs Postfix (and MariaDB for the MySQL scenario), like the oracle tests;
runs for a few minutes. A difference it finds belongs in a scenario's
transactions.tsv, where the oracle test checks it from then on. Exit status
1 when any transaction differs.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# main.cf parameters a variant sets, and the values it picks from
CHANGES: dict[str, tuple[str, ...]] = {
    "smtpd_delay_reject": ("yes", "no"),
    "parent_domain_matches_subdomains": ("", "smtpd_access_maps", "debug_peer_list,smtpd_access_maps"),
    "allow_percent_hack": ("yes", "no"),
    "swap_bangpath": ("yes", "no"),
    "resolve_dequoted_address": ("yes", "no"),
    "resolve_null_domain": ("yes", "no"),
    "strict_rfc821_envelopes": ("yes", "no"),
    "recipient_delimiter": ("+", "-", "+-", ""),
    "append_dot_mydomain": ("yes", "no"),
    "allow_untrusted_routing": ("yes", "no"),
    "smtpd_reject_unlisted_sender": ("yes", "no"),
    "smtpd_reject_unlisted_recipient": ("yes", "no"),
    "show_user_unknown_table_name": ("yes", "no"),
    "unknown_address_reject_code": ("450", "550"),
    "unknown_local_recipient_reject_code": ("450", "550"),
    "unknown_virtual_mailbox_reject_code": ("450", "550"),
    "unknown_relay_recipient_reject_code": ("450", "550"),
    "relay_domains_reject_code": ("454", "554"),
    "access_map_reject_code": ("554", "550"),
    "access_map_defer_code": ("450", "451"),
    "unknown_client_reject_code": ("450", "550"),
    "unknown_hostname_reject_code": ("450", "550"),
    "invalid_hostname_reject_code": ("501", "550"),
    "non_fqdn_reject_code": ("504", "550"),
    "soft_bounce": ("yes", "no"),
    "smtputf8_enable": ("yes", "no"),
    "allow_min_user": ("yes", "no"),
    "smtpd_helo_required": ("yes", "no"),
    "smtpd_null_access_lookup_key": ("<>", "MAILER-DAEMON"),
    "empty_address_recipient": ("MAILER-DAEMON", "postmaster"),
    "smtpd_reject_footer": ("", "Contact $myhostname's postmaster"),
    "mynetworks_style": ("host", "subnet"),
    "local_recipient_maps": ("", "unix:passwd.byname $alias_maps"),
    "reject_code": ("554", "550"),
    "defer_code": ("450", "451"),
    "maps_rbl_reject_code": ("554", "550"),
    "multi_recipient_bounce_reject_code": ("550", "554"),
    "resolve_numeric_domain": ("yes", "no"),
    "reject_tempfail_action": ("defer_if_permit", "defer"),
    "unknown_address_tempfail_action": ("$reject_tempfail_action", "defer_if_permit", "defer"),
    "unknown_helo_hostname_tempfail_action": ("$reject_tempfail_action", "defer_if_permit", "defer"),
    "default_rbl_reply": ("$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain"
                          "${rbl_reason?; $rbl_reason}", "$rbl_code Listed by $rbl_domain"),
    "smtpd_reject_footer_maps": ("", "static:{Footer from a table}", "static:Footer from a table",
                                 "inline:{nomatch=x}"),
    "smtpd_sender_login_maps": ("", "inline:{ user@example.com=user, sender@example.com=someone }"),
    # milters smtpd cannot use (a usable one would be asked over the network)
    "smtpd_milters": ("", "localhost:8891", "{localhost:8891,default_action=accept}",
                      "{localhost:8891,default_action=quarantine}"),
    "milter_default_action": ("tempfail", "accept", "reject", "quarantine"),
    "mynetworks": ("127.0.0.0/8 192.0.2.0/24", "!192.0.2.7 192.0.2.0/24 127.0.0.1",
                   "127.0.0.1 [::1]/128 [2001:db8::]/32", "127.0.0.0/8, 192.0.2.010/32"),
}


# restriction lists a variant may set instead (no table but inline ones, no
# policy service, DNS as this machine answers it): one list, 1-4 of these
# in a random order. Not
# permit_inet_interfaces: smtpd tests the socket's peer address, which
# XCLIENT does not change (the oracle's own loopback connection always
# matches)
LISTS = ("smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
         "smtpd_relay_restrictions", "smtpd_recipient_restrictions")
RESTRICTIONS = (
    "permit_mynetworks", "reject_unauth_destination", "defer_unauth_destination", "reject_non_fqdn_sender",
    "reject_non_fqdn_recipient", "reject_non_fqdn_helo_hostname", "reject_invalid_helo_hostname",
    "reject_unlisted_recipient", "reject_unlisted_sender", "permit", "reject", "defer", "defer_if_permit",
    "defer_if_reject", "warn_if_reject", "permit_sasl_authenticated", "reject_multi_recipient_bounce",
    "reject_unauth_pipelining", "permit_auth_destination", "reject_unknown_reverse_client_hostname",
    "reject_unknown_client_hostname", "reject_sender_login_mismatch",
    "reject_authenticated_sender_login_mismatch", "reject_unauthenticated_sender_login_mismatch",
    # DNS, as this machine answers it (the engine's resolver is picked to match)
    "reject_unknown_sender_domain", "reject_unknown_recipient_domain", "reject_unknown_helo_hostname",
    "reject_rbl_client zen.example.net", "reject_rhsbl_sender dbl.example.net",
    "reject_rhsbl_helo dbl.example.net", "reject_rhsbl_client dbl.example.net",
    "check_helo_mx_access inline:{192.0.2.1=REJECT}",
    # inline tables, with the { } groups a list keeps whole
    "check_sender_access inline:{ user@example.com = REJECT Inline says no, example.net=OK }",
    "check_recipient_access inline:{postmaster@example.com=DUNNO} permit_mynetworks",
    "check_client_access inline:{127.0.0.1=HOLD, 192.0.2=REJECT}",
    # tables keyed on what XCLIENT or the (missing) TLS session gives
    "check_reverse_client_hostname_access inline:{unknown=REJECT No reverse name}",
    "check_sasl_access inline:{user=REJECT Login refused}", "check_ccert_access inline:{AB:CD=OK}",
    "permit_tls_clientcerts", "permit_tls_all_clientcerts", "reject_plaintext_session",
    "reject_known_sender_login_mismatch", "check_recipient_maps",
    # more DNS, as this machine answers it
    "check_sender_mx_access inline:{192.0.2.1=REJECT}", "check_recipient_mx_access inline:{192.0.2.1=REJECT}",
    "check_sender_ns_access inline:{192.0.2.1=REJECT}", "check_client_a_access inline:{192.0.2.1=REJECT}",
    "check_client_mx_access inline:{192.0.2.1=REJECT}", "check_helo_a_access inline:{192.0.2.1=REJECT}",
    "check_reverse_client_hostname_ns_access inline:{192.0.2.1=REJECT}", "permit_mx_backup",
    "permit_dnswl_client list.dnswl.example", "permit_rhswl_client wl.example",
    "reject_rhsbl_recipient dbl.example.net", "reject_rhsbl_reverse_client dbl.example.net",
    # names Postfix still takes for older ones, or refuses
    "reject_unknown_client", "reject_unknown_hostname", "reject_invalid_hostname", "reject_non_fqdn_hostname",
    "reject_unknown_address", "check_relay_domains", "reject_maps_rbl", "reject_rbl zen.example.net",
    "permit_naked_ip_address",
)


# access(5) results a variant may write into a scenario's access tables
# (--results): every action, the codes and texts smtpd checks, restriction
# names and lists as results, and results smtpd refuses. Nothing that needs
# DNS, a policy service or the verify service.
ACTIONS = (
    "OK", "REJECT", "REJECT Custom text", "DEFER", "DEFER Come back later", "DEFER_IF_REJECT",
    "DEFER_IF_PERMIT Maybe later", "DUNNO", "HOLD", "HOLD Held here", "DISCARD", "DISCARD Gone",
    "WARN Looked odd", "INFO Noted", "PREPEND X-Test: yes", "REDIRECT other@example.org",
    "FILTER smtp:[127.0.0.1]:10025", "BCC copy@example.org", "450 Try again", "550 5.7.1 Go away",
    "554", "421 Closing", "451 5.7.1 Class mismatch", "550 4.7.1 Class mismatch", "250 Fine",
    "499 Odd code", "599 x", "4.7.1 No code", "42", "0", "permit_mynetworks", "permit_mynetworks, reject",
    "reject_unauth_destination", "reject_non_fqdn_sender", "reject_non_fqdn_recipient",
    "permit_auth_destination", "defer_if_permit", "reject_unlisted_recipient", "permit", "reject",
    "no_such_restriction", "warn_if_reject, reject", "REJECT %s", "REJECT Over " + "x" * 600,
    "reject_unauth_pipelining", "check_sender_access inline:{a@b.example=REJECT}",
    "REJECT Matched $1 in $0", "REDIRECT ${1}@example.org",
)

_ACCESS_TABLE = re.compile(r"check_[a-z_]+_access\s+(hash|btree|texthash|lmdb|cdb|cidr|regexp|pcre):(/[^\s,]+)")


def mutate_results(rng: random.Random, cfg_dir: Path) -> list[str]:
    """Give some entries of the access tables named in CFG_DIR's main.cf
    another action of ACTIONS (in place; the instance compiles them after).
    Returns what changed, for the label."""
    names = sorted({m.group(2) for m in _ACCESS_TABLE.finditer((cfg_dir / "main.cf").read_text())
                    if Path(m.group(2)).parent == cfg_dir and Path(m.group(2)).is_file()})
    changed = []
    for path in rng.sample(names, min(len(names), rng.randint(1, 2))):
        out = []
        for line in Path(path).read_text().splitlines():
            parts = line.split(None, 1)
            if len(parts) == 2 and not line[:1].isspace() and not line.startswith("#") \
                    and parts[0].lower() not in ("if", "endif") and rng.random() < 0.5:
                action = rng.choice(ACTIONS)
                line = f"{parts[0]} {action}"
                changed.append(f"{Path(path).name}:{parts[0]}={action[:40]}")
            out.append(line)
        Path(path).write_text("\n".join(out) + "\n")
    return changed


# client addresses written the ways XCLIENT may send them (smtpd
# normalises some, refuses others)
CLIENT_FORMS = ("2001:db8::5", "2001:DB8:0:0:0:0:0:5", "2001:db8:1::9", "2001:db8:0::1:0:0:1", "::1",
                "::ffff:192.0.2.7", "::ffff:127.0.0.1", "192.0.2.010", "198.51.100.05", "010.0.0.1",
                "fe80::1", "2001:db8::", "0.0.0.0", "255.255.255.255", "203.0.113.9")


def add_overrides(cfg_dir: Path, service: str, changes: dict[str, str]) -> bool:
    """Give SERVICE in CFG_DIR's master.cf the -o overrides CHANGES (a value
    with blanks or commas in braces, as postconf -P writes it). False when
    master.cf has no such service line."""
    path = cfg_dir / "master.cf"
    if not path.exists():
        return False
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        fields = line.split()
        if line[:1].strip() and not line.startswith("#") and len(fields) >= 8 and fields[0] == service:
            opts = [f"  -o {{ {k} = {v} }}" if (" " in v or "," in v) else f"  -o {k}={v}"
                    for k, v in changes.items()]
            path.write_text("\n".join(lines[:i + 1] + opts + lines[i + 1:]) + "\n")
            return True
    return False


def mutate_address(rng: random.Random, a: str) -> str:
    if a in ("", "<>"):
        return rng.choice(["", "<>", "postmaster", "MAILER-DAEMON"])
    local, _, dom = a.rpartition("@")
    local = local or a
    forms = [
        a.upper(), a + ".", f"{local}+ext@{dom}", f"{local}-ext@{dom}", f'"{local} x"@{dom}',
        f"@relay.example:{a}", f"@a.example,@b.example:{a}", f"{local}%other.example@{dom}",
        f"{dom}!{local}", local, f"{local}@[192.0.2.{rng.randint(1, 254)}]", f"{local}@sub.{dom}",
        f"{local}@{dom.split('.', 1)[-1]}", f"{local}@{dom}".replace(".", "..", 1), f"{local}@localhost",
        f"postmaster@{dom}", f"<{a}>", f"<<{a}>>", f"Some One <{a}>", f"{a} (comment)", f"<{a}",
        f"{a}>", f'"{local}"@{dom}', f'{local}"x"@{dom}', f"{local} x@{dom}", f"{a}, x@{dom}", a,
        "x" * rng.choice([70, 600, 2030, 2040, 3000]) + f"@{dom}",
    ]
    return rng.choice(forms)


def mutate_helo(rng: random.Random, h: str | None) -> str | None:
    if h is None:
        return rng.choice([None, "x"])
    return rng.choice([h, h.upper(), h + ".", "[192.0.2.1]", "192.0.2.1", "localhost", "foo_bar.example.com",
                       "nodot", "[IPv6:2001:db8::1]", h.split(".", 1)[-1], "a" * 70 + ".example.com",
                       "[" + h + "]", "-" + h, "h" * rng.choice([63, 64, 300, 2100]) + ".example.com"])


def variations(rng: random.Random, scenario, n: int) -> list:
    rows = scenario.transactions
    services = sorted({t.service for t in rows})
    out = []
    for _ in range(n):
        a, b, c = rng.choice(rows), rng.choice(rows), rng.choice(rows)
        client = rng.choice([(a.client_address, a.client_name, a.reverse_client_name),
                             (f"192.0.2.{rng.randint(1, 254)}", a.client_name, None),
                             (f"192.0.2.{rng.randint(1, 254)}", "unknown", None),
                             ("127.0.0.1", "localhost", None),
                             (rng.choice(CLIENT_FORMS), rng.choice([a.client_name, "unknown"]), None),
                             (a.client_address, "unknown", None),
                             (a.client_address, "[TEMPUNAVAIL]", None)]) if rng.random() < 0.3 else \
            (a.client_address, a.client_name, a.reverse_client_name)
        out.append(dataclasses.replace(
            a, service=rng.choice(services) if rng.random() < 0.2 else a.service,
            client_address=client[0], client_name=client[1], reverse_client_name=client[2],
            helo=mutate_helo(rng, b.helo) if rng.random() < 0.4 else b.helo,
            sender=mutate_address(rng, b.sender) if rng.random() < 0.5 else b.sender,
            recipient=mutate_address(rng, c.recipient) if rng.random() < 0.6 else c.recipient,
            sasl_login=rng.choice([a.sasl_login, b.sasl_login, None]), note="random"))
    return out


def set_main_cf(cfg_dir: Path, changes: dict[str, str]) -> None:
    """Set CHANGES in CFG_DIR's main.cf as a sysadmin would (postconf -e:
    each in place of the line that sets it, if any). Appended as second
    settings instead, they made every Postfix process log "overriding
    earlier entry" as it started, which can hang an instance that logs to
    maillog_file (see tests/oracle/postfix_instance.py)."""
    from tests.oracle.postfix_instance import POSTCONF

    for k, v in changes.items():
        subprocess.run([POSTCONF, "-c", str(cfg_dir), "-e", f"{k} = {v}"], check=True, capture_output=True)


def _ask_both(label: str, txs: list, cfg_dir, inst) -> tuple[int, list]:
    """Ask the real smtpd and the engine each transaction; print and count
    those they answer differently. Returns (that count, the transactions
    both refuse alike)."""
    from tests.oracle.conftest import machine_resolver
    from tests.oracle.test_trace_oracle import _engine_answer
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    cfg = load_config(cfg_dir)
    resolver = machine_resolver()
    found = 0
    not_asked = 0
    history = 0
    refused = []
    for tx in txs:
        try:
            real = inst.query(**tx.query_args())
        except Exception as exc:  # noqa: BLE001 - the harness could not ask: say so (once), go on
            not_asked += 1
            if not_asked == 1:
                print(f"- {label}: {tx.describe()}\n    not asked: {str(exc).splitlines()[0]}")
            continue
        mine, how = _engine_answer(evaluate, Transaction, cfg, tx, resolver)
        if mine == (real.code, real.reply, real.stage):
            if real.code >= 400:
                refused.append(tx)
        else:
            if _depends_on_history(cfg, tx, resolver):
                history += 1
                continue
            found += 1
            print(f"- {label}: {tx.describe()}\n"
                  f"    postfix: [{real.stage}] {real.reply!r} (code {real.code})\n"
                  f"    engine:  {mine!r} {how}{_why(cfg, tx, resolver)}")
    if not_asked > 1:
        print(f"- {label}: {not_asked} transactions not asked")
    if history:
        print(f"- {label}: {history} answers differ where the engine's trace says a real smtpd's answer "
              f"depends on its process's previous session")
    return found, refused


def _trace(cfg, tx, resolver):
    """The engine's trace of the scenario row TX."""
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    return evaluate(cfg, Transaction(client_address=tx.client_address, client_name=tx.client_name, helo=tx.helo,
                                     sender=tx.sender, recipient=tx.recipient, sasl_login=tx.sasl_login,
                                     reverse_client_name=tx.reverse_client_name),
                    service=tx.service, resolver=resolver)


def _why(cfg, tx, resolver) -> str:
    """The engine's deciding step's detail and failed lookups, for a report."""
    try:
        d = _trace(cfg, tx, resolver).decided_by
    except Exception as exc:  # noqa: BLE001 - _engine_answer has reported it
        return f"\n    ({exc})"
    if d is None:
        return ""
    errors = [f"{lk.table} {lk.key!r}: {lk.result}" for lk in d.lookups if lk.error]
    return "".join(f"\n    {x}" for x in [d.detail, *errors] if x)


def _depends_on_history(cfg, tx, resolver) -> bool:
    """Does the engine's trace of TX say that smtpd's answer depends on what
    the same smtpd process did before (tui.core.smtpd.checks.SENDER_FLAG_NOTE)?
    The oracle asks each transaction in a new session, but master hands
    the sessions to reused smtpd processes."""
    from tui.core.smtpd.checks import SENDER_FLAG_NOTE

    return any(SENDER_FLAG_NOTE in s.detail for s in _trace(cfg, tx, resolver).steps)


def _check_edits(label: str, refused: list, cfg_dir, rng: random.Random, limit: int) -> int:
    """Paste up to LIMIT of the proven edits the explainer offers for the
    REFUSED transactions into a copy of the configuration, as printed
    (postconf with -c), and ask a real smtpd on the copy: it must answer
    what the edit promised (unless the promise assumed DNS or policy
    checks pass). Prints and counts the edits that break that promise."""
    import shutil
    import tempfile

    from tests.oracle.conftest import machine_resolver
    from tests.oracle.postfix_instance import PostfixInstance
    from tests.oracle.test_suggest_oracle import _run_pasted
    from tui.core.analysis.explain import explain
    from tui.core.config import load_config

    cfg = load_config(cfg_dir)
    resolver = machine_resolver()
    offers: list = []   # (transaction, its first edit not pasted on that service yet)
    seen: set = set()
    for tx in rng.sample(refused, len(refused)):
        ex = explain(_trace(cfg, tx, resolver), cfg, resolver=resolver)
        fresh = [e for e in ex.edits if (tx.service, e.command) not in seen]
        if fresh:
            seen.add((tx.service, fresh[0].command))
            offers.append((tx, fresh[0]))
        if len(offers) >= limit:
            break
    found = 0
    for tx, e in offers:
        top = Path(tempfile.mkdtemp(prefix="pfx-explore-edit-"))
        top.chmod(0o755)
        try:
            d = top / "etc"
            shutil.copytree(cfg_dir, d)
            try:
                _run_pasted(e.command, d)
            except AssertionError as exc:
                found += 1
                print(f"- {label}: {tx.describe()}\n    edit: {e.command}\n    postconf: {exc}")
                continue
            try:
                with PostfixInstance(d) as inst:
                    got = inst.query(**tx.query_args())
            except Exception as exc:  # noqa: BLE001 - the harness could not ask: say so, go on
                print(f"- {label}: {tx.describe()}\n    edit: {e.command}\n"
                      f"    not asked: {str(exc).splitlines()[0]}")
                continue
            if got.reply != e.new_reply and not e.conditional:
                found += 1
                print(f"- {label}: {tx.describe()}\n    edit: {e.command}\n"
                      f"    promised: {e.new_reply!r}\n    postfix:  [{got.stage}] {got.reply!r} {got.detail}")
        finally:
            shutil.rmtree(top, ignore_errors=True)
    print(f"{label}: {len(offers)} proven edits pasted, {found} broke their promise")
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    ap.add_argument("-n", type=int, default=150, help="transactions per scenario")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--variants", type=int, default=0, help="changed main.cf files per scenario")
    ap.add_argument("--lists", action="store_true",
                    help="variants also set a restriction list to 1-4 restrictions of RESTRICTIONS")
    ap.add_argument("--results", action="store_true",
                    help="variants also give access table entries another action of ACTIONS")
    ap.add_argument("--overrides", action="store_true",
                    help="half the variants set their changes as master.cf -o overrides of one service")
    ap.add_argument("--edits", type=int, default=0, metavar="N",
                    help="paste N of the proven edits offered for refused transactions and ask again")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)

    from tests.oracle.conftest import scenario_config
    from tests.oracle.postfix_instance import PostfixInstance
    from tests.oracle.scenarios import load_scenario, scenario_names

    print(f"seed {seed}")
    total, differ = 0, 0
    for name in args.scenarios or scenario_names():
        scenario = load_scenario(name)
        if not scenario.transactions:
            continue
        for variant in range(args.variants + 1):
            changes = {} if variant == 0 else {
                k: rng.choice(CHANGES[k]) for k in rng.sample(sorted(CHANGES), rng.randint(1, 3))}
            if variant and args.lists and rng.random() < 0.7:
                changes[rng.choice(LISTS)] = ", ".join(rng.sample(RESTRICTIONS, rng.randint(1, 4)))
            txs = variations(rng, scenario, args.n)
            # --overrides: the changes as -o overrides of a service the transactions use
            service = rng.choice(sorted({t.service for t in txs})) \
                if changes and args.overrides and rng.random() < 0.5 else None
            label = name + (f" [{service} -o]" if service else "") + "".join(f" {k}={v}" for k, v in changes.items())
            with scenario_config(scenario) as cfg_dir:
                if service and not add_overrides(Path(cfg_dir), service, changes):
                    label = label.replace(f" [{service} -o]", "")
                    service = None
                if changes and not service:
                    set_main_cf(Path(cfg_dir), changes)
                if variant and args.results and rng.random() < 0.7:
                    results = mutate_results(rng, Path(cfg_dir))
                    if results:
                        print(f"{label}: tables changed: {'; '.join(results)}")
                with PostfixInstance(cfg_dir) as inst:
                    found, refused = _ask_both(label, txs, cfg_dir, inst)
                if args.edits and refused:
                    found += _check_edits(label, refused, cfg_dir, rng, args.edits)
            total += len(txs)
            differ += found
            print(f"{label}: {len(txs)} transactions, {found} differ", flush=True)
    print(f"seed {seed}: {total} transactions, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
