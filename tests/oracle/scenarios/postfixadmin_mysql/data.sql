INSERT INTO domain (domain, description, backupmx, active) VALUES
  ('example.com', 'main', 0, 1),
  ('example.net', 'catch-all domain', 0, 1),
  ('aliasdom.example', 'alias domain of example.com', 0, 1),
  ('old.example', 'disabled', 0, 0),
  ('backup.example', 'we are its backup MX', 1, 1);
INSERT INTO mailbox (username, password, name, maildir, local_part, domain, active) VALUES
  ('alice@example.com', 'x', 'Alice', 'example.com/alice/', 'alice', 'example.com', 1),
  ('bob@example.net', 'x', 'Bob', 'example.net/bob/', 'bob', 'example.net', 1),
  ('disabled@example.com', 'x', 'Gone', 'example.com/disabled/', 'disabled', 'example.com', 0);
INSERT INTO alias (address, goto, domain, active) VALUES
  ('alice@example.com', 'alice@example.com', 'example.com', 1),
  ('bob@example.net', 'bob@example.net', 'example.net', 1),
  ('info@example.com', 'alice@example.com,bob@example.net', 'example.com', 1),
  ('o''brien@example.com', 'alice@example.com', 'example.com', 1),
  ('sales@example.com', 'alice@example.com', 'example.com', 0),
  ('@example.net', 'bob@example.net', 'example.net', 1);
INSERT INTO alias_domain (alias_domain, target_domain, active) VALUES
  ('aliasdom.example', 'example.com', 1);
