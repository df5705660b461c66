-- Keyset pages seek; see migrations/mysql/00016.

-- +goose Up
CREATE INDEX workspace_grants_workspace ON workspace_grants (organization_id, workspace_id, id);
CREATE INDEX workspace_grants_grantee_id ON workspace_grants (grantee_organization_id, id);

-- +goose Down
DROP INDEX workspace_grants_grantee_id;
DROP INDEX workspace_grants_workspace;
