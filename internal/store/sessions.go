package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RevokedSession is one session token ended by signOut: refused until its
// own expiry, after which the row serves nothing and is deleted.
type RevokedSession struct {
	JTI            string `gorm:"column:jti;primaryKey"`
	OrganizationID string
	UserID         string
	ExpiresAt      time.Time
	CreatedAt      time.Time
}

// TableName is the revoked_sessions table.
func (RevokedSession) TableName() string { return "revoked_sessions" }

// Sessions is the signOut denylist of session tokens. Users.GetActor reads
// it in the statement that loads the caller; a user's tokens as a whole end
// with Users.RevokeSessions instead.
type Sessions struct{ db *gorm.DB }

// Revoke puts one session token of a user of s.OrganizationID on the
// denylist until s.ExpiresAt; a token already on it stays as it is.
func (r Sessions) Revoke(ctx context.Context, s *RevokedSession) error {
	if s.OrganizationID == "" {
		return ErrNoScope
	}
	return r.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(s).Error
}

// DeleteExpired deletes the denylist rows of tokens expired at now (those
// tokens are refused for their expiry anyway) and reports how many.
func (r Sessions) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res := r.db.WithContext(ctx).Where("expires_at <= ?", now).Delete(&RevokedSession{})
	return res.RowsAffected, res.Error
}
