package organizations

// Platform administration of organizations (PLATFORM_ADMIN: create,
// suspend, reactivate, delete, search) and an organization's own admins'
// rename (ORG_ADMIN: updateOrganization).
//
// Rules:
//   - Names are cleaned like at registration (names.Display, 1 to 100
//     characters) and unique by their confusable skeleton (names.Skeleton):
//     a look-alike of another organization's name is CONFLICT.
//   - A SUSPENDED organization keeps everything; its users' session tokens
//     and its API tokens get ORGANIZATION_SUSPENDED (403) on their next
//     request (internal/auth, platform administrators exempt); ACTIVE again
//     restores everything as it was.
//   - deleteOrganization needs a SUSPENDED organization (else CONFLICT) and
//     deletes it and everything it owns in ONE transaction
//     (store.Organizations.Purge): all or nothing, no batches to resume.
//     Audit events stay (snapshots); organization.deleted, recorded in the
//     same transaction, keeps the organization's name and slug.
//   - The reserved organizations (default, operators) can be neither
//     suspended nor deleted: FORBIDDEN (no state of theirs would ever allow
//     it, so it is not a CONFLICT).

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gosimple/slug"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/audit"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/authz"
	"github.com/neosc/neosc/internal/domains"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/names"
	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/store"
)

// CreateInput is a new organization (createOrganization).
type CreateInput struct {
	Name   string
	Domain *string
	// Quota is the new organization's quota; nil: NEOSC_DEFAULT_QUOTA.
	Quota *store.Quota
}

// UpdateInput is an organization's change (updateOrganization); nil fields
// stay as they are.
type UpdateInput struct {
	Name *string
}

// Filter narrows organizations(filter:).
type Filter struct {
	Search *string
	Status *store.OrganizationStatus
}

var (
	errNameTaken = &apperr.Error{Code: apperr.Conflict, Field: "name",
		Message: "an organization with this name, or one that looks like it, exists; choose another name"}
	errDomainTaken  = &apperr.Error{Code: apperr.Conflict, Field: "domain", Message: "another organization uses this domain"}
	errReserved     = apperr.New(apperr.Forbidden, "a reserved organization (default, operators) can be neither suspended nor deleted")
	errNotSuspended = apperr.New(apperr.Conflict,
		"only a SUSPENDED organization can be deleted: suspend it first (setOrganizationStatus)")
)

// orgName cleans an organization name from input field.
func orgName(field, raw string) (name, key string, err error) {
	if name, err = names.Display(field, raw, 100); err != nil {
		return "", "", err
	}
	return name, names.Skeleton(name), nil
}

// CreateOrganization creates an ACTIVE tenant organization with no users
// (PLATFORM_ADMIN); its first admin is invited next. Recorded as
// organization.created (via createOrganization).
func (s *Service) CreateOrganization(ctx context.Context, in CreateInput) (*store.Organization, error) {
	actor, err := s.Authz.Own(ctx, authz.PlatformAdmin)
	if err != nil {
		return nil, err
	}
	name, key, err := orgName("name", in.Name)
	if err != nil {
		return nil, err
	}
	if in.Quota != nil {
		if err := quota.Validate(*in.Quota); err != nil {
			return nil, err
		}
	}
	var domain *string
	if in.Domain != nil && strings.TrimSpace(*in.Domain) != "" {
		d, err := domains.Normalize(*in.Domain)
		if err != nil {
			return nil, err
		}
		domain = &d
	}
	var out *store.Organization
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		if o, err := tx.Organizations.GetByNameKey(ctx, key); err != nil {
			return err
		} else if o != nil {
			return errNameTaken
		}
		if domain != nil {
			if taken, err := tx.Organizations.DomainTaken(ctx, *domain); err != nil {
				return err
			} else if taken {
				return errDomainTaken
			}
		}
		now := s.now()
		org := &store.Organization{ID: ids.New(), Name: name, NameKey: key, Domain: domain,
			Status: store.OrganizationActive, Kind: store.KindTenant, CreatedAt: now, UpdatedAt: now}
		var err error
		if org.Slug, err = uniqueSlug(ctx, tx, name); err != nil {
			return err
		}
		if in.Quota != nil {
			org.Quota = quota.Copy(*in.Quota)
		} else {
			quota.ApplyDefault(org, s.DefaultQuota)
		}
		if err := tx.Organizations.Create(ctx, org); err != nil {
			return err
		}
		out = org
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.OrganizationCreated, OrganizationID: org.ID, Actor: audit.ActorOf(actor),
			TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID,
			Metadata: map[string]any{"name": org.Name, "slug": org.Slug, "domain": deref(org.Domain), "via": "createOrganization",
				"quota": quota.Map(org.Quota)},
		})
	})
	if errors.Is(err, store.ErrDuplicate) {
		return nil, errNameTaken // a concurrent creation took the name (or slug) first
	}
	return out, err
}

