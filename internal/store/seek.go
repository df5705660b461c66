package store

import "gorm.io/gorm"

// seek names the index a keyset page must walk on MySQL/MariaDB: FORCE
// INDEX (index) on table. MariaDB 10.11 plans "scope = ? AND id > ? ORDER
// BY id LIMIT n" as ref on the scope column alone whenever its range
// estimate for the primary key looks cheaper than the ref, and then walks
// every index entry of the organization before the cursor (40,056 entries
// instead of 52 for a cursor 40,000 users deep; docs/query-plans.md). With
// the index forced the plan is the range from the cursor. SQLite plans the
// range by itself: q is returned unchanged there. index is one of the
// indexes of migrations/ that lead with the list's equality columns and end
// with id (TestKeysetPlans checks every list's plan on both engines).
func seek(q *gorm.DB, table, index string) *gorm.DB {
	if q.Dialector.Name() != "mysql" {
		return q
	}
	return q.Table(table + forceIndex(q, index))
}

// forceIndex is the " FORCE INDEX (index)" to write after a table name on
// MySQL, "" on SQLite.
func forceIndex(q *gorm.DB, index string) string {
	if q.Dialector.Name() != "mysql" {
		return ""
	}
	return " FORCE INDEX (" + index + ")"
}
