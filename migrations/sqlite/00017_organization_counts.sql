-- The number of organizations as an exact counter; see migrations/mysql/00017.

-- +goose Up
CREATE TABLE organization_counts (
    slot INTEGER NOT NULL PRIMARY KEY,
    n    INTEGER NOT NULL DEFAULT 0
);
WITH RECURSIVE s(slot) AS (SELECT 0 UNION ALL SELECT slot + 1 FROM s WHERE slot < 15)
INSERT INTO organization_counts (slot, n) SELECT slot, 0 FROM s;
UPDATE organization_counts SET n = (SELECT COUNT(*) FROM organizations) WHERE slot = 0;

-- +goose Down
DROP TABLE organization_counts;
