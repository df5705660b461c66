-- Security policy and branding of an organization (internal/policy): one
-- row per organization that has set either; no row reads as the defaults
-- (no SSO requirement, every address allowed, the server's session TTL, no
-- branding). Authentication reads the policy columns in the statement that
-- loads the caller (LEFT JOIN on the primary key), so enforcing a policy
-- costs no statement of its own.
--   allowed_ip_ranges: canonical CIDRs separated by ',' ('' = anywhere).
--   session_ttl_minutes: NULL = NEOSC_TOKEN_TTL.
--   display_name, logo_url, primary_color: NULL = not set.
-- The row goes with its organization (ON DELETE CASCADE).

-- +goose Up
CREATE TABLE organization_policies (
  organization_id     CHAR(36)      NOT NULL,
  require_sso         BOOLEAN       NOT NULL DEFAULT FALSE,
  allowed_ip_ranges   TEXT          NOT NULL,
  session_ttl_minutes INT           NULL,
  display_name        VARCHAR(400)  NULL,
  logo_url            VARCHAR(2048) NULL,
  primary_color       CHAR(7)       NULL,
  updated_at          DATETIME(6)   NOT NULL,
  PRIMARY KEY (organization_id),
  CONSTRAINT organization_policies_organization_fk FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
  CONSTRAINT organization_policies_ttl_check CHECK (session_ttl_minutes IS NULL OR session_ttl_minutes BETWEEN 5 AND 43200)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE organization_policies;
