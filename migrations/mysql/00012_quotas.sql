-- Quotas and resource usage of organizations (issue 11).
-- max_*: the organization's limits; NULL is unlimited. Set by
--   setOrganizationQuota, and for new organizations from NEOSC_DEFAULT_QUOTA.
-- cpu_cores, memory_mb, storage_gb: the sums over the organization's
--   workspaces, kept exact like user_count and workspace_count (changed in
--   the transaction that creates, resizes or deletes a workspace, under the
--   organization row's lock), backfilled here from the workspaces.
-- A limit may be below the usage (lowered after the fact): nothing is
--   removed, new additions are refused.
-- BIGINT sums: 65,536 GB of storage per workspace overflows INT after
--   ~32,000 workspaces.

-- +goose Up
ALTER TABLE organizations
  ADD COLUMN max_users      INT    NULL,
  ADD COLUMN max_workspaces INT    NULL,
  ADD COLUMN max_cpu_cores  INT    NULL,
  ADD COLUMN max_memory_mb  BIGINT NULL,
  ADD COLUMN max_storage_gb BIGINT NULL,
  ADD COLUMN cpu_cores      BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN memory_mb      BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN storage_gb     BIGINT NOT NULL DEFAULT 0;

UPDATE organizations o
  LEFT JOIN (SELECT organization_id, SUM(cpu_cores) c, SUM(memory_mb) m, SUM(storage_gb) s
             FROM workspaces GROUP BY organization_id) w ON w.organization_id = o.id
  SET o.cpu_cores = COALESCE(w.c, 0), o.memory_mb = COALESCE(w.m, 0), o.storage_gb = COALESCE(w.s, 0);

-- +goose Down
ALTER TABLE organizations
  DROP COLUMN storage_gb, DROP COLUMN memory_mb, DROP COLUMN cpu_cores,
  DROP COLUMN max_storage_gb, DROP COLUMN max_memory_mb, DROP COLUMN max_cpu_cores,
  DROP COLUMN max_workspaces, DROP COLUMN max_users;
