package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/neosc/neosc/internal/ids"
)

// IPRanges is a list of canonical CIDRs, stored as one ','-separated text
// ("" for none: every address).
type IPRanges []string

// Value writes the list as text.
func (r IPRanges) Value() (driver.Value, error) { return strings.Join(r, ","), nil }

// Scan reads the text written by Value (NULL: none).
func (r *IPRanges) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
	default:
		return fmt.Errorf("IPRanges: cannot scan %T", src)
	}
	*r = nil
	if s != "" {
		*r = strings.Split(s, ",")
	}
	return nil
}

// SecurityPolicy is what authentication and sign-in enforce for an
// organization (the zero value: nothing beyond the defaults).
type SecurityPolicy struct {
	// RequireSSO refuses password sign-ins, registrations and invitation
	// acceptances (platform administrators excepted).
	RequireSSO bool `gorm:"column:require_sso"`
	// AllowedIPRanges refuses requests from other addresses; empty: none
	// refused.
	AllowedIPRanges IPRanges `gorm:"column:allowed_ip_ranges"`
	// SessionTTLMinutes caps the lifetime of new session tokens; nil: the
	// server's NEOSC_TOKEN_TTL.
	SessionTTLMinutes *int `gorm:"column:session_ttl_minutes"`
}

// RangeList is AllowedIPRanges as a plain list (never nil).
func (p *SecurityPolicy) RangeList() []string {
	if p.AllowedIPRanges == nil {
		return []string{}
	}
	return p.AllowedIPRanges
}

// OrganizationPolicy is an organization's security policy and branding;
// an organization without a row has the zero policy and no branding.
type OrganizationPolicy struct {
	OrganizationID    string `gorm:"primaryKey"`
	RequireSSO        bool   `gorm:"column:require_sso"`
	AllowedIPRanges   IPRanges
	SessionTTLMinutes *int
	DisplayName       *string
	LogoURL           *string `gorm:"column:logo_url"`
	PrimaryColor      *string
	UpdatedAt         time.Time
}

// TableName is the organization_policies table.
func (OrganizationPolicy) TableName() string { return "organization_policies" }

// Security is the row's security policy.
func (p *OrganizationPolicy) Security() SecurityPolicy {
	return SecurityPolicy{RequireSSO: p.RequireSSO, AllowedIPRanges: p.AllowedIPRanges, SessionTTLMinutes: p.SessionTTLMinutes}
}

// OwnerOrganizationID is the organization the policy belongs to.
func (p *OrganizationPolicy) OwnerOrganizationID() string { return p.OrganizationID }

// NodeType is the type policies are audited as: their organization's (they
// have no ID of their own; valid on a nil pointer).
func (*OrganizationPolicy) NodeType() ids.Type { return ids.Organization }

// RowID is the organization's ID.
func (p *OrganizationPolicy) RowID() string { return p.OrganizationID }

// Branding is what a sign-in page shows of an organization.
type Branding struct {
	DisplayName  *string `gorm:"column:display_name"`
	LogoURL      *string `gorm:"column:logo_url"`
	PrimaryColor *string `gorm:"column:primary_color"`
}

// Branding is the row's branding.
func (p *OrganizationPolicy) Branding() Branding {
	return Branding{DisplayName: p.DisplayName, LogoURL: p.LogoURL, PrimaryColor: p.PrimaryColor}
}

// GetPolicy returns organization orgID's policy row (locked until the
// transaction ends with lock; lock the organization row first), or the
// defaults when it has none.
func (r Organizations) GetPolicy(ctx context.Context, orgID string, lock bool) (*OrganizationPolicy, error) {
	if orgID == "" {
		return nil, ErrNoScope
	}
	q := r.db.WithContext(ctx).Where("organization_id = ?", orgID)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	p, err := firstOrNil[OrganizationPolicy](q)
	if err != nil || p != nil {
		return p, err
	}
	return &OrganizationPolicy{OrganizationID: orgID}, nil
}

// SavePolicy writes an organization's policy row, inserting or replacing
// it.
func (r Organizations) SavePolicy(ctx context.Context, p *OrganizationPolicy) error {
	if p.OrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "organization_id"}},
		UpdateAll: true,
	}).Create(p).Error
}

// SessionTTL is organization orgID's cap on new session tokens' lifetime,
// in minutes; nil for none.
func (r Organizations) SessionTTL(ctx context.Context, orgID string) (*int, error) {
	p, err := r.GetPolicy(ctx, orgID, false)
	if err != nil {
		return nil, err
	}
	return p.SessionTTLMinutes, nil
}

// PublicBranding answers the branding of the active tenant organization
// with slug slug, for a sign-in page: found is false for an unknown,
// suspended or reserved organization. Always one statement of the same
// shape, whatever the answer.
func (r Organizations) PublicBranding(ctx context.Context, slug string) (b Branding, found bool, err error) {
	var rows []struct {
		Branding
		Found bool `gorm:"column:found"`
	}
	err = r.db.WithContext(ctx).Raw(`SELECT p.display_name, p.logo_url, p.primary_color, 1 AS found
		FROM organizations o LEFT JOIN organization_policies p ON p.organization_id = o.id
		WHERE o.slug = ? AND o.status = ? AND o.kind = ?`, slug, OrganizationActive, KindTenant).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return Branding{}, false, err
	}
	return rows[0].Branding, true, nil
}

// policyColumns reads SecurityPolicy from the joined row p (absent: the
// defaults).
const policyColumns = "COALESCE(p.require_sso, FALSE) AS p_require_sso, COALESCE(p.allowed_ip_ranges, '') AS p_allowed_ip_ranges, " +
	"p.session_ttl_minutes AS p_session_ttl_minutes"

// policyJoin joins organization o's policy row as p.
const policyJoin = " LEFT JOIN organization_policies p ON p.organization_id = o.id"
