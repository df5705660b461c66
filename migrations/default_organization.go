package migrations

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gosimple/slug"
	"github.com/pressly/goose/v3"

	"github.com/neosc/neosc/internal/domains"
	"github.com/neosc/neosc/internal/names"
)

// DefaultOrganizationName is the name of the default organization when
// NEOSC_DEFAULT_ORG_NAME is not set.
const DefaultOrganizationName = "Default Organization"

// Go returns the migrations written in Go, the same for both engines, for a
// deployment whose default organization is named defaultOrg.
func Go(defaultOrg string) []*goose.Migration {
	if defaultOrg == "" {
		defaultOrg = DefaultOrganizationName
	}
	return []*goose.Migration{
		goose.NewGoMigration(7,
			&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return upDefaultOrganization(ctx, tx, defaultOrg) }},
			&goose.GoFunc{RunTx: downDefaultOrganization}),
		goose.NewGoMigration(8, &goose.GoFunc{RunTx: upCanonicalIssuers}, &goose.GoFunc{RunTx: downCanonicalIssuers}),
	}
}

// upDefaultOrganization is migration 00007:
//
//  1. Organization names become unique by their confusable skeleton
//     (names.Skeleton): every name_key is recomputed, oldest organization
//     first; a later organization whose name now looks like an earlier one's
//     is renamed "<name> (2)", "(3)", … and the rename is audited in its trail.
//  2. The default organization is created here, named defaultOrg, of kind
//     DEFAULT: reserved, no domain, nobody joins it by name or becomes its
//     ADMIN by registering. Before this migration it was created lazily by the
//     first registration, so an attacker could create it first by name and
//     become its ADMIN. An existing organization of that name is kept as the
//     default only if it shows no sign of having been taken (no domain, no
//     ADMIN, not provisioned by SSO); otherwise it is a user's organization:
//     it is renamed "<name> (renamed <date>)" (its members stay in it, the
//     rename is audited in its trail for the operators to review) and the
//     real default organization is created beside it.
//  3. A primary domain is now set only by DNS verification. Before, a
//     founder's email domain became the new organization's domain unverified
//     (a squatter's "contoso.com" would keep showing, and keep the real
//     company's verified domain from becoming its primary). Every primary
//     domain of an organization not provisioned by SSO (whose domain comes
//     from its identity provider, per the contract) is cleared and recorded
//     as an unverified domain of it (none for a public mail domain), audited,
//     for its admins to verify.
func upDefaultOrganization(ctx context.Context, tx *sql.Tx, defaultOrg string) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := rekey(ctx, tx, now); err != nil {
		return err
	}
	if err := unverifyDomains(ctx, tx, now); err != nil {
		return err
	}
	key := names.Skeleton(defaultOrg)
	var (
		id             string
		domain, issuer sql.NullString
	)
	err := tx.QueryRowContext(ctx, "SELECT id, domain, external_issuer FROM organizations WHERE name_key = ?", key).Scan(&id, &domain, &issuer)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return err
	default:
		var admins int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE organization_id = ? AND role = 'ADMIN'", id).Scan(&admins); err != nil {
			return err
		}
		if !domain.Valid && !issuer.Valid && admins == 0 {
			_, err := tx.ExecContext(ctx, "UPDATE organizations SET kind = 'DEFAULT' WHERE id = ?", id)
			return err
		}
		if err := rename(ctx, tx, id, defaultOrg, fmt.Sprintf("%s (renamed %s)", defaultOrg, now.Format("2006-01-02")), now,
			"took the default organization's name before it was reserved"); err != nil {
			return err
		}
	}
	return createDefault(ctx, tx, defaultOrg, key, now)
}

// orgText is an organization's ID and one text column of it.
type orgText struct{ id, text string }

