package migrations

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"
)

// upCanonicalIssuers is migration 00008: identities of an OpenID Provider
// become keyed by its issuer without trailing slashes (auth.CanonicalIssuer).
//
// Before it, users.sso_issuer, users.email_scope and
// organizations.external_issuer held NEOSC_OIDC_ISSUER exactly as
// configured, so "https://idp/" and "https://idp" (both verify the same
// tokens) keyed two identities: changing the spelling provisioned every
// user and organization again. A migration cannot know the provider's
// discovery document, nor which spelling was configured when, so the
// mapping depends on the rows alone:
//
//   - A row whose issuer ends in "/" takes the issuer without it, unless a
//     row already holds that key (organization: issuer and external ID;
//     user: issuer and subject, or issuer and email).
//   - Rows already without trailing slash keep their key; among several
//     rows with a slash and no row without, the oldest takes the key.
//   - A user follows its organization: users of an organization that keeps
//     its slash keep theirs.
//   - A row that keeps its slash is a duplicate made by a change of
//     spelling. It is left as it is: no token reaches it any more (the
//     service only looks up canonical keys), its members and data stay, and
//     an organization.updated event in its organization's trail says so,
//     for operators to review. The next sign-in of such a user lands in the
//     identity that holds the key.
//
// Deployments that only ever used one spelling have no duplicates: every
// row simply loses its trailing slash.
func upCanonicalIssuers(ctx context.Context, tx *sql.Tx) error {
	keptOrgs, err := canonicalOrganizations(ctx, tx)
	if err != nil {
		return err
	}
	keptUsers, err := canonicalUsers(ctx, tx, keptOrgs)
	if err != nil {
		return err
	}
	return noteDuplicates(ctx, tx, keptOrgs, keptUsers, time.Now().UTC().Truncate(time.Microsecond))
}

func canonicalIssuer(iss string) string { return strings.TrimRight(iss, "/") }

// canonicalOrganizations rewrites organizations.external_issuer. It returns
// the organizations that keep their old issuer, each with the ID of the
// organization that holds its key.
func canonicalOrganizations(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := stringRows(ctx, tx, `SELECT id, external_issuer, external_id FROM organizations
		WHERE external_issuer IS NOT NULL AND external_id IS NOT NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	holder := map[[2]string]string{} // (issuer, external ID) → organization
	for _, r := range rows {
		holder[[2]string{r[1], r[2]}] = r[0]
	}
	kept := map[string]string{}
	for _, r := range rows {
		id, issuer, extID := r[0], r[1], r[2]
		key := [2]string{canonicalIssuer(issuer), extID}
		if key[0] == issuer {
			continue
		}
		if other, taken := holder[key]; taken {
			kept[id] = other
			continue
		}
		if _, err := tx.ExecContext(ctx, "UPDATE organizations SET external_issuer = ? WHERE id = ?", key[0], id); err != nil {
			return nil, err
		}
		holder[key] = id
	}
	return kept, nil
}

// canonicalUsers rewrites users.sso_issuer and users.email_scope. It returns
// the users that keep their old issuer, by organization.
func canonicalUsers(ctx context.Context, tx *sql.Tx, keptOrgs map[string]string) (map[string][]string, error) {
	taken := map[[3]string]bool{} // ("sub", issuer, subject) and ("email", scope, email) in use
	scoped, err := stringRows(ctx, tx, "SELECT email_scope, email FROM users WHERE email_scope <> ''")
	if err != nil {
		return nil, err
	}
	for _, r := range scoped {
		taken[[3]string{"email", r[0], r[1]}] = true
	}
	rows, err := stringRows(ctx, tx, `SELECT id, organization_id, sso_issuer, sso_subject, email, email_scope FROM users
		WHERE sso_issuer IS NOT NULL AND sso_subject IS NOT NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		taken[[3]string{"sub", r[2], r[3]}] = true
	}
	kept := map[string][]string{}
	for _, r := range rows {
		id, org, issuer, subject, email, scope := r[0], r[1], r[2], r[3], r[4], r[5]
		canon := canonicalIssuer(issuer)
		if canon == issuer {
			continue
		}
		newScope := scope // an SSO user's email is unique within its issuer
		if scope == issuer {
			newScope = canon
		}
		_, orgKept := keptOrgs[org]
		if orgKept || taken[[3]string{"sub", canon, subject}] || (newScope != scope && taken[[3]string{"email", newScope, email}]) {
			kept[org] = append(kept[org], id)
			continue
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET sso_issuer = ?, email_scope = ? WHERE id = ?", canon, newScope, id); err != nil {
			return nil, err
		}
		taken[[3]string{"sub", canon, subject}], taken[[3]string{"email", newScope, email}] = true, true
	}
	return kept, nil
}

// noteDuplicates records, in each affected organization's trail, what
// keeps its old issuer and why.
func noteDuplicates(ctx context.Context, tx *sql.Tx, keptOrgs map[string]string, keptUsers map[string][]string, now time.Time) error {
	orgs := map[string]bool{}
	for org := range keptOrgs {
		orgs[org] = true
	}
	for org := range keptUsers {
		orgs[org] = true
	}
	ids := make([]string, 0, len(orgs))
	for org := range orgs {
		ids = append(ids, org)
	}
	sort.Strings(ids)
	for _, org := range ids {
		meta := map[string]any{"via": "migration 00008", "ssoUnreachableUsers": keptUsers[org],
			"reason": "provisioned again after NEOSC_OIDC_ISSUER's spelling changed (trailing slash): " +
				"another user holds these users' identity (issuer and subject, or email); sign-in no longer reaches them"}
		if other, ok := keptOrgs[org]; ok {
			meta["duplicateOf"] = other
			meta["reason"] = "provisioned again after NEOSC_OIDC_ISSUER's spelling changed (trailing slash): organization " +
				other + " holds this identity provider organization; sign-in no longer reaches this one or its members"
		}
		if err := audit(ctx, tx, "00008", org, "organization.updated", meta, now); err != nil {
			return err
		}
	}
	return nil
}

// stringRows reads the rows of a query whose columns are all strings.
func stringRows(ctx context.Context, tx *sql.Tx, query string) ([][]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		r := make([]string, len(cols))
		dest := make([]any, len(cols))
		for i := range r {
			dest[i] = &r[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// downCanonicalIssuers changes nothing: the spelling each row had is not
// kept, and the canonical one verifies the same tokens. (Code from before
// 00008 configured with a trailing slash would provision those identities
// again; configure the issuer without it before rolling back.)
func downCanonicalIssuers(context.Context, *sql.Tx) error { return nil }
