"""An smtpd that exited at start-up, in the mail log a real Postfix wrote.

When smtpd exits before it greets anyone, the log holds no refusal at all:
only `postfix/NAME/smtpd[pid]: fatal: ...` (and master throttling the
service). The triage reports each such fatal as a group of its service and
checks it against today's configuration with the engine's start-up checks:
the same fatal today, smtpd starting today (the configuration changed: exit
status 1), or, for a fatal the checks cannot tie to one parameter, that it
cannot tell.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.oracle.conftest import SCRATCH_MAIN_CF, scratch_instance
from tests.oracle.postfix_instance import HarnessError
from tui.core.analysis.content_checks import DIFFERS, SAME, UNDECIDABLE
from tui.core.analysis.triage import triage
from tui.core.config import load_config

pytestmark = pytest.mark.oracle

MAIN_CF = SCRATCH_MAIN_CF + "local_recipient_maps =\n"
# service -> (syslog_name, the override that makes its smtpd exit)
BAD = {
    "127.0.0.1:2801": ("postfix/bad1", "smtpd_delay_reject=true"),
    "127.0.0.1:2802": ("postfix/bad2", "{ smtpd_reject_footer_maps = static:Footer from a table }"),
    "127.0.0.1:2803": ("postfix/bad3", "unknown_address_tempfail_action=Bogus"),
    "127.0.0.1:2804": ("postfix/bad4", "notify_classes=bounced"),
    "127.0.0.1:2805": ("postfix/bad5", "relayhost=$myhostname"),
    "127.0.0.1:2806": ("postfix/bad6", "{ myorigin = a.example b.example }"),
}
# exits later, as it opens the queue file for an accepted RCPT TO
LATER = {"127.0.0.1:2807": ("postfix/bad7", "smtputf8_autodetect_classes=pfxbad")}


def _master(with_overrides: bool) -> str:
    return "smtp      inet  n       -       n       -       -       smtpd\n" + "".join(
        f"{svc} inet n - n - - smtpd\n  -o syslog_name={name}\n" + (f"  -o {bad}\n" if with_overrides else "")
        for svc, (name, bad) in {**BAD, **LATER}.items())


TX = dict(client_address="198.51.100.20", client_name="mail.example.net", helo="mail.example.net",
          sender="a@example.net", recipient="postmaster@example.com")


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """(config dir, the log the real Postfix wrote) after one connection to each service."""
    with scratch_instance("pfx-triage-startup-", MAIN_CF, _master(True)) as (cfg, inst):
        for svc in BAD:
            assert inst.query(svc, **TX).code == 0   # no greeting: that smtpd exited
        for svc in LATER:
            with pytest.raises(HarnessError, match="connection closed after RCPT TO"):
                inst.query(svc, **TX)
        assert inst.query("smtp", **TX).code == 250
        keep = tmp_path_factory.mktemp("triage-startup")
        (keep / "maillog").write_text(inst.log_text())
        shutil.copytree(cfg, keep / "etc")
        yield keep / "etc", keep / "maillog"


FATALS = {   # what each service's smtpd logged (as postfix/smtpd: before it takes its syslog_name)
    "127.0.0.1:2801": "bad boolean configuration: smtpd_delay_reject = true",
    "127.0.0.1:2802": 'open dictionary: expecting "type:name" form instead of "from"',
    "127.0.0.1:2803": "bad configuration: unknown_address_tempfail_action = Bogus",
    "127.0.0.1:2804": 'unknown notify_classes value "bounced" in "bounced"',
    "127.0.0.1:2805": "myhostname and relayhost parameter settings must not be identical: mx.example.com",
    "127.0.0.1:2806": "myorigin parameter setting must not contain multiple values: a.example b.example",
    "127.0.0.1:2807": 'unknown smtputf8_autodetect_classes value "pfxbad" in "pfxbad"',
}


def _groups(cfg_dir: Path, log: Path) -> dict[str, object]:
    res = triage(load_config(str(cfg_dir)), [str(log)])
    assert res.unparsed.count == 0, res.unparsed.examples
    return {g.reply: g for g in res.groups if g.kind == "fatal"}


def test_each_exit_is_a_group_and_today_it_exits_the_same_way(logged):
    cfg, log = logged
    groups = _groups(cfg, log)
    assert sorted(groups) == sorted(FATALS.values()), groups
    for svc, text in FATALS.items():
        g = groups[text]
        # the service that exits that way today names the group
        assert g.today == SAME and g.service == svc and g.stage == "startup" and g.count == 1, g
        assert g.verdict == "today's configuration makes smtpd exit the same way"


def test_after_the_overrides_are_gone_smtpd_starts(logged, tmp_path):
    cfg, log = logged
    fixed = tmp_path / "etc"
    shutil.copytree(cfg, fixed)
    (fixed / "master.cf").write_text(_master(False))
    groups = _groups(fixed, log)
    for svc in ("127.0.0.1:2801", "127.0.0.1:2803", "127.0.0.1:2804", "127.0.0.1:2805", "127.0.0.1:2806",
                "127.0.0.1:2807"):
        g = groups[FATALS[svc]]
        assert g.today == DIFFERS and g.verdict == "today smtpd starts instead" and g.service == "postfix/smtpd", g
    # "open dictionary: expecting type:name" names no parameter: which map it was is not known
    assert groups[FATALS["127.0.0.1:2802"]].today == UNDECIDABLE
    assert triage(load_config(str(fixed)), [str(log)]).differs
