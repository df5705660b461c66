package ratelimit

import (
	"log/slog"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// TestReplicasShareBuckets: two limiters on one database (two replicas)
// share a budget through their flushes: the second replica, once it has
// flushed, sees what the first spent, and the two together never allow
// more than the budget plus what each spends between two flushes.
func TestReplicasShareBuckets(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		clock := time.Unix(1_800_000_000, 0)
		now := func() time.Time { return clock }
		cfg := Config{Anonymous: Rate{Limit: 50, Period: time.Hour}}
		a, b := New(store.New(d.DB), cfg, slog.Default()), New(store.New(d.DB), cfg, slog.Default())
		a.now, b.now = now, now
		const ip = "198.51.100.1"
		take := func(l *Limiter, n int) (allowed int) {
			for i := 0; i < n; i++ {
				if !l.Anonymous(ip).Refused() {
					allowed++
				}
			}
			return allowed
		}
		if got := take(a, 30); got != 30 {
			t.Fatalf("replica A allowed %d of its first 30", got)
		}
		if err := a.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		var tat int64
		if err := d.Raw("SELECT tat FROM rate_limits WHERE scope = 'ip' AND subject = ?", ip).Scan(&tat).Error; err != nil {
			t.Fatal(err)
		}
		if want := clock.UnixMicro() + 30*cfg.Anonymous.interval(); tat != want {
			t.Fatalf("bucket TAT after 30 requests = %d, want now + 30 intervals = %d", tat, want)
		}
		// B has not flushed yet: it knows only its own spending.
		if take(b, 1) != 1 {
			t.Fatal("replica B refused its first request")
		}
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := take(b, 40); got != 19 {
			t.Errorf("after its flush replica B allowed %d more, want 50 - 31 = 19", got)
		}
		// A time later the bucket has refilled by what elapsed.
		clock = clock.Add(10 * cfg.Anonymous.Period / time.Duration(cfg.Anonymous.Limit))
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := take(b, 40); got != 10 {
			t.Errorf("ten intervals later replica B allowed %d, want 10", got)
		}
		// Spending that went over (a flush of charges already taken) is
		// debt: refused until it has passed.
		b.mu.Lock()
		b.pending[store.Bucket{Scope: store.ScopeIP, Subject: ip}] += 20 * cfg.Anonymous.interval()
		b.mu.Unlock()
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		r := b.Anonymous(ip)
		if !r.Refused() {
			t.Fatal("a bucket in debt allowed a request")
		}
		if _, res := r.Status(); res.RetryAfter < 20*cfg.Anonymous.Period/time.Duration(cfg.Anonymous.Limit) {
			t.Errorf("retry after %v, want at least the debt of 20 intervals", res.RetryAfter)
		}
		// Full buckets are swept; the view forgets them.
		clock = clock.Add(2 * cfg.Anonymous.Period)
		if err := b.Sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, d); n != 0 {
			t.Errorf("%d buckets left after a sweep of full ones", n)
		}
	})
}

func countRows(t *testing.T, d *db.DB) int64 {
	t.Helper()
	var n int64
	if err := d.Raw("SELECT COUNT(*) FROM rate_limits").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
