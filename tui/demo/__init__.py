"""The bundled demo configuration: the case the project was born from.

A Debian mail server (postfix, dovecot, amavis, mailman, postfixadmin) whose
Mailman gets `554 5.7.1 <...>: Relay access denied` for outside recipients,
rebuilt with example domains. PostfixAdmin's MySQL database is replaced by
an SQLite file built at load time, read through `sqlite:` tables with
PostfixAdmin's queries, so the demo needs neither a database server nor
postmap (plain maps are `texthash:`).

`demo_config_dir()` unpacks everything into a fresh temporary directory and
returns it; nothing is written anywhere else. The directory is removed when
the process exits.

This module is pure Python (no textual, no rich), usable from the CLI, the
app and the tests.
"""
from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from importlib import resources
from pathlib import Path

PLACEHOLDER = "@DEMO_DIR@"
DB_NAME = "postfixadmin.sqlite"

# The seed case: Mailman on the same host sends a list message to an outside
# address over port 25 (service smtp).
SEED_CASE = {
    "service": "smtp",
    "client_address": "127.0.0.1",
    "client_name": "localhost",
    "helo": "mail.example.org",
    "sender": "users-bounces@lists.example.org",
    "recipient": "friend@example.com",
    "sasl_login": None,
}

# What the server's mail log said, in the demo's names.
SEED_LOG_LINE = (
    "May 11 09:06:42 mail postfix/smtpd[8390]: NOQUEUE: reject: RCPT from "
    "localhost[127.0.0.1]: 554 5.7.1 <friend@example.com>: Relay access denied; "
    "from=<users-bounces@lists.example.org> to=<friend@example.com> "
    "proto=ESMTP helo=<mail.example.org>"
)

_created: list[Path] = []


def _package_files():
    return resources.files(__name__)


def template_names() -> list[str]:
    """Names of the files copied into a demo directory (besides the db)."""
    return sorted(p.name for p in _package_files().joinpath("templates").iterdir()
                  if p.is_file() and not p.name.startswith("."))


def build_database(path: Path) -> None:
    """Create the PostfixAdmin-shaped SQLite database at PATH."""
    pkg = _package_files()
    schema = pkg.joinpath("postfixadmin_schema.sql").read_text(encoding="utf-8")
    data = pkg.joinpath("postfixadmin_data.sql").read_text(encoding="utf-8")
    con = sqlite3.connect(str(path))
    try:
        con.executescript(schema)
        con.executescript(data)
        con.commit()
    finally:
        con.close()


def materialise(target: Path) -> Path:
    """Write the demo configuration into the existing, empty directory TARGET."""
    target = Path(target).resolve()
    templates = _package_files().joinpath("templates")
    for name in template_names():
        text = templates.joinpath(name).read_text(encoding="utf-8")
        out = target / name
        out.write_text(text.replace(PLACEHOLDER, str(target)), encoding="utf-8")
        # No secrets in the demo, but keep .cf files private the way a careful
        # admin would (PostfixAdmin's .cf files normally hold a password).
        out.chmod(0o640 if name.endswith(".cf") and name.startswith("sqlite_") else 0o644)
    build_database(target / DB_NAME)
    return target


def _cleanup() -> None:
    for path in _created:
        shutil.rmtree(path, ignore_errors=True)


def demo_config_dir() -> Path:
    """Unpack the demo into a fresh temporary directory and return its path."""
    path = Path(tempfile.mkdtemp(prefix="postfix-explorer-demo-"))
    if not _created:
        atexit.register(_cleanup)
    _created.append(path)
    return materialise(path)
