-- The demo's PostfixAdmin contents. Passwords are placeholders, not hashes
-- of anything: Postfix never reads that column.

INSERT INTO domain (domain, description, aliases, mailboxes, backupmx, active) VALUES
  ('example.org',         'Main domain',                         10, 10, 0, 1),
  ('example.net',         'Alias domain of example.org',          0,  0, 0, 1),
  ('shop.example.net',    'Web shop, catch-all to bob',           5,  5, 0, 1),
  ('old.example.net',     'Retired domain (inactive)',            0,  0, 0, 0),
  ('partner.example.com', 'Backup MX for a partner',              0,  0, 1, 1);

INSERT INTO mailbox (username, password, name, maildir, local_part, domain, active) VALUES
  ('alice@example.org',        '{DEMO}not-a-password', 'Alice Admin',   'example.org/alice/',        'alice',  'example.org',      1),
  ('bob@example.org',          '{DEMO}not-a-password', 'Bob Builder',   'example.org/bob/',          'bob',    'example.org',      1),
  ('former@example.org',       '{DEMO}not-a-password', 'Former Staff',  'example.org/former/',       'former', 'example.org',      0),
  ('sales@shop.example.net',   '{DEMO}not-a-password', 'Shop Sales',    'shop.example.net/sales/',   'sales',  'shop.example.net', 1);

-- PostfixAdmin adds an alias row address -> itself for every mailbox.
INSERT INTO alias (address, goto, domain, active) VALUES
  ('alice@example.org',      'alice@example.org',                  'example.org',      1),
  ('bob@example.org',        'bob@example.org',                    'example.org',      1),
  ('former@example.org',     'former@example.org',                 'example.org',      0),
  ('sales@shop.example.net', 'sales@shop.example.net',             'shop.example.net', 1),
  ('postmaster@example.org', 'alice@example.org',                  'example.org',      1),
  ('abuse@example.org',      'alice@example.org',                  'example.org',      1),
  ('info@example.org',       'alice@example.org,bob@example.org',  'example.org',      1),
  ('announce@example.org',   'announce@lists.example.org',         'example.org',      1),
  ('@shop.example.net',      'bob@example.org',                    'shop.example.net', 1),
  ('info@old.example.net',   'former@example.org',                 'old.example.net',  0);

INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES
  ('example.net', 'example.org', 1);
