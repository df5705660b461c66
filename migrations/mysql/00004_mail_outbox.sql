-- The mail outbox: a mail is a row written in the same transaction as the
-- change it announces (no mail without its change, no change without its
-- mail), delivered later by the sender loop of any replica (internal/mail).
--
-- A row is pending while next_attempt_at is set; sending it, or giving up
-- on it, sets next_attempt_at to NULL, so the due index holds pending rows
-- only and the claim query ("due, not leased, oldest first") is a range scan
-- on it. claimed_until is the lease of the replica sending the row; attempts
-- counts claims. organization_id is the tenant the mail belongs to, NULL for
-- a platform mail; no foreign key, like audit_events: a queued or sent mail
-- is a record of its own. last_error is short and never holds credentials.

-- +goose Up
CREATE TABLE mail_outbox (
  id              CHAR(36)     NOT NULL,
  organization_id CHAR(36)     NULL,
  recipient       VARCHAR(254) NOT NULL,
  subject         VARCHAR(255) NOT NULL,
  body            TEXT         NOT NULL,
  created_at      DATETIME(6)  NOT NULL,
  attempts        INT          NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6)  NULL,
  claimed_until   DATETIME(6)  NULL,
  sent_at         DATETIME(6)  NULL,
  last_error      VARCHAR(500) NULL,
  PRIMARY KEY (id),
  KEY mail_outbox_due (next_attempt_at),
  KEY mail_outbox_organization (organization_id, id),
  CONSTRAINT mail_outbox_attempts CHECK (attempts >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE mail_outbox;