// organizations runs query, which selects an organization's id and one
// text column, and reads every row before the caller writes.
func organizations(ctx context.Context, tx *sql.Tx, query string) ([]orgText, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	var out []orgText
	for rows.Next() {
		var o orgText
		if err := rows.Scan(&o.id, &o.text); err != nil {
			_ = rows.Close()
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Close()
}

// unverifyDomains is step 3 of upDefaultOrganization.
func unverifyDomains(ctx context.Context, tx *sql.Tx, now time.Time) error {
	orgs, err := organizations(ctx, tx, "SELECT id, domain FROM organizations WHERE domain IS NOT NULL AND external_issuer IS NULL")
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if _, err := tx.ExecContext(ctx, "UPDATE organizations SET domain = NULL, updated_at = ? WHERE id = ?", now, o.id); err != nil {
			return err
		}
		if !domains.IsPublicMailDomain(o.text) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO organization_domains
				(id, organization_id, domain, verification_token, verified_at, verified_domain, enrollment, created_at, updated_at)
				VALUES (?, ?, ?, ?, NULL, NULL, 'INVITATION_ONLY', ?, ?)`, uuid.Must(uuid.NewV7()).String(), o.id, o.text, rand.Text(), now, now); err != nil {
				return err
			}
		}
		if err := audit(ctx, tx, "00007", o.id, "organization.updated", map[string]any{
			"changes": map[string]any{"domain": map[string]any{"from": o.text, "to": nil}},
			"reason":  "a primary domain is now set only by DNS verification; verify it to make it primary again", "via": "migration 00007",
		}, now); err != nil {
			return err
		}
	}
	return nil
}

// rekey recomputes every name_key as the name's skeleton, renaming later
// look-alikes. Keys are first moved out of the way, so that the unique index
// never sees two rows with one key in between.
func rekey(ctx context.Context, tx *sql.Tx, now time.Time) error {
	orgs, err := organizations(ctx, tx, "SELECT id, name FROM organizations ORDER BY created_at, id")
	if err != nil {
		return err
	}
	for _, o := range orgs {
		if _, err := tx.ExecContext(ctx, "UPDATE organizations SET name_key = ? WHERE id = ?", "~"+o.id, o.id); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, o := range orgs {
		name := o.text
		for n := 2; seen[names.Skeleton(name)]; n++ {
			name = fmt.Sprintf("%s (%d)", o.text, n)
		}
		seen[names.Skeleton(name)] = true
		if name != o.text {
			if err := rename(ctx, tx, o.id, o.text, name, now, "its name looked like an older organization's"); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "UPDATE organizations SET name_key = ? WHERE id = ?", names.Skeleton(name), o.id); err != nil {
			return err
		}
	}
	return nil
}

// rename renames an organization and records organization.updated in its
// trail, the actor being this migration.
func rename(ctx context.Context, tx *sql.Tx, id, from, to string, now time.Time, reason string) error {
	if _, err := tx.ExecContext(ctx, "UPDATE organizations SET name = ?, name_key = ?, updated_at = ? WHERE id = ?",
		to, names.Skeleton(to), now, id); err != nil {
		return err
	}
	return audit(ctx, tx, "00007", id, "organization.updated", map[string]any{
		"changes": map[string]any{"name": map[string]any{"from": from, "to": to}}, "reason": reason, "via": "migration 00007",
	}, now)
}

// createDefault inserts the default organization and records its creation.
func createDefault(ctx context.Context, tx *sql.Tx, name, key string, now time.Time) error {
	id := uuid.Must(uuid.NewV7()).String()
	base := slug.Make(name)
	if base == "" {
		base = "default"
	}
	s := base
	for n := 2; ; n++ {
		var taken int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM organizations WHERE slug = ?", s).Scan(&taken); err != nil {
			return err
		}
		if taken == 0 {
			break
		}
		s = fmt.Sprintf("%s-%d", base, n)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO organizations
		(id, name, name_key, slug, domain, status, external_issuer, external_id, user_count, workspace_count, kind, created_at, updated_at)
		VALUES (?, ?, ?, ?, NULL, 'ACTIVE', NULL, NULL, 0, 0, 'DEFAULT', ?, ?)`, id, name, key, s, now, now); err != nil {
		return err
	}
	return audit(ctx, tx, "00007", id, "organization.created", map[string]any{"name": name, "slug": s, "reserved": true, "via": "migration 00007"}, now)
}

// audit records an event about organization orgID in its trail, the actor
// being migration version.
func audit(ctx context.Context, tx *sql.Tx, version, orgID, action string, meta map[string]any, now time.Time) error {
	metadata, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_events
		(id, organization_id, action, outcome, actor_email, target_type, target_id, target_organization_id, metadata, created_at)
		VALUES (?, ?, ?, 'SUCCESS', ?, 'Organization', ?, ?, ?, ?)`,
		uuid.Must(uuid.NewV7()).String(), orgID, action, "migration:"+version, orgID, orgID, string(metadata), now)
	return err
}

// downDefaultOrganization makes the default organization an ordinary one
// again and restores lower-cased name keys; no row is deleted (users may
// belong to it) and renames stay.
func downDefaultOrganization(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, "UPDATE organizations SET kind = 'TENANT' WHERE kind = 'DEFAULT'"); err != nil {
		return err
	}
	orgs, err := organizations(ctx, tx, "SELECT id, name FROM organizations")
	if err != nil {
		return err
	}
	keys := map[string]string{}
	for _, o := range orgs {
		keys[o.id] = strings.ToLower(o.text)
	}
	for id, k := range keys {
		if _, err := tx.ExecContext(ctx, "UPDATE organizations SET name_key = ? WHERE id = ?", k, id); err != nil {
			return err
		}
	}
	return nil
}
