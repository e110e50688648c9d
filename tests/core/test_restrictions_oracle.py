"""More differential checks of the evaluator against a real smtpd.

Two small configurations (written to a temp dir by the test) exercise what
the shared scenario corpus touches least: IPv6 client keys, mynetworks host
names, relay_domains subdomains, sender-specified routing (% and a second @),
[ip] literals, restriction classes named in access tables, all-digit and
4xx/5xx table results, the null sender key, bad address syntax, unknown
restriction names, permit_dnswl_client / reject_rbl_client / permit_mx_backup
without DNS, defer_if_permit / defer_if_reject scoping, DISCARD / FILTER /
HOLD, smtpd_delay_reject = no, warn_if_reject, and -o overrides that smtpd
sees but trivial-rewrite does not; the deprecated names 3.7 still accepts. Every expected answer is
asked of the real smtpd at test time; none is written down here.
"""
from __future__ import annotations

import pytest

from tests.conftest import need_postfix

pytestmark = pytest.mark.oracle

CONFIGS = {'deprecated_names': {'main.cf': 'compatibility_level = 3.6\n'
                                 'myhostname = mail.example.com\n'
                                 'mydomain = example.com\n'
                                 'mydestination = $myhostname, localhost, example.com\n'
                                 'inet_interfaces = 127.0.0.1\n'
                                 'mynetworks = 127.0.0.0/8\n'
                                 'local_recipient_maps =\n'
                                 'relay_domains = relay.example\n'
                                 'smtpd_relay_restrictions =\n'
                                 'smtpd_recipient_restrictions = check_relay_domains\n'
                                 'maps_rbl_domains = bl.example\n',
                      'master.cf': 'smtp inet n - n - - smtpd\n'
                                   '127.0.0.1:4301 inet n - n - - smtpd\n'
                                   '  -o smtpd_helo_restrictions=permit_naked_ip_address,reject\n'
                                   '127.0.0.1:4302 inet n - n - - smtpd\n'
                                   '  -o '
                                   'smtpd_client_restrictions=reject_maps_rbl,reject_unknown_client,permit\n'
                                   '127.0.0.1:4303 inet n - n - - smtpd\n'
                                   '  -o '
                                   'smtpd_recipient_restrictions=check_recipient_maps,reject_unauth_destination\n'
                                   '  -o local_recipient_maps=inline:{known@example.com=x}\n'
                                   '127.0.0.1:4304 inet n - n - - smtpd\n'
                                   '  -o smtpd_sender_restrictions=reject_unknown_address\n'
                                   '  -o smtpd_recipient_restrictions=reject_unauth_destination\n',
                      'transactions.tsv': 'service\tclient_address\tclient_name\thelo\tsender\t'
                                          'recipient\tsasl_login\tnote\n'
                                          'smtp\t192.0.2.1\tunknown\th.example.net\ta@example.net\t'
                                          'x@outside.example\t-\tcheck_relay_domains deny\n'
                                          'smtp\t192.0.2.1\tunknown\th.example.net\ta@example.net\t'
                                          'x@relay.example\t-\tcheck_relay_domains ok\n'
                                          'smtp\t192.0.2.1\thost.relay.example\th.example.net\t'
                                          'a@example.net\tx@outside.example\t-\tclient in '
                                          'relay_domains\n'
                                          '127.0.0.1:4301\t192.0.2.1\tunknown\t192.0.2.1\t'
                                          'a@example.net\tx@example.com\t-\tnaked ip helo\n'
                                          '127.0.0.1:4301\t192.0.2.1\tunknown\th.example.net\t'
                                          'a@example.net\tx@example.com\t-\tnaked ip not\n'
                                          '127.0.0.1:4301\t192.0.2.1\tunknown\t999.1.1.1\t'
                                          'a@example.net\tx@example.com\t-\tnaked bad ip\n'
                                          '127.0.0.1:4302\t192.0.2.1\tunknown\th.example.net\t'
                                          'a@example.net\tx@example.com\t-\tmaps rbl + unknown '
                                          'client\n'
                                          '127.0.0.1:4303\t192.0.2.1\tunknown\th.example.net\t'
                                          'a@example.net\tother@example.com\t-\t'
                                          'check_recipient_maps\n'
                                          '127.0.0.1:4303\t192.0.2.1\tunknown\th.example.net\t'
                                          'a@example.net\tknown@example.com\t-\t'
                                          'check_recipient_maps ok\n'
                                          '127.0.0.1:4304\t192.0.2.1\tunknown\th.example.net\t'
                                          'a@nodns.example\tknown@example.com\t-\t'
                                          'reject_unknown_address\n'},
 'flags_and_stages': {'clients': '192.0.2.66 DEFER_IF_PERMIT client is odd\n'
                                 '192.0.2.67 FILTER smtp:[127.0.0.1]:10025\n'
                                 '192.0.2.68 DISCARD\n'
                                 '192.0.2.69 DEFER_IF_REJECT maybe later\n'
                                 '192.0.2.70 HOLD\n',
                      'main.cf': 'compatibility_level = 3.6\n'
                                 'myhostname = mail.example.com\n'
                                 'mydomain = example.com\n'
                                 'mydestination = $myhostname, localhost, example.com\n'
                                 'inet_interfaces = 127.0.0.1\n'
                                 'mynetworks = 127.0.0.0/8\n'
                                 'local_recipient_maps =\n'
                                 'smtpd_relay_restrictions = permit_mynetworks, '
                                 'reject_unauth_destination\n'
                                 'smtpd_client_restrictions = check_client_access '
                                 'hash:__DIR__/clients\n'
                                 'smtpd_recipient_restrictions = defer_if_reject, '
                                 'check_recipient_access hash:__DIR__/rcpts\n'
                                 'smtpd_sender_restrictions = check_sender_access '
                                 'hash:__DIR__/senders\n',
                      'master.cf': 'smtp inet n - n - - smtpd\n'
                                   '127.0.0.1:4101 inet n - n - - smtpd\n'
                                   '  -o smtpd_delay_reject=no\n'
                                   '127.0.0.1:4102 inet n - n - - smtpd\n'
                                   '  -o '
                                   'smtpd_recipient_restrictions=warn_if_reject,reject_unlisted_recipient,check_recipient_access,hash:__DIR__/rcpts\n'
                                   '  -o local_recipient_maps=hash:__DIR__/rcpts\n',
                      'rcpts': 'no@example.com REJECT not you\nlater@example.com 550 gone\n',
                      'senders': 'x@example.net DEFER_IF_PERMIT sender odd\n-x@example.net OK\n',
                      'transactions.tsv': 'service\tclient_address\tclient_name\thelo\tsender\t'
                                          'recipient\tsasl_login\tnote\n'
                                          'smtp\t127.0.0.1\tlocalhost\th.example.net\t'
                                          'a@example.net\tno@example.com\t-\tdefer_if_reject then '
                                          'reject\n'
                                          'smtp\t127.0.0.1\tlocalhost\th.example.net\t'
                                          'a@example.net\tok@example.com\t-\tfine\n'
                                          'smtp\t192.0.2.66\tunknown\th.example.net\t'
                                          'a@example.net\tok@example.com\t-\tdip client\n'
                                          'smtp\t192.0.2.66\tunknown\th.example.net\t'
                                          'a@example.net\tno@example.com\t-\tdip client but '
                                          'reject\n'
                                          'smtp\t192.0.2.69\tunknown\th.example.net\t'
                                          'a@example.net\tx@outside.example\t-\tdir client relay\n'
                                          'smtp\t192.0.2.68\tunknown\th.example.net\t'
                                          'a@example.net\tx@outside.example\t-\tdiscard client\n'
                                          'smtp\t192.0.2.67\tunknown\th.example.net\t'
                                          'a@example.net\tx@outside.example\t-\tfilter client\n'
                                          'smtp\t127.0.0.1\tlocalhost\th.example.net\t'
                                          'x@example.net\tok@example.com\t-\tdip sender\n'
                                          'smtp\t127.0.0.1\tlocalhost\th.example.net\t'
                                          '-x@example.net\tok@example.com\t-\tdash sender\n'
                                          'smtp\t127.0.0.1\tlocalhost\th.example.net\t'
                                          'a@example.net\t-x@example.com\t-\tdash rcpt\n'
                                          '127.0.0.1:4101\t192.0.2.66\tunknown\th.example.net\t'
                                          'a@example.net\tok@example.com\t-\tdip nodelay\n'
                                          '127.0.0.1:4101\t192.0.2.68\tunknown\th.example.net\t'
                                          'a@example.net\tok@example.com\t-\tdiscard nodelay\n'
                                          '127.0.0.1:4101\t192.0.2.69\tunknown\th.example.net\t'
                                          'a@example.net\tx@outside.example\t-\tdir nodelay\n'
                                          '127.0.0.1:4101\t127.0.0.1\tlocalhost\th.example.net\t'
                                          'x@example.net\tok@example.com\t-\tdip sender nodelay\n'
                                          '127.0.0.1:4102\t127.0.0.1\tlocalhost\th.example.net\t'
                                          'a@example.net\tzz@example.com\t-\twarn unlisted\n'
                                          '127.0.0.1:4102\t127.0.0.1\tlocalhost\th.example.net\t'
                                          'a@example.net\tno@example.com\t-\twarn then real\n'},
 'routing_and_tables': {'clients': 'allow.example OK\n2001:db8:2 REJECT v6 net\n10.9.8.7 450\n',
                        'localusers': 'alice x\nbob x\n',
                        'main.cf': 'compatibility_level = 3.6\n'
                                   'myhostname = mail.example.com\n'
                                   'mydomain = example.com\n'
                                   'myorigin = $mydomain\n'
                                   'mydestination = $myhostname, localhost, example.com\n'
                                   'inet_interfaces = 127.0.0.1\n'
                                   'mynetworks = 127.0.0.0/8, [2001:db8:1::]/48, trusted.example\n'
                                   'relay_domains = relay.example, hash:__DIR__/relaydoms\n'
                                   'virtual_alias_domains = alias.example\n'
                                   'virtual_alias_maps = hash:__DIR__/valias\n'
                                   'local_recipient_maps = hash:__DIR__/localusers\n'
                                   'smtpd_restriction_classes = cls_a\n'
                                   'cls_a = check_sender_access hash:__DIR__/senders, permit\n'
                                   'smtpd_recipient_restrictions = check_client_access '
                                   'hash:__DIR__/clients, check_reverse_client_hostname_access '
                                   'hash:__DIR__/rev, check_recipient_access hash:__DIR__/rcpts, '
                                   'permit_mynetworks, reject_unauth_destination\n'
                                   'smtpd_sender_restrictions = check_sender_access '
                                   'hash:__DIR__/senders\n'
                                   'smtpd_relay_restrictions =\n',
                        'master.cf': 'smtp inet n - n - - smtpd\n'
                                     '127.0.0.1:4002 inet n - n - - smtpd\n'
                                     '  -o '
                                     'smtpd_recipient_restrictions=permit_dnswl_client,list.dnswl.example,reject_rbl_client,zen.example,permit_mynetworks,reject_unauth_destination\n'
                                     '127.0.0.1:4003 inet n - n - - smtpd\n'
                                     '  -o '
                                     'smtpd_recipient_restrictions=no_such_restriction,permit_mynetworks,reject_unauth_destination\n'
                                     '127.0.0.1:4005 inet n - n - - smtpd\n'
                                     '  -o '
                                     'smtpd_recipient_restrictions=permit_mx_backup,reject_unauth_destination\n',
                        'rcpts': 'classy@example.net cls_a\n'
                                 'dig@example.com 4321\n'
                                 'null@example.com 550 5.1.1 gone\n',
                        'relaydoms': 'relay2.example OK\n',
                        'rev': 'rev.example OK\n',
                        'senders': '<> REJECT no bounces here\nbad@example.net REJECT\n',
                        'transactions.tsv': 'service\tclient_address\tclient_name\thelo\tsender\t'
                                            'recipient\tsasl_login\tnote\n'
                                            'smtp\t2001:db8:2::5\tunknown\th.example.net\t'
                                            'a@example.net\talice@example.com\t-\tipv6 client '
                                            'prefix key\n'
                                            'smtp\t2001:db8:1::5\tunknown\th.example.net\t'
                                            'a@example.net\tx@outside.example\t-\tipv6 mynetworks\n'
                                            'smtp\t192.0.2.1\thost.trusted.example\th.example.net\t'
                                            'a@example.net\tx@outside.example\t-\tmynetworks '
                                            'hostname parent\n'
                                            'smtp\t192.0.2.1\ttrusted.example\th.example.net\t'
                                            'a@example.net\tx@outside.example\t-\tmynetworks '
                                            'hostname exact\n'
                                            'smtp\t10.9.8.7\tunknown\th.example.net\t'
                                            'a@example.net\tx@outside.example\t-\tall-digit 450 is '
                                            'OK\n'
                                            'smtp\t192.0.2.1\tx.rev.example\th.example.net\t'
                                            'a@example.net\tx@outside.example\t-\treverse OK '
                                            'forbidden\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\tx@sub.relay.example\t-\trelay '
                                            'subdomain\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\tx@sub.relay2.example\t-\trelay table '
                                            'subdomain\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\tx%outside.example@relay.example\t-\t'
                                            'percent routed\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\tx@outside.example@relay.example\t-\t'
                                            'double at\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\tx%outside.example@example.com\t-\t'
                                            'percent local\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\tx@[127.0.0.1]\t-\tip literal local\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\talice@[127.0.0.1]\t-\tip literal local '
                                            'known\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\tnobody@alias.example\t-\talias '
                                            'unknown\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'a@example.net\tinfo@alias.example\t-\talias known\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tclassy@example.net\t-\tclass nested\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'bad@example.net\tclassy@example.net\t-\tclass nested '
                                            'reject\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tdig@example.com\t-\tdigits ok\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tnull@example.com\t-\t550 with dsn\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t<>\t'
                                            'alice@example.com\t-\tnull sender key\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tAlice@Example.COM\t-\tcase\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\talice+foo@example.com\t-\text no '
                                            'delimiter\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tpostmaster\t-\tpostmaster bare\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tpostmaster@example.com\t-\tpostmaster '
                                            'local\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tx@[999.1.1.1]\t-\tbad literal\n'
                                            'smtp\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tx@bad_dom!.example\t-\tbad domain\n'
                                            '127.0.0.1:4002\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\talice@example.com\t-\tdnswl rbl\n'
                                            '127.0.0.1:4003\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\talice@example.com\t-\tunknown '
                                            'restriction\n'
                                            '127.0.0.1:4005\t192.0.2.1\tunknown\th.example.net\t'
                                            'b@example.com\tx@outside.example\t-\tmx backup\n',
                        'valias': 'info@alias.example alice@example.com\n'},
 'service_overrides_vs_trivial_rewrite': {'clients': 'allow.example OK\n'
                                                     '2001:db8:2 REJECT v6 net\n'
                                                     '10.9.8.7 450\n',
                                          'localusers': 'alice x\nbob x\n',
                                          'main.cf': 'compatibility_level = 3.6\n'
                                                     'myhostname = mail.example.com\n'
                                                     'mydomain = example.com\n'
                                                     'myorigin = $mydomain\n'
                                                     'mydestination = $myhostname, localhost, '
                                                     'example.com\n'
                                                     'inet_interfaces = 127.0.0.1\n'
                                                     'mynetworks = 127.0.0.0/8, [2001:db8:1::]/48, '
                                                     'trusted.example\n'
                                                     'relay_domains = relay.example, '
                                                     'hash:__DIR__/relaydoms\n'
                                                     'virtual_alias_domains = alias.example\n'
                                                     'virtual_alias_maps = hash:__DIR__/valias\n'
                                                     'local_recipient_maps = '
                                                     'hash:__DIR__/localusers\n'
                                                     'smtpd_restriction_classes = cls_a\n'
                                                     'cls_a = check_sender_access '
                                                     'hash:__DIR__/senders, permit\n'
                                                     'smtpd_recipient_restrictions = '
                                                     'check_client_access hash:__DIR__/clients, '
                                                     'check_reverse_client_hostname_access '
                                                     'hash:__DIR__/rev, check_recipient_access '
                                                     'hash:__DIR__/rcpts, permit_mynetworks, '
                                                     'reject_unauth_destination\n'
                                                     'smtpd_sender_restrictions = '
                                                     'check_sender_access hash:__DIR__/senders\n'
                                                     'smtpd_relay_restrictions =\n',
                                          'master.cf': 'smtp inet n - n - - smtpd\n'
                                                       '127.0.0.1:4002 inet n - n - - smtpd\n'
                                                       '  -o '
                                                       'smtpd_recipient_restrictions=permit_dnswl_client,list.dnswl.example,reject_rbl_client,zen.example,permit_mynetworks,reject_unauth_destination\n'
                                                       '127.0.0.1:4003 inet n - n - - smtpd\n'
                                                       '  -o '
                                                       'smtpd_recipient_restrictions=no_such_restriction,permit_mynetworks,reject_unauth_destination\n'
                                                       '127.0.0.1:4005 inet n - n - - smtpd\n'
                                                       '  -o '
                                                       'smtpd_recipient_restrictions=permit_mx_backup,reject_unauth_destination\n'
                                                       '127.0.0.1:4201 inet n - n - - smtpd\n'
                                                       '  -o show_user_unknown_table_name=no\n'
                                                       '  -o relay_domains=\n'
                                                       '  -o mydestination=\n',
                                          'rcpts': 'classy@example.net cls_a\n'
                                                   'dig@example.com 4321\n'
                                                   'null@example.com 550 5.1.1 gone\n',
                                          'relaydoms': 'relay2.example OK\n',
                                          'rev': 'rev.example OK\n',
                                          'senders': '<> REJECT no bounces here\n'
                                                     'bad@example.net REJECT\n',
                                          'transactions.tsv': 'service\tclient_address\t'
                                                              'client_name\thelo\tsender\t'
                                                              'recipient\tsasl_login\tnote\n'
                                                              '127.0.0.1:4201\t192.0.2.1\tunknown\t'
                                                              'h.example.net\ta@example.net\t'
                                                              'nobody@alias.example\t-\talias '
                                                              'unknown hidden?\n'
                                                              '127.0.0.1:4201\t192.0.2.1\tunknown\t'
                                                              'h.example.net\ta@example.net\t'
                                                              'nobody@example.com\t-\tlocal '
                                                              'unknown hidden\n'
                                                              '127.0.0.1:4201\t192.0.2.1\tunknown\t'
                                                              'h.example.net\ta@example.net\t'
                                                              'x@sub.relay.example\t-\t'
                                                              'relay_domains override ignored\n'
                                                              '127.0.0.1:4201\t192.0.2.1\tunknown\t'
                                                              'h.example.net\ta@example.net\t'
                                                              'alice@example.com\t-\tmydestination '
                                                              'override\n'
                                                              '127.0.0.1:4201\t192.0.2.1\tunknown\t'
                                                              'h.example.net\ta@example.net\t'
                                                              'alice+x@example.com\t-\text\n',
                                          'valias': 'info@alias.example alice@example.com\n'}}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_engine_matches_real_smtpd_extra(name, tmp_path):
    need_postfix()
    from tests.oracle.conftest import machine_resolver, running_scenario
    from tests.oracle.scenarios import Scenario, parse_transactions
    from tui.core.config import load_config
    from tui.core.smtpd import evaluate
    from tui.core.trace import Transaction

    src = tmp_path / name
    src.mkdir()
    for fname, text in CONFIGS[name].items():
        (src / fname).write_text(text)
    scenario = Scenario(name, src, parse_transactions(CONFIGS[name]["transactions.tsv"], name), {})
    mismatches = []
    with running_scenario(scenario) as (cfg_dir, inst):
        cfg = load_config(cfg_dir)
        resolver = machine_resolver()
        for tx in scenario.transactions:
            real = inst.query(**tx.query_args())
            tr = evaluate(cfg, Transaction(client_address=tx.client_address, client_name=tx.client_name,
                                           helo=tx.helo, sender=tx.sender, recipient=tx.recipient,
                                           sasl_login=tx.sasl_login),
                          service=tx.service, resolver=resolver)
            if (tr.code, tr.reply, tr.stage) != (real.code, real.reply, real.stage):
                mismatches.append(f"{tx.describe()}\n   postfix: {real}\n   engine:  [{tr.stage}] {tr.reply}")
        log = inst.log_tail(20)
    assert not mismatches, "\n".join(mismatches) + "\n" + log
