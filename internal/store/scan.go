package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/neosc/neosc/internal/apperr"
)

// The rows of the hot paths (the caller's row on every request, the
// lists of users, organizations, workspaces and audit events) are read
// with an explicit column list and scanned straight into their fields with
// database/sql: GORM still builds and runs the statement (its callbacks,
// the statement counters of the tests, the deadline), but no reflection
// runs per row and no column the row type does not have is read (issue
// 12: scanning through GORM was 15 % of an audit page's CPU).

// scanned is a row type read with explicit columns: dests lists its fields
// in the order of columns.
type scanned interface {
	columns() []string
	dests() []any
}

func (*User) columns() []string         { return userColumns }
func (*Organization) columns() []string { return orgColumns }
func (*Workspace) columns() []string    { return workspaceColumns }
func (*AuditEvent) columns() []string   { return auditColumns }

// userColumns are User's columns in dests order.
var userColumns = []string{"id", "organization_id", "email", "email_scope", "name", "password_hash", "role",
	"platform_admin", "status", "sso_issuer", "sso_subject", "created_at", "updated_at", "last_login_at", "email_verified_at",
	"sessions_valid_after"}

// The destinations below are the fields themselves where database/sql
// assigns without reflection (*string, *bool, *time.Time, and the string
// enums as *string), and small Scanners (intDest, nullString, nullInt,
// nullTime) where it would convert through reflection, or format an
// integer to parse it back.

func (u *User) dests() []any {
	return []any{&u.ID, &u.OrganizationID, &u.Email, &u.EmailScope, &u.Name, nullString{&u.PasswordHash}, (*string)(&u.Role),
		&u.PlatformAdmin, (*string)(&u.Status), nullString{&u.SSOIssuer}, nullString{&u.SSOSubject}, &u.CreatedAt, &u.UpdatedAt,
		nullTime{&u.LastLoginAt}, nullTime{&u.EmailVerifiedAt}, nullTime{&u.SessionsValidAfter}}
}

// dests lists Organization's fields in orgColumns order.
func (o *Organization) dests() []any {
	return []any{&o.ID, &o.Name, &o.NameKey, &o.NameLower, &o.Slug, nullString{&o.Domain}, (*string)(&o.Status),
		nullString{&o.ExternalIssuer}, nullString{&o.ExternalID}, intDest{&o.UserCount}, intDest{&o.WorkspaceCount}, (*string)(&o.Kind),
		&o.CreatedAt, &o.UpdatedAt, nullInt{&o.MaxUsers}, nullInt{&o.MaxWorkspaces}, nullInt{&o.MaxCPUCores}, nullInt{&o.MaxMemoryMB},
		nullInt{&o.MaxStorageGB}, intDest{&o.CPUCores}, intDest{&o.MemoryMB}, intDest{&o.StorageGB}}
}

// workspaceColumns are Workspace's columns in dests order.
var workspaceColumns = []string{"id", "organization_id", "name", "description", "type", "connection_type", "status",
	"image_url", "url", "cpu_cores", "memory_mb", "storage_gb", "created_at", "updated_at"}

func (w *Workspace) dests() []any {
	return []any{&w.ID, &w.OrganizationID, &w.Name, &w.Description, (*string)(&w.Type), (*string)(&w.ConnectionType), (*string)(&w.Status),
		nullString{&w.ImageURL}, nullString{&w.URL}, intDest{&w.CPUCores}, intDest{&w.MemoryMB}, intDest{&w.StorageGB}, &w.CreatedAt, &w.UpdatedAt}
}

// auditColumns are AuditEvent's columns in dests order: what every listing
// reads, then the request's details (ip_address, user_agent, request_id),
// then metadata, so that a listing that needs neither
// (AuditFilter.OmitRequest, OmitMetadata) reads a prefix: no user agent
// string copied, no JSON parsed, for fields the page does not select.
var auditColumns = []string{"id", "organization_id", "action", "outcome", "actor_id", "actor_email", "actor_organization_id",
	"target_type", "target_id", "target_organization_id", "created_at", "ip_address", "user_agent", "request_id", "metadata"}

