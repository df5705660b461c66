package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/store"
)

// LoginPolicy throttles password sign-ins per account. Each attempt counts
// as a failure when it starts (so concurrent guesses cannot slip through
// together) and a success resets the account.
//
//   - From one client (address, IPv6 /64): MaxFailures attempts go at full
//     speed, then each one waits: FirstBackoff, doubling, at most
//     MaxBackoff.
//   - From every client together: the same after AccountFailures, so many
//     addresses guessing together slow down too.
//   - Known clients, those the account signed in from within KnownFor, pass
//     the every-client lock (only their own applies): an attacker guessing
//     from elsewhere cannot lock the real user out. A new client waits at
//     most MaxBackoff after the attack stops.
//   - Failures are forgotten after Forget without any.
//   - Refused attempts change nothing: waiting is the only way through.
type LoginPolicy struct {
	MaxFailures     int
	AccountFailures int
	FirstBackoff    time.Duration
	MaxBackoff      time.Duration
	Forget          time.Duration
	KnownFor        time.Duration
	// AuditEvery is the window of failed-login auditing: at most one
	// user.login_failed event per account per window, with the count of
	// failures it stands for.
	AuditEvery time.Duration
}

// Login policy defaults.
const (
	DefaultLoginMaxFailures = 5
	defaultFirstBackoff     = time.Second
	defaultMaxBackoff       = 15 * time.Minute
	defaultForget           = time.Hour
	defaultKnownFor         = 30 * 24 * time.Hour
	defaultAuditEvery       = 15 * time.Minute
)

func (p LoginPolicy) withDefaults() LoginPolicy {
	if p.MaxFailures <= 0 {
		p.MaxFailures = DefaultLoginMaxFailures
	}
	if p.AccountFailures <= 0 {
		p.AccountFailures = 4 * p.MaxFailures
	}
	if p.FirstBackoff <= 0 {
		p.FirstBackoff = defaultFirstBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = defaultMaxBackoff
	}
	if p.Forget <= 0 {
		p.Forget = defaultForget
	}
	if p.KnownFor <= 0 {
		p.KnownFor = defaultKnownFor
	}
	if p.AuditEvery <= 0 {
		p.AuditEvery = defaultAuditEvery
	}
	return p
}

// backoff is the wait after the n-th failure of a row whose threshold is
// limit (none before it).
func (p LoginPolicy) backoff(n, limit int) time.Duration {
	if n < limit {
		return 0
	}
	d := p.FirstBackoff
	for i := limit; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

// AccountKey is the login_throttles key of an email as typed (normalized
// when it could be): its hex SHA-256.
func AccountKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:])
}

// Attempt is one password sign-in in progress.
type Attempt struct {
	l       *Limiter
	account string
	client  string
}

// Failures is a count of failed sign-ins that an audit event stands for.
type Failures struct {
	Count int
	Since time.Time
}

// BeginLogin starts a sign-in to email from address ip: RATE_LIMITED (with
// Retry-After) while the account is locked for this client; otherwise the
// attempt is counted as a failure until Succeeded says otherwise. One
// transaction of its own.
func (l *Limiter) BeginLogin(ctx context.Context, email, ip string) (*Attempt, error) {
	a := &Attempt{l: l, account: AccountKey(email), client: ClientKey(ip)}
	p := l.cfg.Logins
	var wait time.Duration
	err := l.st.Tx(ctx, func(tx *store.Store) error {
		now := l.now().UTC().Truncate(time.Microsecond)
		rows, err := tx.Logins.Lock(ctx, a.account, now.Add(p.Forget), store.AllClients, a.client)
		if err != nil {
			return err
		}
		all, one := rows[0], rows[1]
		wait = 0
		for _, row := range []*store.LoginThrottle{all, one} {
			if row.LastFailureAt != nil && now.Sub(*row.LastFailureAt) >= p.Forget {
				row.Failures, row.LockedUntil = 0, nil
			}
		}
		known := one.LastSuccessAt != nil && now.Sub(*one.LastSuccessAt) < p.KnownFor
		if one.LockedUntil != nil && one.LockedUntil.After(now) {
			wait = one.LockedUntil.Sub(now)
		}
		if !known && all.LockedUntil != nil && all.LockedUntil.After(now) {
			wait = max(wait, all.LockedUntil.Sub(now))
		}
		if wait > 0 {
			return nil
		}
		for _, r := range []struct {
			row   *store.LoginThrottle
			limit int
		}{{one, p.MaxFailures}, {all, p.AccountFailures}} {
			r.row.Failures++
			r.row.LastFailureAt = &now
			r.row.LockedUntil = nil
			if d := p.backoff(r.row.Failures, r.limit); d > 0 {
				until := now.Add(d)
				r.row.LockedUntil = &until
			}
			l.expire(r.row, now)
		}
		return tx.Logins.Save(ctx, all, one)
	})
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		return nil, apperr.TooMany(wait, "too many failed sign-ins; try again in %d s", int64((wait+time.Second-1)/time.Second))
	}
	return a, nil
}

