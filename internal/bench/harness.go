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
		if err := runEngine(ctx, &cfg, rep, db.Engine(engine), key, run); err != nil {
			return rep, fmt.Errorf("%s: %w", engine, err)
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

// dataSet is one data set of an engine under test: its database, the
// requests' fixture, its cells and, during the load runs, both servers on
// it.
type dataSet struct {
	scale    string
	url      string
	fixture  *Fixture
	cells    map[string]*Cell
	svc, raw *Proc
}

// runEngine measures one engine: each data set seeded, checked and
// benchmarked in process in turn, then the load runs of all its data sets
// together (loadEngine).
func runEngine(ctx context.Context, cfg *Config, rep *Report, engine db.Engine, key jwk.Key, run string) error {
	var sets []*dataSet
	for _, scale := range cfg.Scales {
		sizes, ok := cfg.Sizes[scale]
		if !ok {
			return fmt.Errorf("unknown scale %q", scale)
		}
		ds, err := prepareSet(ctx, cfg, rep, engine, scale, sizes, key, run)
		if err != nil {
			return fmt.Errorf("%s: %w", scale, err)
		}
		sets = append(sets, ds)
	}
	if cfg.SkipLoad {
		return nil
	}
	return loadEngine(ctx, cfg, engine, sets)
}

// prepareSet seeds a fresh database of one data set, checks that both
// handlers answer alike in process and runs the Go benchmarks; the handlers
// are closed when it returns (the next data set's benchmarks run without
// this one's in memory), the fixture kept for the load runs.
func prepareSet(ctx context.Context, cfg *Config, rep *Report, engine db.Engine, scale string, sizes Sizes, key jwk.Key, run string) (*dataSet, error) {
	url, err := databaseURL(ctx, cfg, engine, scale)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	seeded, err := Prepare(ctx, url, sizes)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	cfg.logf("== %s %s: migrated and seeded in %s", engine, scale, time.Since(t0).Round(time.Millisecond))
	p, err := NewInProc(ctx, url, seeded, key, run+string(engine[0])+scale[:1])
	if err != nil {
		return nil, err
	}
	defer p.Close()
	ds := &dataSet{scale: scale, url: url, fixture: p.Fixture, cells: map[string]*Cell{}}
	if err := p.CheckBodies(); err != nil {
		return nil, err
	}
	cfg.logf("   bodies equal in process (service vs raw, masked: rateLimit.remaining/resetAt, requestId, S4's new id/name)")
	for _, scn := range cfg.scenarios() {
		c := &Cell{Engine: string(engine), Scale: scale, Scenario: scn}
		ds.cells[scn] = c
		rep.Cells = append(rep.Cells, c)
	}
	if cfg.SkipGo {
		return ds, nil
	}
	for _, scn := range cfg.scenarios() {
		c := ds.cells[scn]
		prof := ""
		if cfg.CPUProfileDir != "" {
			prof = profilePath(cfg.CPUProfileDir, engine, scale, scn)
		}
		if c.GoSvc, err = p.GoBench(scn, "svc", prof); err == nil {
			c.GoRaw, err = p.GoBench(scn, "raw", "")
		}
		if err != nil {
			return nil, err
		}
		cfg.logf("   go %-4s service %8.0f ns/op %6.0f allocs/op %8.0f B/op %4.2f stmts/op | raw %8.0f ns/op %6.0f allocs/op %8.0f B/op %4.2f stmts/op",
			scn, c.GoSvc.NsOp, c.GoSvc.AllocsOp, c.GoSvc.BytesOp, c.GoSvc.StmtsOp, c.GoRaw.NsOp, c.GoRaw.AllocsOp, c.GoRaw.BytesOp, c.GoRaw.StmtsOp)
		if prof != "" {
			shares, err := Components(prof)
			if err != nil {
				return nil, err
			}
			rep.Profiles = append(rep.Profiles, Profile{Name: filepath.Base(prof), Top: PprofTop(ctx, prof, 15),
				Engine: string(engine), Scale: scale, Scenario: scn, Components: shares})
		}
	}
	return ds, nil
}

// startServers starts the service binary and the raw baseline on ds's
// database and checks over HTTP that they answer every scenario alike.
func startServers(ctx context.Context, cfg *Config, engine db.Engine, ds *dataSet) error {
	keyFile := filepath.Join(cfg.WorkDir, "signing-key.jwk")
	svcPort, err := FreePort()
	if err != nil {
		return err
	}
	rateEnv := BenchRate.String()
	ds.svc, err = StartProc(ctx, "svc", "/readyz", svcPort, []string{
		"NEOSC_ADDR=127.0.0.1:" + strconv.Itoa(svcPort), "NEOSC_DATABASE_URL=" + ds.url, "NEOSC_SIGNING_KEY_FILE=" + keyFile,
		"NEOSC_PUBLIC_URL=" + Issuer, "NEOSC_RATE_LIMIT_TOKEN=" + rateEnv, "NEOSC_RATE_LIMIT_ORGANIZATION=" + rateEnv,
		"NEOSC_RATE_LIMIT_ANONYMOUS=" + rateEnv, "NEOSC_LOG_FORMAT=json", "NEOSC_KEY_ENCRYPTION_KEY=",
	}, filepath.Join(cfg.WorkDir, fmt.Sprintf("service-%s-%s.log", engine, ds.scale)), cfg.Bin, "serve")
	if err != nil {
		return err
	}
	rawPort, err := FreePort()
	if err != nil {
		return err
	}
	args := append(append([]string{}, cfg.RawCmd[1:]...), "-addr", "127.0.0.1:"+strconv.Itoa(rawPort), "-db", ds.url, "-key", keyFile, "-issuer", Issuer)
	ds.raw, err = StartProc(ctx, "raw", "/readyz", rawPort, cfg.RawEnv, filepath.Join(cfg.WorkDir, fmt.Sprintf("raw-%s-%s.log", engine, ds.scale)), cfg.RawCmd[0], args...)
	if err != nil {
		return err
	}
	for _, scn := range Scenarios {
		if scn == MIX {
			continue
		}
		ss, sh, sb, err := FetchHTTP(ctx, ds.svc, ds.fixture, scn)
		if err != nil {
			return err
		}
		rs, rh, rb, err := FetchHTTP(ctx, ds.raw, ds.fixture, scn)
		if err != nil {
			return err
		}
		if d := Same(scn, ss, sh, sb, rs, rh, rb); d != "" {
			return fmt.Errorf("%s over HTTP: %s", ds.scale, d)
		}
	}
	cfg.logf("   %s %s: bodies equal over HTTP (service binary vs raw process)", engine, ds.scale)
	return nil
}

// loadRun is one load run of a round: a side on a data set.
type loadRun struct {
	ds *dataSet
	pr *Proc
}

// RoundOrder is the order of one round's load runs, n data sets × 2
// sides, as indexes 2·set + side (side 0 the service, 1 the baseline):
// forward in even rounds, backward in odd ones. A machine whose speed
// drifts during a run (it does, on a shared two-core box) would otherwise
// favour whichever run always comes first; reversed every other round, a
// steady drift falls evenly on every run over each two rounds. The medians
// cancel it too when the number of rounds is even (make bench runs 4): the
// median of an even number is the mean of the middle two, one forward
// round and one backward under a steady drift.
func RoundOrder(round, n int) []int {
	order := make([]int, 2*n)
	for i := range order {
		order[i] = i
	}
	if round%2 == 1 {
		slices.Reverse(order)
	}
	return order
}

// loadEngine runs the load runs of one engine's data sets: every server
// up at once, and for each scenario the rounds, each round one run of
// every side on every data set (RoundOrder), so that large ÷ small is
// measured minutes closer than a run of each data set after the other.
func loadEngine(ctx context.Context, cfg *Config, engine db.Engine, sets []*dataSet) error {
	defer func() {
		for _, ds := range sets {
			ds.svc.Stop()
			ds.raw.Stop()
		}
	}()
	var runs []loadRun
	for _, ds := range sets {
		if err := startServers(ctx, cfg, engine, ds); err != nil {
			return err
		}
		runs = append(runs, loadRun{ds, ds.svc}, loadRun{ds, ds.raw})
	}
	for _, scn := range cfg.scenarios() {
		if cfg.Warmup > 0 {
			for _, r := range runs {
				if _, err := Attack(ctx, r.pr, r.ds.fixture, scn, cfg.Workers, 0, cfg.Warmup); err != nil {
					return err
				}
			}
		}
		for round := range cfg.Rounds {
			for _, i := range RoundOrder(round, len(sets)) {
				r := runs[i]
				res, err := Attack(ctx, r.pr, r.ds.fixture, scn, cfg.Workers, 0, cfg.Duration)
				if err != nil {
					return err
				}
				c := r.ds.cells[scn]
				if r.pr == r.ds.svc {
					c.Svc = append(c.Svc, res)
				} else {
					c.Raw = append(c.Raw, res)
				}
				cfg.logf("   load %-4s %-5s round %d %-3s %8.0f rps p50 %-10s p99 %-10s cpu %6.0f µs/req rss %5.1f MiB errors %d %s",
					scn, r.ds.scale, round+1, r.pr.Name, res.RPS, res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond),
					float64(res.CPUPerReq)/1e3, float64(res.PeakRSS)/(1<<20), res.Errors, res.FirstError)
			}
		}
		if !IsRead(scn) {
			continue
		}
		// Each side at half its own maximum rate: the baseline's spread
		// tells how much of the service's is the machine's.
		for _, r := range runs {
			c := r.ds.cells[scn]
			measured, into := c.Svc, &c.Half
			if r.pr == r.ds.raw {
				measured, into = c.Raw, &c.RawHalf
			}
			rate := int(Median(measured, func(r LoadResult) float64 { return r.RPS }) / 2)
			if rate < 1 {
				continue
			}
			res, err := Attack(ctx, r.pr, r.ds.fixture, scn, cfg.Workers, rate, cfg.Duration)
			if err != nil {
				return err
			}
			*into = &res
			cfg.logf("   half %-4s %-5s %-3s at %d rps: p50 %s p99 %s errors %d", scn, r.ds.scale, r.pr.Name, rate, res.P50.Round(time.Microsecond), res.P99.Round(time.Microsecond), res.Errors)
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
