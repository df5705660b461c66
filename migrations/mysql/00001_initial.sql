-- The initial schema: organizations, their users and workspaces, and the
-- audit trail. Every tenant table carries organization_id and its secondary
-- indexes lead with it, so the schema shards by organization. The unique keys
-- on id and email are global by nature (lookup tables when sharded).

-- +goose Up
CREATE TABLE organizations (
  id              CHAR(36)     NOT NULL,
  name            VARCHAR(100) NOT NULL,
  name_key        VARCHAR(100) NOT NULL,
  slug            VARCHAR(120) NOT NULL,
  domain          VARCHAR(253) NULL,
  status          VARCHAR(16)  NOT NULL,
  external_issuer VARCHAR(255) NULL,
  external_id     VARCHAR(255) NULL,
  user_count      INT          NOT NULL DEFAULT 0,
  workspace_count INT          NOT NULL DEFAULT 0,
  created_at      DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY organizations_name_key (name_key),
  UNIQUE KEY organizations_slug (slug),
  UNIQUE KEY organizations_domain (domain),
  UNIQUE KEY organizations_external (external_issuer, external_id),
  CONSTRAINT organizations_counts CHECK (user_count >= 0 AND workspace_count >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE users (
  id              CHAR(36)     NOT NULL,
  organization_id CHAR(36)     NOT NULL,
  email           VARCHAR(254) NOT NULL,
  name            VARCHAR(200) NOT NULL,
  password_hash   VARCHAR(255) NULL,
  role            VARCHAR(16)  NOT NULL,
  platform_admin  BOOLEAN      NOT NULL DEFAULT FALSE,
  status          VARCHAR(16)  NOT NULL,
  sso_issuer      VARCHAR(255) NULL,
  sso_subject     VARCHAR(255) NULL,
  created_at      DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  last_login_at   DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY users_email (email),
  KEY users_organization (organization_id, id),
  CONSTRAINT users_organization_fk FOREIGN KEY (organization_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE workspaces (
  id              CHAR(36)      NOT NULL,
  organization_id CHAR(36)      NOT NULL,
  name            VARCHAR(100)  NOT NULL,
  description     VARCHAR(2000) NOT NULL DEFAULT '',
  type            VARCHAR(16)   NOT NULL,
  connection_type VARCHAR(16)   NOT NULL,
  status          VARCHAR(16)   NOT NULL,
  image_url       VARCHAR(2048) NULL,
  url             VARCHAR(2048) NULL,
  cpu_cores       INT           NOT NULL,
  memory_mb       INT           NOT NULL,
  storage_gb      INT           NOT NULL,
  created_at      DATETIME(6)   NOT NULL,
  updated_at      DATETIME(6)   NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY workspaces_organization_name (organization_id, name),
  KEY workspaces_organization (organization_id, id),
  CONSTRAINT workspaces_organization_fk FOREIGN KEY (organization_id) REFERENCES organizations (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- No foreign keys: an event is a snapshot that outlives what it names.
-- organization_id is NULL only for platform events with no tenant (a failed
-- login for an unknown email).
CREATE TABLE audit_events (
  id                     CHAR(36)     NOT NULL,
  organization_id        CHAR(36)     NULL,
  action                 VARCHAR(64)  NOT NULL,
  outcome                VARCHAR(16)  NOT NULL,
  actor_id               CHAR(36)     NULL,
  actor_email            VARCHAR(254) NULL,
  actor_organization_id  CHAR(36)     NULL,
  target_type            VARCHAR(32)  NULL,
  target_id              CHAR(36)     NULL,
  target_organization_id CHAR(36)     NULL,
  metadata               TEXT         NOT NULL,
  ip_address             VARCHAR(64)  NULL,
  user_agent             VARCHAR(512) NULL,
  request_id             VARCHAR(64)  NULL,
  created_at             DATETIME(6)  NOT NULL,
  PRIMARY KEY (id),
  KEY audit_events_organization (organization_id, id),
  KEY audit_events_organization_action (organization_id, action, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE audit_events;
DROP TABLE workspaces;
DROP TABLE users;
DROP TABLE organizations;
