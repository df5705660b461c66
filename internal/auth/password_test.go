package auth

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apperr"
)

func TestDefaultHashConcurrency(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	for limit, want := range map[int64]int{
		0:         2 * procs,
		384 << 20: min(2*procs, 4),
		64 << 20:  1,
		1 << 40:   2 * procs,
	} {
		if got := DefaultHashConcurrency(limit); got != want {
			t.Errorf("DefaultHashConcurrency(%d MiB) = %d, want %d", limit>>20, got, want)
		}
	}
}

// TestPasswordsBound: at most the concurrency hashes at once, at most the
// queue waiting; the others are refused at once with RATE_LIMITED, as are
// waiters whose wait runs out.
func TestPasswordsBound(t *testing.T) {
	p := NewPasswords(2, 1, 200*time.Millisecond)
	a, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var waited error
	go func() { // the one waiter: it times out
		defer wg.Done()
		_, waited = p.Acquire(context.Background())
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	_, err = p.Acquire(context.Background()) // the queue is full: refused at once
	if apperr.CodeOf(err) != apperr.RateLimited || time.Since(start) > 20*time.Millisecond {
		t.Errorf("over the queue: %v after %v, want RATE_LIMITED at once", err, time.Since(start))
	}
	if e, _ := apperr.As(err); e == nil || e.RetrySeconds() != 1 {
		t.Errorf("refusal %v: want Retry-After 1 s", err)
	}
	wg.Wait()
	if apperr.CodeOf(waited) != apperr.RateLimited {
		t.Errorf("a waiter past its wait: %v, want RATE_LIMITED", waited)
	}
	a.Release()
	a.Release() // twice is once
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatalf("a released turn was not given again: %v", err)
	}
	// A waiter gets the next released turn.
	done := make(chan error, 1)
	go func() {
		tt, err := p.Acquire(context.Background())
		if err == nil {
			tt.Release()
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	b.Release()
	if err := <-done; err != nil {
		t.Errorf("a waiter did not get the released turn: %v", err)
	}
	c.Release()
	h, err := p.Hash(context.Background(), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Check(context.Background(), "correct horse battery", &h); err != nil || !ok {
		t.Errorf("Check of the right password: %v, %v", ok, err)
	}
	if ok, _ := p.Check(context.Background(), "wrong", &h); ok {
		t.Error("Check of a wrong password passed")
	}
	if ok, _ := p.Check(context.Background(), "anything", nil); ok {
		t.Error("Check against no hash passed")
	}
}
