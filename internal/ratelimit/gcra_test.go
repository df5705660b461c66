package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/throttled/throttled/v2"
	"pgregory.net/rapid"
)

// clockStore is a throttled.GCRAStoreCtx in memory on a clock the test
// moves (throttled's memstore reads the wall clock).
type clockStore struct {
	now time.Time
	v   map[string]int64
}

func (s *clockStore) GetWithTime(_ context.Context, key string) (int64, time.Time, error) {
	if v, ok := s.v[key]; ok {
		return v, s.now, nil
	}
	return -1, s.now, nil
}

func (s *clockStore) SetIfNotExistsWithTTL(_ context.Context, key string, value int64, _ time.Duration) (bool, error) {
	if _, ok := s.v[key]; ok {
		return false, nil
	}
	s.v[key] = value
	return true, nil
}

func (s *clockStore) CompareAndSwapWithTTL(_ context.Context, key string, old, value int64, _ time.Duration) (bool, error) {
	if s.v[key] != old {
		return false, nil
	}
	s.v[key] = value
	return true, nil
}

// TestDecideIsThrottledsGCRA runs decide and throttled's GCRA limiter side
// by side on random budgets and request sequences: the same verdicts, units
// left, reset and retry times at every step.
func TestDecideIsThrottledsGCRA(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		limit := rapid.IntRange(1, 50).Draw(rt, "limit")
		interval := time.Duration(rapid.IntRange(1, 1_000_000).Draw(rt, "interval µs")) * time.Microsecond
		r := Rate{Limit: limit, Period: interval * time.Duration(limit)}
		st := &clockStore{now: time.Unix(1_700_000_000, 0), v: map[string]int64{}}
		ref, err := throttled.NewGCRARateLimiterCtx(st, throttled.RateQuota{MaxRate: throttled.PerDuration(limit, r.Period), MaxBurst: limit - 1})
		if err != nil {
			rt.Fatal(err)
		}
		var tat int64 // ours: 0 is an empty bucket
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			st.now = st.now.Add(time.Duration(rapid.Int64Range(0, int64(2*r.Period/time.Microsecond)).Draw(rt, "advance µs")) * time.Microsecond)
			cost := rapid.IntRange(1, limit).Draw(rt, "cost")
			limited, want, err := ref.RateLimitCtx(context.Background(), "k", cost)
			if err != nil {
				rt.Fatal(err)
			}
			got := decide(r, tat, st.now.UnixMicro(), cost)
			if got.Allowed == limited || got.Remaining != want.Remaining || got.ResetAfter != want.ResetAfter ||
				got.Limit != want.Limit {
				rt.Fatalf("step %d (cost %d): ours %+v, throttled limited=%v %+v", i, cost, got, limited, want)
			}
			if limited && got.RetryAfter != want.RetryAfter {
				rt.Fatalf("step %d: retry after %v, throttled %v", i, got.RetryAfter, want.RetryAfter)
			}
			tat = got.TAT
		}
	})
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"5000/1h": {5000, time.Hour}, " 120 / 1m ": {120, time.Minute}, "1/24h": {1, 24 * time.Hour}, "30/10s": {30, 10 * time.Second},
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseRate(got.String()); err != nil || back != got {
			t.Errorf("%v does not read back: %v, %v", got, back, err)
		}
	}
	for _, in := range []string{"", "5000", "5000/", "/1h", "0/1h", "-1/1h", "5000/hour", "5000/0s", "10/25h", "2000000/1s", "x/1h"} {
		if r, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %v, want an error", in, r)
		}
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                 "192.0.2.7",
		"::ffff:192.0.2.7":          "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1%eth0": "2001:db8:1:2::/64",
		"@":                         "x:@",
		"*":                         "x:*",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoginBackoff(t *testing.T) {
	p := LoginPolicy{}.withDefaults()
	for n, want := range map[int]time.Duration{1: 0, 4: 0, 5: time.Second, 6: 2 * time.Second, 9: 16 * time.Second, 14: 512 * time.Second, 15: 15 * time.Minute, 1000: 15 * time.Minute} {
		if got := p.backoff(n, 5); got != want {
			t.Errorf("backoff after %d failures = %v, want %v", n, got, want)
		}
	}
}

func TestPoints(t *testing.T) {
	for c, want := range map[int]int{0: 1, 1: 1, 100: 1, 101: 2, 250: 3, 5000: 50} {
		if got := Points(c); got != want {
			t.Errorf("Points(%d) = %d, want %d", c, got, want)
		}
	}
}
