package logsink_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/logsink"
)

// recorder is an underlying writer that counts its writes and can be made
// to stall.
type recorder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{} // when not nil, each write waits for a receive
	calls  atomic.Int32  // writes begun
}

func (r *recorder) Write(p []byte) (int, error) {
	r.calls.Add(1)
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	return r.buf.Write(p)
}

func (r *recorder) snapshot() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String(), r.writes
}

// Every line written by concurrent writers arrives whole, once, and in each
// writer's order, and Close returns only when all of it has.
func TestEveryLineArrivesInOrder(t *testing.T) {
	rec := &recorder{}
	s := logsink.New(rec, 4096, 0) // small: the writers also wait on a full buffer
	const writers, lines = 16, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				line := fmt.Sprintf("w%02d %05d %s\n", w, i, strings.Repeat("x", i%50))
				if n, err := s.Write([]byte(line)); n != len(line) || err != nil {
					t.Errorf("Write = %d, %v", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, writes := rec.snapshot()
	next := make([]int, writers)
	got := 0
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var w, i int
		var pad string
		if _, err := fmt.Sscanf(line, "w%d %d %s", &w, &i, &pad); err != nil && i%50 != 0 {
			t.Fatalf("torn line %q: %v", line, err)
		}
		if w < 0 || w >= writers || i != next[w] || len(pad) != i%50 {
			t.Fatalf("line %q out of order or torn (want w%02d %05d)", line, w, next[w])
		}
		next[w]++
		got++
	}
	if got != writers*lines {
		t.Fatalf("%d lines arrived, want %d", got, writers*lines)
	}
	if writes >= got {
		t.Errorf("%d writes for %d lines: nothing was batched", writes, got)
	}
	t.Logf("%d lines in %d writes", got, writes)
}

// A line reaches the underlying writer without Flush or Close: no timer
// holds it back.
func TestLineArrivesWithoutFlush(t *testing.T) {
	rec := &recorder{}
	s := logsink.New(rec, 0, 0)
	defer s.Close()
	_, _ = s.Write([]byte("one\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if out, _ := rec.snapshot(); out == "one\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the line did not arrive within 5 s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// Lines written while the underlying writer is stalled are batched into
// one write when it moves again; once the pending buffer is full, Write
// waits (the buffer does not grow past its limit), and Flush returns once
// everything is out.
func TestStalledWriterBoundsMemory(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	const limit = 1000
	s := logsink.New(rec, limit, 0)
	defer s.Close()
	var once sync.Once
	open := func() { once.Do(func() { close(rec.gate) }) } // a closed gate lets every write through
	defer open()
	line := []byte(strings.Repeat("a", 99) + "\n") // 100 bytes
	_, _ = s.Write(line)
	for rec.calls.Load() == 0 { // the goroutine took it and now waits on the gate
		time.Sleep(time.Millisecond)
	}
	var written atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 30 {
			_, _ = s.Write(line)
			written.Add(1)
		}
	}()
	// 10 lines fill the buffer; the 11th waits.
	deadline := time.Now().Add(5 * time.Second)
	for written.Load() < 10 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := written.Load(); n != 10 {
		t.Fatalf("%d lines queued behind a stalled writer, want 10 (limit %d bytes)", n, limit)
	}
	open()
	<-done
	s.Flush()
	out, writes := rec.snapshot()
	if len(out) != 31*len(line) {
		t.Fatalf("%d bytes arrived after Flush, want %d", len(out), 31*len(line))
	}
	if writes > 6 {
		t.Errorf("%d writes for 31 lines queued behind a stall: not batched", writes)
	}
}

// After Close, Write goes straight to the underlying writer.
func TestWriteAfterClose(t *testing.T) {
	rec := &recorder{}
	s := logsink.New(rec, 0, 0)
	_, _ = s.Write([]byte("before\n"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_, _ = s.Write([]byte("after\n"))
	if out, _ := rec.snapshot(); out != "before\nafter\n" {
		t.Fatalf("got %q", out)
	}
}

// Lines logged within one linger of each other share a write; with no
// linger each wake writes what is there.
func TestLingerBatches(t *testing.T) {
	for _, c := range []struct {
		linger   time.Duration
		maxWrite int
	}{{50 * time.Millisecond, 2}, {-1, 100}} {
		rec := &recorder{}
		s := logsink.New(rec, 0, c.linger)
		for i := range 100 {
			_, _ = fmt.Fprintf(s, "line %d\n", i)
		}
		s.Flush()
		out, writes := rec.snapshot()
		if strings.Count(out, "\n") != 100 || writes > c.maxWrite || writes < 1 {
			t.Errorf("linger %v: %d lines in %d writes, want 100 in at most %d", c.linger, strings.Count(out, "\n"), writes, c.maxWrite)
		}
		_ = s.Close()
	}
}
