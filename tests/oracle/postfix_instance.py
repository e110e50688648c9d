"""Ask a REAL Postfix smtpd what it answers: the differential-test oracle.

A `PostfixInstance` turns a configuration directory (main.cf, master.cf and
the map files they name) into a scratch Postfix instance in a temp dir and
runs it on loopback:

- main.cf is copied and the instance's own settings are appended
  (queue/data directories and the mail log in the temp dir, XCLIENT allowed
  from loopback, SASL through a tiny Dovecot-protocol server);
- every `inet` smtpd service of the scenario's master.cf becomes
  `127.0.0.1:PORT inet n - n - - smtpd` with that service's `-o` overrides
  (ports chosen at run time), next to the standard unix services (chroot n)
  and a `postlog unix-dgram` service;
- hash/btree/lmdb/cdb/dbm maps named in main.cf/master.cf are compiled
  with postmap (postalias for those named by alias_maps/alias_database), in place (the engine under test reads the same files);
- `postfix -c DIR start`, and `postfix -c DIR stop` on exit, always.

`inst.query(service, client_address, client_name, helo, sender, recipient,
sasl_login)` runs one SMTP session with XCLIENT and returns the reply of the
first command that fails (or the RCPT reply) as `Answer(code, reply, stage)`.

Conventions of an Answer:
- `reply` is the reply text exactly as smtpd sent it, code included
  (`554 5.7.1 <a@b>: Relay access denied`); the lines of a multi-line reply
  are joined with "\\n".
- `stage` is "connect" (the greeting, or the reply to XCLIENT, which is
  where smtpd_client_restrictions answer with smtpd_delay_reject = no),
  "helo", "mail" or "rcpt".
- An smtpd that refuses to start (e.g. no working relay restriction) dies
  as soon as master hands it the connection; the client then sees no
  greeting at all (the connection waits in the listen queue while master
  throttles the service). The harness notices smtpd's `fatal:` line in the
  mail log and reports `Answer(0, "", "connect", detail=<the fatal text>)`;
  later queries to that service return the same answer without connecting.

Each transaction gets its own SMTP connection (about 10 ms on loopback):
smtpd's error counters, smtpd_error_sleep_time and the junk/hard error
limits are per connection, and a configuration such as the seed's
(smtpd_soft_error_limit = 2, smtpd_error_sleep_time = 10) would otherwise
add sleeps or hang-ups that depend on the order of the transactions. XCLIENT
itself resets the session, and smtpd processes are reused by master, so a
new connection is cheap.

Nothing here writes outside the temp dir; nothing touches /etc/postfix.
"""
from __future__ import annotations

import atexit
import os
import pty
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"
POSTALIAS = shutil.which("postalias") or "/usr/sbin/postalias"
POSTCONF = shutil.which("postconf") or "/usr/sbin/postconf"

# Map types whose source text must be compiled by postmap.
COMPILED_TYPES = ("hash", "btree", "lmdb", "cdb", "dbm")
_MAP_REF = re.compile(r"(?<![\w.-])(" + "|".join(COMPILED_TYPES) + r"):(/[^\s,{}]+)")

STANDARD_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

STOCK_SMTPD = "smtp      inet  n       -       y       -       -       smtpd\n"

# -o overrides that would break the scratch instance; the instance's own
# values win (they change nothing about restriction evaluation).
_FORCED_OVERRIDES = {
    "smtpd_sasl_type": "dovecot",
    "smtpd_sasl_path": "private/auth",
}
_DROPPED_OVERRIDES = {"syslog_name"}  # keep every log line in one recognisable shape

_SMTPD_FATAL = re.compile(r"/smtpd\[\d+\]: fatal: (.*)")
FATAL_GRACE = 1.0   # seconds a connection still waits for its greeting once a fatal: was logged
_SMTPD_SESSION = re.compile(r"/smtpd\[(\d+)\]: (connect from|disconnect from|fatal:|panic:) ")


