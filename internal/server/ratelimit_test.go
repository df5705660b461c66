package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/testdb"
)

const loginQ = `mutation($in: LoginInput!) { login(input: $in) { token } }`

func loginVars(email, pw string) map[string]any {
	return map[string]any{"in": map[string]any{"email": email, "password": pw}}
}

// wantRateLimited checks a refusal: RATE_LIMITED, HTTP 429, a Retry-After of
// at least a second (the same in extensions.retryAfter); it returns it.
func wantRateLimited(t *testing.T, r *apitest.Response) int {
	t.Helper()
	r.Want(t, "RATE_LIMITED")
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("RATE_LIMITED with status %d, want 429: %s", r.Status, r.Body)
	}
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 {
		t.Fatalf("Retry-After %q: want whole seconds >= 1", r.Header.Get("Retry-After"))
	}
	if got := r.Get("errors.0.extensions.retryAfter").Int(); got != int64(retry) {
		t.Errorf("extensions.retryAfter %d, Retry-After %d", got, retry)
	}
	return retry
}

// TestBruteForce: 200 wrong passwords in a row for one account were all
// processed at full speed (no backoff, no lockout, RATE_LIMITED never sent),
// and a schema recovery tool ran 4,919 anonymous requests in 18 s. Now
// sign-ins back off per account, anonymous callers have a budget per
// address, and authenticated ones a budget of points per token and per
// organization, shared by every replica through the database.
func TestBruteForce(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		// A first backoff of a second keeps the test quick yet wide enough for a
		// loaded machine (hashes take long there); the doubling, the
		// thresholds and the cap are the production ones.
		env := apitest.New(t, d, apitest.WithTrustedProxies("127.0.0.1/32"),
			apitest.WithRateLimits(ratelimit.Config{Logins: ratelimit.LoginPolicy{FirstBackoff: time.Second}}))
		login := func(ip, email, pw string) *apitest.Response {
			return env.DoFrom(ip, "", loginQ, loginVars(email, pw))
		}

		t.Run("one account from one address: five at full speed, then backoff", func(t *testing.T) {
			env.Register("ada@brute.test", "")
			const ip, right = "203.0.113.1", "password-ada@brute.test"
			start := time.Now()
			for i := 0; i < ratelimit.DefaultLoginMaxFailures; i++ {
				login(ip, "ada@brute.test", fmt.Sprintf("guess-%03d", i)).Want(t, "UNAUTHENTICATED")
			}
			wantRateLimited(t, login(ip, "ada@brute.test", "guess-006"))
			wantRateLimited(t, login(ip, "ada@brute.test", right)) // locked is locked, right or wrong
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the first attempts took %v", d)
			}
			time.Sleep(1200 * time.Millisecond)
			login(ip, "ada@brute.test", "guess-007").Want(t, "UNAUTHENTICATED") // processed again, and the wait doubles
			wantRateLimited(t, login(ip, "ada@brute.test", "guess-008"))
			time.Sleep(2300 * time.Millisecond)
			login(ip, "ada@brute.test", right).OK(t)
			// A success resets the account: five at full speed again.
			for i := 0; i < ratelimit.DefaultLoginMaxFailures; i++ {
				login(ip, "ada@brute.test", fmt.Sprintf("again-%03d", i)).Want(t, "UNAUTHENTICATED")
			}
		})

		t.Run("an unknown address is throttled like an account", func(t *testing.T) {
			for i := 0; i < ratelimit.DefaultLoginMaxFailures; i++ {
				login("203.0.113.2", "nobody@brute.test", "guess").Want(t, "UNAUTHENTICATED")
			}
			wantRateLimited(t, login("203.0.113.2", "nobody@brute.test", "guess"))
		})

		t.Run("the real user signs in from elsewhere while an address guesses", func(t *testing.T) {
			env.Register("bob@brute.test", "")
			for i := 0; i < 10; i++ {
				r := login("203.0.113.3", "bob@brute.test", "guess")
				if c := r.Code(); c != "UNAUTHENTICATED" && c != "RATE_LIMITED" {
					t.Fatalf("guess %d: %s", i, r.Body)
				}
			}
			login("198.51.100.7", "bob@brute.test", "password-bob@brute.test").OK(t)
		})

		t.Run("many addresses: the account backs off, but not for its known addresses", func(t *testing.T) {
			env.Register("cyd@brute.test", "")
			login("198.51.100.8", "cyd@brute.test", "password-cyd@brute.test").OK(t) // a known address now
			processed := 0
			for i := 0; i < 22; i++ {
				r := login(fmt.Sprintf("203.0.113.%d", 100+i), "cyd@brute.test", "guess")
				switch r.Code() {
				case "UNAUTHENTICATED":
					processed++
				case "RATE_LIMITED":
					wantRateLimited(t, r)
				default:
					t.Fatalf("guess %d: %s", i, r.Body)
				}
			}
			if want := 4 * ratelimit.DefaultLoginMaxFailures; processed != want {
				t.Errorf("%d guesses from 22 addresses were processed, want %d", processed, want)
			}
			wantRateLimited(t, login("192.0.2.50", "cyd@brute.test", "password-cyd@brute.test")) // a new address waits
			login("198.51.100.8", "cyd@brute.test", "password-cyd@brute.test").OK(t)             // the known one does not
		})
	})
}

