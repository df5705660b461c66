package store

import (
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

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

	Organizations Organizations
	Users         Users
	Workspaces    Workspaces
	AuditEvents   AuditEvents
	APITokens     APITokens
	Grants        Grants
}

// New returns a store over db.
func New(db *gorm.DB) *Store {
	s := &Store{db: db}
	s.Organizations = Organizations{db}
	s.Users = Users{db}
	s.Workspaces = Workspaces{db}
	s.AuditEvents = AuditEvents{db}
	s.APITokens = APITokens{db}
	s.Grants = Grants{db}
	return s
}

// maxAttempts bounds how often Tx runs a transaction that keeps losing.
const maxAttempts = 8

// Tx runs fn in one transaction with a store bound to it, committing when fn
// returns nil. A transaction that loses a deadlock or a lock wait (MySQL 1213
// or 1205, SQLite busy) is retried from the start, a few times, so fn must
// not have effects outside the transaction.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return fn(New(tx))
		})
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		// Back off with jitter so the losers of one conflict do not collide
		// again: 20, 40, 80 ... ms, about 2.5 s in all at most.
		backoff := time.Duration(20<<min(attempt, 5)) * time.Millisecond
		time.Sleep(backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1)))
	}
	return err
}

func retryable(err error) bool {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
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
	if p.First < 1 || p.First > MaxPageSize {
		p.First = DefaultPageSize
	}
	order := "id ASC"
	if desc {
		order = "id DESC"
	}
	if id, ok := decodeCursor(p.After); ok {
		if desc {
			q = q.Where("id < ?", id)
		} else {
			q = q.Where("id > ?", id)
		}
	}
	var rows []T
	if err := q.Order(order).Limit(p.First + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	if len(rows) > p.First {
		return rows[:p.First], true, nil
	}
	return rows, false, nil
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.ErrNotFound
	}
	return err
}

// CursorID returns the primary key a cursor points at.
func CursorID(cursor string) (string, bool) { return decodeCursor(cursor) }
