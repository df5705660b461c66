package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Scopes of rate-limit buckets.
const (
	ScopeIP    = "ip"    // an anonymous caller's address (IPv6: its /64)
	ScopeUser  = "user"  // a user's session tokens, together
	ScopeToken = "token" // one API token
	ScopeOrg   = "org"   // a tenant organization, all its callers together
)

// Bucket names one rate-limit bucket.
type Bucket struct {
	Scope   string
	Subject string // an address or a row ID, at most 64 bytes
}

// RateLimit is one bucket's state: its GCRA theoretical arrival time, in
// microseconds since the Unix epoch. A bucket without a row, or whose TAT
// has passed, is full. Platform-level: buckets belong to callers, not to a
// tenant's data.
type RateLimit struct {
	Scope   string `gorm:"primaryKey"`
	Subject string `gorm:"primaryKey"`
	TAT     int64  `gorm:"column:tat"`
}

// TableName is the rate_limits table.
func (RateLimit) TableName() string { return "rate_limits" }

// Budget is what rate_limits held for an authenticated caller's two
// buckets (its own, its organization's) when the caller was loaded: read
// in the authenticating statement itself, so checking a request's budget
// costs no statement of its own. A TAT of 0 means no row (a full bucket),
// or not read (a caller authenticated otherwise).
type Budget struct {
	Caller       int64 // the user's ('user') or the API token's ('token') bucket
	Organization int64 // the organization's ('org') bucket
}

// RateLimits holds the buckets. Every statement here is a single upsert
// or one read: no replica holds a row lock longer than one statement.
type RateLimits struct{ db *gorm.DB }

// Charge is an amount added to one bucket: Add microseconds of TAT.
type Charge struct {
	Bucket Bucket
	Add    int64
}

// Charge adds each charge's amount to its bucket in one statement, whether
// the bucket can pay or not (the work was done; a bucket in debt refuses
// until the debt has passed): TAT becomes MAX(TAT, now) + Add. Rows are
// written in key order, so two replicas' batches never deadlock.
func (r RateLimits) Charge(ctx context.Context, charges []Charge, now int64) error {
	if len(charges) == 0 {
		return nil
	}
	charges = slices.Clone(charges)
	slices.SortFunc(charges, func(a, b Charge) int {
		return strings.Compare(a.Bucket.Scope+"\x00"+a.Bucket.Subject, b.Bucket.Scope+"\x00"+b.Bucket.Subject)
	})
	var sql strings.Builder
	args := make([]any, 0, 3*len(charges)+2)
	sql.WriteString("INSERT INTO rate_limits (scope, subject, tat) VALUES ")
	for i, c := range charges {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?)")
		args = append(args, c.Bucket.Scope, c.Bucket.Subject, now+c.Add)
	}
	// The inserted value is now+Add, so "inserted value - now" is Add.
	if r.db.Dialector.Name() == "mysql" {
		sql.WriteString(" ON DUPLICATE KEY UPDATE tat = GREATEST(tat, ?) + (VALUES(tat) - ?)")
	} else {
		sql.WriteString(" ON CONFLICT (scope, subject) DO UPDATE SET tat = MAX(tat, ?) + (excluded.tat - ?)")
	}
	args = append(args, now, now)
	return r.db.WithContext(ctx).Exec(sql.String(), args...).Error
}

// Get reads buckets' TATs (0 for a bucket without a row).
func (r RateLimits) Get(ctx context.Context, buckets ...Bucket) ([]int64, error) {
	out := make([]int64, len(buckets))
	if len(buckets) == 0 {
		return out, nil
	}
	conds := make([]string, len(buckets))
	args := make([]any, 0, 2*len(buckets))
	for i, b := range buckets {
		conds[i] = "(scope = ? AND subject = ?)"
		args = append(args, b.Scope, b.Subject)
	}
	var rows []RateLimit
	if err := r.db.WithContext(ctx).Where(strings.Join(conds, " OR "), args...).Find(&rows).Error; err != nil {
		return nil, err
	}
	for i, b := range buckets {
		for _, row := range rows {
			if row.Scope == b.Scope && row.Subject == b.Subject {
				out[i] = row.TAT
			}
		}
	}
	return out, nil
}

