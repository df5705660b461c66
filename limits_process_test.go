package main

// The limits measured from outside: real `neosc serve` processes (this test
// binary run again, see mail_process_test.go), their memory read from
// /proc, their budgets shared through one database.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/testdb"
)

// procStatus reads a kB field (VmHWM, VmRSS) of /proc/<pid>/status.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read /proc/%d/status: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// serverAddr waits for the process's "serving" log record and returns its
// address.
func (p *serverProcess) addr(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "serving" {
				return rec.Addr
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("server exited early (%v):\n%s", err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("server did not start:\n%s", p.stderr.String())
	return ""
}

type answer struct {
	status  int
	code    string
	retry   string
	latency time.Duration
	header  http.Header
	body    []byte
}

func post(client *http.Client, url, token, query string, vars map[string]any) (answer, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	var out struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	_ = json.Unmarshal(b, &out)
	a := answer{status: res.StatusCode, retry: res.Header.Get("Retry-After"), latency: time.Since(start), header: res.Header, body: b}
	if len(out.Errors) > 0 {
		a.code = out.Errors[0].Extensions.Code
	}
	return a, nil
}

// storm sends n requests at once (built by req(i)) while /healthz is polled,
// and watches the server's memory: above kill (kB) it is killed, so a
// regression fails the test instead of the machine.
func storm(t *testing.T, p *serverProcess, base string, n int, req func(i int) (string, map[string]any)) []answer {
	t.Helper()
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	pid := p.cmd.Process.Pid
	const kill = 1536 << 10 // 1.5 GiB
	stop := make(chan struct{})
	var watch sync.WaitGroup
	var killed atomic.Bool
	var health struct {
		sync.Mutex
		ok, failed int
		worst      time.Duration
	}
	watch.Add(2)
	go func() { // memory watchdog
		defer watch.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil && strings.Contains(string(b), "VmRSS") {
				if rss := procStatus(t, pid, "VmRSS"); rss > kill {
					killed.Store(true)
					_ = p.cmd.Process.Kill()
					return
				}
			}
		}
	}()
	go func() { // /healthz must keep answering
		defer watch.Done()
		hc := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			start := time.Now()
			res, err := hc.Get(base + "/healthz")
			d := time.Since(start)
			health.Lock()
			if err != nil || res.StatusCode != http.StatusOK {
				health.failed++
			} else {
				health.ok++
			}
			health.worst = max(health.worst, d)
			health.Unlock()
			if err == nil {
				_ = res.Body.Close()
			}
		}
	}()

	answers := make([]answer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q, vars := req(i)
			<-gate
			answers[i], errs[i] = post(client, base+"/graphql", "", q, vars)
		}()
	}
	close(gate)
	wg.Wait()
	close(stop)
	watch.Wait()
	if killed.Load() {
		t.Fatalf("the server passed %d MiB and was killed", kill>>10)
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	health.Lock()
	defer health.Unlock()
	t.Logf("/healthz during the storm: %d answered, %d failed, slowest %v", health.ok, health.failed, health.worst)
	if health.failed > 0 || health.ok == 0 {
		t.Errorf("/healthz failed %d times (answered %d) during the storm", health.failed, health.ok)
	}
	return answers
}

// summarize checks that every answer is want or a proper RATE_LIMITED
// (429, Retry-After), and logs the refusals' latencies.
func summarize(t *testing.T, what string, answers []answer, want string) {
	t.Helper()
	var refused []time.Duration
	done := 0
	for _, a := range answers {
		switch a.code {
		case want:
			done++
		case "RATE_LIMITED":
			if a.status != http.StatusTooManyRequests || a.retry == "" {
				t.Errorf("RATE_LIMITED with status %d, Retry-After %q", a.status, a.retry)
			}
			refused = append(refused, a.latency)
		default:
			t.Errorf("%s: unexpected answer %d %s", what, a.status, a.body)
		}
	}
	slices.Sort(refused)
	if want == "" {
		want = "succeeded"
	}
	if len(refused) > 0 {
		t.Logf("%s: %d %s, %d RATE_LIMITED (latency min %v, median %v, max %v)", what, done, want, len(refused),
			refused[0], refused[len(refused)/2], refused[len(refused)-1])
	} else {
		t.Logf("%s: all %d %s", what, done, want)
	}
}

