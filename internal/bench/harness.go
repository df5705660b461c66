package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
)

// Config is one run of the harness.
type Config struct {
	Scales   []string         // data sets by name (keys of Sizes)
	Sizes    map[string]Sizes // nil: small and large
	Engines  []string         // sqlite, mysql
	MySQLDSN string           // mysql://USER:PASS@HOST:PORT/ (mysql is skipped, loudly, without it)
	// MySQLPrefix names the databases: PREFIX<scale> ("neosc_bench_" when
	// empty), dropped and created afresh.
	MySQLPrefix string
	// MySQLBufferPool, when not 0, raises the MySQL server's InnoDB buffer
	// pool to at least this many bytes for the run and puts it back at the
	// end (RaiseBufferPool); the report says so.
	MySQLBufferPool int64
	Rounds          int           // interleaved service/raw rounds per scenario
	Duration        time.Duration // of each load run
	Warmup          time.Duration // uncounted run of each side before the rounds
	Workers         int           // concurrent clients
	// Bin is the service binary (bin/neosc); RawCmd starts the raw
	// baseline: the executable and its arguments, to which -addr, -db,
	// -key and -issuer are appended.
	Bin    string
	RawCmd []string
	RawEnv []string // added to the raw baseline's environment
	// BenchTime is the Go benchmarks' -test.benchtime ("" keeps 1s).
	BenchTime string
	// CPUProfileDir, when set, gets a CPU profile of the service's Go
	// benchmark of each scenario, and the report its top entries.
	CPUProfileDir string
	WorkDir       string // databases, key file, child logs
	Log           io.Writer
	// SkipGo and SkipLoad leave out a half of the harness.
	SkipGo, SkipLoad bool
	// Only, when not empty, runs these scenarios alone (names as in
	// Scenarios); the report has no cells for the others.
	Only []string
}

// scenarios is the scenarios to run: Only's, in report order, else all.
func (cfg *Config) scenarios() []string {
	if len(cfg.Only) == 0 {
		return Scenarios
	}
	var out []string
	for _, s := range Scenarios {
		if slices.Contains(cfg.Only, s) {
			out = append(out, s)
		}
	}
	return out
}

// Cell is the results of one scenario on one engine and data set.
type Cell struct {
	Engine, Scale, Scenario string
	GoSvc, GoRaw            GoResult
	Svc, Raw                []LoadResult
	Half                    *LoadResult // the service at half its maximum rate (read scenarios)
	RawHalf                 *LoadResult // the raw baseline at half its maximum rate
}

// Profile is one CPU profile: its scenario, the top of `go tool pprof
// -top`, and its samples by component.
type Profile struct {
	Name, Top     string
	Engine, Scale string
	Scenario      string
	Components    []Share
}

// Report is what a run measured.
type Report struct {
	Config   Config
	Machine  Machine
	Start    time.Time
	Elapsed  time.Duration
	Cells    []*Cell
	Profiles []Profile
	Notes    []string
	LoadEnd  string // load average at the end
}

// Cell returns the cell of (engine, scale, scenario), or nil.
func (r *Report) Cell(engine, scale, scn string) *Cell {
	for _, c := range r.Cells {
		if c.Engine == engine && c.Scale == scale && c.Scenario == scn {
			return c
		}
	}
	return nil
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run runs the harness: for each engine and data set, a fresh database,
// seeded; the Go benchmarks of both handlers in process; then both servers
// as child processes under load.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Sizes == nil {
		cfg.Sizes = map[string]Sizes{"tiny": Tiny, "small": Small, "large": Large}
	}
	if cfg.Rounds < 1 {
		cfg.Rounds = 1
	}
	if cfg.Workers < 1 {
		cfg.Workers = 32
	}
	if cfg.BenchTime != "" {
		if err := setBenchTime(cfg.BenchTime); err != nil {
			return nil, err
		}
	}
	if cfg.CPUProfileDir != "" {
		if err := os.MkdirAll(cfg.CPUProfileDir, 0o755); err != nil {
			return nil, err
		}
	}
	rep := &Report{Config: cfg, Start: time.Now()}
	if cfg.MySQLBufferPool > 0 && cfg.MySQLDSN != "" && slices.Contains(cfg.Engines, string(db.MySQL)) {
		before, restore, err := RaiseBufferPool(ctx, cfg.MySQLDSN, cfg.MySQLBufferPool)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := restore(context.WithoutCancel(ctx)); err != nil {
				cfg.logf("!!! %v", err)
			}
		}()
		note := fmt.Sprintf("MySQL/MariaDB: InnoDB buffer pool %d MiB when the run began", before>>20)
		if before < cfg.MySQLBufferPool {
			note += fmt.Sprintf(", raised for the run (-mysql-buffer-pool %d MiB) and put back after it", cfg.MySQLBufferPool>>20)
		}
		cfg.logf("== %s", note)
		rep.Notes = append(rep.Notes, note)
	}
	rep.Machine = ReadMachine(ctx, cfg.MySQLDSN)
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(cfg.WorkDir, "signing-key.jwk"))
	if err != nil {
		return nil, err
	}
	run := strconv.FormatInt(time.Now().Unix()%1_000_000, 36)
	for _, engine := range cfg.Engines {
		if engine == string(db.MySQL) && cfg.MySQLDSN == "" {
			note := "MySQL/MariaDB SKIPPED: no DSN (set NEOSC_BENCH_MYSQL_DSN or NEOSC_TEST_MYSQL_DSN, e.g. mysql://root@127.0.0.1:3306/, with MariaDB running)"
			cfg.logf("!!! %s", note)
			rep.Notes = append(rep.Notes, note)
			continue
		}
		for _, scale := range cfg.Scales {
			sizes, ok := cfg.Sizes[scale]
			if !ok {
				return nil, fmt.Errorf("unknown scale %q", scale)
			}
			if err := runOne(ctx, &cfg, rep, db.Engine(engine), scale, sizes, key, run); err != nil {
				return rep, fmt.Errorf("%s %s: %w", engine, scale, err)
			}
		}
	}
	rep.Elapsed = time.Since(rep.Start)
	rep.LoadEnd = LoadAvg()
	return rep, nil
}

