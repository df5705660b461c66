package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/server"
)

// shutdownWait bounds every wait on a channel in these tests.
const shutdownWait = 10 * time.Second

// blockingHandler answers /slow only once released; other paths at once.
type blockingHandler struct {
	started chan struct{} // closed when /slow is in the handler
	release chan struct{} // closed to let /slow finish
	once    sync.Once
	relOnce sync.Once
}

func newBlockingHandler(t *testing.T) *blockingHandler {
	h := &blockingHandler{started: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(h.Release)
	return h
}

func (h *blockingHandler) Release() { h.relOnce.Do(func() { close(h.release) }) }

func (h *blockingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/slow" {
		h.once.Do(func() { close(h.started) })
		<-h.release
	}
	_, _ = io.WriteString(w, "done "+r.URL.Path)
}

type slowResult struct {
	status int
	body   string
	err    error
}

// startServe runs server.Serve and returns its address and its slowResult.
func startServe(t *testing.T, ctx context.Context, h http.Handler, grace time.Duration) (string, <-chan error, *apitest.SyncBuffer) {
	t.Helper()
	logs := &apitest.SyncBuffer{}
	log := server.NewLogger(logs, "json", slog.LevelInfo)
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- server.Serve(ctx, "127.0.0.1:0", h, grace, log, ready) }()
	select {
	case addr := <-ready:
		return addr, served, logs
	case err := <-served:
		t.Fatalf("Serve returned before listening: %v", err)
	case <-time.After(shutdownWait):
		t.Fatal("Serve did not report its address")
	}
	return "", nil, nil
}

func shutdownClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: shutdownWait}
}

func shutdownGet(client *http.Client, url string) slowResult {
	res, err := client.Get(url)
	if err != nil {
		return slowResult{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return slowResult{status: res.StatusCode, body: string(b), err: err}
}

// startSlow sends GET /slow and waits until the handler holds it.
func startSlow(t *testing.T, h *blockingHandler, addr string) <-chan slowResult {
	t.Helper()
	inflight := make(chan slowResult, 1)
	go func() { inflight <- shutdownGet(shutdownClient(), "http://"+addr+"/slow") }()
	select {
	case <-h.started:
	case r := <-inflight:
		t.Fatalf("slow request ended before reaching the handler: %+v", r)
	case <-time.After(shutdownWait):
		t.Fatal("slow request never reached the handler")
	}
	return inflight
}

// waitRefused polls until connecting to addr is refused (the listener is
// closed), each attempt failing fast on loopback.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(shutdownWait)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		switch {
		case err == nil:
			_ = c.Close()
		case errors.Is(err, syscall.ECONNREFUSED):
			return
		case errors.Is(err, syscall.ECONNRESET):
			// Queued for accept when the listener closed: try again.
		default:
			t.Fatalf("dial after shutdown: %v, want connection refused", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("listener still accepts connections after ctx was cancelled")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestShutdownGraceful(t *testing.T) {
	h := newBlockingHandler(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, served, logs := startServe(t, ctx, h, shutdownWait)

	if r := shutdownGet(shutdownClient(), "http://"+addr+"/fast"); r.err != nil || r.status != http.StatusOK || r.body != "done /fast" {
		t.Fatalf("request before shutdown: %+v", r)
	}
	inflight := startSlow(t, h, addr)

	cancel()
	waitRefused(t, addr)

	// New requests are refused while the old one is still being served.
	if r := shutdownGet(shutdownClient(), "http://"+addr+"/fast"); r.err == nil {
		t.Fatalf("new request during shutdown answered: %+v", r)
	} else if !errors.Is(r.err, syscall.ECONNREFUSED) {
		t.Fatalf("new request during shutdown: %v, want connection refused", r.err)
	}
	// Serve waits for the request in flight: give a Serve that does not
	// a moment to return.
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	case r := <-inflight:
		t.Fatalf("in-flight request ended before it was released: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}

	h.Release()
	select {
	case r := <-inflight:
		if r.err != nil || r.status != http.StatusOK || r.body != "done /slow" {
			t.Fatalf("in-flight request: %+v, want 200 done /slow", r)
		}
	case <-time.After(shutdownWait):
		t.Fatal("in-flight request did not complete after release")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil", err)
		}
	case <-time.After(shutdownWait):
		t.Fatal("Serve did not return after the last request completed")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Fatalf("no shutdown log line: %s", logs.String())
	}
}

func TestShutdownGraceExpires(t *testing.T) {
	h := newBlockingHandler(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const grace = 100 * time.Millisecond
	addr, served, _ := startServe(t, ctx, h, grace)
	inflight := startSlow(t, h, addr)

	start := time.Now()
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Serve returned %v after the grace period, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d < grace {
			t.Fatalf("Serve returned after %v, before the grace period of %v", d, grace)
		}
	case <-time.After(shutdownWait):
		t.Fatal("Serve did not return when the grace period ended")
	}
	h.Release()
	select {
	case <-inflight:
	case <-time.After(shutdownWait):
		t.Fatal("slow request did not end")
	}
}

func TestShutdownServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ready := make(chan string, 1)
	log := server.NewLogger(io.Discard, "json", slog.LevelInfo)
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler(), time.Second, log, ready)
	}()
	select {
	case err := <-served:
		if err == nil {
			t.Fatal("Serve on a busy address returned nil")
		}
	case <-time.After(shutdownWait):
		t.Fatal("Serve on a busy address did not return")
	}
	select {
	case addr := <-ready:
		t.Fatalf("Serve reported %s as ready though it could not listen", addr)
	default:
	}
}
