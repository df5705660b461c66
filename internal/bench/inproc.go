package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/server"
	"github.com/neosc/neosc/internal/store"
)

// Issuer is the NEOSC_PUBLIC_URL of the benchmarked service: the iss of
// the harness's tokens.
const Issuer = "http://neosc.bench"

// BenchRate is the rate limit given to callers and organizations: far above
// anything a run spends (the limits stay on, as in production).
var BenchRate = ratelimit.Rate{Limit: 100_000_000, Period: time.Hour}

// InProc is the service's real HTTP handler and the raw baseline's handler
// over the same database, each on a pool of its own that counts its
// statements.
type InProc struct {
	Service, Raw       http.Handler
	SvcStmts, RawStmts *Counter
	Fixture            *Fixture
	Engine             db.Engine
	DatabaseURL        string
	svcDB              *db.DB
	rawPool            interface{ Close() error }
}

// NewInProc builds both handlers on databaseURL (migrated and seeded).
func NewInProc(ctx context.Context, databaseURL string, s *Seeded, key jwk.Key, run string) (*InProc, error) {
	p := &InProc{SvcStmts: &Counter{}, RawStmts: &Counter{}, DatabaseURL: databaseURL}
	d, err := OpenDB(ctx, databaseURL, p.SvcStmts)
	if err != nil {
		return nil, err
	}
	p.svcDB, p.Engine = d, d.Engine
	tokens, err := auth.NewTokens(Issuer, 24*time.Hour, key)
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	m, err := db.NewMigrator(d, nil)
	if err != nil {
		return nil, err
	}
	limits := ratelimit.New(store.New(d.DB), ratelimit.Config{Anonymous: BenchRate, Caller: BenchRate, Organization: BenchRate}, log)
	hashes := auth.DefaultHashConcurrency(384 << 20)
	p.Service = server.New(server.Deps{DB: d, Migrator: m, Tokens: tokens, Log: log, DefaultOrgName: "Default Organization", PublicURL: Issuer,
		Limits: limits, Passwords: auth.NewPasswords(hashes, hashes*auth.DefaultHashQueuePerSlot, time.Second)})
	pool, _, err := OpenPool(ctx, databaseURL, p.RawStmts)
	if err != nil {
		return nil, err
	}
	p.rawPool = pool
	pub, err := PublicKeys(key)
	if err != nil {
		return nil, err
	}
	p.Raw = &Raw{DB: pool, Engine: d.Engine, Keys: pub, Issuer: Issuer, Limit: BenchRate.Limit, Period: BenchRate.Period}
	if p.Fixture, err = NewFixture(ctx, d, s, tokens, run); err != nil {
		return nil, err
	}
	return p, nil
}

// Close closes both pools.
func (p *InProc) Close() {
	_ = p.svcDB.Close()
	_ = p.rawPool.Close()
}

// PublicKeys is the key set the raw baseline verifies with: the public half
// of the signing key.
func PublicKeys(key jwk.Key) (jwk.Set, error) {
	pub, err := key.PublicKey()
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, err
	}
	return set, nil
}

// NewHTTPRequest is r as an HTTP request to /graphql.
func NewHTTPRequest(r Request, base string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(r.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+r.Token)
	req.Header.Set(ScenarioHeader, r.Scenario)
	return req
}

// WantStatus is the HTTP status every request of scenario s must get.
func WantStatus(s string) int {
	if s == S6 || s == S6n {
		return http.StatusUnauthorized
	}
	return http.StatusOK
}

// Loop runs b.N requests of scenario scn through h, reporting statements
// per request (stmts/op); a request answered otherwise than WantStatus
// ends b, its answer in *failed when failed is not nil.
func Loop(b *testing.B, h http.Handler, c *Counter, f *Fixture, scn, side string, failed *string) {
	b.ReportAllocs()
	start := c.N()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := f.Next(scn, side, uint64(i))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, NewHTTPRequest(r, ""))
		if rec.Code != WantStatus(r.Scenario) {
			msg := fmt.Sprintf("%s %s: status %d: %.300s", side, scn, rec.Code, rec.Body.String())
			if failed != nil {
				*failed = msg
			}
			b.Fatal(msg)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(c.N()-start)/float64(b.N), "stmts/op")
}

// GoResult is one side's Go benchmark of one scenario.
type GoResult struct {
	NsOp, AllocsOp, BytesOp, StmtsOp float64
	N                                int
}