func databaseURL(ctx context.Context, cfg *Config, engine db.Engine, scale string) (string, error) {
	switch engine {
	case db.SQLite:
		path := filepath.Join(cfg.WorkDir, "bench-"+scale+".db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return "", err
			}
		}
		return "sqlite:" + path, nil
	case db.MySQL:
		prefix := cfg.MySQLPrefix
		if prefix == "" {
			prefix = "neosc_bench_"
		}
		return FreshMySQL(ctx, cfg.MySQLDSN, prefix+scale)
	}
	return "", fmt.Errorf("unknown engine %q", engine)
}

func runOne(ctx context.Context, cfg *Config, rep *Report, engine db.Engine, scale string, sizes Sizes, key jwk.Key, run string) error {
	url, err := databaseURL(ctx, cfg, engine, scale)
	if err != nil {
		return err
	}
	t0 := time.Now()
	seeded, err := Prepare(ctx, url, sizes)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	cfg.logf("== %s %s: migrated and seeded in %s", engine, scale, time.Since(t0).Round(time.Millisecond))
	p, err := NewInProc(ctx, url, seeded, key, run+string(engine[0])+scale[:1])
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.CheckBodies(); err != nil {
		return err
	}
	cfg.logf("   bodies equal in process (service vs raw, masked: rateLimit.remaining/resetAt, requestId, S4's new id/name)")
	cells := map[string]*Cell{}
	for _, scn := range cfg.scenarios() {
		c := &Cell{Engine: string(engine), Scale: scale, Scenario: scn}
		cells[scn] = c
		rep.Cells = append(rep.Cells, c)
	}
	if !cfg.SkipGo {
		for _, scn := range cfg.scenarios() {
			c := cells[scn]
			prof := ""
			if cfg.CPUProfileDir != "" {
				prof = profilePath(cfg.CPUProfileDir, engine, scale, scn)
			}
			if c.GoSvc, err = p.GoBench(scn, "svc", prof); err != nil {
				return err
			}
			if c.GoRaw, err = p.GoBench(scn, "raw", ""); err != nil {
				return err
			}
			cfg.logf("   go %-4s service %8.0f ns/op %6.0f allocs/op %8.0f B/op %4.2f stmts/op | raw %8.0f ns/op %6.0f allocs/op %8.0f B/op %4.2f stmts/op",
				scn, c.GoSvc.NsOp, c.GoSvc.AllocsOp, c.GoSvc.BytesOp, c.GoSvc.StmtsOp, c.GoRaw.NsOp, c.GoRaw.AllocsOp, c.GoRaw.BytesOp, c.GoRaw.StmtsOp)
			if prof != "" {
				shares, err := Components(prof)
				if err != nil {
					return err
				}
				rep.Profiles = append(rep.Profiles, Profile{Name: filepath.Base(prof), Top: PprofTop(ctx, prof, 15),
					Engine: string(engine), Scale: scale, Scenario: scn, Components: shares})
			}
		}
	}
	if cfg.SkipLoad {
		return nil
	}
	return loadOne(ctx, cfg, p, cells, engine, scale, url)
}

