-- Audit search and export (Query.auditEvents, AuditEventFilter.targetType,
-- targetId, actorEmail, GET /audit/export). Listings are newest first by id
-- (UUIDv7): every filter a listing takes has an index that leads with its
-- equality columns and ends with id, so a deep page is an index range from
-- the cursor, whatever the size of the trail. Exports read a window of
-- created_at in (created_at, id) order.
--   organization:  (organization_id, id)                 existing
--   + targetId:    (organization_id, target_id, id)
--   + actorEmail:  (organization_id, actor_email, id)
--   root (no organization): PRIMARY KEY (id), (target_id, id), (actor_email, id)
--   exports:       (organization_id, created_at, id), (created_at, id)

-- +goose Up
CREATE INDEX audit_events_organization_time ON audit_events (organization_id, created_at, id);
CREATE INDEX audit_events_time ON audit_events (created_at, id);
CREATE INDEX audit_events_organization_target ON audit_events (organization_id, target_id, id);
CREATE INDEX audit_events_organization_actor_email ON audit_events (organization_id, actor_email, id);
CREATE INDEX audit_events_target ON audit_events (target_id, id);
CREATE INDEX audit_events_actor_email ON audit_events (actor_email, id);

-- +goose Down
DROP INDEX audit_events_actor_email ON audit_events;
DROP INDEX audit_events_target ON audit_events;
DROP INDEX audit_events_organization_actor_email ON audit_events;
DROP INDEX audit_events_organization_target ON audit_events;
DROP INDEX audit_events_time ON audit_events;
DROP INDEX audit_events_organization_time ON audit_events;
