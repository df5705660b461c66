package ratelimit

import (
	"context"
	"log/slog"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/store"
)

// Config is the limits of one deployment (the same on every replica).
type Config struct {
	// Anonymous is the budget of each client address (IPv6: each /64)
	// calling without a token, one unit a request.
	Anonymous Rate
	// Caller is the budget of each API token, and of each user's session
	// tokens together, in points (see Points).
	Caller Rate
	// Organization is the budget of each tenant organization, all its
	// callers together, in points. The reserved organizations (default,
	// operators) have none: their users are unrelated people.
	Organization Rate
	// Logins throttles password sign-ins per account.
	Logins LoginPolicy
	// FlushEvery is how often a replica writes the points its requests
	// spent (0: DefaultFlushEvery).
	FlushEvery time.Duration
}

// Defaults of Config.
var (
	DefaultAnonymous    = Rate{Limit: 120, Period: time.Minute}
	DefaultCaller       = Rate{Limit: 5000, Period: time.Hour}
	DefaultOrganization = Rate{Limit: 50000, Period: time.Hour}
)

// DefaultFlushEvery is how often a replica writes spent points by default.
const DefaultFlushEvery = 250 * time.Millisecond

// sweepEvery is how often a replica deletes rows that say nothing any more.
const sweepEvery = 5 * time.Minute

// Points is what an operation of the given complexity costs: a point per
// 100 of complexity, at least 1 (GitHub's model: most requests cost one
// point; the largest operation allowed, complexity 5,000, costs 50).
func Points(complexity int) int { return max(1, (complexity+99)/100) }

// Limiter applies the limits. Its budgets live in the database
// (rate_limits, login_throttles), shared by every replica, and no request
// waits for a statement of the limiter's:
//
//   - A request is decided from what this replica knows of its buckets —
//     the TATs read with the caller (in the authenticating statement, see
//     store.Budget) or learned at its last flush, whichever is later — plus
//     what this replica has spent from them since, and its cost is added to
//     that spending at once, in memory.
//   - Every FlushEvery the replica adds what it spent to each bucket, in
//     one statement, and reads back the buckets' TATs, which now include
//     every replica's spending.
//
// So a request pays no statement of its own, one replica's view is exact,
// and replicas see one another's spending within FlushEvery.
type Limiter struct {
	st  *store.Store
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	pending map[store.Bucket]int64 // µs of TAT spent here and not yet written
	known   map[store.Bucket]int64 // TATs read back at the last flushes (bucket not yet full)
}

// New returns a limiter over st.
func New(st *store.Store, cfg Config, log *slog.Logger) *Limiter {
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = DefaultFlushEvery
	}
	cfg.Logins = cfg.Logins.withDefaults()
	return &Limiter{st: st, cfg: cfg, log: log, now: time.Now,
		pending: map[store.Bucket]int64{}, known: map[store.Bucket]int64{}}
}

func (l *Limiter) nowMicros() int64 { return l.now().UnixMicro() }

// Anonymous charges one request to the budget of address ip, or refuses it
// (Request.Refused). No statement.
func (l *Limiter) Anonymous(ip string) *Request {
	req := &Request{l: l, buckets: []tracked{{Bucket: store.Bucket{Scope: store.ScopeIP, Subject: ClientKey(ip)}, rate: l.cfg.Anonymous}}}
	l.mu.Lock()
	defer l.mu.Unlock()
	res, ok := l.decideLocked(req.buckets, 1)
	req.res = res
	if !ok {
		req.refused = true
		return req
	}
	l.chargeLocked(req.buckets, 1)
	req.charged, req.cost = true, 1
	return req
}

