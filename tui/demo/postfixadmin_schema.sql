-- PostfixAdmin's four tables that Postfix reads, in SQLite form (the demo's
-- stand-in for the MySQL database of the original server). Column names and
-- defaults follow PostfixAdmin; the address and domain columns use NOCASE,
-- as PostfixAdmin's MySQL columns are case-insensitive (latin1_general_ci).

CREATE TABLE domain (
  domain      VARCHAR(255) NOT NULL COLLATE NOCASE PRIMARY KEY,
  description VARCHAR(255) NOT NULL DEFAULT '',
  aliases     INTEGER NOT NULL DEFAULT 0,
  mailboxes   INTEGER NOT NULL DEFAULT 0,
  maxquota    BIGINT NOT NULL DEFAULT 0,
  quota       BIGINT NOT NULL DEFAULT 0,
  transport   VARCHAR(255) NOT NULL DEFAULT '',
  backupmx    TINYINT(1) NOT NULL DEFAULT 0,
  created     DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  modified    DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  active      TINYINT(1) NOT NULL DEFAULT 1
);

CREATE TABLE mailbox (
  username    VARCHAR(255) NOT NULL COLLATE NOCASE PRIMARY KEY,
  password    VARCHAR(255) NOT NULL,
  name        VARCHAR(255) NOT NULL DEFAULT '',
  maildir     VARCHAR(255) NOT NULL,
  quota       BIGINT NOT NULL DEFAULT 0,
  local_part  VARCHAR(255) NOT NULL COLLATE NOCASE,
  domain      VARCHAR(255) NOT NULL COLLATE NOCASE,
  created     DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  modified    DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  active      TINYINT(1) NOT NULL DEFAULT 1
);
CREATE INDEX mailbox_domain ON mailbox (domain);

CREATE TABLE alias (
  address     VARCHAR(255) NOT NULL COLLATE NOCASE PRIMARY KEY,
  goto        TEXT NOT NULL,
  domain      VARCHAR(255) NOT NULL COLLATE NOCASE,
  created     DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  modified    DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  active      TINYINT(1) NOT NULL DEFAULT 1
);
CREATE INDEX alias_domain_idx ON alias (domain);

CREATE TABLE alias_domain (
  alias_domain  VARCHAR(255) NOT NULL DEFAULT '' COLLATE NOCASE PRIMARY KEY,
  target_domain VARCHAR(255) NOT NULL DEFAULT '' COLLATE NOCASE,
  created       DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  modified      DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00',
  active        TINYINT(1) NOT NULL DEFAULT 1
);
CREATE INDEX alias_domain_active ON alias_domain (active);
CREATE INDEX alias_domain_target ON alias_domain (target_domain);
