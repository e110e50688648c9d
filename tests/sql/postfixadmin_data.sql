-- Test data for tests/sql/postfixadmin_schema.sql: covers what the
-- PostfixAdmin reference queries must get right -- active and inactive
-- rows, alias domains (active and inactive), catch-all aliases (@domain),
-- a backup-MX domain, multi-target aliases, mailboxes that are also
-- aliases, and awkward addresses (quote, backslash, percent, recipient
-- delimiter, upper case in the data, non-ASCII).

INSERT INTO `domain` (domain, description, aliases, mailboxes, maxquota, quota, transport, backupmx, active) VALUES
 ('example.com',        'main domain',            0, 0, 0, 0, 'virtual', 0, 1),
 ('example.net',        'second domain',          0, 0, 0, 0, 'virtual', 0, 1),
 ('inactive.example',   'disabled domain',        0, 0, 0, 0, 'virtual', 0, 0),
 ('backup.example',     'we are backup MX',       0, 0, 0, 0, 'relay:[mx.backup.example]', 1, 1),
 ('oldbackup.example',  'disabled backup MX',     0, 0, 0, 0, '', 1, 0),
 ('alias.example',      'alias domain of example.com', 0, 0, 0, 0, 'virtual', 0, 1),
 ('deadalias.example',  'inactive alias domain',  0, 0, 0, 0, 'virtual', 0, 1),
 ('sub.example.com',    'a subdomain',            0, 0, 0, 0, 'virtual', 0, 1),
 ('ALL',                'PostfixAdmin''s special row', 0, 0, 0, 0, '', 0, 1);

INSERT INTO `mailbox` (username, password, name, maildir, quota, local_part, domain, active) VALUES
 ('alice@example.com',   '{BLF-CRYPT}x', 'Alice',  'example.com/alice/',   0, 'alice',   'example.com', 1),
 ('bob@example.com',     '{BLF-CRYPT}x', 'Bob',    'example.com/bob/',     0, 'bob',     'example.com', 1),
 ('gone@example.com',    '{BLF-CRYPT}x', 'Gone',   'example.com/gone/',    0, 'gone',    'example.com', 0),
 ('o''brien@example.com','{BLF-CRYPT}x', 'Pat',    'example.com/obrien/',  0, 'o''brien','example.com', 1),
 ('back\\slash@example.com','{BLF-CRYPT}x','BS',   'example.com/bs/',      0, 'back\\slash','example.com', 1),
 ('100%@example.com',    '{BLF-CRYPT}x', 'Pct',    'example.com/pct/',     0, '100%',    'example.com', 1),
 ('carol@example.net',   '{BLF-CRYPT}x', 'Carol',  'example.net/carol/',   0, 'carol',   'example.net', 1),
 ('dave@inactive.example','{BLF-CRYPT}x','Dave',   'inactive.example/dave/',0,'dave',    'inactive.example', 1),
 ('jösé@example.com',    '{BLF-CRYPT}x', 'José',   'example.com/jose/',    0, 'jösé',    'example.com', 1),
 ('user+tag@example.com','{BLF-CRYPT}x', 'Tagged', 'example.com/usertag/', 0, 'user+tag','example.com', 1);

INSERT INTO `alias` (address, goto, domain, active) VALUES
 ('alice@example.com',    'alice@example.com',                     'example.com', 1),
 ('bob@example.com',      'bob@example.com',                       'example.com', 1),
 ('o''brien@example.com', 'o''brien@example.com',                  'example.com', 1),
 ('back\\slash@example.com','back\\slash@example.com',             'example.com', 1),
 ('100%@example.com',     '100%@example.com',                      'example.com', 1),
 ('jösé@example.com',     'jösé@example.com',                      'example.com', 1),
 ('user+tag@example.com', 'user+tag@example.com',                  'example.com', 1),
 ('sales@example.com',    'alice@example.com,bob@example.com',     'example.com', 1),
 ('info@example.com',     'Sales@Example.COM',                     'example.com', 1),
 ('old@example.com',      'alice@example.com',                     'example.com', 0),
 ('postmaster@example.com','alice@example.com',                    'example.com', 1),
 ('@example.net',         'carol@example.net',                     'example.net', 1),
 ('carol@example.net',    'carol@example.net',                     'example.net', 1),
 ('list@example.net',     'carol@example.net, alice@example.com',  'example.net', 1),
 ('@inactive.example',    'alice@example.com',                     'inactive.example', 0),
 ('abuse@sub.example.com','alice@example.com',                     'sub.example.com', 1),
 ('user@',                'broken@example.com',                    'example.com', 1),
 ('nodomain',             'alice@example.com',                     'example.com', 1);

INSERT INTO `alias_domain` (alias_domain, target_domain, active) VALUES
 ('alias.example',     'example.com', 1),
 ('deadalias.example', 'example.com', 0),
 ('net-alias.example', 'example.net', 1);
