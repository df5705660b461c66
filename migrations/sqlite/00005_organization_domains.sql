-- Email domains an organization claims; see migrations/mysql/00005.

-- +goose Up
CREATE TABLE organization_domains (
  id                 TEXT     NOT NULL PRIMARY KEY,
  organization_id    TEXT     NOT NULL REFERENCES organizations (id),
  domain             TEXT     NOT NULL,
  verification_token TEXT     NOT NULL,
  verified_at        DATETIME NULL,
  verified_domain    TEXT     NULL,
  enrollment         TEXT     NOT NULL DEFAULT 'INVITATION_ONLY' CHECK (enrollment IN ('INVITATION_ONLY', 'AUTO_JOIN')),
  created_at         DATETIME NOT NULL,
  updated_at         DATETIME NOT NULL,
  CHECK (verified_domain IS NULL OR (verified_domain = domain AND verified_at IS NOT NULL))
);
CREATE UNIQUE INDEX organization_domains_domain ON organization_domains (organization_id, domain);
CREATE UNIQUE INDEX organization_domains_verified ON organization_domains (verified_domain);

-- +goose Down
DROP TABLE organization_domains;
