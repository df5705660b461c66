// Command neosc-bench runs the benchmark harness of issue 12: the service
// beside a raw baseline, on the same data, in process (Go benchmarks) and
// under load (the real binary over loopback). `make bench` runs it; see
// docs/performance.md.
//
//	neosc-bench [flags]            run the harness, print the table, write it into -out
//	neosc-bench raw -addr … -db … -key … -issuer …   serve the raw baseline (started by the harness)
//	neosc-bench components A.pprof B.pprof …   CPU of each profile by component, as a markdown table
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/neosc/neosc/internal/bench"
	"github.com/neosc/neosc/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "raw":
		err = raw(ctx, os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "components":
		err = components(os.Args[2:])
	default:
		err = run(ctx, os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "neosc-bench:", err)
		os.Exit(1)
	}
}

// components prints the component table of the CPU profiles named, one
// column each (headed by the file's name without .pprof).
func components(paths []string) error {
	if len(paths) == 0 {
		return errors.New("usage: neosc-bench components PROFILE.pprof…")
	}
	var (
		heads  []string
		shares [][]bench.Share
	)
	for _, p := range paths {
		s, err := bench.Components(p)
		if err != nil {
			return err
		}
		heads = append(heads, strings.TrimSuffix(filepath.Base(p), ".pprof"))
		shares = append(shares, s)
	}
	var b bytes.Buffer
	bench.WriteComponentTable(&b, heads, shares)
	_, err := os.Stdout.Write(b.Bytes())
	return err
}

func raw(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("raw", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dbURL := fs.String("db", "", "database URL (NEOSC_DATABASE_URL syntax)")
	key := fs.String("key", "", "signing key file (its public key verifies tokens)")
	issuer := fs.String("issuer", bench.Issuer, "the tokens' issuer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return bench.ServeRaw(ctx, *addr, *dbURL, *key, *issuer)
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("neosc-bench", flag.ContinueOnError)
	scales := fs.String("scales", "small,large", "data sets: tiny, small, large (comma-separated)")
	engines := fs.String("engines", "sqlite,mysql", "engines: sqlite, mysql (mysql needs -mysql-dsn)")
	dsn := fs.String("mysql-dsn", firstEnv("NEOSC_BENCH_MYSQL_DSN", "NEOSC_TEST_MYSQL_DSN"), "MySQL/MariaDB server, mysql://USER:PASS@HOST:PORT/ (databases neosc_bench_<scale> are dropped and created)")
	rounds := fs.Int("rounds", 4, "interleaved service/raw rounds per scenario (medians are reported)")
	duration := fs.Duration("duration", 4*time.Second, "length of each load run")
	warmup := fs.Duration("warmup", time.Second, "uncounted load run of each side before the rounds")
	workers := fs.Int("concurrency", 32, "concurrent clients of the load runs")
	benchtime := fs.String("benchtime", "1s", "the Go benchmarks' benchtime (e.g. 2s or 500x)")
	bin := fs.String("bin", "bin/neosc", "the service binary (make bench builds it)")
	out := fs.String("out", "", "document whose results section is replaced (docs/performance.md)")
	profiles := fs.String("cpuprofile", "", "directory for CPU profiles of the service's Go benchmarks (DIR/<engine>-<scale>-<scenario>.pprof); their top 15 go into the report")
	work := fs.String("workdir", "", "directory for the databases, key and child logs (default: a fresh temporary one)")
	noGo := fs.Bool("no-go", false, "skip the in-process Go benchmarks")
	noLoad := fs.Bool("no-load", false, "skip the load runs")
	pool := fs.String("mysql-buffer-pool", "", "raise the MySQL server's InnoDB buffer pool to at least this size for the run (e.g. 2GiB; SET GLOBAL, needs the privilege; put back after); empty leaves it alone")
	only := fs.String("scenarios", "", "run only these scenarios (comma-separated, e.g. S6,MIX; default: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var poolSize int64
	if *pool != "" {
		var err error
		if poolSize, err = config.ParseSize(*pool); err != nil || poolSize == 0 {
			return fmt.Errorf("-mysql-buffer-pool: %q is not a size (e.g. 2GiB, 512MiB)", *pool)
		}
	}
	for _, s := range split(*only) {
		if !slices.Contains(bench.Scenarios, s) {
			return fmt.Errorf("-scenarios: unknown scenario %q (known: %s)", s, strings.Join(bench.Scenarios, ", "))
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	binPath, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(binPath); err != nil && !*noLoad {
		return fmt.Errorf("service binary %s: %w (run `make build` or pass -bin)", binPath, err)
	}
	dir := *work
	if dir == "" {
		if dir, err = os.MkdirTemp("", "neosc-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	cfg := bench.Config{
		Scales: split(*scales), Engines: split(*engines), MySQLDSN: *dsn, Rounds: *rounds, Duration: *duration, Warmup: *warmup,
		Workers: *workers, Bin: binPath, RawCmd: []string{self, "raw"}, BenchTime: *benchtime, CPUProfileDir: *profiles,
		WorkDir: dir, Log: os.Stdout, SkipGo: *noGo, SkipLoad: *noLoad, Only: split(*only), MySQLBufferPool: poolSize,
	}
	rep, err := bench.Run(ctx, cfg)
	if rep != nil {
		fmt.Println()
		fmt.Print(rep.Markdown())
	}
	if err != nil {
		return err
	}
	if *out != "" {
		if err := bench.WriteResults(*out, rep.Markdown()); err != nil {
			return err
		}
		fmt.Printf("results written to %s\n", *out)
	}
	return nil
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