func loadOne(ctx context.Context, cfg *Config, p *InProc, cells map[string]*Cell, engine db.Engine, scale, url string) error {
	keyFile := filepath.Join(cfg.WorkDir, "signing-key.jwk")
	svcPort, err := FreePort()
	if err != nil {
		return err
	}
	rateEnv := BenchRate.String()
	svc, err := StartProc(ctx, "svc", "/readyz", svcPort, []string{
		"NEOSC_ADDR=127.0.0.1:" + strconv.Itoa(svcPort), "NEOSC_DATABASE_URL=" + url, "NEOSC_SIGNING_KEY_FILE=" + keyFile,
		"NEOSC_PUBLIC_URL=" + Issuer, "NEOSC_RATE_LIMIT_TOKEN=" + rateEnv, "NEOSC_RATE_LIMIT_ORGANIZATION=" + rateEnv,
		"NEOSC_RATE_LIMIT_ANONYMOUS=" + rateEnv, "NEOSC_LOG_FORMAT=json", "NEOSC_KEY_ENCRYPTION_KEY=",
	}, filepath.Join(cfg.WorkDir, fmt.Sprintf("service-%s-%s.log", engine, scale)), cfg.Bin, "serve")
	if err != nil {
		return err
	}
	defer svc.Stop()
	rawPort, err := FreePort()
	if err != nil {
		return err
	}
	args := append(append([]string{}, cfg.RawCmd[1:]...), "-addr", "127.0.0.1:"+strconv.Itoa(rawPort), "-db", url, "-key", keyFile, "-issuer", Issuer)
	raw, err := StartProc(ctx, "raw", "/readyz", rawPort, cfg.RawEnv, filepath.Join(cfg.WorkDir, fmt.Sprintf("raw-%s-%s.log", engine, scale)), cfg.RawCmd[0], args...)
	if err != nil {
		return err
	}
	defer raw.Stop()
	for _, scn := range Scenarios {
		if scn == MIX {
			continue
		}
		ss, sh, sb, err := FetchHTTP(ctx, svc, p.Fixture, scn)
		if err != nil {
			return err
		}
		rs, rh, rb, err := FetchHTTP(ctx, raw, p.Fixture, scn)
		if err != nil {
			return err
		}
		if d := Same(scn, ss, sh, sb, rs, rh, rb); d != "" {
			return fmt.Errorf("over HTTP: %s", d)
		}
	}
	cfg.logf("   bodies equal over HTTP (service binary vs raw process)")
	for _, scn := range cfg.scenarios() {
		c := cells[scn]
		if cfg.Warmup > 0 {
			for _, pr := range []*Proc{svc, raw} {
				if _, err := Attack(ctx, pr, p.Fixture, scn, cfg.Workers, 0, cfg.Warmup); err != nil {
					return err
				}
			}
		}
		for round := range cfg.Rounds {
			// The side that goes first alternates: a machine whose speed
			// drifts during a run (it does, on a shared two-core box) would
			// otherwise favour whichever side always runs first.
			order := []*Proc{svc, raw}
			if round%2 == 1 {
				order = []*Proc{raw, svc}
			}
			for _, pr := range order {
				res, err := Attack(ctx, pr, p.Fixture, scn, cfg.Workers, 0, cfg.Duration)
				if err != nil {
					return err
				}
				if pr == svc {
					c.Svc = append(c.Svc, res)
				} else {
					c.Raw = append(c.Raw, res)
				}
				cfg.logf("   load %-4s round %d %-3s %8.0f rps p50 %-10s p99 %-10s cpu %6.0f µs/req rss %5.1f MiB errors %d %s",
					scn, round+1, pr.Name, res.RPS, res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond),
					float64(res.CPUPerReq)/1e3, float64(res.PeakRSS)/(1<<20), res.Errors, res.FirstError)
			}
		}
		if IsRead(scn) {
			// Each side at half its own maximum rate: the baseline's spread
			// tells how much of the service's is the machine's.
			for _, side := range []struct {
				pr   *Proc
				runs []LoadResult
				into **LoadResult
			}{{svc, c.Svc, &c.Half}, {raw, c.Raw, &c.RawHalf}} {
				rate := int(Median(side.runs, func(r LoadResult) float64 { return r.RPS }) / 2)
				if rate < 1 {
					continue
				}
				res, err := Attack(ctx, side.pr, p.Fixture, scn, cfg.Workers, rate, cfg.Duration)
				if err != nil {
					return err
				}
				*side.into = &res
				cfg.logf("   half %-4s %-3s at %d rps: p50 %s p99 %s errors %d", scn, side.pr.Name, rate, res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond), res.Errors)
			}
		}
	}
	return nil
}

// ServeRaw runs the raw baseline as a server on addr until ctx ends.
func ServeRaw(ctx context.Context, addr, databaseURL, keyFile, issuer string) error {
	key, err := auth.ReadSigningKeyFile(keyFile)
	if err != nil {
		return err
	}
	if key == nil {
		return fmt.Errorf("no signing key in %s", keyFile)
	}
	pub, err := PublicKeys(key)
	if err != nil {
		return err
	}
	pool, engine, err := OpenPool(ctx, databaseURL, &Counter{})
	if err != nil {
		return err
	}
	defer pool.Close()
	mux := http.NewServeMux()
	mux.Handle("POST /graphql", &Raw{DB: pool, Engine: engine, Keys: pub, Issuer: issuer, Limit: BenchRate.Limit, Period: BenchRate.Period})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