// DeleteFull deletes buckets whose TAT is before `before` (full buckets:
// a missing row says the same), at most limit rows, and returns how many.
func (r RateLimits) DeleteFull(ctx context.Context, before int64, limit int) (int64, error) {
	return deleteExpired(r.db.WithContext(ctx), "rate_limits", "tat < ?", before, limit)
}

// deleteExpired deletes at most limit rows of table matching cond.
func deleteExpired(db *gorm.DB, table, cond string, arg any, limit int) (int64, error) {
	var res *gorm.DB
	if db.Dialector.Name() == "mysql" {
		res = db.Exec("DELETE FROM "+table+" WHERE "+cond+" LIMIT ?", arg, limit)
	} else {
		// SQLite is built without DELETE … LIMIT; its tables stay small
		// (one node) and its writers take turns anyway.
		res = db.Exec("DELETE FROM "+table+" WHERE "+cond, arg)
	}
	return res.RowsAffected, res.Error
}

// LoginThrottle is one account's failed-sign-in state from one client, or
// (Client "*") from every client. Platform-level, like RateLimit.
type LoginThrottle struct {
	Account         string `gorm:"primaryKey"` // hex SHA-256 of the normalized email
	Client          string `gorm:"primaryKey"` // address (IPv6: its /64), or AllClients
	Failures        int
	LockedUntil     *time.Time
	LastFailureAt   *time.Time
	LastSuccessAt   *time.Time // client rows: the account signed in from here
	Unreported      int        // '*' row: failures not in an audit event yet
	UnreportedSince *time.Time // '*' row: the first of them
	ReportedAt      *time.Time // '*' row: the last aggregated user.login_failed event
	ExpiresAt       time.Time
}

// AllClients is the Client of an account's row for every client.
const AllClients = "*"

// TableName is the login_throttles table.
func (LoginThrottle) TableName() string { return "login_throttles" }

// LoginThrottles holds failed-sign-in state. Callers run them in a
// transaction: Lock, decide, Save.
type LoginThrottles struct{ db *gorm.DB }

// Lock returns the account's rows for the given clients (AllClients
// first, if among them), in that order, creating missing ones (zero),
// locked until the transaction ends. Rows are created first, in key order
// ('*' sorts before any address), so concurrent sign-ins wait on row locks
// instead of deadlocking on gaps.
func (r LoginThrottles) Lock(ctx context.Context, account string, expires time.Time, clients ...string) ([]*LoginThrottle, error) {
	clients = slices.Clone(clients)
	slices.Sort(clients)
	clients = slices.Compact(clients)
	q := r.db.WithContext(ctx)
	rows := make([]LoginThrottle, len(clients))
	for i, c := range clients {
		rows[i] = LoginThrottle{Account: account, Client: c, ExpiresAt: expires}
	}
	if err := q.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return nil, err
	}
	var got []LoginThrottle
	err := q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
		Where("account = ? AND client IN ?", account, clients).Order("client").Find(&got).Error
	if err != nil {
		return nil, err
	}
	if len(got) != len(clients) {
		return nil, errors.New("store: login throttle rows missing after insert")
	}
	out := make([]*LoginThrottle, len(got))
	for i := range got {
		out[i] = &got[i]
	}
	return out, nil
}

// Save writes rows read by Lock.
func (r LoginThrottles) Save(ctx context.Context, rows ...*LoginThrottle) error {
	for _, row := range rows {
		err := exactlyOneOrSame(r.db.WithContext(ctx).Model(&LoginThrottle{}).
			Where("account = ? AND client = ?", row.Account, row.Client).
			Select("failures", "locked_until", "last_failure_at", "last_success_at", "unreported", "unreported_since",
				"reported_at", "expires_at").Updates(row))
		if err != nil {
			return err
		}
	}
	return nil
}

// exactlyOneOrSame is the outcome of an update of one row by its key:
// MySQL counts a row whose values did not change as not affected.
func exactlyOneOrSame(res *gorm.DB) error {
	if res.Error != nil || res.RowsAffected <= 1 {
		return res.Error
	}
	return errors.New("store: update by key touched more than one row")
}

// DeleteExpired deletes rows that say nothing any more, at most limit, and
// returns how many.
func (r LoginThrottles) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	return deleteExpired(r.db.WithContext(ctx), "login_throttles", "expires_at < ?", now.UTC(), limit)
}
