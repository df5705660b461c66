-- Email domains an organization claims, and proves by a DNS TXT record.
-- Several organizations may add the same domain while it is unverified (an
-- unverified domain blocks nobody); verified_domain is the domain once it is
-- verified, else NULL, and its unique key lets at most one organization hold
-- a domain verified: the first to verify wins (NULLs never collide, on MySQL
-- and SQLite alike). Like the unique key on users.email, it is global by
-- nature (a lookup table when sharded); the other keys lead with
-- organization_id. verification_token is the TXT value shown to the
-- organization's admins: public once published in DNS, so stored as is.

-- +goose Up
CREATE TABLE organization_domains (
  id                 CHAR(36)     NOT NULL,
  organization_id    CHAR(36)     NOT NULL,
  domain             VARCHAR(253) NOT NULL,
  verification_token VARCHAR(64)  NOT NULL,
  verified_at        DATETIME(6)  NULL,
  verified_domain    VARCHAR(253) NULL,
  enrollment         VARCHAR(16)  NOT NULL DEFAULT 'INVITATION_ONLY',
  created_at         DATETIME(6)  NOT NULL,
  updated_at         DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY organization_domains_domain (organization_id, domain),
  UNIQUE KEY organization_domains_verified (verified_domain),
  CONSTRAINT organization_domains_organization_fk FOREIGN KEY (organization_id) REFERENCES organizations (id),
  CONSTRAINT organization_domains_verified_check CHECK (verified_domain IS NULL OR (verified_domain = domain AND verified_at IS NOT NULL)),
  CONSTRAINT organization_domains_enrollment_check CHECK (enrollment IN ('INVITATION_ONLY', 'AUTO_JOIN'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE organization_domains;