// TestSchemaRecoveryWithoutAToken: anonymous requests, parsed or not, pay
// their address's budget; past it they are refused before parsing with
// RATE_LIMITED, and other addresses are not affected.
func TestSchemaRecoveryWithoutAToken(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		const budget = 50
		env := apitest.New(t, d, apitest.WithTrustedProxies("127.0.0.1/32"),
			apitest.WithRateLimits(ratelimit.Config{Anonymous: ratelimit.Rate{Limit: budget, Period: time.Minute}}))
		answered, refused := 0, 0
		start := time.Now()
		for i := 0; i < 80; i++ {
			r := env.DoFrom("203.0.113.9", "", fmt.Sprintf(`{ guess%d }`, i), nil)
			if r.Code() == "RATE_LIMITED" {
				wantRateLimited(t, r)
				refused++
				continue
			}
			r.Want(t, "BAD_USER_INPUT")
			answered++
			if got, want := r.Header.Get("RateLimit-Remaining"), strconv.Itoa(budget-answered); got != want {
				t.Errorf("request %d: RateLimit-Remaining %q, want %s", i, got, want)
			}
		}
		if answered != budget || refused != 80-budget {
			t.Errorf("answered %d, refused %d: want %d and %d", answered, refused, budget, 80-budget)
		}
		r := env.DoFrom("203.0.113.9", "", `{ __typename }`, nil)
		wantRateLimited(t, r)
		if r.Header.Get("RateLimit-Limit") != strconv.Itoa(budget) || r.Header.Get("RateLimit-Remaining") != "0" ||
			r.Header.Get("RateLimit-Policy") != strconv.Itoa(budget)+";w=60" {
			t.Errorf("refusal headers: %v", r.Header)
		}
		t.Logf("80 requests in %v", time.Since(start))
		env.DoFrom("203.0.113.10", "", `{ __typename }`, nil).OK(t)
		env.DoFrom("2001:db8:9:9::1", "", `{ __typename }`, nil).OK(t)
	})
}

