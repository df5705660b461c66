package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// queue enqueues n mails due at `due`, in one transaction.
func queue(t *testing.T, s *store.Store, n int, due time.Time) []string {
	t.Helper()
	var out []string
	must(t, s.Tx(t.Context(), func(tx *store.Store) error {
		for i := 0; i < n; i++ {
			m := &store.OutboxMail{ID: ids.New(), Recipient: fmt.Sprintf("r%d@example.test", i), Subject: "s", Body: "b",
				CreatedAt: due, NextAttemptAt: &due}
			if err := tx.Outbox.Enqueue(t.Context(), m); err != nil {
				return err
			}
			out = append(out, m.ID)
		}
		return nil
	}))
	return out
}

func outboxRow(t *testing.T, d *db.DB, id string) store.OutboxMail {
	t.Helper()
	var m store.OutboxMail
	must(t, d.Where("id = ?", id).Take(&m).Error)
	return m
}

func claimIDs(t *testing.T, s *store.Store, n int, now time.Time, lease time.Duration) []string {
	t.Helper()
	rows, err := s.Outbox.Claim(t.Context(), n, now, lease)
	must(t, err)
	var out []string
	for _, m := range rows {
		out = append(out, m.ID)
	}
	return out
}

// TestOutboxClaimIsExclusive: many claimers at once, each mail goes to
// exactly one of them.
func TestOutboxClaimIsExclusive(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		s := store.New(d.DB)
		now := time.Now().UTC()
		want := queue(t, s, 60, now.Add(-time.Second))
		var (
			mu  sync.Mutex
			got = map[string]int{}
			wg  sync.WaitGroup
		)
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					rows, err := s.Outbox.Claim(context.Background(), 3, now, time.Minute)
					if err != nil {
						errs <- err
						return
					}
					if len(rows) == 0 {
						return
					}
					mu.Lock()
					for _, m := range rows {
						got[m.ID]++
						if m.Attempts != 1 || m.ClaimedUntil == nil {
							errs <- fmt.Errorf("claimed row %s: attempts %d, lease %v", m.ID, m.Attempts, m.ClaimedUntil)
						}
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, id := range want {
			if got[id] != 1 {
				t.Errorf("mail %s claimed %d times, want once", id, got[id])
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d mails claimed, want %d", len(got), len(want))
		}
	})
}

// TestOutboxLifecycle walks one mail through due, leased, failed, released,
// sent and abandoned.
func TestOutboxLifecycle(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		s := store.New(d.DB)
		now := time.Now().UTC().Truncate(time.Microsecond)
		lease := time.Minute

		// Not due yet: not claimed.
		later := queue(t, s, 1, now.Add(time.Hour))[0]
		if got := claimIDs(t, s, 10, now, lease); len(got) != 0 {
			t.Fatalf("a mail due in an hour was claimed: %v", got)
		}

		// Due: claimed once; leased until now+lease.
		id := queue(t, s, 1, now)[0]
		if got := claimIDs(t, s, 10, now, lease); len(got) != 1 || got[0] != id {
			t.Fatalf("claimed %v, want [%s]", got, id)
		}
		if got := claimIDs(t, s, 10, now.Add(lease-time.Second), lease); len(got) != 0 {
			t.Fatalf("claimed again during its lease: %v", got)
		}
		// The lease runs out (the sender crashed): due again, second attempt.
		rows, err := s.Outbox.Claim(t.Context(), 10, now.Add(lease), lease)
		must(t, err)
		if len(rows) != 1 || rows[0].ID != id || rows[0].Attempts != 2 {
			t.Fatalf("after the lease: %d rows, want the mail on its second attempt", len(rows))
		}

		// Failed, retry in a minute; the stored error is cut to its column.
		long := strings.Repeat("é", store.MaxLastError+50)
		must(t, s.Outbox.MarkFailed(t.Context(), id, long, now.Add(2*time.Minute)))
		m := outboxRow(t, d, id)
		if m.ClaimedUntil != nil || m.LastError == nil || len([]rune(*m.LastError)) != store.MaxLastError {
			t.Errorf("after MarkFailed: lease %v, last error of %d characters", m.ClaimedUntil, len([]rune(*m.LastError)))
		}
		if got := claimIDs(t, s, 10, now.Add(time.Minute), lease); len(got) != 0 {
			t.Fatalf("claimed before its retry time: %v", got)
		}

		// Claimed, then handed back unattempted: due at once, the claim not counted.
		if got := claimIDs(t, s, 10, now.Add(2*time.Minute), lease); len(got) != 1 {
			t.Fatalf("at its retry time: claimed %v", got)
		}
		must(t, s.Outbox.Release(t.Context(), id))
		if m := outboxRow(t, d, id); m.Attempts != 2 || m.ClaimedUntil != nil {
			t.Errorf("after Release: attempts %d (want 2), lease %v", m.Attempts, m.ClaimedUntil)
		}

		// Sent: never claimed again, body emptied, a late failure changes nothing.
		if got := claimIDs(t, s, 10, now.Add(2*time.Minute), lease); len(got) != 1 {
			t.Fatalf("after Release: claimed %v", got)
		}
		must(t, s.Outbox.MarkSent(t.Context(), id, now.Add(3*time.Minute)))
		must(t, s.Outbox.MarkFailed(t.Context(), id, "late", now))
		m = outboxRow(t, d, id)
		if m.SentAt == nil || m.NextAttemptAt != nil || m.Body != "" || *m.LastError == "late" {
			t.Errorf("after MarkSent: sent %v, next %v, body %q, last error %q", m.SentAt, m.NextAttemptAt, m.Body, *m.LastError)
		}

		// Abandoned (zero retry time): kept with its error, never claimed again.
		if got := claimIDs(t, s, 10, now.Add(2*time.Hour), lease); len(got) != 1 || got[0] != later {
			t.Fatalf("claimed %v, want [%s]", got, later)
		}
		must(t, s.Outbox.MarkFailed(t.Context(), later, "550 no such user", time.Time{}))
		if got := claimIDs(t, s, 10, now.Add(100*time.Hour), lease); len(got) != 0 {
			t.Fatalf("an abandoned mail was claimed: %v", got)
		}
		if m := outboxRow(t, d, later); m.SentAt != nil || m.NextAttemptAt != nil || *m.LastError != "550 no such user" || m.Body != "" { // given up: the body (single-use links) is gone
			t.Errorf("abandoned row: %+v", m)
		}
	})
}

// TestOutboxEnqueueRollsBack: a mail enqueued in a transaction that rolls
// back is not there.
func TestOutboxEnqueueRollsBack(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		s := store.New(d.DB)
		boom := errors.New("boom")
		err := s.Tx(t.Context(), func(tx *store.Store) error {
			due := time.Now()
			must(t, tx.Outbox.Enqueue(t.Context(), &store.OutboxMail{ID: ids.New(), Recipient: "x@example.test", Subject: "s", Body: "b", NextAttemptAt: &due}))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var n int64
		must(t, d.Model(&store.OutboxMail{}).Count(&n).Error)
		if n != 0 {
			t.Errorf("%d mails after a rollback", n)
		}
		if err := s.Outbox.Enqueue(t.Context(), &store.OutboxMail{Subject: "s"}); err == nil {
			t.Error("a mail without ID and recipient was accepted")
		}
	})
}