// expire sets when row says nothing any more: its failures forgotten, its
// client no longer known, and no failure left unaudited.
func (l *Limiter) expire(row *store.LoginThrottle, now time.Time) {
	p := l.cfg.Logins
	exp := now.Add(p.Forget)
	if row.LastSuccessAt != nil {
		exp = later(exp, row.LastSuccessAt.Add(p.KnownFor))
	}
	if row.LockedUntil != nil {
		exp = later(exp, *row.LockedUntil)
	}
	if row.Unreported > 0 {
		exp = later(exp, now.Add(p.KnownFor))
	}
	row.ExpiresAt = exp
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Failed records that the attempt failed, in tx (the transaction of its
// audit event). It returns the failures to audit now, or nil (see Tally).
func (a *Attempt) Failed(ctx context.Context, tx *store.Store) (*Failures, error) {
	return a.l.tally(ctx, tx, a.account)
}

// Tally counts one occurrence of a repeated event (such as registrations
// refused by one organization), in tx, the transaction of its audit event,
// and says whether to audit now: the first occurrence of a window is
// audited at once with a count of 1, the others of that window together
// with the first one after it, whose count covers them all. key names the
// series (e.g. "registration_denied:" + an organization ID).
func (l *Limiter) Tally(ctx context.Context, tx *store.Store, key string) (*Failures, error) {
	return l.tally(ctx, tx, AccountKey(key))
}

func (l *Limiter) tally(ctx context.Context, tx *store.Store, account string) (*Failures, error) {
	now := l.now().UTC().Truncate(time.Microsecond)
	rows, err := tx.Logins.Lock(ctx, account, now.Add(l.cfg.Logins.Forget), store.AllClients)
	if err != nil {
		return nil, err
	}
	all := rows[0]
	if all.Unreported == 0 || all.UnreportedSince == nil {
		all.UnreportedSince = &now
	}
	all.Unreported++
	var out *Failures
	if all.ReportedAt == nil || now.Sub(*all.ReportedAt) >= l.cfg.Logins.AuditEvery {
		out = &Failures{Count: all.Unreported, Since: *all.UnreportedSince}
		all.Unreported, all.UnreportedSince, all.ReportedAt = 0, nil, &now
	}
	l.expire(all, now)
	return out, tx.Logins.Save(ctx, all)
}

// Succeeded records that the attempt succeeded, in tx (the sign-in's own
// transaction): the account's failures are reset and the client becomes
// known. It returns the failures not audited yet (nil for none), which the
// caller audits in the same transaction.
func (a *Attempt) Succeeded(ctx context.Context, tx *store.Store) (*Failures, error) {
	now := a.l.now().UTC().Truncate(time.Microsecond)
	rows, err := tx.Logins.Lock(ctx, a.account, now.Add(a.l.cfg.Logins.Forget), store.AllClients, a.client)
	if err != nil {
		return nil, err
	}
	all, one := rows[0], rows[1]
	var out *Failures
	if all.Unreported > 0 && all.UnreportedSince != nil {
		out = &Failures{Count: all.Unreported, Since: *all.UnreportedSince}
	}
	all.Unreported, all.UnreportedSince, all.ReportedAt = 0, nil, nil
	for _, row := range []*store.LoginThrottle{all, one} {
		row.Failures, row.LockedUntil = 0, nil
	}
	one.LastSuccessAt = &now
	a.l.expire(all, now)
	a.l.expire(one, now)
	return out, tx.Logins.Save(ctx, all, one)
}
