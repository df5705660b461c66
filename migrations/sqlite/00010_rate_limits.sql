-- Rate limits shared by every replica; see migrations/mysql/00010.

-- +goose Up
CREATE TABLE rate_limits (
  scope   TEXT    NOT NULL,
  subject TEXT    NOT NULL,
  tat     INTEGER NOT NULL,
  PRIMARY KEY (scope, subject)
) WITHOUT ROWID;
CREATE INDEX rate_limits_tat ON rate_limits (tat);

CREATE TABLE login_throttles (
  account          TEXT     NOT NULL,
  client           TEXT     NOT NULL,
  failures         INTEGER  NOT NULL DEFAULT 0 CHECK (failures >= 0),
  locked_until     DATETIME NULL,
  last_failure_at  DATETIME NULL,
  last_success_at  DATETIME NULL,
  unreported       INTEGER  NOT NULL DEFAULT 0 CHECK (unreported >= 0),
  unreported_since DATETIME NULL,
  reported_at      DATETIME NULL,
  expires_at       DATETIME NOT NULL,
  PRIMARY KEY (account, client)
) WITHOUT ROWID;
CREATE INDEX login_throttles_expires ON login_throttles (expires_at);

-- +goose Down
DROP TABLE login_throttles;
DROP TABLE rate_limits;
