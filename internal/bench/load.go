package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Proc is a server under load: the service binary or the raw baseline,
// each a child process of its own so that its CPU time and peak RSS are
// its own.
type Proc struct {
	Name string // "svc" or "raw"
	Base string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	log  *os.File
}

// FreePort returns a loopback port nobody listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartProc starts name/args with env added, its output to logPath, and
// waits until GET ready answers 200.
func StartProc(ctx context.Context, name, ready string, port int, env []string, logPath string, bin string, args ...string) (*Proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		_ = lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Base: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, log: lf}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			_ = lf.Close()
			out, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("%s exited before it was ready (%v):\n%s", name, err, tail(out, 2000))
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Base+ready, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s not ready after 60 s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Stop ends the process (SIGTERM, then SIGKILL after 5 s).
func (p *Proc) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	_ = p.log.Close()
}

// CPUTime is the process's user plus system time so far (/proc/PID/stat).
func (p *Proc) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start after ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// PeakRSS is the process's peak resident set (VmHWM) in bytes.
func (p *Proc) PeakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// ResetPeakRSS starts a new peak-RSS window (writes 5 to clear_refs); the
// peak then covers one run. Without the right to do so the peak is the
// process's lifetime peak.
func (p *Proc) ResetPeakRSS() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0)
}

// LoadResult is one load run of one scenario against one process.
type LoadResult struct {
	Requests, Errors int
	RPS              float64
	P50, P99         time.Duration
	CPUPerReq        time.Duration
	PeakRSS          int64
	FirstError       string
}

// Attack runs scenario scn against p for d: at maximum throughput with
// workers concurrent clients when rate is 0, else at rate requests a
// second (with up to workers*4 clients).
func Attack(ctx context.Context, p *Proc, f *Fixture, scn string, workers int, rate int, d time.Duration) (LoadResult, error) {
	var seq atomic.Uint64
	url := p.Base + "/graphql"
	targeter := func(t *vegeta.Target) error {
		r := f.Next(scn, p.Name, seq.Add(1))
		t.Method, t.URL, t.Body = http.MethodPost, url, r.Body
		t.Header = http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + r.Token}, ScenarioHeader: {r.Scenario}}
		return nil
	}
	opts := []func(*vegeta.Attacker){vegeta.Workers(uint64(workers)), vegeta.MaxWorkers(uint64(workers)), vegeta.KeepAlive(true),
		vegeta.Connections(workers), vegeta.MaxConnections(workers * 4), vegeta.Timeout(30 * time.Second)}
	pacer := vegeta.Rate{Freq: rate, Per: time.Second}
	if rate > 0 {
		opts[1] = vegeta.MaxWorkers(uint64(workers * 4))
	}
	atk := vegeta.NewAttacker(opts...)
	p.ResetPeakRSS()
	cpu0, err := p.CPUTime()
	if err != nil {
		return LoadResult{}, err
	}
	var (
		m   vegeta.Metrics
		res LoadResult
	)
	start := time.Now()
	for r := range atk.Attack(vegeta.Targeter(targeter), pacer, d, scn) {
		if ctx.Err() != nil {
			atk.Stop()
		}
		m.Add(r)
		res.Requests++
		// vegeta reports any status outside 2xx/3xx as an error too: S6's
		// 401 is the expected answer, so only the status decides.
		if r.Code == 0 || !wantCode(scn, int(r.Code)) {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = fmt.Sprintf("status %d %s: %.300s", r.Code, r.Error, r.Body)
			}
		}
	}
	elapsed := time.Since(start)
	cpu1, err := p.CPUTime()
	if err != nil {
		return LoadResult{}, err
	}
	m.Close()
	ok := res.Requests - res.Errors
	res.RPS = float64(ok) / elapsed.Seconds()
	res.P50, res.P99 = m.Latencies.P50, m.Latencies.P99
	if res.Requests > 0 {
		res.CPUPerReq = (cpu1 - cpu0) / time.Duration(res.Requests)
	}
	res.PeakRSS, _ = p.PeakRSS()
	return res, ctx.Err()
}

// wantCode accepts what WantStatus says (401 for S6 and S6n, 200 for
// everything else, MIX included).
func wantCode(scn string, code int) bool { return code == WantStatus(scn) }

// FetchHTTP sends one request of scenario scn to p and returns the answer.
func FetchHTTP(ctx context.Context, p *Proc, f *Fixture, scn string) (int, http.Header, []byte, error) {
	r := f.Next(scn, p.Name, 0)
	req := NewHTTPRequest(r, p.Base)
	req.RequestURI = ""
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}
