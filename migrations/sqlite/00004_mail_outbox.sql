-- The mail outbox; see migrations/mysql/00004.

-- +goose Up
CREATE TABLE mail_outbox (
  id              TEXT     NOT NULL PRIMARY KEY,
  organization_id TEXT     NULL,
  recipient       TEXT     NOT NULL,
  subject         TEXT     NOT NULL,
  body            TEXT     NOT NULL,
  created_at      DATETIME NOT NULL,
  attempts        INTEGER  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at DATETIME NULL,
  claimed_until   DATETIME NULL,
  sent_at         DATETIME NULL,
  last_error      TEXT     NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at);
CREATE INDEX mail_outbox_organization ON mail_outbox (organization_id, id);

-- +goose Down
DROP TABLE mail_outbox;
