package store

import (
	"context"
	"io"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/neosc/neosc/internal/ids"
)

// DomainEnrollment is how registrants whose email is at a verified domain
// of an organization may join it.
type DomainEnrollment string

// The enrollment values, spelled as in the schema.
const (
	EnrollmentInvitationOnly DomainEnrollment = "INVITATION_ONLY"
	EnrollmentAutoJoin       DomainEnrollment = "AUTO_JOIN"
)

// MarshalGQL writes the enum value.
func (e DomainEnrollment) MarshalGQL(w io.Writer) { writeQuoted(w, string(e)) }

// UnmarshalGQL reads and validates the enum value.
func (e *DomainEnrollment) UnmarshalGQL(v any) (err error) {
	*e, err = unmarshalEnum(v, "DomainEnrollment", EnrollmentInvitationOnly, EnrollmentAutoJoin)
	return err
}

// OrganizationDomain is an email domain an organization claims. It is
// verified once a DNS TXT record proves the organization controls it;
// VerifiedDomain is then Domain (else nil), unique across organizations.
type OrganizationDomain struct {
	ID                string `gorm:"primaryKey"`
	OrganizationID    string
	Domain            string // lower-case A-label
	VerificationToken string // the TXT value's secret part; public once published
	VerifiedAt        *time.Time
	VerifiedDomain    *string
	Enrollment        DomainEnrollment
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// TableName is the organization_domains table.
func (OrganizationDomain) TableName() string { return "organization_domains" }

// Verified reports whether the domain has been verified.
func (d *OrganizationDomain) Verified() bool { return d.VerifiedAt != nil }

// OwnerOrganizationID is the organization that claims the domain.
func (d *OrganizationDomain) OwnerOrganizationID() string { return d.OrganizationID }

// NodeType is the type OrganizationDomain rows are audited and authorized
// as (valid on a nil pointer). They have no global ID of their own: the API
// names them by domain inside the caller's organization.
func (*OrganizationDomain) NodeType() ids.Type { return ids.OrganizationDomain }

// RowID is the row's primary key.
func (d *OrganizationDomain) RowID() string { return d.ID }

// Domains reads and writes the domains organizations claim.
type Domains struct{ db *gorm.DB }

// Create inserts a domain of its organization. A second row for the same
// organization and domain is ErrDuplicate.
func (r Domains) Create(ctx context.Context, d *OrganizationDomain) error {
	if d.OrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Create(d).Error
}

// Get returns an organization's row for domain (locked until the
// transaction ends with lock); apperr.ErrNotFound when it has none.
func (r Domains) Get(ctx context.Context, orgID, domain string, lock bool) (*OrganizationDomain, error) {
	if orgID == "" {
		return nil, ErrNoScope
	}
	q := r.db.WithContext(ctx)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var d OrganizationDomain
	if err := q.Where("organization_id = ? AND domain = ?", orgID, domain).Take(&d).Error; err != nil {
		return nil, notFound(err)
	}
	return &d, nil
}

// ListByOrganization lists an organization's domains by name (an
// organization has few; the service bounds them).
func (r Domains) ListByOrganization(ctx context.Context, orgID string) ([]*OrganizationDomain, error) {
	if orgID == "" {
		return nil, ErrNoScope
	}
	var out []*OrganizationDomain
	err := r.db.WithContext(ctx).Where("organization_id = ?", orgID).Order("domain ASC").Find(&out).Error
	return out, err
}

// CountByOrganization counts an organization's domains.
func (r Domains) CountByOrganization(ctx context.Context, orgID string) (int, error) {
	if orgID == "" {
		return 0, ErrNoScope
	}
	var n int64
	err := r.db.WithContext(ctx).Model(&OrganizationDomain{}).Where("organization_id = ?", orgID).Count(&n).Error
	return int(n), err
}

// GetVerified returns the row of the organization that verified domain,
// whichever it is; nil when no organization has. Unscoped on purpose: a
// domain is verified by at most one organization, and both "may this
// organization claim it" and "which organization does a registrant with
// this email domain join" ask exactly that.
func (r Domains) GetVerified(ctx context.Context, domain string) (*OrganizationDomain, error) {
	return firstOrNil[OrganizationDomain](r.db.WithContext(ctx).Where("verified_domain = ?", domain))
}

// Update writes d's verification, enrollment and updated_at back, inside
// its organization only. Verifying a domain another organization has
// verified is ErrDuplicate.
func (r Domains) Update(ctx context.Context, d *OrganizationDomain) error {
	if d.OrganizationID == "" {
		return ErrNoScope
	}
	return updateIn(ctx, r.db, d.OrganizationID, d.ID, d, "verified_at", "verified_domain", "enrollment", "updated_at")
}

// Delete removes a domain of an organization; apperr.ErrNotFound when it
// has no such row.
func (r Domains) Delete(ctx context.Context, orgID, id string) error {
	if orgID == "" {
		return ErrNoScope
	}
	return deleteIn[OrganizationDomain](ctx, r.db, orgID, id)
}

// VerifiedByOrganizations returns, for each of the organizations orgIDs, the
// domains it verified by DNS, sorted: public facts (anyone can look the TXT
// records up), shown to the parties of a grant offer.
func (r Domains) VerifiedByOrganizations(ctx context.Context, orgIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(orgIDs) == 0 {
		return out, nil
	}
	var rows []OrganizationDomain
	err := r.db.WithContext(ctx).Where("organization_id IN ? AND verified_domain IS NOT NULL", orgIDs).
		Order("domain").Find(&rows).Error
	for _, d := range rows {
		out[d.OrganizationID] = append(out[d.OrganizationID], d.Domain)
	}
	return out, err
}
