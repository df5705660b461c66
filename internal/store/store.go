package store

import (
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/neosc/neosc/internal/apperr"
)

// ErrNoScope is returned by a tenant-scoped method called without an
// organization: a programming error, never a reason to drop the filter.
var ErrNoScope = errors.New("store: tenant-scoped query without an organization scope")

// ErrDuplicate reports a unique-key violation.
var ErrDuplicate = gorm.ErrDuplicatedKey

// Store is the data layer. Its repositories share one handle: the pool, or a
// transaction inside Tx.
type Store struct {
	db *gorm.DB
	// after collects, inside Tx, what must run once the transaction has
	// ended (see AfterTx); nil outside a transaction.
	after *[]func()
	// root is the pool s was made from (Detached); nil for the pool itself.
	root *gorm.DB

	Organizations Organizations
	Users         Users
	Workspaces    Workspaces
	AuditEvents   AuditEvents
	APITokens     APITokens
	Grants        Grants
	Invitations   Invitations
	Verifications EmailVerifications
	Outbox        Outbox
	Domains       Domains
	Sessions      Sessions
	SigningKeys   SigningKeys
	RateLimits    RateLimits
	Logins        LoginThrottles

	// Usage: workspace usage rows and user-count history (issue 11, billing).
	Usage UsageRecords
}

// New returns a store over db.
func New(db *gorm.DB) *Store { return bind(db, nil) }

func bind(db *gorm.DB, after *[]func()) *Store {
	s := &Store{db: db, after: after}
	s.Organizations = Organizations{db}
	s.Users = Users{db}
	s.Workspaces = Workspaces{db}
	s.AuditEvents = AuditEvents{db}
	s.APITokens = APITokens{db}
	s.Grants = Grants{db}
	s.Invitations = Invitations{db}
	s.Verifications = EmailVerifications{db}
	s.Outbox = Outbox{db}
	s.Domains = Domains{db}
	s.Sessions = Sessions{db}
	s.SigningKeys = SigningKeys{db}
	s.RateLimits = RateLimits{db}
	s.Logins = LoginThrottles{db}
	s.Usage = UsageRecords{db}
	return s
}

// child binds a transaction begun from s, remembering the pool.
func (s *Store) child(tx *gorm.DB, after *[]func()) *Store {
	c := bind(tx, after)
	c.root = s.root
	if c.root == nil {
		c.root = s.db
	}
	return c
}

// maxAttempts bounds how often Tx runs a transaction that keeps losing.
const maxAttempts = 8

// Tx runs fn in one transaction with a store bound to it, committing when fn
// returns nil. A transaction that loses a deadlock or a lock wait (MySQL 1213
// or 1205, SQLite busy) is retried from the start, a few times while ctx
// lasts, so fn must not have effects outside the transaction. What still
// fails that way is Unavailable, as is everything cut short by ctx's end:
// the transaction is then rolled back, nothing of it written.
//
// Effects registered with AfterTx run once, after the attempt that ended the
// transaction (a retried attempt's are dropped with its work). A Tx inside
// a Tx joins the outer one: its effects wait for the outer transaction.
// On SQLite, the process's transactions queue for the single writer in a
// gate first (writeGate), which they leave before the effects run.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	if s.after != nil {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return fn(s.child(tx, s.after)) })
	}
	var err error
	gate := gateOf(s.db)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var after []func()
		err = gate.run(ctx, func() error {
			return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				return fn(s.child(tx, &after))
			})
		})
		if err == nil || !retryable(err) || ctx.Err() != nil {
			for _, f := range after {
				f()
			}
			return err
		}
		// Back off with jitter so the losers of one conflict do not collide
		// again: 20, 40, 80 ... ms, about 2.5 s in all at most, and never
		// past ctx's end.
		backoff := time.Duration(20<<min(attempt, 5)) * time.Millisecond
		wait := time.NewTimer(backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1)))
		select {
		case <-ctx.Done():
			wait.Stop()
			return err
		case <-wait.C:
		}
	}
	return err
}

// AfterTx runs f once the transaction s is bound to has ended, committed or
// rolled back; outside a transaction it runs f at once. It is how a refusal
// found inside a transaction is recorded in a transaction of its own after
// the caller's has been rolled back.
func (s *Store) AfterTx(f func()) {
	if s == nil || s.after == nil {
		f()
		return
	}
	*s.after = append(*s.after, f)
}

// Page asks for a page of a keyset-paginated list.
type Page struct {
	First int
	After string // opaque cursor; "" for the first page
}

