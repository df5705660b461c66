-- Quotas and resource usage of organizations; see migrations/mysql/00012.

-- +goose Up
ALTER TABLE organizations ADD COLUMN max_users INTEGER NULL;
ALTER TABLE organizations ADD COLUMN max_workspaces INTEGER NULL;
ALTER TABLE organizations ADD COLUMN max_cpu_cores INTEGER NULL;
ALTER TABLE organizations ADD COLUMN max_memory_mb INTEGER NULL;
ALTER TABLE organizations ADD COLUMN max_storage_gb INTEGER NULL;
ALTER TABLE organizations ADD COLUMN cpu_cores INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN memory_mb INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN storage_gb INTEGER NOT NULL DEFAULT 0;
UPDATE organizations SET
  cpu_cores  = (SELECT COALESCE(SUM(cpu_cores), 0)  FROM workspaces w WHERE w.organization_id = organizations.id),
  memory_mb  = (SELECT COALESCE(SUM(memory_mb), 0)  FROM workspaces w WHERE w.organization_id = organizations.id),
  storage_gb = (SELECT COALESCE(SUM(storage_gb), 0) FROM workspaces w WHERE w.organization_id = organizations.id);

-- +goose Down
ALTER TABLE organizations DROP COLUMN storage_gb;
ALTER TABLE organizations DROP COLUMN memory_mb;
ALTER TABLE organizations DROP COLUMN cpu_cores;
ALTER TABLE organizations DROP COLUMN max_storage_gb;
ALTER TABLE organizations DROP COLUMN max_memory_mb;
ALTER TABLE organizations DROP COLUMN max_cpu_cores;
ALTER TABLE organizations DROP COLUMN max_workspaces;
ALTER TABLE organizations DROP COLUMN max_users;
