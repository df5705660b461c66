-- Audit search and export; see migrations/mysql/00014.

-- +goose Up
CREATE INDEX audit_events_organization_time ON audit_events (organization_id, created_at, id);
CREATE INDEX audit_events_time ON audit_events (created_at, id);
CREATE INDEX audit_events_organization_target ON audit_events (organization_id, target_id, id);
CREATE INDEX audit_events_organization_actor_email ON audit_events (organization_id, actor_email, id);
CREATE INDEX audit_events_target ON audit_events (target_id, id);
CREATE INDEX audit_events_actor_email ON audit_events (actor_email, id);

-- +goose Down
DROP INDEX audit_events_actor_email;
DROP INDEX audit_events_target;
DROP INDEX audit_events_organization_actor_email;
DROP INDEX audit_events_organization_target;
DROP INDEX audit_events_time;
DROP INDEX audit_events_organization_time;
