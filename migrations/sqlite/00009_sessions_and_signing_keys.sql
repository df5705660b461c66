-- Sessions that can be ended; see migrations/mysql/00009.

-- +goose Up
ALTER TABLE users ADD COLUMN sessions_valid_after DATETIME NULL;

CREATE TABLE revoked_sessions (
  jti             TEXT     NOT NULL PRIMARY KEY,
  organization_id TEXT     NOT NULL,
  user_id         TEXT     NOT NULL,
  expires_at      DATETIME NOT NULL,
  created_at      DATETIME NOT NULL
);
CREATE INDEX revoked_sessions_expiry ON revoked_sessions (expires_at);

-- +goose Down
DROP TABLE revoked_sessions;
ALTER TABLE users DROP COLUMN sessions_valid_after;