// UpdateOrganization renames an organization (ORG_ADMIN of it; another
// organization is NOT_FOUND, audited). Recorded as organization.updated
// with the changes (before and after). The slug stays: links keep working.
func (s *Service) UpdateOrganization(ctx context.Context, id string, in UpdateInput) (*store.Organization, error) {
	var name, key string
	if in.Name != nil {
		var err error
		if name, key, err = orgName("name", *in.Name); err != nil {
			return nil, err
		}
	}
	var out *store.Organization
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		org, err := authz.FetchForUpdate[*store.Organization](ctx, s.Authz, tx, id, authz.OrgAdmin)
		if err != nil {
			return err
		}
		out = org
		if in.Name == nil || name == org.Name {
			return nil
		}
		if other, err := tx.Organizations.GetByNameKey(ctx, key); err != nil {
			return err
		} else if other != nil && other.ID != org.ID {
			return errNameTaken
		}
		now := s.now()
		if err := tx.Organizations.Rename(ctx, org.ID, name, key, now); err != nil {
			return err
		}
		before := *org
		org.Name, org.NameKey, org.NameLower, org.UpdatedAt = name, key, strings.ToLower(name), now
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.OrganizationUpdated, OrganizationID: org.ID, Actor: audit.ActorOf(auth.ActorFrom(ctx)),
			TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID,
			Metadata: map[string]any{"changes": audit.Diff(&before, org)},
		})
	})
	if errors.Is(err, store.ErrDuplicate) {
		return nil, errNameTaken
	}
	return out, err
}

// SetStatus suspends (SUSPENDED) or reactivates (ACTIVE) an organization
// (PLATFORM_ADMIN), recorded as organization.status_changed with the
// reason. Nothing is deleted. The same status again changes nothing.
func (s *Service) SetStatus(ctx context.Context, id string, status store.OrganizationStatus, reason *string) (*store.Organization, error) {
	if status != store.OrganizationActive && status != store.OrganizationSuspended {
		return nil, apperr.Invalid("status", "status must be ACTIVE or SUSPENDED")
	}
	var why string
	if reason != nil {
		why = strings.TrimSpace(*reason)
		if len([]rune(why)) > 500 {
			return nil, apperr.Invalid("reason", "reason must be at most 500 characters")
		}
	}
	var out *store.Organization
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		org, err := authz.FetchForUpdate[*store.Organization](ctx, s.Authz, tx, id, authz.PlatformAdmin)
		if err != nil {
			return err
		}
		if org.Reserved() {
			return errReserved
		}
		out = org
		if org.Status == status {
			return nil
		}
		now := s.now()
		if err := tx.Organizations.SetStatus(ctx, org.ID, status, now); err != nil {
			return err
		}
		before := *org
		org.Status, org.UpdatedAt = status, now
		meta := map[string]any{"changes": audit.Diff(&before, org)}
		meta["reason"], meta["name"], meta["slug"] = why, org.Name, org.Slug
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.OrganizationStatusChanged, OrganizationID: org.ID, Actor: audit.ActorOf(auth.ActorFrom(ctx)),
			TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID, Metadata: meta,
		})
	})
	return out, err
}

