-- Keyset pages seek (issue 12). Every keyset-paginated list reads
-- "scope = ? AND id > ? ORDER BY id LIMIT n" (or id < ? ... DESC): it is an
-- index range from the cursor only on an index that leads with the list's
-- equality columns and ends with id. Users, workspaces, API tokens,
-- invitations and audit events have had theirs since 00001/00002/00006/00014
-- (see docs/query-plans.md for the full list); the two lists of workspace
-- grants had none:
--   grants of a workspace:      (organization_id, workspace_id, id)
--   grants offered to a grantee: (grantee_organization_id, id)
-- workspace_grants_pair stays (uniqueness, and the index of the
-- organization_id foreign key); workspace_grants_grantee stays (the live
-- grant lookups by workspace).
-- On MariaDB the index alone is not enough: with a deep cursor the
-- optimizer prefers ref on organization_id alone (walking the organization
-- from its first entry) to the range on (organization_id, id); the store
-- names the index with FORCE INDEX on MySQL (internal/store/seek.go).

-- +goose Up
CREATE INDEX workspace_grants_workspace ON workspace_grants (organization_id, workspace_id, id);
CREATE INDEX workspace_grants_grantee_id ON workspace_grants (grantee_organization_id, id);

-- +goose Down
DROP INDEX workspace_grants_grantee_id ON workspace_grants;
DROP INDEX workspace_grants_workspace ON workspace_grants;