// Authenticated starts the budget of a request by actor a: its own bucket
// and its organization's (a tenant's), as read with the actor. No
// statement. A caller who cannot afford a single point is refused at once
// (Request.Refused); otherwise the operation is charged once priced
// (Request.Charge).
func (l *Limiter) Authenticated(a *auth.Actor) *Request {
	req := &Request{l: l}
	own := store.Bucket{Scope: store.ScopeUser, Subject: a.User.ID}
	if a.IsAPIToken() {
		own.Subject, own.Scope = a.APIToken.ID, store.ScopeToken
	}
	req.buckets = append(req.buckets, tracked{Bucket: own, rate: l.cfg.Caller, tat: a.Budget.Caller})
	if !a.Organization.Reserved() && a.Organization.ID != "" {
		req.buckets = append(req.buckets, tracked{Bucket: store.Bucket{Scope: store.ScopeOrg, Subject: a.Organization.ID},
			rate: l.cfg.Organization, tat: a.Budget.Organization})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if res, ok := l.decideLocked(req.buckets, 1); !ok {
		req.res, req.refused = res, true
	}
	return req
}

// tracked is one bucket of a request.
type tracked struct {
	store.Bucket
	rate Rate
	tat  int64 // as read with the caller; 0: not read
}

// decideLocked decides cost against every bucket, without charging. It
// returns the binding result: the refusal that lasts longest, or the
// bucket with the fewest units left.
func (l *Limiter) decideLocked(buckets []tracked, cost int) (Result, bool) {
	now := l.nowMicros()
	var out Result
	allowed := true
	for i, b := range buckets {
		tat := max(b.tat, l.known[b.Bucket], now) + l.pending[b.Bucket]
		res := decide(b.rate, tat, now, cost)
		switch {
		case !res.Allowed && (allowed || res.RetryAfter > out.RetryAfter):
			out, allowed = res, false
		case allowed && (i == 0 || res.Remaining < out.Remaining):
			out = res
		}
	}
	return out, allowed
}

// chargeLocked spends cost from every bucket (in memory, written at the
// next flush).
func (l *Limiter) chargeLocked(buckets []tracked, cost int) {
	for _, b := range buckets {
		l.pending[b.Bucket] += int64(cost) * b.rate.interval()
	}
}

// flushBatch bounds the buckets of one statement.
const flushBatch = 500

// Flush writes what this replica spent since the last flush and reads the
// buckets back (every replica's spending included). On failure the
// amounts stay pending for the next flush.
func (l *Limiter) Flush(ctx context.Context) error {
	l.mu.Lock()
	spent := l.pending
	l.pending = map[store.Bucket]int64{}
	l.mu.Unlock()
	charges := make([]store.Charge, 0, len(spent))
	for b, add := range spent {
		charges = append(charges, store.Charge{Bucket: b, Add: add})
	}
	for len(charges) > 0 {
		batch := charges[:min(len(charges), flushBatch)]
		if err := l.flushBatch(ctx, batch); err != nil {
			l.mu.Lock()
			for _, c := range charges {
				l.pending[c.Bucket] += c.Add
			}
			l.mu.Unlock()
			return err
		}
		charges = charges[len(batch):]
	}
	l.forgetFull()
	return nil
}

func (l *Limiter) flushBatch(ctx context.Context, batch []store.Charge) error {
	err := l.st.Tx(ctx, func(tx *store.Store) error { return tx.RateLimits.Charge(ctx, batch, l.nowMicros()) })
	if err != nil {
		return err
	}
	buckets := make([]store.Bucket, len(batch))
	for i, c := range batch {
		buckets[i] = c.Bucket
	}
	tats, err := l.st.RateLimits.Get(ctx, buckets...)
	if err != nil {
		return nil // written; the view catches up at the next flush
	}
	l.mu.Lock()
	for i, b := range buckets {
		l.known[b] = max(l.known[b], tats[i])
	}
	l.mu.Unlock()
	return nil
}

// forgetFull drops what this replica knows of buckets that are full again.
func (l *Limiter) forgetFull() {
	now := l.nowMicros()
	l.mu.Lock()
	defer l.mu.Unlock()
	for b, tat := range l.known {
		if tat <= now {
			delete(l.known, b)
		}
	}
}

// Sweep deletes buckets that are full and login rows that say nothing any
// more. Every replica sweeps; the deletes are idempotent.
func (l *Limiter) Sweep(ctx context.Context) error {
	const batch = 5000
	for {
		n, err := l.st.RateLimits.DeleteFull(ctx, l.nowMicros(), batch)
		if err != nil {
			return err
		}
		if n < batch {
			break
		}
	}
	for {
		n, err := l.st.Logins.DeleteExpired(ctx, l.now(), batch)
		if err != nil || n < batch {
			return err
		}
	}
}

// Start runs the replica's writer: a flush every FlushEvery and a sweep
// every few minutes, until the returned stop is called (not when ctx ends:
// requests finishing during a graceful shutdown still spend), which waits
// for a last flush.
func (l *Limiter) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		flush := time.NewTicker(l.cfg.FlushEvery)
		defer flush.Stop()
		sweep := time.NewTicker(sweepEvery)
		defer sweep.Stop()
		for {
			select {
			case <-ctx.Done():
				fctx, c := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				if err := l.Flush(fctx); err != nil {
					l.log.Warn("rate limits: last flush", "err", err)
				}
				c()
				return
			case <-flush.C:
				if err := l.Flush(ctx); err != nil && ctx.Err() == nil {
					l.log.Warn("rate limits: flush", "err", err)
				}
			case <-sweep.C:
				if err := l.Sweep(ctx); err != nil && ctx.Err() == nil {
					l.log.Warn("rate limits: sweep", "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// ClientKey is the bucket subject of a client address: the address, or
// for IPv6 its /64 (one subscriber's network; an attacker owns all of it).
// Anything that does not parse (a unix socket's peer) is "x:" and its
// first 62 bytes.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "x:" + ip[:min(len(ip), 62)]
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}

// Request is one request's budget: the buckets it is charged to, what it
// costs and what the RateLimit headers say. Held in the request context.
type Request struct {
	l       *Limiter
	buckets []tracked

	mu      sync.Mutex
	charged bool
	refused bool
	cost    int
	res     Result
}

// Refused reports whether the request was refused before it ran.
func (r *Request) Refused() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.refused }

// Err is the RATE_LIMITED error of a refused request.
func (r *Request) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return refusal(r.res)
}

func refusal(res Result) error {
	return apperr.TooMany(res.RetryAfter, "rate limit exceeded; try again in %d s", int64(math.Ceil(max(res.RetryAfter, time.Second).Seconds())))
}

// Charge spends cost points of an authenticated request (once; an
// anonymous request has paid already), or refuses it with RATE_LIMITED
// when a bucket cannot pay.
func (r *Request) Charge(cost int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.charged || r.refused {
		return nil
	}
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	res, ok := r.l.decideLocked(r.buckets, cost)
	r.res = res
	if !ok {
		r.refused = true
		return refusal(res)
	}
	r.l.chargeLocked(r.buckets, cost)
	r.charged, r.cost = true, cost
	return nil
}

// Finish charges one point to an authenticated request that ended before
// its operation was priced (it did not parse or validate): probing the
// schema is not free. A bucket that cannot pay goes into debt.
func (r *Request) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.charged || r.refused {
		return
	}
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	r.l.chargeLocked(r.buckets, 1)
	r.res, _ = r.l.decideLocked(r.buckets, 0)
	r.charged, r.cost = true, 1
}

// Status is what the request's answer says of its budget.
func (r *Request) Status() (cost int, res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cost, r.res
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request's budget (nil outside /graphql).
func RequestFrom(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}
