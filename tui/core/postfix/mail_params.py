"""What every Postfix daemon checks of main.cf before anything else
(global/mail_params.c mail_params_init()), smtpd included: a daemon that
fails one of these logs the fatal line and exits as it starts.

- syslog_facility must be one syslog knows;
- myhostname and mydomain must be valid host names;
- myorigin naming a file (Debian's `myorigin = /etc/mailname`) is that
  file's first line, trimmed; the file must open (safe_open()) and that
  line must not be empty;
- default_privs and mail_owner must be users, setgid_group a group, none
  of them privileged (ID 0), and the three must not share a user or group
  ID (mail_owner's and setgid_group's IDs must also be their own names');
- each inet_interfaces address must be one of this host's, of a family
  inet_protocols turns on (a host name there is not looked up: no verdict);
- relayhost must not be myhostname (case-insensitively);
- myorigin must be one word;
- default_verp_delimiters must be two characters of verp_delimiter_filter.

The users and groups are this host's (pwd, grp): the explorer runs on the
mail server whose configuration it reads.
"""
from __future__ import annotations

import grp
import os
import pwd
import stat
from typing import Callable, NamedTuple

from tui.core.config.defaults import own_inet_addr_fatal
from tui.core.config.params import View, param
from tui.core.postfix.valid_hostname import valid_hostname

# what myorigin's file may not hold after its first word (mail_params.c's
# CHARS_COMMA_SP)
_COMMA_SP = ", \t\r\n"
# texts mail_params_init() reads with a minimum length of 1 before these checks
_NOT_EMPTY = ("syslog_facility", "myhostname", "mydomain", "myorigin", "default_privs", "mail_owner",
              "setgid_group", "verp_delimiter_filter")
# the facilities msg_syslog_set_facility() knows on Linux (case-sensitive;
# glibc has no LOG_SECURITY)
SYSLOG_FACILITIES = frozenset({"auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news",
                               "syslog", "user", "uucp"} | {f"local{i}" for i in range(8)})
# the checks mail_params_init() makes before it converts its yes/no, number
# and time parameters (the others come after)
BEFORE_TYPED = frozenset({"syslog_facility", "myhostname", "mydomain"})
# ISSPACE(), what read_param_from_file() trims
_SPACE = " \t\n\r\f\v"


class Account(NamedTuple):
    name: str
    uid: int
    gid: int


class Accounts:
    """The host's users and groups, as getpwnam()/getpwuid()/getgrnam()/
    getgrgid() answer (None: no such entry). Tests give their own."""

    def user(self, name: str) -> Account | None:
        try:
            p = pwd.getpwnam(name)
        except (KeyError, ValueError):   # ValueError: a NUL in the name
            return None
        return Account(p.pw_name, p.pw_uid, p.pw_gid)

    def user_by_id(self, uid: int) -> str | None:
        try:
            return pwd.getpwuid(uid).pw_name
        except (KeyError, OverflowError):
            return None

    def group(self, name: str) -> int | None:
        try:
            return grp.getgrnam(name).gr_gid
        except (KeyError, ValueError):
            return None

    def group_by_id(self, gid: int) -> str | None:
        try:
            return grp.getgrgid(gid).gr_name
        except (KeyError, OverflowError):
            return None


HOST = Accounts()
# the parameters whose check asks this host (its user and group databases,
# its network interfaces)
_HOST_CHECKED = frozenset({"default_privs", "mail_owner", "setgid_group", "inet_interfaces"})


def host_decided(name: str, value: Callable[[str], str]) -> bool:
    """Did this host -- its users, groups, interfaces, or the file myorigin
    names -- decide the check of parameter NAME? (A configuration copied to
    another machine may get another answer there.)"""
    return name in _HOST_CHECKED or (name == "myorigin" and value("myorigin").startswith("/"))