// Page bounds of the contract.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// NewPage validates the contract's `first` and `after` arguments.
func NewPage(first *int, after *string) (Page, error) {
	p := Page{First: DefaultPageSize}
	if first != nil {
		if *first < 1 || *first > MaxPageSize {
			return Page{}, apperr.Invalid("first", "first must be between 1 and %d", MaxPageSize)
		}
		p.First = *first
	}
	if after != nil && *after != "" {
		if _, ok := decodeCursor(*after); !ok {
			return Page{}, apperr.Invalid("after", "after is not a valid cursor")
		}
		p.After = *after
	}
	return p, nil
}

// Listing is one page of a list, and how to count the whole list (run only
// when a client asks for totalCount).
type Listing[T any] struct {
	Rows    []T
	HasNext bool
	Count   func(context.Context) (int, error)
}

// Cursor returns the opaque cursor of a row with primary key id.
func Cursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("k1:" + id))
}

func decodeCursor(c string) (string, bool) {
	if len(c) > 100 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", false
	}
	id, ok := strings.CutPrefix(string(b), "k1:")
	if !ok || len(id) != 36 {
		return "", false
	}
	return id, true
}

// keyset applies an ascending (or descending) keyset page to q and fetches
// one row more than asked, to tell whether there is a next page.
func keyset[T any](q *gorm.DB, p Page, desc bool) ([]T, bool, error) {
	return keysetOn[T](q, p, desc, "id")
}

// keysetOn is keyset on column key instead of id, for a page of a join
// that seeks on the joined table's copy of the ID.
func keysetOn[T any](q *gorm.DB, p Page, desc bool, key string) ([]T, bool, error) {
	q, limit := keysetQuery(q, p, desc, key)
	var rows []T
	if err := q.Find(&rows).Error; err != nil {
		return nil, false, err
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// keysetQuery adds a keyset page's cursor condition on column key, its
// order and its limit (one row more than the page, to tell whether there
// is a next page) to q, and returns the page size.
func keysetQuery(q *gorm.DB, p Page, desc bool, key string) (*gorm.DB, int) {
	if p.First < 1 || p.First > MaxPageSize {
		p.First = DefaultPageSize
	}
	order := key + " ASC"
	if desc {
		order = key + " DESC"
	}
	if id, ok := decodeCursor(p.After); ok {
		if desc {
			q = q.Where(key+" < ?", id)
		} else {
			q = q.Where(key+" > ?", id)
		}
	}
	return q.Order(order).Limit(p.First + 1), p.First
}

// Lookup fetches a row of model T by primary key alone, unscoped: the one
// bypass of tenant scoping, for internal/authz's registry, which authorizes
// the caller against the fetched row's organization before anything else
// sees it. With lock the row stays locked until the transaction ends (MySQL;
// a SQLite write transaction already excludes other writers). A missing row
// answers apperr.ErrNotFound.
func Lookup[T any](ctx context.Context, s *Store, id string, lock bool) (*T, error) {
	return lookup[T](ctx, s.db, id, lock)
}

func lookup[T any](ctx context.Context, db *gorm.DB, id string, lock bool) (*T, error) {
	q := db.WithContext(ctx)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row T
	if s, ok := any(&row).(scanned); ok {
		if err := scanFirst(q.Model(&row).Select(strings.Join(s.columns(), ", ")).Where("id = ?", id).Limit(1), s); err != nil {
			return nil, err
		}
		return &row, nil
	}
	if err := q.Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, notFound(err)
	}
	return &row, nil
}

// exactlyOne is the outcome of a write that must touch exactly one row:
// its error, or apperr.ErrNotFound when it touched none (no such row in the
// organization it was scoped to, or no longer).
func exactlyOne(res *gorm.DB) error {
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return notFound(gorm.ErrRecordNotFound)
	}
	return nil
}

// deleteIn deletes the row of model T with primary key id from
// organization orgID; apperr.ErrNotFound when that organization has no
// such row. Callers have refused an empty orgID.
func deleteIn[T any](ctx context.Context, db *gorm.DB, orgID, id string) error {
	var row T
	return exactlyOne(db.WithContext(ctx).Where("organization_id = ? AND id = ?", orgID, id).Delete(&row))
}

// updateIn writes the given columns of row, the row of model T with
// primary key id, inside organization orgID only; apperr.ErrNotFound when
// that organization has no such row. Callers have refused an empty orgID.
func updateIn[T any](ctx context.Context, db *gorm.DB, orgID, id string, row *T, columns ...string) error {
	return exactlyOne(db.WithContext(ctx).Model(new(T)).Where("organization_id = ? AND id = ?", orgID, id).
		Select(columns).Updates(row))
}

// firstOrNil runs q for one row of model T; nil when there is none.
func firstOrNil[T any](q *gorm.DB) (*T, error) {
	var out []T
	if err := q.Limit(1).Find(&out).Error; err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.ErrNotFound
	}
	return err
}

// CursorID returns the primary key a cursor points at.
func CursorID(cursor string) (string, bool) { return decodeCursor(cursor) }