// Delete deletes a SUSPENDED organization and everything it owns, in one
// transaction (PLATFORM_ADMIN); its audit events stay, and
// organization.deleted keeps its snapshot. It answers the organization's
// ID.
func (s *Service) Delete(ctx context.Context, id string) (string, error) {
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		org, err := authz.FetchForUpdate[*store.Organization](ctx, s.Authz, tx, id, authz.PlatformAdmin)
		if err != nil {
			return err
		}
		if org.Reserved() {
			return errReserved
		}
		if org.Status != store.OrganizationSuspended {
			return errNotSuspended
		}
		// Its workspaces' billing stretches end now (the rows stay: they
		// are what was used, like the audit trail).
		if err := tx.Usage.EndOrganization(ctx, org.ID, s.now()); err != nil {
			return err
		}
		deleted, err := tx.Organizations.Purge(ctx, org.ID)
		if err != nil {
			return err
		}
		rows := map[string]any{}
		for table, n := range deleted {
			rows[table] = n
		}
		return audit.Record(ctx, tx, audit.Event{
			Action: audit.OrganizationDeleted, OrganizationID: org.ID, Actor: audit.ActorOf(auth.ActorFrom(ctx)),
			TargetType: ids.Organization, TargetID: org.ID, TargetOrgID: org.ID,
			Metadata: map[string]any{"organization": audit.Snapshot(org), "name": org.Name, "slug": org.Slug,
				"userCount": org.UserCount, "workspaceCount": org.WorkspaceCount, "deleted": rows},
		})
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// Search lists one page of the organizations the caller sees that match
// f: for a platform administrator every organization, by index (a prefix of
// the lower-cased name, of the slug or of the domain); for anyone else
// their own organization, if it matches.
func (s *Service) Search(ctx context.Context, f *Filter, page store.Page) (store.Listing[*store.Organization], error) {
	if f == nil || (f.Search == nil && f.Status == nil) {
		return s.Visible(ctx, page)
	}
	actor := auth.ActorFrom(ctx)
	if actor == nil {
		return store.Listing[*store.Organization]{}, apperr.ErrUnauthenticated
	}
	sf := store.OrganizationFilter{}
	if f.Search != nil {
		sf.Search = strings.ToLower(strings.TrimSpace(*f.Search))
		if len([]rune(sf.Search)) > 253 {
			return store.Listing[*store.Organization]{}, apperr.Invalid("search", "search must be at most 253 characters")
		}
	}
	if f.Status != nil {
		sf.Status = *f.Status
	}
	if actor.IsPlatformAdmin() {
		rows, hasNext, err := s.Store.Organizations.Search(ctx, sf, page)
		return store.Listing[*store.Organization]{Rows: rows, HasNext: hasNext,
			Count: func(ctx context.Context) (int, error) { return s.Store.Organizations.SearchCount(ctx, sf) }}, err
	}
	own := actor.Organization
	out := store.Listing[*store.Organization]{}
	if matches(&own, sf) {
		if cur, ok := store.CursorID(page.After); !ok || cur < own.ID {
			out.Rows = []*store.Organization{&own}
		}
		out.Count = func(context.Context) (int, error) { return 1, nil }
	} else {
		out.Count = func(context.Context) (int, error) { return 0, nil }
	}
	return out, nil
}

// matches applies f to o as Organizations.Search does in SQL.
func matches(o *store.Organization, f store.OrganizationFilter) bool {
	if f.Status != "" && o.Status != f.Status {
		return false
	}
	if f.Search == "" {
		return true
	}
	return strings.HasPrefix(strings.ToLower(o.Name), f.Search) || strings.HasPrefix(o.Slug, f.Search) ||
		o.Domain != nil && strings.HasPrefix(*o.Domain, f.Search)
}

// uniqueSlug derives a free slug from name, as registration does.
func uniqueSlug(ctx context.Context, tx *store.Store, name string) (string, error) {
	base := slug.Make(name)
	if len(base) > 100 {
		base = strings.Trim(base[:100], "-")
	}
	if base == "" {
		base = "org"
	}
	candidate := base
	for i := 2; i < 50; i++ {
		taken, err := tx.Organizations.SlugTaken(ctx, candidate)
		if err != nil || !taken {
			return candidate, err
		}
		candidate = fmt.Sprintf("%s-%d", base, i)
	}
	return base + "-" + ids.New()[:8], nil
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
