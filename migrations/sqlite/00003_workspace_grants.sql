-- Partner grants; see migrations/mysql/00003.

-- +goose Up
CREATE TABLE workspace_grants (
  id                      TEXT     NOT NULL PRIMARY KEY,
  organization_id         TEXT     NOT NULL REFERENCES organizations (id),
  workspace_id            TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  grantee_organization_id TEXT     NOT NULL REFERENCES organizations (id),
  created_by_id           TEXT     NULL,
  created_at              DATETIME NOT NULL,
  expires_at              DATETIME NOT NULL
);
CREATE UNIQUE INDEX workspace_grants_pair ON workspace_grants (organization_id, workspace_id, grantee_organization_id);
CREATE INDEX workspace_grants_grantee ON workspace_grants (grantee_organization_id, workspace_id);

-- +goose Down
DROP TABLE workspace_grants;