def _sessions_ended(log: str) -> int:
    """How many smtpd sessions the log shows ended: the "disconnect from"
    lines, and the fatal/panic of an smtpd that died in a session (one
    that dies at startup never logged its "connect from")."""
    open_pids: set[str] = set()
    ended = 0
    for pid, what in _SMTPD_SESSION.findall(log):
        if what == "connect from":
            open_pids.add(pid)
        elif pid in open_pids:
            open_pids.discard(pid)
            ended += 1
    return ended


class HarnessError(RuntimeError):
    """The oracle itself could not ask Postfix (not an answer of Postfix)."""


class PostfixStartError(HarnessError):
    pass


class NoReply(HarnessError):
    """No reply to a command within the instance's timeout."""


NO_REPLY = "no reply"   # Answer.detail of a command Postfix never answered


@dataclass(frozen=True)
class Answer:
    code: int
    reply: str
    stage: str
    detail: str = field(default="", compare=False)  # e.g. smtpd's fatal: text

    def __str__(self) -> str:
        if self.code == 0 and self.detail == NO_REPLY:
            return f"[{self.stage}] (no reply)"
        if self.code == 0:
            return f"[{self.stage}] (no greeting: smtpd did not start: {self.detail})"
        return f"[{self.stage}] {self.reply}"


@dataclass
class SmtpdService:
    """An inet smtpd service of a master.cf: its name and -o overrides."""

    name: str
    overrides: list[tuple[str, str]] = field(default_factory=list)
    line: int = 0


# ---------------------------------------------------------------------------
# master.cf reading (independent of the engine under test on purpose)


def _logical_lines(text: str):
    """Yield (first_line_number, logical_line) the way Postfix joins lines."""
    cur: list[str] = []
    start = 0
    for no, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comments and blank lines may sit between continuations
        if raw[0].isspace() and cur:
            cur.append(stripped)
            continue
        if cur:
            yield start, " ".join(cur)
        cur, start = [stripped], no
    if cur:
        yield start, " ".join(cur)