// GoBench runs scenario scn through the side's handler with
// testing.Benchmark; with profile set, under a CPU profile written there.
func (p *InProc) GoBench(scn, side, profile string) (GoResult, error) {
	h, c := p.Service, p.SvcStmts
	if side == "raw" {
		h, c = p.Raw, p.RawStmts
	}
	var failed string
	if profile != "" {
		fh, err := os.Create(profile)
		if err != nil {
			return GoResult{}, err
		}
		if err := pprof.StartCPUProfile(fh); err != nil {
			_ = fh.Close()
			return GoResult{}, err
		}
		defer func() { pprof.StopCPUProfile(); _ = fh.Close() }()
	}
	res := testing.Benchmark(func(b *testing.B) { Loop(b, h, c, p.Fixture, scn, side, &failed) })
	if failed != "" {
		return GoResult{}, fmt.Errorf("go benchmark: %s", failed)
	}
	if res.N == 0 {
		return GoResult{}, fmt.Errorf("go benchmark %s %s did not run", side, scn)
	}
	return GoResult{NsOp: float64(res.NsPerOp()), AllocsOp: float64(res.AllocsPerOp()), BytesOp: float64(res.AllocedBytesPerOp()), StmtsOp: res.Extra["stmts/op"], N: res.N}, nil
}

// PprofTop is `go tool pprof -top` of a profile, its first n lines of
// functions.
func PprofTop(ctx context.Context, profile string, n int) string {
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", n), profile).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(go tool pprof failed: %v)\n%s", err, out)
	}
	return string(out)
}

// Fetch runs one request of scenario scn through h in process and returns
// status and body.
func Fetch(h http.Handler, f *Fixture, scn, side string) (int, http.Header, []byte) {
	r := f.Next(scn, side, 0)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, NewHTTPRequest(r, ""))
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

var masks = []struct {
	re  *regexp.Regexp
	new string
}{
	{regexp.MustCompile(`"remaining":\d+`), `"remaining":0`},
	{regexp.MustCompile(`"resetAt":"[^"]*"`), `"resetAt":"-"`},
	{regexp.MustCompile(`"requestId":"[^"]*"`), `"requestId":"-"`},
	{regexp.MustCompile(`"createWorkspace":\{"id":"[^"]*","name":"[^"]*"\}`), `"createWorkspace":{"id":"-","name":"-"}`},
}

// Mask blanks what differs from one request to the next (rate-limit
// remaining and resetAt, request IDs, S4's new workspace's ID and name).
func Mask(b []byte) []byte {
	for _, m := range masks {
		b = m.re.ReplaceAll(b, []byte(m.new))
	}
	return b
}

// compareHeaders are the response headers both sides must send alike.
var compareHeaders = []string{"Content-Type", "Cache-Control", "Www-Authenticate", "X-Content-Type-Options", "Ratelimit-Limit", "Ratelimit-Policy"}

// Same compares two answers (status, headers, masked body); "" when alike.
func Same(scn string, sStatus int, sHeader http.Header, sBody []byte, rStatus int, rHeader http.Header, rBody []byte) string {
	if sStatus != rStatus {
		return fmt.Sprintf("%s: status service %d, raw %d", scn, sStatus, rStatus)
	}
	for _, h := range compareHeaders {
		if sHeader.Get(h) != rHeader.Get(h) {
			return fmt.Sprintf("%s: header %s: service %q, raw %q", scn, h, sHeader.Get(h), rHeader.Get(h))
		}
	}
	a, b := Mask(sBody), Mask(rBody)
	if !bytes.Equal(a, b) {
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		from := max(i-80, 0)
		return fmt.Sprintf("%s: bodies differ at byte %d:\n  service: …%.300s\n  raw:     …%.300s", scn, i, a[from:], b[from:])
	}
	return ""
}

// CheckBodies fetches one answer of each scenario from both in-process
// handlers and compares them.
func (p *InProc) CheckBodies() error {
	for _, s := range Scenarios {
		if s == MIX {
			continue
		}
		ss, sh, sb := Fetch(p.Service, p.Fixture, s, "svc")
		rs, rh, rb := Fetch(p.Raw, p.Fixture, s, "raw")
		if d := Same(s, ss, sh, sb, rs, rh, rb); d != "" {
			return fmt.Errorf("in process: %s\nraw: %.300s", d, rb)
		}
	}
	return nil
}

// profilePath is DIR/<engine>-<scale>-<scenario>.pprof.
func profilePath(dir string, engine db.Engine, scale, scn string) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%s-%s.pprof", engine, scale, scn))
}
