-- The number of organizations as an exact counter (issue 12). The platform
-- administrators' organizations { totalCount } was COUNT(*) over the whole
-- table: a scan that grows with the platform (1,000 organizations cost the
-- request ~27 % more CPU than 100 on both engines, and it would be a
-- table scan per page at 100,000). Creating an organization (store
-- Organizations.Create, in the creating transaction) adds 1 to one of 16
-- slots chosen by the new ID's hash, so concurrent sign-ups on different
-- replicas or Galera nodes rarely update the same row; the count is the sum
-- of the 16 rows. Organizations are never deleted. The slots start at 0 and
-- slot 0 takes the organizations that exist now.

-- +goose Up
CREATE TABLE organization_counts (
    slot INT    NOT NULL PRIMARY KEY,
    n    BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB;
INSERT INTO organization_counts (slot, n) VALUES (0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0),
    (8, 0), (9, 0), (10, 0), (11, 0), (12, 0), (13, 0), (14, 0), (15, 0);
UPDATE organization_counts SET n = (SELECT COUNT(*) FROM organizations) WHERE slot = 0;

-- +goose Down
DROP TABLE organization_counts;
