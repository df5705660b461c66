-- The initial schema for the embedded engine; the same tables, columns and
-- indexes as migrations/mysql/00001_initial.sql.

-- +goose Up
CREATE TABLE organizations (
  id              TEXT     NOT NULL PRIMARY KEY,
  name            TEXT     NOT NULL,
  name_key        TEXT     NOT NULL,
  slug            TEXT     NOT NULL,
  domain          TEXT     NULL,
  status          TEXT     NOT NULL,
  external_issuer TEXT     NULL,
  external_id     TEXT     NULL,
  user_count      INTEGER  NOT NULL DEFAULT 0 CHECK (user_count >= 0),
  workspace_count INTEGER  NOT NULL DEFAULT 0 CHECK (workspace_count >= 0),
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (name_key);
CREATE UNIQUE INDEX organizations_slug ON organizations (slug);
CREATE UNIQUE INDEX organizations_domain ON organizations (domain);
CREATE UNIQUE INDEX organizations_external ON organizations (external_issuer, external_id);

CREATE TABLE users (
  id              TEXT     NOT NULL PRIMARY KEY,
  organization_id TEXT     NOT NULL REFERENCES organizations (id),
  email           TEXT     NOT NULL,
  name            TEXT     NOT NULL,
  password_hash   TEXT     NULL,
  role            TEXT     NOT NULL,
  platform_admin  BOOLEAN  NOT NULL DEFAULT FALSE,
  status          TEXT     NOT NULL,
  sso_issuer      TEXT     NULL,
  sso_subject     TEXT     NULL,
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL,
  last_login_at   DATETIME NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_organization ON users (organization_id, id);

CREATE TABLE workspaces (
  id              TEXT     NOT NULL PRIMARY KEY,
  organization_id TEXT     NOT NULL REFERENCES organizations (id),
  name            TEXT     NOT NULL,
  description     TEXT     NOT NULL DEFAULT '',
  type            TEXT     NOT NULL,
  connection_type TEXT     NOT NULL,
  status          TEXT     NOT NULL,
  image_url       TEXT     NULL,
  url             TEXT     NULL,
  cpu_cores       INTEGER  NOT NULL,
  memory_mb       INTEGER  NOT NULL,
  storage_gb      INTEGER  NOT NULL,
  created_at      DATETIME NOT NULL,
  updated_at      DATETIME NOT NULL
);
CREATE UNIQUE INDEX workspaces_organization_name ON workspaces (organization_id, name);
CREATE INDEX workspaces_organization ON workspaces (organization_id, id);

CREATE TABLE audit_events (
  id                     TEXT     NOT NULL PRIMARY KEY,
  organization_id        TEXT     NULL,
  action                 TEXT     NOT NULL,
  outcome                TEXT     NOT NULL,
  actor_id               TEXT     NULL,
  actor_email            TEXT     NULL,
  actor_organization_id  TEXT     NULL,
  target_type            TEXT     NULL,
  target_id              TEXT     NULL,
  target_organization_id TEXT     NULL,
  metadata               TEXT     NOT NULL,
  ip_address             TEXT     NULL,
  user_agent             TEXT     NULL,
  request_id             TEXT     NULL,
  created_at             DATETIME NOT NULL
);
CREATE INDEX audit_events_organization ON audit_events (organization_id, id);
CREATE INDEX audit_events_organization_action ON audit_events (organization_id, action, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE workspaces;
DROP TABLE users;
DROP TABLE organizations;
