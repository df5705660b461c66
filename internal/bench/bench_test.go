package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/testdb"
)

// rawHelperEnv makes the test binary serve the raw baseline (the harness
// starts it as a child process, as neosc-bench starts `neosc-bench raw`).
const rawHelperEnv = "NEOSC_BENCH_RAW_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(rawHelperEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		fs := flag.NewFlagSet("raw", flag.ExitOnError)
		addr, dbURL, key, issuer := fs.String("addr", "", ""), fs.String("db", "", ""), fs.String("key", "", ""), fs.String("issuer", Issuer, "")
		_ = fs.Parse(os.Args[1:])
		if err := ServeRaw(ctx, *addr, *dbURL, *key, *issuer); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tinyInProc seeds the tiny data set on a fresh database of engine e and
// builds both handlers over it.
func tinyInProc(t testing.TB, e db.Engine) *InProc {
	t.Helper()
	u := testdb.URL(t, e)
	s, err := Prepare(context.Background(), u, Tiny)
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "key.jwk"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewInProc(context.Background(), u, s, key, "t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestBodiesEqual: the raw baseline answers every scenario with the
// service's bytes (masked where they differ per request).
func TestBodiesEqual(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			p := tinyInProc(t, e)
			if err := p.CheckBodies(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBodiesDiffer: the comparison catches a difference (a test that can
// fail).
func TestBodiesDiffer(t *testing.T) {
	p := tinyInProc(t, db.SQLite)
	ss, sh, sb := Fetch(p.Service, p.Fixture, S2a, "svc")
	rs, rh, rb := Fetch(p.Raw, p.Fixture, S2a, "raw")
	if d := Same(S2a, ss, sh, sb, rs, rh, rb); d != "" {
		t.Fatalf("equal answers reported different: %s", d)
	}
	tampered := bytes.Replace(rb, []byte(`"role":"MEMBER"`), []byte(`"role":"ADMIN"`), 1)
	if d := Same(S2a, ss, sh, sb, rs, rh, tampered); d == "" {
		t.Fatal("a changed role went unnoticed")
	}
}

// BenchmarkScenarios runs every scenario through the service's real HTTP
// handler and through the raw baseline, on a tiny seeded database per
// engine: go test -run '^$' -bench Scenarios ./internal/bench
func BenchmarkScenarios(b *testing.B) {
	for _, e := range testdb.Engines(b) {
		p := tinyInProc(b, e)
		for _, scn := range Scenarios {
			b.Run(string(e)+"/service/"+scn, func(b *testing.B) { Loop(b, p.Service, p.SvcStmts, p.Fixture, scn, "svc", nil) })
			b.Run(string(e)+"/raw/"+scn, func(b *testing.B) { Loop(b, p.Raw, p.RawStmts, p.Fixture, scn, "raw", nil) })
		}
	}
}

// TestHarnessShort runs the whole harness — seed, Go benchmarks, the real
// binary and the raw baseline under load, the report — with fixed small
// counts on two tiny data sets (named small and large, as the report's
// large ÷ small table wants), on SQLite and (when configured) MySQL. It
// asserts what must hold whatever the speed: equal bodies, answers without
// errors, every row of the tables, statements counted alike. No timing.
func TestHarnessShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs servers")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "neosc")
	build := exec.Command("go", "build", "-o", bin, "github.com/neosc/neosc")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	engines := []string{}
	for _, e := range testdb.Engines(t) {
		engines = append(engines, string(e))
	}
	var log bytes.Buffer
	prefix := fmt.Sprintf("neosc_bench_t%d_", time.Now().UnixNano()%1_000_000_000)
	if dsn := os.Getenv(testdb.EnvMySQL); dsn != "" {
		t.Cleanup(func() {
			_ = DropMySQL(context.Background(), dsn, prefix+"small")
			_ = DropMySQL(context.Background(), dsn, prefix+"large")
		})
	}
	larger := Tiny
	larger.AuditEvents, larger.Seed = 800, 2
	scales := []string{"small", "large"}
	cfg := Config{
		MySQLPrefix: prefix, Sizes: map[string]Sizes{"small": Tiny, "large": larger},
		Scales: scales, Engines: engines, MySQLDSN: os.Getenv(testdb.EnvMySQL), Rounds: 1,
		Duration: 200 * time.Millisecond, Workers: 4, Bin: bin, RawCmd: []string{os.Args[0]}, RawEnv: []string{rawHelperEnv + "=1"},
		BenchTime: "20x", WorkDir: dir, Log: &log, CPUProfileDir: filepath.Join(dir, "profiles"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("harness: %v\n%s", err, log.String())
	}
	md := rep.Markdown()
	for _, e := range engines {
		for _, scn := range Scenarios {
			for _, scale := range scales {
				c := rep.Cell(e, scale, scn)
				if c == nil || len(c.Svc) != 1 || len(c.Raw) != 1 {
					t.Fatalf("%s %s %s: no load results", e, scale, scn)
				}
				if IsRead(scn) && (c.Half == nil || c.RawHalf == nil) {
					t.Errorf("%s %s %s: no run at half rate", e, scale, scn)
				}
				for _, r := range []LoadResult{c.Svc[0], c.Raw[0]} {
					if r.RPS <= 0 || r.Errors != 0 {
						t.Errorf("%s %s %s: %.0f rps, %d errors (%s)", e, scale, scn, r.RPS, r.Errors, r.FirstError)
					}
				}
				if scn != S6 && scn != S6n && (c.GoSvc.StmtsOp <= 0 || c.GoRaw.StmtsOp <= 0) {
					t.Errorf("%s %s %s: statements per request not measured: service %.2f, raw %.2f", e, scale, scn, c.GoSvc.StmtsOp, c.GoRaw.StmtsOp)
				}
				if (scn == S1 || scn == S2a || scn == S2b || scn == S3) && c.GoSvc.StmtsOp != c.GoRaw.StmtsOp {
					t.Errorf("%s %s %s: statements per request: service %.2f, raw %.2f", e, scale, scn, c.GoSvc.StmtsOp, c.GoRaw.StmtsOp)
				}
			}
			if !strings.Contains(md, "| "+scn+" | ") {
				t.Errorf("the table has no row %s", scn)
			}
		}
	}
	if !strings.Contains(md, "Latency at the large data set ÷ the small one") || !strings.Contains(md, "p50 large ÷ small") {
		t.Errorf("no large ÷ small table or target in the report")
	}
	if len(rep.Profiles) == 0 || !strings.Contains(md, "flat%") {
		t.Errorf("no CPU profile tops in the report")
	}
	// The results section replaces only what is between the markers.
	doc := filepath.Join(dir, "performance.md")
	if err := os.WriteFile(doc, []byte("# head\n"+MarkStart+"\nold\n"+MarkEnd+"\ntail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteResults(doc, md); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(doc)
	if !strings.HasPrefix(string(got), "# head\n") || !strings.HasSuffix(string(got), MarkEnd+"\ntail\n") || strings.Contains(string(got), "\nold\n") {
		t.Errorf("WriteResults did not replace exactly the marked section:\n%.500s", got)
	}
}

// TestBaselineRunsTheServiceSQL: for every scenario that reaches the
// database, the raw baseline sends the very statements the service sends
// (their text, whitespace aside, in order): the comparison is of handlers,
// not of queries. GORM writes a LIMIT's number into the text where the
// baseline binds it (the same statement to the database: the MySQL driver
// interpolates, SQLite binds), so LIMIT n counts as LIMIT ?. A statement of
// the service's own in the background (the rate limiter's flush) can fall
// inside a request: the request is then measured again.
func TestBaselineRunsTheServiceSQL(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			p := tinyInProc(t, e)
			limit := regexp.MustCompile(`LIMIT [0-9]+`)
			norm := func(stmts []string) string {
				return limit.ReplaceAllString(strings.Join(strings.Fields(strings.Join(stmts, " ;\n")), " "), "LIMIT ?")
			}
			for _, scn := range []string{S1, S2a, S2b, S3, S4} {
				var svc, raw string
				for range 3 {
					stop := p.SvcStmts.Record()
					sc, _, sb := Fetch(p.Service, p.Fixture, scn, "svc")
					svc = norm(stop())
					stop = p.RawStmts.Record()
					rc, _, rb := Fetch(p.Raw, p.Fixture, scn, "raw")
					raw = norm(stop())
					if sc != WantStatus(scn) || rc != WantStatus(scn) {
						t.Fatalf("%s: status %d (service), %d (raw), want %d\n%s\n%s", scn, sc, rc, WantStatus(scn), sb, rb)
					}
					if svc == raw {
						break
					}
				}
				if svc == "" {
					t.Fatalf("%s: the service sent no statement", scn)
				}
				if svc != raw {
					i := 0
					for i < len(svc) && i < len(raw) && svc[i] == raw[i] {
						i++
					}
					from := max(0, i-80)
					t.Errorf("%s: the baseline's statements differ from the service's at byte %d\nservice: …%.300s\nraw:     …%.300s", scn, i, svc[from:], raw[from:])
				}
			}
		})
	}
}
