-- SSO users and partner API tokens.
-- Emails are unique per identity source: '' for password accounts, the
-- issuer for SSO accounts, so an SSO user whose email equals a local
-- account's is a different user and never takes that account over.

-- +goose Up
ALTER TABLE users ADD COLUMN email_scope VARCHAR(255) NOT NULL DEFAULT '' AFTER email;
ALTER TABLE users DROP INDEX users_email, ADD UNIQUE KEY users_email (email, email_scope);
ALTER TABLE users ADD UNIQUE KEY users_sso (sso_issuer, sso_subject);

CREATE TABLE api_tokens (
  id              CHAR(36)     NOT NULL,
  organization_id CHAR(36)     NOT NULL,
  name            VARCHAR(100) NOT NULL,
  scopes          VARCHAR(255) NOT NULL,
  created_by_id   CHAR(36)     NULL,
  expires_at      DATETIME(6)  NOT NULL,
  created_at      DATETIME(6)  NOT NULL,
  last_used_at    DATETIME(6)  NULL,
  revoked_at      DATETIME(6)  NULL,
  PRIMARY KEY (id),
  KEY api_tokens_organization (organization_id, id),
  CONSTRAINT api_tokens_organization_fk FOREIGN KEY (organization_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE api_tokens;
ALTER TABLE users DROP INDEX users_sso;
ALTER TABLE users DROP INDEX users_email, ADD UNIQUE KEY users_email (email);
ALTER TABLE users DROP COLUMN email_scope;
