-- SSO users and partner API tokens; see migrations/mysql/00002.

-- +goose Up
ALTER TABLE users ADD COLUMN email_scope TEXT NOT NULL DEFAULT '';
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email ON users (email, email_scope);
CREATE UNIQUE INDEX users_sso ON users (sso_issuer, sso_subject);

CREATE TABLE api_tokens (
  id              TEXT     NOT NULL PRIMARY KEY,
  organization_id TEXT     NOT NULL REFERENCES organizations (id),
  name            TEXT     NOT NULL,
  scopes          TEXT     NOT NULL,
  created_by_id   TEXT     NULL,
  expires_at      DATETIME NOT NULL,
  created_at      DATETIME NOT NULL,
  last_used_at    DATETIME NULL,
  revoked_at      DATETIME NULL
);
CREATE INDEX api_tokens_organization ON api_tokens (organization_id, id);

-- +goose Down
DROP TABLE api_tokens;
DROP INDEX users_sso;
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email ON users (email);
ALTER TABLE users DROP COLUMN email_scope;
