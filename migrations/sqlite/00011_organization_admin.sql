-- Organization administration (issue 11): the lower-cased name, key of the
-- name-prefix search of organizations(filter: {search}) for platform
-- administrators (slug and domain already have unique indexes). Kept by
-- store.Organization.BeforeSave and Organizations.Rename.

-- +goose Up
ALTER TABLE organizations ADD COLUMN name_lower TEXT NOT NULL DEFAULT '';
UPDATE organizations SET name_lower = LOWER(name);
CREATE INDEX organizations_name_lower ON organizations (name_lower);

-- +goose Down
DROP INDEX organizations_name_lower;
ALTER TABLE organizations DROP COLUMN name_lower;
