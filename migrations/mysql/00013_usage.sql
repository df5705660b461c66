-- Usage for billing (internal/usage). Both tables are written in the
-- transaction of the change they record, and read only by the usage report
-- and the usage export; every read is scoped by organization_id (the shard
-- key: no statement reads across organizations).
--
-- workspace_usage: one row a stretch of time during which a workspace's
--   billed state (status, cpu_cores, memory_mb, storage_gb, its name) did not
--   change. A create opens a row; a change of any of those columns ends the
--   open row and opens the next one at the same instant; a delete ends the
--   open row. ended_at is 9999-12-31 while the row is open (a sentinel
--   rather than NULL, so that "rows that end after the window starts" is a
--   range of workspace_usage_organization_end). Rows are never updated
--   otherwise and never deleted.
-- organization_user_events: every change of organizations.user_count, as
--   the signed delta at its time (the count at t is the sum of the deltas up
--   to t); peakUsers is the highest running sum during a window.
--
-- At migration time every existing workspace gets an open row and every
-- organization an event of its current user count, both at the migration's
-- time (no history before it is known). Their IDs are the workspace's and
-- the organization's: unique, and never those of a later row (fresh UUIDv7s).

-- +goose Up
CREATE TABLE workspace_usage (
  id              CHAR(36)     NOT NULL,
  organization_id CHAR(36)     NOT NULL,
  workspace_id    CHAR(36)     NOT NULL,
  workspace_name  VARCHAR(400) NOT NULL,
  status          VARCHAR(16)  NOT NULL,
  cpu_cores       INT          NOT NULL,
  memory_mb       INT          NOT NULL,
  storage_gb      INT          NOT NULL,
  started_at      DATETIME(6)  NOT NULL,
  ended_at        DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  KEY workspace_usage_organization_end (organization_id, ended_at),
  KEY workspace_usage_organization_start (organization_id, started_at),
  KEY workspace_usage_workspace (organization_id, workspace_id, ended_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE organization_user_events (
  id              CHAR(36)    NOT NULL,
  organization_id CHAR(36)    NOT NULL,
  delta           INT         NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (id),
  KEY organization_user_events_organization (organization_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO workspace_usage (id, organization_id, workspace_id, workspace_name, status, cpu_cores, memory_mb, storage_gb, started_at, ended_at)
SELECT id, organization_id, id, name, status, cpu_cores, memory_mb, storage_gb, UTC_TIMESTAMP(6), '9999-12-31 00:00:00'
FROM workspaces;
INSERT INTO organization_user_events (id, organization_id, delta, created_at)
SELECT id, id, user_count, UTC_TIMESTAMP(6)
FROM organizations WHERE user_count > 0;

-- +goose Down
DROP TABLE organization_user_events;
DROP TABLE workspace_usage;
