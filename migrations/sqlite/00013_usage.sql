-- Usage for billing; see migrations/mysql/00013.

-- +goose Up
CREATE TABLE workspace_usage (
  id              TEXT     NOT NULL PRIMARY KEY,
  organization_id TEXT     NOT NULL,
  workspace_id    TEXT     NOT NULL,
  workspace_name  TEXT     NOT NULL,
  status          TEXT     NOT NULL,
  cpu_cores       INTEGER  NOT NULL,
  memory_mb       INTEGER  NOT NULL,
  storage_gb      INTEGER  NOT NULL,
  started_at      DATETIME NOT NULL,
  ended_at        DATETIME NOT NULL
);
CREATE INDEX workspace_usage_organization_end ON workspace_usage (organization_id, ended_at);
CREATE INDEX workspace_usage_organization_start ON workspace_usage (organization_id, started_at);
CREATE INDEX workspace_usage_workspace ON workspace_usage (organization_id, workspace_id, ended_at);

CREATE TABLE organization_user_events (
  id              TEXT     NOT NULL PRIMARY KEY,
  organization_id TEXT     NOT NULL,
  delta           INTEGER  NOT NULL,
  created_at      DATETIME NOT NULL
);
CREATE INDEX organization_user_events_organization ON organization_user_events (organization_id, created_at);

-- Opening rows: what exists now is counted from now on.
INSERT INTO workspace_usage (id, organization_id, workspace_id, workspace_name, status, cpu_cores, memory_mb, storage_gb, started_at, ended_at)
SELECT id, organization_id, id, name, status, cpu_cores, memory_mb, storage_gb,
       strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), '9999-12-31 00:00:00+00:00'
FROM workspaces;
INSERT INTO organization_user_events (id, organization_id, delta, created_at)
SELECT id, id, user_count, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
FROM organizations WHERE user_count > 0;

-- +goose Down
DROP TABLE organization_user_events;
DROP TABLE workspace_usage;
