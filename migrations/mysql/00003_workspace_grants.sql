-- Partner grants: an owner organization shares one workspace with another
-- organization until expires_at. organization_id is the owner (the row lives
-- in the owner's partition); the grantee index serves "what is shared with
-- me" and is the one secondary index that leads with the grantee. Revoking
-- deletes the row (the audit trail keeps the snapshot); deleting the
-- workspace deletes its grants.

-- +goose Up
CREATE TABLE workspace_grants (
  id                      CHAR(36)    NOT NULL,
  organization_id         CHAR(36)    NOT NULL,
  workspace_id            CHAR(36)    NOT NULL,
  grantee_organization_id CHAR(36)    NOT NULL,
  created_by_id           CHAR(36)    NULL,
  created_at              DATETIME(6) NOT NULL,
  expires_at              DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY workspace_grants_pair (organization_id, workspace_id, grantee_organization_id),
  KEY workspace_grants_grantee (grantee_organization_id, workspace_id),
  CONSTRAINT workspace_grants_workspace_fk FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
  CONSTRAINT workspace_grants_organization_fk FOREIGN KEY (organization_id) REFERENCES organizations (id),
  CONSTRAINT workspace_grants_grantee_fk FOREIGN KEY (grantee_organization_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE workspace_grants;