def _split_args(s: str) -> list[str]:
    """Split on white space, keeping `{ ... }` groups as one token."""
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        if s[i].isspace():
            i += 1
            continue
        if s[i] == "{":
            depth, j = 0, i
            while j < n:
                if s[j] == "{":
                    depth += 1
                elif s[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append(s[i : j + 1])
            i = j + 1
            continue
        j = i
        while j < n and not s[j].isspace():
            j += 1
        out.append(s[i:j])
        i = j
    return out


def _parse_override(tok: str) -> tuple[str, str]:
    tok = tok.strip()
    if tok.startswith("{") and tok.endswith("}"):
        tok = tok[1:-1].strip()
    name, sep, value = tok.partition("=")
    if not sep:
        raise HarnessError(f"bad -o override in master.cf: {tok!r}")
    return name.strip(), value.strip()


def smtpd_services(master_cf_text: str) -> list[SmtpdService]:
    """The inet services whose command is smtpd, last duplicate winning."""
    found: dict[str, SmtpdService] = {}
    for lineno, line in _logical_lines(master_cf_text):
        toks = _split_args(line)
        if len(toks) < 8:
            continue
        name, typ, command = toks[0], toks[1], toks[7]
        if typ != "inet":
            continue
        if os.path.basename(command) != "smtpd":
            found.pop(name, None)
            continue
        svc = SmtpdService(name, line=lineno)
        args = toks[8:]
        i = 0
        while i < len(args):
            a = args[i]
            if a == "-o" and i + 1 < len(args):
                svc.overrides.append(_parse_override(args[i + 1]))
                i += 2
                continue
            if a.startswith("-o") and len(a) > 2:
                svc.overrides.append(_parse_override(a[2:]))
            i += 1
        found.pop(name, None)
        found[name] = svc
    return list(found.values())


def _format_override(name: str, value: str) -> str:
    if value == "" or re.search(r"[\s{}]", value):
        return f"  -o {{ {name} = {value} }}"
    return f"  -o {name}={value}"


# ---------------------------------------------------------------------------
# SMTP helpers


def xtext(value: str) -> str:
    """RFC 3461 xtext: '+', '=' and anything outside 33..126 become +HH."""
    out = []
    for b in value.encode("utf-8"):
        if b < 33 or b > 126 or b in (0x2B, 0x3D):
            out.append(f"+{b:02X}")
        else:
            out.append(chr(b))
    return "".join(out)


def xclient_addr(addr: str) -> str:
    """ADDR= as XCLIENT wants it: IPv6 with the IPV6: prefix. The text is
    otherwise passed on as written (a leading zero, an IPv4-mapped IPv6
    address): smtpd's own normalisation is part of what is tested."""
    addr = addr.strip()
    if addr[:5].lower() == "ipv6:":
        addr = addr[5:]
    if not addr or not all(c in "0123456789abcdefABCDEF.:" for c in addr):
        raise HarnessError(f"client address is not an IP address: {addr!r}")
    return f"IPV6:{addr}" if ":" in addr else addr


def xclient_name(name: str | None) -> str:
    """NAME= / REVERSE_NAME=. A failed lookup is [UNAVAILABLE] (permanent)
    or [TEMPUNAVAIL] (temporary); "unknown", as a mail log prints either,
    is taken as temporary (as the engine takes it). (NAME=unknown itself
    would make smtpd believe in a host called "unknown" whose lookup
    succeeded.)"""
    if name is None or name == "" or name.lower() == "unknown":
        return "[TEMPUNAVAIL]"
    if name.upper() in ("[UNAVAILABLE]", "[TEMPUNAVAIL]"):
        return name.upper()
    return xtext(name)


class _Smtp:
    """A plain-socket SMTP client: one command, one (multi-line) reply."""

    def __init__(self, port: int, timeout: float, source: str = "127.0.0.1"):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0))
        self.buf = b""
        self.transcript: list[str] = []
        self.greeted = False

    def _readline(self, give_up=None) -> bytes:
        """One line; b"" on EOF. give_up() is polled while waiting."""
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buf:
            self.sock.settimeout(0.2)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                if give_up is not None and give_up():
                    raise _GiveUp() from None
                if time.monotonic() > deadline:
                    raise NoReply("timed out waiting for an SMTP reply:\n"
                                  + "\n".join(self.transcript)) from None
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                line, self.buf = self.buf, b""
                return line
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def read_reply(self, give_up=None) -> tuple[int, str] | None:
        lines: list[str] = []
        while True:
            raw = self._readline(give_up)
            if not raw:
                if lines:
                    break
                self.transcript.append("S: (connection closed)")
                return None
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.transcript.append("S: " + line)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        try:
            code = int(lines[0][:3])
        except ValueError:
            raise HarnessError(f"not an SMTP reply: {lines!r}") from None
        return code, "\n".join(lines)

    def command(self, cmd: str) -> tuple[int, str] | None:
        self.transcript.append("C: " + cmd)
        try:
            self.sock.sendall(cmd.encode("utf-8") + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.transcript.append("S: (connection closed)")
            return None
        return self.read_reply()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class _GiveUp(Exception):
    pass


# ---------------------------------------------------------------------------
# A Dovecot auth server, just enough for smtpd's SASL initialisation


class DovecotAuthServer:
    """Answers smtpd's Dovecot auth handshake on a Unix socket.

    smtpd with smtpd_sasl_auth_enable = yes asks the server for its
    mechanisms when a session starts (and dies without an answer). The
    oracle never authenticates with AUTH (it uses XCLIENT LOGIN=), so any
    AUTH request is refused.
    """

    def __init__(self, path: Path):
        self.path = path
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self.path.unlink()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(self.path))
        os.chmod(self.path, 0o666)
        s.listen(16)
        s.settimeout(0.2)
        self._sock = s
        self._thread = threading.Thread(target=self._serve, name="dovecot-auth", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(0.5)
            conn.sendall(
                b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n"
                b"SPID\t%d\nCUID\t1\nCOOKIE\t%s\nDONE\n" % (os.getpid(), b"0" * 32)
            )
            buf = b""
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except socket.timeout:
                    continue
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    f = line.split(b"\t")
                    if f[0] == b"AUTH" and len(f) > 1:
                        conn.sendall(b"FAIL\t" + f[1] + b"\treason=oracle harness\n")
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2)


