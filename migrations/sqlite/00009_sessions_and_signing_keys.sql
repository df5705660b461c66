-- Sessions that can be ended, and signing keys shared by every replica; see
-- migrations/mysql/00009.

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

CREATE TABLE signing_keys (
  id           TEXT     NOT NULL PRIMARY KEY,
  generation   INTEGER  NOT NULL,
  algorithm    TEXT     NOT NULL,
  public_key   TEXT     NOT NULL,
  private_key  TEXT     NOT NULL,
  created_at   DATETIME NOT NULL,
  activates_at DATETIME NOT NULL,
  expires_at   DATETIME NULL,
  keep_until   DATETIME NULL
);
CREATE UNIQUE INDEX signing_keys_generation ON signing_keys (generation);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE revoked_sessions;
ALTER TABLE users DROP COLUMN sessions_valid_after;