// TestPointsBudget: an authenticated caller pays points by complexity from
// its own bucket and its organization's; every answer says so in
// RateLimit-* headers and extensions.rateLimit; past either budget the
// operation is refused before it runs.
func TestPointsBudget(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		const own, org = 40, 60
		env := apitest.New(t, d, apitest.WithRateLimits(ratelimit.Config{
			Caller: ratelimit.Rate{Limit: own, Period: time.Hour}, Organization: ratelimit.Rate{Limit: org, Period: time.Hour}}))
		admin := env.Register("admin@points.test", "Points")
		member := env.Invite(admin, "member@points.test", "MEMBER")

		r := env.Do(admin.Token, `{ me { id } }`, nil).OK(t)
		rl := r.Get("extensions.rateLimit")
		if rl.Get("cost").Int() != 1 || rl.Get("limit").Int() != own || rl.Get("remaining").Int() != own-2 {
			// -2: inviting the member cost a point too.
			t.Errorf("extensions.rateLimit %s", rl.Raw)
		}
		reset, err := time.Parse(time.RFC3339, rl.Get("resetAt").String())
		if err != nil || reset.Before(time.Now().Add(-time.Second)) || reset.After(time.Now().Add(time.Hour+time.Second)) {
			t.Errorf("resetAt %q", rl.Get("resetAt").String())
		}
		if r.Header.Get("RateLimit-Limit") != strconv.Itoa(own) || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(own-2) {
			t.Errorf("headers %v", r.Header)
		}
		expensive := `query($id: ID!) { organization(id: $id) { users(first: 100) { nodes { id email name role status createdAt } } } }`
		before := r.Get("extensions.rateLimit.remaining").Int()
		r = env.Do(admin.Token, expensive, map[string]any{"id": admin.OrgID}).OK(t)
		// Complexity 1 + (1 + 100 × (1 + 6)) = 702: 8 points.
		cost := r.Get("extensions.rateLimit.cost").Int()
		if cost != 8 || r.Get("extensions.rateLimit.remaining").Int() != before-cost {
			t.Errorf("a 100-node query: %s", r.Get("extensions").Raw)
		}

		// Spend the admin's own budget: refused before it runs.
		for r.Get("extensions.rateLimit.remaining").Int() > 0 {
			r = env.Do(admin.Token, `{ me { id } }`, nil).OK(t)
		}
		r = env.Do(admin.Token, `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { id } }`,
			map[string]any{"in": apitest.WorkspaceInput("never")})
		wantRateLimited(t, r)
		if r.Get("data.createWorkspace").Exists() || env.Count("SELECT COUNT(*) FROM workspaces WHERE name = 'never'") != 0 {
			t.Errorf("a refused mutation ran: %s", r.Body)
		}
		// The member has its own budget, but the organization's is shared:
		// 60 - the admin's 40 leaves the member 20.
		n := 0
		for ; n < own; n++ {
			r = env.Do(member.Token, `{ me { id } }`, nil)
			if r.Code() != "" {
				break
			}
		}
		wantRateLimited(t, r)
		if n != org-own {
			t.Errorf("the member got %d requests, want the organization's remaining %d", n, org-own)
		}
		// A user of the default organization has no organization budget.
		solo := env.Register("solo@points.test", "")
		r = env.Do(solo.Token, `{ me { id } }`, nil).OK(t)
		if r.Header.Get("RateLimit-Remaining") != strconv.Itoa(own-1) {
			t.Errorf("a default-organization user: %v", r.Header)
		}
	})
}

// TestBudgetCostsNoStatement: checking and charging an authenticated
// request runs no statement of its own: an authenticated read runs the one
// authenticating statement (which also reads the caller's buckets), and the
// spending is written by the replica's flush, in one statement for all.
func TestBudgetCostsNoStatement(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		budget := apitest.WithRateLimits(ratelimit.Config{Caller: ratelimit.Rate{Limit: 100, Period: time.Hour},
			Organization: ratelimit.Rate{Limit: 1000, Period: time.Hour}})
		env := apitest.New(t, d, budget)
		acc := env.Register("reader@stmt.test", "Readers")
		env.Counter.Reset()
		env.Do(acc.Token, `{ me { id email } }`, nil).OK(t)
		if n := env.Counter.N(); n != 1 {
			t.Errorf("an authenticated read ran %d statements, want the authenticating one:\n%s", n, env.Counter.SQL())
		}
		env.Counter.Reset()
		if err := env.Limits.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := env.Counter.N(); n != 2 { // the batch's upsert, and reading it back
			t.Errorf("a flush ran %d statements, want 2:\n%s", n, env.Counter.SQL())
		}
		if n := env.Count("SELECT COUNT(*) FROM rate_limits WHERE scope IN ('user', 'org') AND tat > ?", time.Now().UnixMicro()); n != 2 {
			t.Errorf("%d buckets written, want the user's and the organization's", n)
		}
		// A second replica on the same database reads them with the caller.
		other := apitest.New(t, d, budget, apitest.WithSigningKey(env.Key))
		r := other.Do(acc.Token, `{ me { id } }`, nil).OK(t)
		if got := r.Get("extensions.rateLimit.remaining").Int(); got != 100-2 { // the first read, this one
			t.Errorf("the second replica did not see the first's spending: %s", r.Get("extensions").Raw)
		}
	})
}