# ---------------------------------------------------------------------------


_port_lock = threading.Lock()
_port_next: int | None = None


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback TCP port that nothing has bound: for a listener started
    a moment later (a scratch smtpd), or for a port that must stay closed.

    Alone, a test run lets the kernel pick (bind to port 0). Under
    pytest-xdist the workers run side by side, and a port one worker was
    given may be given to another before the first one's Postfix binds it
    (a port to stay closed may even get a listener). So each worker takes
    its ports in turn from a block of its own below the kernel's ephemeral
    range, which bind(0) and outgoing connections use; it starts at a
    random place in its block, and skips a port anything holds.
    """
    global _port_next
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not (worker.startswith("gw") and worker[2:].isdigit() and count.isdigit()):
        # never the same port twice in one process: a stopped instance's
        # smtpd may still hold its listener for a moment, and the next
        # instance's queries would reach it instead
        for _ in range(1000):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            with _port_lock:
                if port not in _handed_out:
                    _handed_out.add(port)
                    return port
        raise HarnessError("no loopback port that was not handed out before")
    high = _ephemeral_low()
    low = max(1024, high - 20000)
    size = (high - low) // max(int(count), 1)
    first = low + int(worker[2:]) % max(int(count), 1) * size
    with _port_lock:
        if _port_next is None:
            _port_next = random.randrange(size)
        for _ in range(size):
            port = first + _port_next
            _port_next = (_port_next + 1) % size
            if _bindable(port):
                return port
    raise HarnessError(f"no free port in {first}-{first + size - 1}")


_handed_out: set[int] = set()   # ports free_port() gave in this process (outside xdist)
_free_port = free_port  # the older name


def _listening(port: int) -> bool:
    try:
        with open("/proc/net/tcp") as fh:
            for line in fh.readlines()[1:]:
                f = line.split()
                if f[1].endswith(":%04X" % port) and f[3] == "0A":
                    return True
    except OSError:
        return True  # cannot tell: trust `postfix start`
    return False


def _run_on_pty(cmd: list[str], timeout: float = 60) -> str:
    """Run cmd with stderr on a pseudo-terminal; return what it wrote there."""
    master, slave = pty.openpty()
    try:
        try:
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=slave, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{cmd[0]}: {exc}"
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO once the writer side is closed
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


_LIVE: set["PostfixInstance"] = set()


@atexit.register
def _stop_all() -> None:  # last line of defence: no stray master processes
    for inst in list(_LIVE):
        inst.stop()


def _main_cf_sets(text: str, name: str, value: str | None = None) -> bool:
    """Does main.cf TEXT set NAME (to VALUE, when given)?"""
    pattern = rf"{re.escape(name)}\s*=" + ("" if value is None else rf"\s*{re.escape(value)}\s*$")
    return any(re.match(pattern, l) for _n, l in _logical_lines(text))


class PostfixInstance:
    """A scratch Postfix instance serving a configuration directory.

    config_dir: the scenario's main.cf + master.cf (+ map files, already
    holding absolute paths). The directory's maps are compiled in place.
    """

    def __init__(self, config_dir, *, timeout: float = 20.0, keep: bool = False,
                 client_source: str = "127.0.0.1", extra_services: str = "",
                 silence_is_an_answer: bool = False):
        self.config_dir = Path(config_dir).resolve()
        self.timeout = timeout
        # master.cf lines added after the standard services (a generator's
        # probes of other daemons)
        self.extra_services = extra_services
        # a command that gets no reply within TIMEOUT is Postfix's answer
        # (an smtpd waiting for a daemon that exits at start-up), not a
        # harness failure: Answer(0, "", stage, detail="no reply")
        self.silence_is_an_answer = silence_is_an_answer
        self.keep = keep
        self.client_source = client_source
        self.root: Path | None = None
        self.etc: Path | None = None
        self.queue: Path | None = None
        self.maillog: Path | None = None
        self.ports: dict[str, int] = {}
        self.services: dict[str, SmtpdService] = {}
        self._auth: DovecotAuthServer | None = None
        self._master_pid: int | None = None
        self._dead: dict[str, Answer] = {}
        self._started = False
        self._sessions = 0  # query() sessions smtpd greeted (each ends in the log)

    # -- life cycle -------------------------------------------------------

    def __enter__(self) -> "PostfixInstance":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._build()
            self._start()
        except BaseException:
            self.stop()
            raise

    def _build(self) -> None:
        main_src = (self.config_dir / "main.cf").read_text()
        try:
            master_src = (self.config_dir / "master.cf").read_text()
        except FileNotFoundError:
            # no master.cf: the smtpd service of the master.cf Postfix installs
            master_src = STOCK_SMTPD
        services = smtpd_services(master_src)
        if not services:
            raise HarnessError(f"{self.config_dir}/master.cf has no inet smtpd service")

        self.root = Path(tempfile.mkdtemp(prefix="pfx-oracle-"))
        os.chmod(self.root, 0o755)
        self.etc = self.root / "etc"
        self.queue = self.root / "queue"
        data = self.root / "data"
        self.maillog = self.root / "maillog"
        for d in (self.etc, self.queue, data):
            d.mkdir()
            os.chmod(d, 0o755)  # whatever the umask
        shutil.chown(data, "postfix")
        # smtpd runs as postfix: it must be able to read the scenario's files
        # (most maps are opened as root, some are not)
        self._make_readable(self.config_dir)

        extra = [
            "",
            "# ---- added by the oracle harness (tests/oracle/postfix_instance.py)",
            f"queue_directory = {self.queue}",
            f"data_directory = {data}",
            f"maillog_file = {self.maillog}",
            f"maillog_file_prefixes = {self.root}",
            "smtpd_authorized_xclient_hosts = 127.0.0.0/8",
        ]
        # A setting the configuration already has is not repeated: every
        # Postfix process would log "overriding earlier entry" as it
        # starts, and with maillog_file that can hang the instance. postlogd
        # logs its own start-up warnings through its own socket before it
        # reads from it; when the other daemons starting with it have
        # filled that socket (the kernel queues 10 datagrams), it waits for
        # itself, and every process that logs waits for it.
        for name, value in (("smtpd_sasl_type", "dovecot"), ("smtpd_sasl_path", "private/auth")):
            if not _main_cf_sets(main_src, name, value):
                extra.append(f"{name} = {value}")
        if not _main_cf_sets(main_src, "inet_interfaces"):
            extra.append("inet_interfaces = 127.0.0.1")
        (self.etc / "main.cf").write_text(main_src.rstrip("\n") + "\n" + "\n".join(extra) + "\n")

        lines = ["# written by the oracle harness from " + str(self.config_dir / "master.cf")]
        for svc in services:
            port = free_port()
            self.ports[svc.name] = port
            self.services[svc.name] = svc
            lines.append(f"# {svc.name} (master.cf line {svc.line})")
            lines.append(f"127.0.0.1:{port} inet n - n - - smtpd")
            for name, value in svc.overrides:
                if name in _DROPPED_OVERRIDES:
                    continue
                lines.append(_format_override(name, _FORCED_OVERRIDES.get(name, value)))
        (self.etc / "master.cf").write_text("\n".join(lines) + "\n" + STANDARD_SERVICES + self.extra_services)

        self._postmap(main_src + "\n" + master_src)

    def _make_readable(self, top: Path) -> None:
        for dirpath, _dirnames, filenames in os.walk(top):
            os.chmod(dirpath, os.stat(dirpath).st_mode | 0o755)
            for f in filenames:
                p = os.path.join(dirpath, f)
                if os.path.isfile(p):
                    os.chmod(p, os.stat(p).st_mode | 0o644)
        # the parents must let the postfix user through; they are not ours
        # to change (a mkdtemp or pytest tmp_path dir is 0700)
        p = top.parent
        while p != p.parent:
            if not os.stat(p).st_mode & 0o001:
                raise HarnessError(
                    f"{p} is not searchable by other users: the postfix user could not "
                    f"read {top}; use a directory such as tempfile.mkdtemp() + chmod 0755")
            p = p.parent

    def _postmap(self, text: str) -> None:
        # tables named by alias_maps / alias_database are in aliases(5)
        # format ("name: value") and are compiled with postalias
        alias_refs = set()
        for _n, line in _logical_lines(text):
            if re.match(r"(alias_maps|alias_database)\s*=", line):
                alias_refs.update(_MAP_REF.findall(line))
        seen = set()
        for typ, path in _MAP_REF.findall(text):
            if (typ, path) in seen:
                continue
            seen.add((typ, path))
            if not os.path.isfile(path):
                continue  # a missing map is part of some scenario
            tool = POSTALIAS if (typ, path) in alias_refs else POSTMAP
            r = subprocess.run([tool, "-c", str(self.etc), f"{typ}:{path}"],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise HarnessError(f"{tool} {typ}:{path} failed: {r.stderr.strip()}")
            for suffix in (".db", ".lmdb", ".cdb", ".dir", ".pag"):
                if os.path.exists(path + suffix):
                    os.chmod(path + suffix, 0o644)

    def _start(self) -> None:
        assert self.etc and self.queue
        # The Dovecot auth socket must exist before the first smtpd with
        # SASL enabled starts; private/ is created by postfix start, so make
        # it now with the ownership Postfix gives it.
        private = self.queue / "private"
        private.mkdir(mode=0o700, exist_ok=True)
        shutil.chown(private, "postfix", "root")
        self._auth = DovecotAuthServer(private / "auth")
        self._auth.start()

        _LIVE.add(self)
        self._started = True
        r = subprocess.run([POSTFIX, "-c", str(self.etc), "start"], capture_output=True,
                           text=True, timeout=120)
        pidfile = self.queue / "pid" / "master.pid"
        if pidfile.exists():
            try:
                self._master_pid = int(pidfile.read_text().split()[0])
            except (ValueError, IndexError):
                pass
        if r.returncode != 0:
            raise PostfixStartError(
                f"postfix start failed ({r.returncode}): {r.stdout}{r.stderr}\n"
                + self._diagnose() + self.log_tail())
        # master binds every listener before `postfix start` returns; check
        # the kernel's table rather than connecting (a probe connection
        # would make master start an smtpd that may die at startup, and
        # master would then throttle that service)
        deadline = time.monotonic() + 20
        for name, port in self.ports.items():
            while not _listening(port):
                if time.monotonic() > deadline:
                    raise PostfixStartError(
                        f"service {name} (port {port}) is not listening:\n" + self.log_tail())
                time.sleep(0.05)

    def _diagnose(self) -> str:
        """What postconf and postfix check say. Postfix commands print their
        fatal errors on stderr only when it is a terminal (and there is no
        mail log while nothing runs), so give them a pseudo-terminal."""
        out = []
        for cmd in ([POSTCONF, "-c", str(self.etc), "-n"], [POSTFIX, "-c", str(self.etc), "check"]):
            text = _run_on_pty(cmd)
            if text.strip():
                out.append(text.strip())
        return "\n".join(out) + "\n" if out else ""

    def stop(self) -> None:
        try:
            if self._started and self.etc is not None:
                self._started = False
                try:
                    subprocess.run([POSTFIX, "-c", str(self.etc), "stop"], capture_output=True,
                                   text=True, timeout=60)
                except (OSError, subprocess.TimeoutExpired):
                    pass
                pid = self._master_pid
                if pid is None and self.queue is not None:
                    try:
                        pid = int((self.queue / "pid" / "master.pid").read_text().split()[0])
                    except (OSError, ValueError, IndexError):
                        pid = None
                if pid is not None:
                    deadline = time.monotonic() + 15
                    while _pid_alive(pid) and time.monotonic() < deadline:
                        time.sleep(0.05)
                    if _pid_alive(pid):
                        try:
                            os.kill(pid, 9)
                        except OSError:
                            pass
            if self._auth is not None:
                self._auth.stop()
                self._auth = None
        finally:
            _LIVE.discard(self)
            if self.root is not None and not self.keep:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None

    @property
    def running(self) -> bool:
        return self._master_pid is not None and _pid_alive(self._master_pid)

    @property
    def master_pid(self) -> int | None:
        return self._master_pid

    # -- logs ---------------------------------------------------------------

    def log_tail(self, lines: int = 40) -> str:
        if self.maillog is None or not self.maillog.exists():
            return "(no mail log)"
        text = self.maillog.read_text(errors="replace").splitlines()
        return "mail log tail:\n" + "\n".join(text[-lines:])

    def log_size(self) -> int:
        """The mail log's size once every session of query() is in it
        (see log_since): an offset taken now is past those sessions' lines."""
        self._wait_sessions_logged()
        return self._log_size()

    def log_since(self, offset: int) -> str:
        """The mail log from OFFSET on, once every session that query() ran
        is in it. postlogd writes the log a moment after smtpd (and
        trivial-rewrite, cleanup, ...) sent their lines, so right after a
        query the lines of its session may still be on their way; each
        session ends with smtpd's "disconnect from" line, which is sent
        after every line the session caused. The wait is bounded."""
        self._wait_sessions_logged()
        return self._log_since(offset)

    def log_text(self) -> str:
        """The whole mail log once every session of query() is in it."""
        return self.log_since(0)

    def wait_for_log(self, *needles: str, since: int = 0, timeout: float = 10.0) -> str:
        """The mail log from offset SINCE once it holds every one of NEEDLES
        (lines of other processes than query()'s smtpd sessions: cleanup,
        qmgr, smtp, ... or of a session driven by hand), or what it holds
        after TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        while True:
            text = self._log_since(since)
            if all(n in text for n in needles) or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    def _log_size(self) -> int:
        try:
            return self.maillog.stat().st_size if self.maillog else 0
        except OSError:
            return 0

    def _log_since(self, offset: int) -> str:
        if self.maillog is None or not self.maillog.exists():
            return ""
        with open(self.maillog, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", "replace")

    def _wait_sessions_logged(self, timeout: float = 10.0) -> None:
        if not self._sessions or not self._started:
            return  # no session to wait for, or nothing running to log it
        deadline = time.monotonic() + timeout
        while _sessions_ended(self._log_since(0)) < self._sessions:
            if time.monotonic() > deadline:
                return  # the caller sees what there is
            time.sleep(0.005)

    # -- queries ------------------------------------------------------------

    def port(self, service: str) -> int:
        try:
            return self.ports[service]
        except KeyError:
            raise HarnessError(f"no inet smtpd service {service!r}; have {sorted(self.ports)}") from None

    def query(self, service: str, client_address: str, client_name: str | None,
              helo: str | None, sender: str, recipient: str | None,
              sasl_login: str | None = None, reverse_client_name: str | None = None) -> Answer:
        """One SMTP session; the answer of the first command that fails (or
        of RCPT TO; of MAIL FROM when RECIPIENT is None: no RCPT TO sent)."""
        port = self.port(service)
        if service in self._dead:
            return self._dead[service]
        log_at = self._log_size()
        smtp = _Smtp(port, self.timeout, self.client_source)
        try:
            return self._session(smtp, service, log_at, client_address, client_name, helo,
                                 sender, recipient, sasl_login, reverse_client_name)
        except NoReply:
            if not self.silence_is_an_answer:
                raise
            if smtp.greeted:
                self._sessions -= 1   # a session left waiting never ends in the log
            # the stage of the command left unanswered (the greeting and
            # XCLIENT, which starts the session again, are the connection's)
            last = next((t[3:] for t in reversed(smtp.transcript) if t.startswith("C: ")), "")
            stage = {"EHLO": "helo", "MAIL": "mail", "RCPT": "rcpt"}.get(last.split(" ", 1)[0], "connect")
            return Answer(0, "", stage, detail=NO_REPLY)
        finally:
            smtp.close()

    def _smtpd_fatal(self, log_at: int) -> str | None:
        m = _SMTPD_FATAL.search(self._log_since(log_at))
        return m.group(1) if m else None

    def _session(self, smtp: _Smtp, service, log_at, client_address, client_name, helo,
                 sender, recipient, sasl_login, reverse_client_name=None) -> Answer:
        # a fatal: line names no service: it may be another service's smtpd
        # (one that a previous query found dead, dying again) while this one
        # is still starting; a live smtpd greets within FATAL_GRACE of it
        fatal_seen: list[float] = []

        def give_up() -> bool:
            if not fatal_seen:
                if self._smtpd_fatal(log_at) is None:
                    return False
                fatal_seen.append(time.monotonic())
            return time.monotonic() - fatal_seen[0] >= FATAL_GRACE

        try:
            greeting = smtp.read_reply(give_up=give_up)
        except _GiveUp:
            greeting = None
        if greeting is None:
            fatal = self._smtpd_fatal(log_at) or "(connection closed without greeting)"
            ans = Answer(0, "", "connect", detail=fatal)
            self._dead[service] = ans
            return ans
        self._sessions += 1
        smtp.greeted = True
        if greeting[0] != 220:
            raise HarnessError(
                f"the oracle's own loopback connection was refused ({greeting[1]}): "
                "XCLIENT cannot be used\n" + "\n".join(smtp.transcript))

        attrs = [f"ADDR={xclient_addr(client_address)}",
                 f"NAME={xclient_name(client_name)}",
                 f"REVERSE_NAME={xclient_name(client_name if reverse_client_name is None else reverse_client_name)}"]
        if sasl_login is not None:
            attrs.append(f"LOGIN={xtext(sasl_login)}")
        r = smtp.command("XCLIENT " + " ".join(attrs))
        if r is None:
            raise HarnessError("connection closed after XCLIENT\n" + "\n".join(smtp.transcript)
                               + "\n" + self._log_since(log_at))
        code, text = r
        if code != 220:
            # XCLIENT's own refusals (smtpd.c xclient_cmd), footer and
            # soft_bounce included; anything else is smtpd_client_restrictions
            first = text.split("\n", 1)[0]
            if re.match(r"[45](01|03|50)[ -][45]\.(5\.[14]|7\.0) (Error: |Bad |Syntax: )", first):
                hint = ""
                if "Bad ADDR syntax: IPV6:" in text:
                    hint = " (an IPv6 client needs inet_protocols = all or ipv6 in main.cf)"
                raise HarnessError(f"XCLIENT refused: {text}{hint}\n" + "\n".join(smtp.transcript))
            # smtpd_client_restrictions with smtpd_delay_reject = no
            self._quit(smtp)
            return Answer(code, text, "connect")

        steps = []
        if helo is not None:
            steps.append(("helo", f"EHLO {helo}"))
        steps.append(("mail", f"MAIL FROM:<{sender}>"))
        if recipient is not None:   # None: no RCPT TO, the answer to MAIL FROM is the answer
            steps.append(("rcpt", f"RCPT TO:<{recipient}>"))
        for stage, cmd in steps:
            r = smtp.command(cmd)
            if r is None:
                raise HarnessError(f"connection closed after {cmd}\n" + "\n".join(smtp.transcript)
                                   + "\n" + self._log_since(log_at))
            code, text = r
            if code // 100 != 2 or stage == steps[-1][0]:
                self._quit(smtp)
                return Answer(code, text, stage)
        raise AssertionError("unreachable")

    @staticmethod
    def _quit(smtp: _Smtp) -> None:
        try:
            smtp.command("QUIT")
        except (HarnessError, OSError):
            pass