def read_param_from_file(path: str) -> tuple[str | None, str]:
    """mail_params.c read_param_from_file(): (the first line of PATH with
    blanks trimmed at both ends, ""), or (None, why it could not be read,
    in safe_open()'s words), or (None, "") for a file that is not read
    here (not a regular file: the daemon would wait on it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, f"cannot open file: {exc.strerror or exc}"
    try:
        st = os.fstat(fd)
        if st.st_nlink != 1:
            return None, f"file has {st.st_nlink} hard links"
        if stat.S_ISDIR(st.st_mode):
            return None, "file is a directory"
        try:
            lst = os.lstat(path)
        except OSError as exc:
            return None, f"file status changed unexpectedly: {exc.strerror or exc}"
        if stat.S_ISLNK(lst.st_mode):
            parent = os.path.dirname(path) or "."
            try:
                pst = os.stat(parent)
                parent_ok = pst.st_uid == 0 and not pst.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            except OSError:
                parent_ok = False
            if not (lst.st_uid == 0 and parent_ok):
                return None, "file is a symbolic link"
        elif (st.st_dev, st.st_ino) != (lst.st_dev, lst.st_ino):
            return None, "file status changed unexpectedly"
        if not stat.S_ISREG(st.st_mode):
            return None, ""   # a FIFO or a device: Postfix would wait on it; the explorer does not
        data = b""
        while b"\n" not in data and len(data) < 65536:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        return None, f"read error: {exc.strerror or exc}"
    finally:
        os.close(fd)
    line = data.split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
    return line.strip(_SPACE), ""


def myorigin_value(raw: str) -> tuple[str | None, str]:
    """$myorigin as the daemons use it: a value that begins with "/" is
    read from that file (Debian's MYORIGIN_FROM_FILE); (None, the fatal
    message) when that fails, (None, "") when the file is not read here."""
    if not raw.startswith("/"):
        return raw, ""
    got, why = read_param_from_file(raw)
    if got is None:
        return None, f"fatal: {raw}: {why}" if why else ""
    if not got:
        return None, f"fatal: myorigin file {raw} is empty"
    return got, ""


def read_myorigin(view: View) -> str:
    """$myorigin, lower-cased, as the daemons use it (myorigin_value()),
    $myhostname when it cannot be read (they exit then: mail_params_fatal())."""
    v, _fatal = myorigin_value(param(view, "myorigin").strip())
    return (v if v else param(view, "myhostname")).lower()


def mail_params_fatal(value: Callable[[str], str], main_cf: str,
                      accounts: Accounts = HOST) -> tuple[tuple[str, ...], str] | None:
    """(the parameters it names, the fatal message) of the first check of
    mail_params_init() that VALUE(name) (expanded values) fails, in its
    order; None when every one passes. MAIN_CF: the path the message names
    (Postfix names main.cf even for a master.cf override)."""
    where = f"fatal: file {main_cf}: "
    if not all(value(n) for n in _NOT_EMPTY):
        return None   # the daemon's text length checks come first and say so (mail_conf.first_startup_error)
    facility = value("syslog_facility")
    if facility not in SYSLOG_FACILITIES:
        return ("syslog_facility",), f"{where}parameter syslog_facility: unrecognized value: {facility}"
    for name in ("myhostname", "mydomain"):
        v = value(name)
        if not valid_hostname(v):
            return (name,), f"{where}parameter {name}: bad parameter value: {v}"
    origin, fatal = myorigin_value(value("myorigin"))
    if fatal:
        return ("myorigin",), fatal
    dp, owner = value("default_privs"), value("mail_owner")
    users: list[Account] = []
    for name, v in (("default_privs", dp), ("mail_owner", owner)):
        acct = accounts.user(v)
        if acct is None:
            return (name,), f"{where}parameter {name}: unknown user name value: {v}"
        if acct.uid == 0:
            return (name,), f"{where}parameter {name}: user {v} has privileged user ID"
        if acct.gid == 0:
            return (name,), f"{where}parameter {name}: user {v} has privileged group ID"
        users.append(acct)
    privs, own = users
    other = accounts.user_by_id(own.uid)
    if other is not None and other != owner:
        return ("mail_owner",), f"{where}parameter mail_owner: user {owner} has same user ID as {other}"
    group = value("setgid_group")
    sgid = accounts.group(group)
    if sgid is None:
        return ("setgid_group",), f"{where}parameter setgid_group: unknown group name: {group}"
    if sgid == 0:
        return ("setgid_group",), f"{where}parameter setgid_group: group {group} has privileged group ID"
    other = accounts.group_by_id(sgid)
    if other is not None and other != group:
        return ("setgid_group",), f"{where}parameter setgid_group: group {group} has same group ID as {other}"
    if dp == owner:
        return ("default_privs", "mail_owner"), \
            f"{where}parameters default_privs and mail_owner specify the same user {dp}"
    if privs.uid == own.uid:
        return ("default_privs", "mail_owner"), (
            f"{where}parameters default_privs and mail_owner: users {dp} and {owner} have the same user ID: "
            f"{own.uid}")
    if privs.gid == own.gid:
        return ("default_privs", "mail_owner"), (
            f"{where}parameters default_privs and mail_owner: users {dp} and {owner} have the same group ID: "
            f"{own.gid}")
    for user, acct in (("default_privs", privs), ("mail_owner", own)):
        if acct.gid == sgid:
            return (user, "setgid_group"), (
                f"{where}parameters {user} and setgid_group: user {acct.name} and group {group} have the "
                f"same group ID: {sgid}")
    bad = own_inet_addr_fatal(value("inet_interfaces"), value("inet_protocols"))
    if bad is not None:
        return ("inet_interfaces",), bad
    host = value("myhostname")
    if host.casefold() == value("relayhost").casefold():
        return ("myhostname", "relayhost"), \
            f"fatal: myhostname and relayhost parameter settings must not be identical: {host}"
    if origin is not None and any(c in origin for c in _COMMA_SP):
        return ("myorigin",), f"fatal: myorigin parameter setting must not contain multiple values: {origin}"
    why = verp_delims_verify(value("default_verp_delimiters"), value("verp_delimiter_filter"))
    if why:
        return ("default_verp_delimiters", "verp_delimiter_filter"), \
            f"{where}parameters default_verp_delimiters and verp_delimiter_filter: {why}"
    return None


def verp_delims_verify(delims: str, allowed: str) -> str:
    """global/verp_sender.c verp_delims_verify(): "" or what is wrong
    (in bytes, as C counts them)."""
    d = delims.encode("utf-8", "surrogateescape")
    ok = allowed.encode("utf-8", "surrogateescape")
    if len(d) != 2:
        return "bad VERP delimiter character count"
    if d[0] not in ok:
        return "bad first VERP delimiter character"
    if d[1] not in ok:
        return "bad second VERP delimiter character"
    return ""
