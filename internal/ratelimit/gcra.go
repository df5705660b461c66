package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a budget: Limit units per Period, refilled continuously (one
// unit every Period/Limit), holding at most Limit. It is throttled's
// RateQuota{MaxRate: PerDuration(Limit, Period), MaxBurst: Limit-1}.
type Rate struct {
	Limit  int
	Period time.Duration
}

// String is "LIMIT/PERIOD", as ParseRate reads it.
func (r Rate) String() string { return strconv.Itoa(r.Limit) + "/" + shortDuration(r.Period) }

func shortDuration(d time.Duration) string {
	s := d.String()
	for _, unit := range []string{"h", "m"} {
		s = strings.Replace(s, unit+"0m0s", unit, 1)
		s = strings.Replace(s, unit+"0s", unit, 1)
	}
	return s
}

// ParseRate reads "LIMIT/PERIOD" such as "5000/1h" or "120/1m": a whole
// number from 1 to 100,000,000 per a Go duration from 1s to 24h, at least
// a microsecond per unit.
func ParseRate(s string) (Rate, error) {
	n, p, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, errors.New("want LIMIT/PERIOD, e.g. 5000/1h")
	}
	limit, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || limit < 1 || limit > 100_000_000 {
		return Rate{}, errors.New("LIMIT must be a whole number from 1 to 100000000")
	}
	period, err := time.ParseDuration(strings.TrimSpace(p))
	if err != nil || period < time.Second || period > 24*time.Hour {
		return Rate{}, errors.New("PERIOD must be a duration from 1s to 24h, e.g. 1h or 1m")
	}
	r := Rate{Limit: limit, Period: period}
	if r.interval() < 1 {
		return Rate{}, fmt.Errorf("%d per %s is more than one a microsecond", limit, period)
	}
	return r, nil
}

// interval is the emission interval in microseconds: the time one unit
// takes to come back.
func (r Rate) interval() int64 { return r.Period.Microseconds() / int64(r.Limit) }

// tolerance is the burst tolerance in microseconds: a full bucket.
func (r Rate) tolerance() int64 { return r.interval() * int64(r.Limit) }

// Result is a bucket's answer to one request.
type Result struct {
	Allowed bool
	// Limit, Remaining and ResetAfter are the RateLimit-* headers: the
	// bucket's size, the units left after this request, and how long until
	// it is full again.
	Limit      int
	Period     time.Duration
	Remaining  int
	ResetAfter time.Duration
	// RetryAfter, when refused, is how long until the request would be
	// allowed (the whole period when it costs more than the bucket holds).
	RetryAfter time.Duration
	// TAT is the bucket's theoretical arrival time afterwards (µs).
	TAT int64
}

// decide is GCRA, as throttled's GCRARateLimiterCtx computes it, over a
// bucket whose theoretical arrival time is tat (µs since the epoch; 0 or
// past: a full bucket), at now, for a request of cost units.
func decide(r Rate, tat, now int64, cost int) Result {
	inc := int64(cost) * r.interval()
	newTat := max(tat, now) + inc
	if allowAt := newTat - r.tolerance(); now < allowAt {
		return describe(r, tat, now, cost, false)
	}
	return describe(r, newTat, now, cost, true)
}

// describe is the Result of a decision that left the bucket at tat: the
// new TAT when allowed, the unchanged one when refused.
func describe(r Rate, tat, now int64, cost int, allowed bool) Result {
	ttl := max(tat-now, 0)
	res := Result{Allowed: allowed, Limit: r.Limit, Period: r.Period, TAT: tat, ResetAfter: micros(ttl)}
	if left := r.tolerance() - ttl; left > 0 {
		res.Remaining = int(left / r.interval())
	}
	if !allowed {
		inc := int64(cost) * r.interval()
		if inc > r.tolerance() {
			res.RetryAfter = r.Period
		} else {
			res.RetryAfter = micros(max(tat, now) + inc - r.tolerance() - now)
		}
	}
	return res
}

func micros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
