package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Outbox is the mail outbox: mails written in the transaction of the change
// they announce, and delivered later by whichever replica claims them first.
// It is platform-level, not tenant-scoped: every replica's sender works
// through all organizations' mails.
type Outbox struct{ db *gorm.DB }

// MaxLastError bounds the stored last error (characters).
const MaxLastError = 500

// Enqueue inserts a pending mail. Call it on the store of the transaction
// that makes the change the mail announces, so that both commit or neither
// does. A zero CreatedAt is now; a nil NextAttemptAt is CreatedAt (due at
// once).
func (r Outbox) Enqueue(ctx context.Context, m *OutboxMail) error {
	if m.ID == "" || m.Recipient == "" {
		return errors.New("store: outbox mail without an ID or recipient")
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = r.db.NowFunc()
	}
	m.CreatedAt = m.CreatedAt.UTC()
	if m.NextAttemptAt == nil {
		due := m.CreatedAt
		m.NextAttemptAt = &due
	}
	return r.db.WithContext(ctx).Create(m).Error
}

// Claim leases up to n mails that are due at now (pending, next attempt
// reached, no live lease), oldest due first, until now+lease, and counts
// the attempt. Two replicas never get the same mail while its lease lasts:
//   - MySQL/MariaDB: the rows are read FOR UPDATE SKIP LOCKED and leased in
//     one transaction, so a concurrent claimer skips them rather than
//     waiting (on Galera, where row locks are node-local, certification
//     aborts one of two conflicting claims instead).
//   - SQLite: one UPDATE … RETURNING statement, which holds the database's
//     single write lock from its start, as an IMMEDIATE transaction would.
//
// A mail whose lease runs out before it is marked sent or failed is due
// again: that is the sender's at-least-once window.
func (r Outbox) Claim(ctx context.Context, n int, now time.Time, lease time.Duration) ([]*OutboxMail, error) {
	if n < 1 || lease <= 0 {
		return nil, errors.New("store: Claim wants n > 0 and a positive lease")
	}
	now = now.UTC().Truncate(time.Microsecond)
	until := now.Add(lease)
	const due = "next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)"
	var rows []*OutboxMail
	if r.db.Dialector.Name() != "mysql" {
		err := r.db.WithContext(ctx).Raw("UPDATE mail_outbox SET claimed_until = ?, attempts = attempts + 1"+
			" WHERE id IN (SELECT id FROM mail_outbox WHERE "+due+" ORDER BY next_attempt_at, id LIMIT ?) RETURNING *",
			until, now, now, n).Scan(&rows).Error
		if err != nil {
			return nil, err
		}
		slices.SortFunc(rows, func(a, b *OutboxMail) int {
			return cmp.Or(a.NextAttemptAt.Compare(*b.NextAttemptAt), strings.Compare(a.ID, b.ID))
		})
		return rows, nil
	}
	// READ COMMITTED: no gap locks, so an Enqueue never waits for a claim.
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Options: clause.LockingOptionsSkipLocked}).
			Where(due, now, now).Order("next_attempt_at, id").Limit(n).Find(&rows).Error
		if err != nil || len(rows) == 0 {
			return err
		}
		ids := make([]string, len(rows))
		for i, m := range rows {
			ids[i] = m.ID
			m.Attempts++
			m.ClaimedUntil = &until
		}
		return tx.Model(&OutboxMail{}).Where("id IN ?", ids).
			Updates(map[string]any{"claimed_until": until, "attempts": gorm.Expr("attempts + 1")}).Error
	}, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// MarkSent records that a mail was handed to the mail server at `at`: it is
// no longer pending, and its body (which may hold single-use links) is
// emptied.
func (r Outbox) MarkSent(ctx context.Context, id string, at time.Time) error {
	return r.db.WithContext(ctx).Model(&OutboxMail{}).Where("id = ?", id).
		Updates(map[string]any{"sent_at": at.UTC(), "next_attempt_at": nil, "claimed_until": nil, "body": ""}).Error
}

// MarkFailed records a failed attempt of a pending mail: lastError (cut to
// MaxLastError characters; the caller keeps credentials out of it) and
// when to try again. A zero nextAttemptAt gives up: the row stays, with its
// last error and without its body, and is never claimed again. A mail already sent is left as
// it is.
func (r Outbox) MarkFailed(ctx context.Context, id, lastError string, nextAttemptAt time.Time) error {
	if runes := []rune(lastError); len(runes) > MaxLastError {
		lastError = string(runes[:MaxLastError])
	}
	cols := map[string]any{"last_error": lastError, "next_attempt_at": nil, "claimed_until": nil}
	if nextAttemptAt.IsZero() {
		cols["body"] = "" // given up: its single-use links must not stay readable
	} else {
		cols["next_attempt_at"] = nextAttemptAt.UTC()
	}
	return r.db.WithContext(ctx).Model(&OutboxMail{}).Where("id = ? AND sent_at IS NULL", id).Updates(cols).Error
}

// Release hands a claimed mail back unattempted (its sender is shutting
// down): the lease ends now and the claim is not counted.
func (r Outbox) Release(ctx context.Context, id string) error {
	return r.db.WithContext(ctx).Model(&OutboxMail{}).Where("id = ? AND sent_at IS NULL AND claimed_until IS NOT NULL AND attempts > 0", id).
		Updates(map[string]any{"claimed_until": nil, "attempts": gorm.Expr("attempts - 1")}).Error
}