// auditCore is how many of auditColumns every listing reads.
const auditCore = 11

func (e *AuditEvent) dests() []any {
	return []any{&e.ID, nullString{&e.OrganizationID}, &e.Action, (*string)(&e.Outcome), nullString{&e.ActorID}, nullString{&e.ActorEmail},
		nullString{&e.ActorOrganizationID}, nullString{&e.TargetType}, nullString{&e.TargetID}, nullString{&e.TargetOrganizationID},
		&e.CreatedAt, nullString{&e.IPAddress}, nullString{&e.UserAgent}, nullString{&e.RequestID}, &e.Metadata}
}

// intDest scans an integer column into an int.
type intDest struct{ p *int }

func (d intDest) Scan(src any) error {
	if v, ok := src.(int64); ok {
		*d.p = int(v)
		return nil
	}
	var n sql.Null[int]
	if err := n.Scan(src); err != nil || !n.Valid {
		return cmp.Or(err, fmt.Errorf("NULL in a NOT NULL integer column"))
	}
	*d.p = n.V
	return nil
}

// nullInt scans a nullable integer column into an *int.
type nullInt struct{ p **int }

func (d nullInt) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = nil
	case int64:
		n := int(v)
		*d.p = &n
	default:
		var n sql.Null[int]
		if err := n.Scan(src); err != nil {
			return err
		}
		*d.p = &n.V
	}
	return nil
}

// nullString scans a nullable text column into a *string.
type nullString struct{ p **string }

func (d nullString) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = nil
	case string:
		*d.p = &v
	case []byte:
		s := string(v)
		*d.p = &s
	default:
		return fmt.Errorf("cannot scan %T into a string", src)
	}
	return nil
}

// nullTime scans a nullable time column into a *time.Time.
type nullTime struct{ p **time.Time }

func (d nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = nil
	case time.Time:
		*d.p = &v
	default:
		var t sql.NullTime
		if err := t.Scan(src); err != nil {
			return err
		}
		*d.p = nil
		if t.Valid {
			*d.p = &t.Time
		}
	}
	return nil
}

// scanRows runs q (its select list matching P's dests, the first n of
// them when n > 0) and scans every row into a new E.
func scanRows[E any, P interface {
	*E
	scanned
}](q *gorm.DB, n int) ([]P, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []P
	for rows.Next() {
		row := P(new(E))
		d := row.dests()
		if n > 0 {
			d = d[:n]
		}
		if err := rows.Scan(d...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// scanOneRow runs a raw statement expected to find one row and scans it
// into dests; none is NOT_FOUND.
func scanOneRow(ctx context.Context, db *gorm.DB, dests []any, query string, args ...any) error {
	return scanInto(db.WithContext(ctx).Raw(query, args...), dests)
}

// scanFirst runs q, whose select list is s's columns, and scans its first
// row into s; none is NOT_FOUND.
func scanFirst(q *gorm.DB, s scanned) error { return scanInto(q, s.dests()) }

func scanInto(q *gorm.DB, dests []any) error {
	rows, err := q.Rows()
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return apperr.ErrNotFound
	}
	if err := rows.Scan(dests...); err != nil {
		return err
	}
	return rows.Close()
}

// keysetScan is keyset for a scanned row type: the same page (one row
// more than asked, to tell whether there is a next page), selecting cols
// (P's columns, or the first ones of them) instead of *.
func keysetScan[E any, P interface {
	*E
	scanned
}](q *gorm.DB, p Page, desc bool, cols []string) ([]P, bool, error) {
	return keysetScanOn[E, P](q, p, desc, "id", cols)
}

// keysetScanOn is keysetScan on column key instead of id (keysetOn).
func keysetScanOn[E any, P interface {
	*E
	scanned
}](q *gorm.DB, p Page, desc bool, key string, cols []string) ([]P, bool, error) {
	q, limit := keysetQuery(q, p, desc, key)
	rows, err := scanRows[E, P](q.Select(strings.Join(cols, ", ")), len(cols))
	if err != nil {
		return nil, false, err
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// qualified is cols, each prefixed with table: the select list of a join.
func qualified(table string, cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = table + "." + c
	}
	return out
}