// TestMemoryExhaustionNoTokenNeeded: 200 concurrent wrong-password logins
// took the process from 46 MiB to 3,858 MiB, 200 concurrent registrations
// to 5,208 MiB: each argon2id hash holds 19 MiB while it runs, and nothing
// bounded how many ran. Now hashing runs a few at a time with a short
// queue, and the rest are refused with RATE_LIMITED at once. 500 logins at
// once (every one a full hash: wrong passwords for 500 addresses, so the
// per-account throttle does not hide the hashing), then 200 registrations,
// against the real server with its default limits (except the per-address
// budget, raised so that every request reaches the hashing): peak RSS
// (VmHWM) stays under 300 MiB and /healthz keeps answering.
func TestMemoryExhaustionNoTokenNeeded(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Fatalf("peak RSS is read from /proc (Linux): %v", err)
	}
	const limitKB = 300 << 10
	p := startServer(t, "server", "NEOSC_DATABASE_URL="+testdb.URL(t, "sqlite"), "NEOSC_RATE_LIMIT_ANONYMOUS=1000000/1m")
	base := "http://" + p.addr(t)
	idle := procStatus(t, p.cmd.Process.Pid, "VmRSS")

	logins := storm(t, p, base, 500, func(i int) (string, map[string]any) {
		return `mutation($in: LoginInput!) { login(input: $in) { token } }`,
			map[string]any{"in": map[string]any{"email": fmt.Sprintf("storm-%03d@storm.test", i), "password": "wrong password"}}
	})
	peakLogins := procStatus(t, p.cmd.Process.Pid, "VmHWM")
	summarize(t, "500 logins", logins, "UNAUTHENTICATED")

	registrations := storm(t, p, base, 200, func(i int) (string, map[string]any) {
		return `mutation($in: RegisterInput!) { register(input: $in) { token } }`,
			map[string]any{"in": map[string]any{"email": fmt.Sprintf("new-%03d@storm.test", i), "password": "a long enough password", "name": "N"}}
	})
	peak := procStatus(t, p.cmd.Process.Pid, "VmHWM")
	summarize(t, "200 registrations", registrations, "")
	t.Logf("RSS idle %d MiB; peak %d MiB after the logins, %d MiB after the registrations", idle>>10, peakLogins>>10, peak>>10)
	if peak > limitKB {
		t.Errorf("peak RSS %d MiB, want under %d MiB", peak>>10, limitKB>>10)
	}
	p.stop(t)
}

// TestRateLimitsSharedAcrossServers: two server processes on one database
// (MariaDB when configured, and SQLite) share a token's budget of points:
// what one spends, the other sees, and the two together allow the budget
// once.
func TestRateLimitsSharedAcrossServers(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			const budget = 50
			dbURL := testdb.URL(t, e)
			key := t.TempDir() + "/shared-key.jwk"
			env := []string{"NEOSC_DATABASE_URL=" + dbURL, "NEOSC_SIGNING_KEY_FILE=" + key,
				"NEOSC_RATE_LIMIT_TOKEN=" + strconv.Itoa(budget) + "/1h"}
			a := startServer(t, "server A", env...)
			baseA := "http://" + a.addr(t) // A migrates and creates the key first
			b := startServer(t, "server B", env...)
			baseB := "http://" + b.addr(t)
			client := &http.Client{Timeout: 30 * time.Second}

			r, err := post(client, baseA+"/graphql", "", `mutation { register(input: {email: "shared@budget.test", password: "a long enough password", name: "S", organization: "Shared"}) { token } }`, nil)
			if err != nil || r.code != "" {
				t.Fatalf("register: %v %s", err, r.body)
			}
			var reg struct {
				Data struct{ Register struct{ Token string } }
			}
			_ = json.Unmarshal(r.body, &reg)
			token := reg.Data.Register.Token

			me := func(base string) answer {
				t.Helper()
				a, err := post(client, base+"/graphql", token, `{ me { id } }`, nil)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			for i := 0; i < 30; i++ {
				if r := me(baseA); r.code != "" {
					t.Fatalf("server A, request %d: %s", i, r.body)
				}
			}
			time.Sleep(time.Second) // A's writer flushes every 250 ms
			r = me(baseB)
			if r.code != "" || r.header.Get("RateLimit-Remaining") != strconv.Itoa(budget-31) {
				t.Fatalf("server B's first answer: RateLimit-Remaining %q, want %d (A spent 30): %s",
					r.header.Get("RateLimit-Remaining"), budget-31, r.body)
			}
			allowed := 31
			for i := 0; i < budget; i++ {
				if r = me(baseB); r.code != "" {
					break
				}
				allowed++
			}
			if r.code != "RATE_LIMITED" || r.status != http.StatusTooManyRequests || r.retry == "" {
				t.Fatalf("past the budget: %d %q Retry-After %q", r.status, r.code, r.retry)
			}
			if allowed != budget {
				t.Errorf("the two servers allowed %d requests, want the budget %d", allowed, budget)
			}
			time.Sleep(time.Second) // B flushes; A reads it with the caller
			if r = me(baseA); r.code != "RATE_LIMITED" {
				t.Errorf("server A after B spent the rest: %d %s", r.status, r.body)
			}
			a.stop(t)
			b.stop(t)
		})
	}
}

// TestGCPercent: the server runs its collector at GOGC=150 when the GOGC
// variable is unset (docs/performance.md), and at GOGC when it is set;
// start-up says which in its limits record.
func TestGCPercent(t *testing.T) {
	for _, c := range []struct{ env, want string }{{"GOGC=", "150"}, {"GOGC=120", "120"}} {
		p := startServer(t, "gogc", "NEOSC_DATABASE_URL="+testdb.URL(t, "sqlite"), c.env)
		p.addr(t)
		got := ""
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			var rec struct{ Msg, Gogc string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "limits" {
				got = rec.Gogc
			}
		}
		if got != c.want {
			t.Errorf("%s: limits record says gogc %q, want %q:\n%s", c.env, got, c.want, p.stderr.String())
		}
		p.stop(t)
	}
}
