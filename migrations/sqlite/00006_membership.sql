-- Who gets into an organization; see migrations/mysql/00006.

-- +goose Up
ALTER TABLE organizations ADD COLUMN kind TEXT NOT NULL DEFAULT 'TENANT';

ALTER TABLE users ADD COLUMN email_verified_at DATETIME NULL;

CREATE TABLE email_verifications (
  id              TEXT     NOT NULL PRIMARY KEY,
  organization_id TEXT     NOT NULL,
  user_id         TEXT     NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email           TEXT     NOT NULL,
  token_hash      TEXT     NOT NULL,
  expires_at      DATETIME NOT NULL,
  used_at         DATETIME NULL,
  created_at      DATETIME NOT NULL
);
CREATE INDEX email_verifications_user ON email_verifications (organization_id, user_id, created_at);

CREATE TABLE invitations (
  id               TEXT     NOT NULL PRIMARY KEY,
  organization_id  TEXT     NOT NULL REFERENCES organizations (id),
  email            TEXT     NOT NULL,
  role             TEXT     NOT NULL,
  status           TEXT     NOT NULL,
  token_hash       TEXT     NOT NULL,
  invited_by_id    TEXT     NULL,
  accepted_user_id TEXT     NULL,
  expires_at       DATETIME NOT NULL,
  created_at       DATETIME NOT NULL,
  updated_at       DATETIME NOT NULL
);
CREATE INDEX invitations_organization ON invitations (organization_id, id);
CREATE INDEX invitations_organization_status ON invitations (organization_id, status, id);
CREATE INDEX invitations_organization_email ON invitations (organization_id, email);

ALTER TABLE workspace_grants ADD COLUMN status TEXT NOT NULL DEFAULT 'ACCEPTED';
ALTER TABLE workspace_grants ADD COLUMN responded_at DATETIME NULL;

-- +goose Down
ALTER TABLE workspace_grants DROP COLUMN responded_at;
ALTER TABLE workspace_grants DROP COLUMN status;
DROP TABLE invitations;
DROP TABLE email_verifications;
ALTER TABLE users DROP COLUMN email_verified_at;
ALTER TABLE organizations DROP COLUMN kind;
