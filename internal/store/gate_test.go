package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// TestSQLiteWritersQueue runs 32 writers of 10 transactions each at once on
// both engines: every transaction commits on its first attempt (on SQLite
// they queue in the process's write gate instead of polling SQLite's lock)
// and every row is there.
func TestSQLiteWritersQueue(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		s := store.New(d.DB)
		var (
			attempts atomic.Int64
			wg       sync.WaitGroup
			failures = make(chan error, 320)
		)
		for w := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					err := s.Tx(t.Context(), func(tx *store.Store) error {
						attempts.Add(1)
						due := time.Now()
						return tx.Outbox.Enqueue(t.Context(), &store.OutboxMail{ID: ids.New(),
							Recipient: fmt.Sprintf("w%d-%d@example.test", w, i), Subject: "s", Body: "b", CreatedAt: due, NextAttemptAt: &due})
					})
					if err != nil {
						failures <- err
					}
				}
			}()
		}
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Error(err)
		}
		var n int64
		must(t, d.Model(&store.OutboxMail{}).Where("recipient LIKE ?", "w%@example.test").Count(&n).Error)
		if n != 320 {
			t.Errorf("%d rows, want 320", n)
		}
		if d.Engine == db.SQLite && attempts.Load() != 320 {
			t.Errorf("%d attempts for 320 transactions: writers retried instead of queueing", attempts.Load())
		}
	})
}

// TestSQLiteWriteGate: a transaction waiting for the gate gives up when its
// context ends, having run nothing (UNAVAILABLE for its caller), and a
// transaction that panics lets the next one in.
func TestSQLiteWriteGate(t *testing.T) {
	s := store.New(testdb.New(t, db.SQLite).DB)
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Tx(context.Background(), func(*store.Store) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	ran := false
	err := s.Tx(ctx, func(*store.Store) error { ran = true; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || ran || !store.Unavailable(ctx, err) {
		t.Errorf("waiting past the deadline: err %v, ran %v; want the deadline, not run, unavailable", err, ran)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	func() {
		defer func() { _ = recover() }()
		_ = s.Tx(t.Context(), func(*store.Store) error { panic("boom") })
	}()
	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.Tx(ctx, func(*store.Store) error { return nil }); err != nil {
		t.Errorf("after a transaction panicked: %v (the gate was not released)", err)
	}
}
