package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// SigningKey is one of the service's token signing keys, when they live in
// the database (NEOSC_KEY_ENCRYPTION_KEY set). It signs from ActivatesAt
// until a key of a higher generation activates, and verifies tokens while
// Verifies says so.
type SigningKey struct {
	ID          string `gorm:"primaryKey"` // the kid
	Generation  int
	Algorithm   string
	PublicKey   string // the public JWK, JSON
	PrivateKey  string `json:"-"` // the private JWK, sealed under the key-encryption key
	CreatedAt   time.Time
	ActivatesAt time.Time
	// ExpiresAt is set when a newer key replaces this one: the end of the
	// longest session token it may have signed. Nil for the newest key.
	ExpiresAt *time.Time
	// KeepUntil is the expiry of the longest-lived API token it signed.
	KeepUntil *time.Time
}

// TableName is the signing_keys table.
func (SigningKey) TableName() string { return "signing_keys" }

// Verifies reports whether tokens signed by the key are still accepted at now.
func (k *SigningKey) Verifies(now time.Time) bool {
	return k.ExpiresAt == nil || k.ExpiresAt.After(now) || (k.KeepUntil != nil && k.KeepUntil.After(now))
}

// SigningKeys holds the service's signing keys. They are platform-level,
// like the mail outbox: every replica signs and verifies with the same ones.
type SigningKeys struct{ db *gorm.DB }

// ListLive lists the keys that verify tokens at now, oldest generation first.
func (r SigningKeys) ListLive(ctx context.Context, now time.Time) ([]*SigningKey, error) {
	var out []*SigningKey
	err := r.db.WithContext(ctx).Where("expires_at IS NULL OR expires_at > ? OR keep_until > ?", now, now).
		Order("generation").Find(&out).Error
	return out, err
}

// MaxGeneration is the highest generation stored (0 when there is none).
func (r SigningKeys) MaxGeneration(ctx context.Context) (int, error) {
	var n int
	err := r.db.WithContext(ctx).Raw("SELECT COALESCE(MAX(generation), 0) FROM signing_keys").Scan(&n).Error
	return n, err
}

// Create inserts a key. ErrDuplicate means another process stored a key of
// that generation first: replicas creating the first key together, or two
// rotations at once.
func (r SigningKeys) Create(ctx context.Context, k *SigningKey) error {
	return r.db.WithContext(ctx).Create(k).Error
}

// Retire gives every key below generation gen that has no expiry yet the
// expiry until, and lists them.
func (r SigningKeys) Retire(ctx context.Context, gen int, until time.Time) ([]*SigningKey, error) {
	var out []*SigningKey
	q := r.db.WithContext(ctx).Where("expires_at IS NULL AND generation < ?", gen)
	if err := q.Order("generation").Find(&out).Error; err != nil || len(out) == 0 {
		return out, err
	}
	ids := make([]string, len(out))
	for i, k := range out {
		ids[i] = k.ID
		k.ExpiresAt = &until
	}
	return out, r.db.WithContext(ctx).Model(&SigningKey{}).Where("id IN ?", ids).Update("expires_at", until).Error
}

// KeepFor makes key id verify until at least until: an API token it signed
// expires then. It is one UPDATE that changes nothing once a longer-lived
// token has done the same.
func (r SigningKeys) KeepFor(ctx context.Context, id string, until time.Time) error {
	return r.db.WithContext(ctx).Model(&SigningKey{}).
		Where("id = ? AND (keep_until IS NULL OR keep_until < ?)", id, until).
		Update("keep_until", until).Error
}

// DeleteExpired deletes the keys that verify nothing any more at now.
func (r SigningKeys) DeleteExpired(ctx context.Context, now time.Time) error {
	return r.db.WithContext(ctx).
		Where("expires_at IS NOT NULL AND expires_at <= ? AND (keep_until IS NULL OR keep_until <= ?)", now, now).
		Delete(&SigningKey{}).Error
}
