-- Security policy and branding of an organization; see migrations/mysql/00015.

-- +goose Up
CREATE TABLE organization_policies (
  organization_id     TEXT     NOT NULL PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  require_sso         BOOLEAN  NOT NULL DEFAULT FALSE,
  allowed_ip_ranges   TEXT     NOT NULL DEFAULT '',
  session_ttl_minutes INTEGER  NULL CHECK (session_ttl_minutes IS NULL OR session_ttl_minutes BETWEEN 5 AND 43200),
  display_name        TEXT     NULL,
  logo_url            TEXT     NULL,
  primary_color       TEXT     NULL,
  updated_at          DATETIME NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE organization_policies;