// TestAuditFlooding: 100 anonymous requests wrote 100 events into a victim
// organization's trail in 5 s. Now failed sign-ins are audited once per
// account per window, with a count, and the next success (or the next
// failure after the window) reports the rest: the counts add up to every
// failure processed, and none is lost.
func TestAuditFlooding(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		env := apitest.New(t, d, apitest.WithTrustedProxies("127.0.0.1/32"))
		victim := env.Register("victim@victim.test", "Victim")
		const home, right = "198.51.100.20", "password-victim@victim.test"
		env.DoFrom(home, "", loginQ, loginVars("victim@victim.test", right)).OK(t)

		processed := 0
		for i := 0; i < 100; i++ {
			r := env.DoFrom(fmt.Sprintf("203.0.%d.%d", 113+i/200, 1+i%200), "", loginQ, loginVars("victim@victim.test", "guess"))
			switch r.Code() {
			case "UNAUTHENTICATED":
				processed++
			case "RATE_LIMITED":
			default:
				t.Fatalf("request %d: %s", i, r.Body)
			}
		}
		events := func() (n, sum int) {
			var metas []string
			if err := env.DB.Raw(`SELECT metadata FROM audit_events WHERE organization_id = ? AND action = 'user.login_failed'`,
				rawID(t, victim.OrgID)).Scan(&metas).Error; err != nil {
				t.Fatal(err)
			}
			for _, m := range metas {
				var meta struct{ Count int }
				if err := json.Unmarshal([]byte(m), &meta); err != nil || meta.Count < 1 {
					t.Fatalf("event metadata %s: no count", m)
				}
				sum += meta.Count
			}
			return len(metas), sum
		}
		if n, _ := events(); n != 1 {
			t.Errorf("100 failed sign-ins wrote %d events into the victim's trail, want 1", n)
		}
		env.DoFrom(home, "", loginQ, loginVars("victim@victim.test", right)).OK(t)
		if n, sum := events(); n != 2 || sum != processed {
			t.Errorf("after the victim's sign-in: %d events counting %d failures, want 2 counting the %d processed", n, sum, processed)
		}
		t.Logf("%d of 100 guesses processed, the rest refused", processed)

		// The same refused registration, again and again: one event.
		for i := 0; i < 10; i++ {
			env.DoFrom(fmt.Sprintf("192.0.2.%d", i+1), "", registerQ, registerInput("mallory@evil.test", "Victim")).Want(t, "FORBIDDEN")
		}
		if n := env.Count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.registration_denied'"); n != 1 {
			t.Errorf("10 identical refused registrations wrote %d events, want 1", n)
		}
	})
}

// TestClientAddressOfTheAuditTrail: the audit trail's ipAddress follows the
// rule of the rate limits: X-Forwarded-For only from a trusted proxy.
func TestClientAddressOfTheAuditTrail(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		for _, tc := range []struct {
			name string
			opts []apitest.Option
			want string
		}{
			{"no trusted proxy: the connection's address", nil, "127.0.0.1"},
			{"behind a trusted proxy: the forwarded address", []apitest.Option{apitest.WithTrustedProxies("127.0.0.0/8")}, "203.0.113.77"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				env := apitest.New(t, d, tc.opts...)
				email := fmt.Sprintf("ip-%d@addr.test", len(tc.opts))
				env.DoFrom("198.51.100.1, 203.0.113.77", "", loginQ, loginVars(email, "guess")).Want(t, "UNAUTHENTICATED")
				var ip string
				if err := env.DB.Raw("SELECT ip_address FROM audit_events WHERE actor_email = ?", email).Row().Scan(&ip); err != nil {
					t.Fatal(err)
				}
				if ip != tc.want {
					t.Errorf("ipAddress %q, want %q", ip, tc.want)
				}
			})
		}
	})
}
