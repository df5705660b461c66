-- Who gets into an organization.
-- organizations.kind: TENANT (created by users or SSO), DEFAULT (the reserved
--   organization of users who register without one; created by the Go
--   migration 00007, never by a request) or OPERATORS (reserved for platform
--   administrators). Reserved kinds admit nobody by name and gain no domain.
-- name_key becomes the confusable skeleton of the name (00007 recomputes it),
--   which can be up to 7 times longer than the name (internal/names.Skeleton):
--   VARCHAR(700) for names of 100, 2,800 bytes, under InnoDB's 3,072-byte key.
-- users.email_verified_at: set when the address is proven (a verification
--   link, or an accepted invitation); PENDING users have no rights until then.
-- email_verifications, invitations: single-use tokens, stored as SHA-256
--   hashes and looked up by their row ID (the token is "<id>.<secret>").
-- workspace_grants.status: a grant gives nothing until the grantee accepts;
--   grants that existed before are kept as ACCEPTED.

-- +goose Up
ALTER TABLE organizations
  ADD COLUMN kind VARCHAR(16) NOT NULL DEFAULT 'TENANT',
  MODIFY name_key VARCHAR(700) NOT NULL;

ALTER TABLE users ADD COLUMN email_verified_at DATETIME(6) NULL;

CREATE TABLE email_verifications (
  id              CHAR(36)    NOT NULL,
  organization_id CHAR(36)    NOT NULL,
  user_id         CHAR(36)    NOT NULL,
  email           VARCHAR(254) NOT NULL,
  token_hash      CHAR(64)    NOT NULL,
  expires_at      DATETIME(6) NOT NULL,
  used_at         DATETIME(6) NULL,
  created_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY email_verifications_user (organization_id, user_id, created_at),
  CONSTRAINT email_verifications_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE invitations (
  id               CHAR(36)     NOT NULL,
  organization_id  CHAR(36)     NOT NULL,
  email            VARCHAR(254) NOT NULL,
  role             VARCHAR(16)  NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  token_hash       CHAR(64)     NOT NULL,
  invited_by_id    CHAR(36)     NULL,
  accepted_user_id CHAR(36)     NULL,
  expires_at       DATETIME(6)  NOT NULL,
  created_at       DATETIME(6)  NOT NULL,
  updated_at       DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  KEY invitations_organization (organization_id, id),
  KEY invitations_organization_status (organization_id, status, id),
  KEY invitations_organization_email (organization_id, email),
  CONSTRAINT invitations_organization_fk FOREIGN KEY (organization_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE workspace_grants
  ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'ACCEPTED',
  ADD COLUMN responded_at DATETIME(6) NULL;

-- +goose Down
ALTER TABLE workspace_grants DROP COLUMN responded_at, DROP COLUMN status;
DROP TABLE invitations;
DROP TABLE email_verifications;
ALTER TABLE users DROP COLUMN email_verified_at;
ALTER TABLE organizations DROP COLUMN kind, MODIFY name_key VARCHAR(100) NOT NULL;
