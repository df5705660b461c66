package mail_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/apitest"
	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/mail"
	"github.com/neosc/neosc/internal/mailtest"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
	"github.com/neosc/neosc/internal/testdb/gen"
)

const from = "NeoSC <no-reply@neosc.test>"

// smtpConfig parses url as NEOSC_SMTP_URL, the way the server does.
func smtpConfig(t *testing.T, url string) *config.SMTP {
	t.Helper()
	cfg, err := config.Load(func(k string) string {
		if k == "NEOSC_SMTP_URL" {
			return url
		}
		return ""
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.SMTP
}

// fast are options for tests: short polls and backoffs.
func fast(smtp *config.SMTP, logs *apitest.SyncBuffer) mail.Options {
	return mail.Options{
		SMTP: smtp, From: from, Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Poll: 20 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		Lease: 5 * time.Second, Timeout: 5 * time.Second,
	}
}

// start runs a sender until the test ends (or stop is called).
func start(t *testing.T, d *db.DB, o mail.Options) (stop func()) {
	t.Helper()
	s, err := mail.NewSender(store.New(d.DB), o)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	halt := s.Start(context.Background())
	stop = func() { once.Do(halt) }
	t.Cleanup(stop)
	return stop
}

// enqueue commits one mail in its own transaction.
func enqueue(t *testing.T, d *db.DB, orgID string, m mail.Message) {
	t.Helper()
	err := store.New(d.DB).Tx(t.Context(), func(tx *store.Store) error {
		return mail.Enqueue(t.Context(), tx, orgID, m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func outbox(t *testing.T, d *db.DB, recipient string) []store.OutboxMail {
	t.Helper()
	var rows []store.OutboxMail
	if err := d.Where("recipient = ?", recipient).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// only is the one outbox row of a recipient.
func only(t *testing.T, d *db.DB, recipient string) store.OutboxMail {
	t.Helper()
	rows := outbox(t, d, recipient)
	if len(rows) != 1 {
		t.Fatalf("%d outbox rows for %s, want 1", len(rows), recipient)
	}
	return rows[0]
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func sent(t *testing.T, d *db.DB, recipient string) func() bool {
	return func() bool {
		rows := outbox(t, d, recipient)
		return len(rows) == 1 && rows[0].SentAt != nil
	}
}

// logLines are the JSON log records with the given message.
func logLines(t *testing.T, logs *apitest.SyncBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if line == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func verification(to, link string) mail.Message {
	return mail.Message{To: to, Subject: "Verify your email – NeoSC",
		Text: "Hello,\n\nconfirm your address at\n\n  " + link + "\n\nThe link works once, for 24 hours.\n"}
}

// TestEnqueuedMailArrives: a mail enqueued in a committed transaction
// reaches the SMTP server with its link; one in a rolled-back transaction
// never does.
func TestEnqueuedMailArrives(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		srv := mailtest.Start(t)
		var logs apitest.SyncBuffer
		start(t, d, fast(smtpConfig(t, srv.URL()), &logs))
		org := gen.Organization(t, d, store.Organization{})

		// Rolled back: the change fails after the mail was queued.
		boom := errors.New("boom")
		err := store.New(d.DB).Tx(t.Context(), func(tx *store.Store) error {
			if err := mail.Enqueue(t.Context(), tx, org.ID, verification("ghost@example.test", "https://neosc.test/verify?token=ghost")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}

		// Committed: it arrives, decoded, with its link intact (a long
		// URL survives quoted-printable soft line breaks).
		link := "https://neosc.test/verify?token=" + strings.Repeat("abcdef0123", 10) + "&org=Ünïcode"
		enqueue(t, d, org.ID, verification("ada@example.test", link))
		msg := srv.WaitFor(t, "ada@example.test", 10*time.Second)
		if got := mailtest.Link(msg); got != link {
			t.Errorf("link %q, want %q", got, link)
		}
		if msg.Subject != "Verify your email – NeoSC" || msg.From != "no-reply@neosc.test" {
			t.Errorf("subject %q from %q", msg.Subject, msg.From)
		}
		if !strings.Contains(msg.Body, "The link works once") {
			t.Errorf("body %q", msg.Body)
		}
		row := only(t, d, "ada@example.test")
		if want := "<" + row.ID + "@neosc.test>"; msg.Header.Get("Message-Id") != want {
			t.Errorf("Message-ID %q, want %q (derived from the row, the same on every attempt)", msg.Header.Get("Message-Id"), want)
		}
		eventually(t, 5*time.Second, "the row is marked sent", sent(t, d, "ada@example.test"))
		row = only(t, d, "ada@example.test")
		if row.OrganizationID == nil || *row.OrganizationID != org.ID || row.Attempts != 1 || row.Body != "" || row.NextAttemptAt != nil {
			t.Errorf("sent row: org %v attempts %d body %q next %v", row.OrganizationID, row.Attempts, row.Body, row.NextAttemptAt)
		}

		// The sender has drained everything committed before; the
		// rolled-back mail is neither queued nor sent.
		enqueue(t, d, "", verification("barrier@example.test", "https://neosc.test/x"))
		srv.WaitFor(t, "barrier@example.test", 10*time.Second)
		if n := len(srv.To("ghost@example.test")); n != 0 || len(outbox(t, d, "ghost@example.test")) != 0 {
			t.Errorf("rolled-back mail: %d sent", n)
		}
		if n := len(srv.Messages()); n != 2 {
			t.Errorf("%d messages, want 2", n)
		}
	})
}

// TestMailSurvivesCrashBeforeSend: the process dies after the commit and
// before the send (no sender ran; a sender was stopped while the SMTP
// server was down; a sender claimed the mail and died). The rows stay; a
// restarted sender delivers each mail exactly once.
func TestMailSurvivesCrashBeforeSend(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		srv := mailtest.Start(t)
		smtp := smtpConfig(t, srv.URL())
		var logs apitest.SyncBuffer

		// 1. Committed while no sender runs: the process died right after.
		enqueue(t, d, "", verification("first@example.test", "https://neosc.test/1"))

		// 2. A sender runs while the server is down, and is stopped.
		srv.Refuse(-1)
		o := fast(smtp, &logs)
		o.MinBackoff, o.MaxBackoff = 300*time.Millisecond, 300*time.Millisecond
		stop := start(t, d, o)
		enqueue(t, d, "", verification("second@example.test", "https://neosc.test/2"))
		eventually(t, 10*time.Second, "both mails attempted", func() bool {
			return only(t, d, "first@example.test").Attempts > 0 && only(t, d, "second@example.test").Attempts > 0
		})
		stop()

		// 3. A sender claimed the mails due (the third at least: the others
		// may still wait for their retry) and died before sending them.
		enqueue(t, d, "", verification("third@example.test", "https://neosc.test/3"))
		claimed, err := store.New(d.DB).Outbox.Claim(t.Context(), 10, time.Now(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(claimed, func(m *store.OutboxMail) bool { return m.Recipient == "third@example.test" }) {
			t.Fatalf("the dying sender did not claim the third mail (%d claimed)", len(claimed))
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("%d messages sent while the server was down", n)
		}
		for _, to := range []string{"first@example.test", "second@example.test", "third@example.test"} {
			if r := only(t, d, to); r.SentAt != nil || r.Body == "" {
				t.Fatalf("%s: row lost or marked sent before any delivery", to)
			}
		}

		// Restart with the server up.
		srv.Refuse(0)
		start(t, d, fast(smtp, &logs))
		for _, to := range []string{"first@example.test", "second@example.test", "third@example.test"} {
			srv.WaitFor(t, to, 15*time.Second)
			eventually(t, 5*time.Second, to+" marked sent", sent(t, d, to))
		}
		// Exactly once: nothing more arrives over many polls.
		time.Sleep(300 * time.Millisecond)
		for _, to := range []string{"first@example.test", "second@example.test", "third@example.test"} {
			if n := len(srv.To(to)); n != 1 {
				t.Errorf("%s received %d mails, want 1", to, n)
			}
		}
	})
}

// TestRetryWithBackoff: refused twice, the mail is retried after growing
// delays and then delivered; refused for good, it is abandoned after
// MaxAttempts and kept with its last error.
func TestRetryWithBackoff(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		srv := mailtest.Start(t)
		var logs apitest.SyncBuffer
		o := fast(smtpConfig(t, srv.URL()), &logs)
		o.MinBackoff, o.MaxBackoff, o.MaxAttempts = 200*time.Millisecond, time.Second, 4
		start(t, d, o)

		srv.Refuse(2)
		begin := time.Now()
		enqueue(t, d, "", verification("retry@example.test", "https://neosc.test/r"))
		msg := srv.WaitFor(t, "retry@example.test", 15*time.Second)
		// Equal jitter: at least half of 200ms, then half of 400ms.
		if elapsed := msg.At.Sub(begin); elapsed < 300*time.Millisecond {
			t.Errorf("delivered %v after two refusals; the backoff waits at least 300ms", elapsed)
		}
		eventually(t, 5*time.Second, "marked sent", sent(t, d, "retry@example.test"))
		row := only(t, d, "retry@example.test")
		if srv.Refused() != 2 || row.Attempts != 3 || row.LastError == nil || !strings.Contains(*row.LastError, "421") {
			t.Errorf("refused %d, attempts %d (want 2, 3), last error %v", srv.Refused(), row.Attempts, row.LastError)
		}
		if n := len(logLines(t, &logs, "mail not delivered; will retry")); n != 2 {
			t.Errorf("%d retry log lines, want 2", n)
		}

		srv.Refuse(-1)
		enqueue(t, d, "", verification("never@example.test", "https://neosc.test/n"))
		eventually(t, 20*time.Second, "abandoned", func() bool {
			r := only(t, d, "never@example.test")
			return r.NextAttemptAt == nil
		})
		time.Sleep(300 * time.Millisecond) // several polls: no further attempt
		row = only(t, d, "never@example.test")
		if row.SentAt != nil || row.Attempts != 4 || srv.Refused() != 2+4 || row.LastError == nil || row.Body != "" { // given up: body emptied
			t.Errorf("abandoned row: sent %v attempts %d refused %d last error %v", row.SentAt, row.Attempts, srv.Refused()-2, row.LastError)
		}
		if n := len(logLines(t, &logs, "mail abandoned")); n != 1 {
			t.Errorf("%d 'mail abandoned' lines, want 1", n)
		}
	})
}

// TestTwoSendersDeliverOnce: two senders on one database (two replicas in
// one process; the root package's TestTwoServersDeliverOnce runs two
// processes) deliver 100 queued mails exactly once each, and share them.
func TestTwoSendersDeliverOnce(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		srv := mailtest.Start(t)
		srv.Delay(5 * time.Millisecond)
		smtp := smtpConfig(t, srv.URL())
		const n = 100
		err := store.New(d.DB).Tx(t.Context(), func(tx *store.Store) error {
			for i := 0; i < n; i++ {
				if err := mail.Enqueue(t.Context(), tx, "", verification(fmt.Sprintf("user%03d@example.test", i), fmt.Sprintf("https://neosc.test/%d", i))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var logsA, logsB apitest.SyncBuffer
		for _, logs := range []*apitest.SyncBuffer{&logsA, &logsB} {
			o := fast(smtp, logs)
			o.Batch = 5
			start(t, d, o)
		}
		srv.WaitForCount(t, n, 60*time.Second)
		eventually(t, 10*time.Second, "every row marked sent", func() bool {
			var pending int64
			_ = d.Model(&store.OutboxMail{}).Where("sent_at IS NULL").Count(&pending).Error
			return pending == 0
		})
		time.Sleep(200 * time.Millisecond)
		per := map[string]int{}
		for _, m := range srv.Messages() {
			for _, to := range m.To {
				per[to]++
			}
		}
		for i := 0; i < n; i++ {
			if to := fmt.Sprintf("user%03d@example.test", i); per[to] != 1 {
				t.Errorf("%s received %d mails, want 1", to, per[to])
			}
		}
		a, b := len(logLines(t, &logsA, "mail sent")), len(logLines(t, &logsB, "mail sent"))
		if a+b != n {
			t.Errorf("senders logged %d + %d sent mails, want %d in all", a, b, n)
		}
		t.Logf("sender A sent %d, sender B %d", a, b)
	})
}

// TestLoggedWithoutSMTP: without NEOSC_SMTP_URL a mail is logged once,
// recipient, subject and link line (not the rest of the body), and marked
// sent.
func TestLoggedWithoutSMTP(t *testing.T) {
	testdb.ForEach(t, func(t *testing.T, d *db.DB) {
		var logs apitest.SyncBuffer
		start(t, d, fast(nil, &logs))
		if n := len(logLines(t, &logs, "NEOSC_SMTP_URL is unset: mail is logged, not sent")); n != 1 {
			t.Errorf("%d start-up warnings, want 1", n)
		}
		enqueue(t, d, "", mail.Message{To: "Dev <dev@example.test>", Subject: "You are invited",
			Text: "Private greeting line\n\nAccept: https://neosc.test/accept?token=t0k3n\n"})
		eventually(t, 5*time.Second, "marked sent", sent(t, d, "dev@example.test"))
		time.Sleep(100 * time.Millisecond)
		lines := logLines(t, &logs, "mail not sent (NEOSC_SMTP_URL is unset)")
		if len(lines) != 1 {
			t.Fatalf("%d log lines for the mail, want 1:\n%s", len(lines), logs.String())
		}
		rec := lines[0]
		if rec["to"] != "dev@example.test" || rec["subject"] != "You are invited" || rec["link"] != "Accept: https://neosc.test/accept?token=t0k3n" {
			t.Errorf("log line %v", rec)
		}
		if strings.Contains(logs.String(), "Private greeting") {
			t.Error("the body beyond its link line was logged")
		}
	})
}

// TestSMTPPasswordStaysOut: a failed delivery's stored error and log lines
// never hold the SMTP password.
func TestSMTPPasswordStaysOut(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	srv := mailtest.Start(t) // offers no AUTH: delivery with credentials fails
	var logs apitest.SyncBuffer
	o := fast(smtpConfig(t, "smtp://mailer:hunter2pw@"+srv.Addr()), &logs)
	o.MaxAttempts = 2
	start(t, d, o)
	enqueue(t, d, "", verification("x@example.test", "https://neosc.test/x"))
	eventually(t, 10*time.Second, "abandoned", func() bool { return only(t, d, "x@example.test").NextAttemptAt == nil })
	row := only(t, d, "x@example.test")
	if row.LastError == nil || *row.LastError == "" {
		t.Fatal("no last error stored")
	}
	if strings.Contains(*row.LastError, "hunter2pw") || strings.Contains(logs.String(), "hunter2pw") {
		t.Errorf("the password leaked:\n%s\n%s", *row.LastError, logs.String())
	}
	if !strings.Contains(logs.String(), "smtp://mailer:REDACTED@") {
		t.Errorf("the start-up line does not show the redacted URL:\n%s", logs.String())
	}
}

func TestEnqueueRefusesBadMessages(t *testing.T) {
	d := testdb.New(t, db.SQLite)
	ok := mail.Message{To: "a@example.test", Subject: "s", Text: "t"}
	for name, m := range map[string]mail.Message{
		"no recipient":        {Subject: "s", Text: "t"},
		"two recipients":      {To: "a@example.test, b@example.test", Subject: "s", Text: "t"},
		"no domain":           {To: "a", Subject: "s", Text: "t"},
		"header injection":    {To: "a@example.test", Subject: "s\r\nBcc: victim@example.test", Text: "t"},
		"empty subject":       {To: "a@example.test", Text: "t"},
		"long subject":        {To: "a@example.test", Subject: strings.Repeat("x", mail.MaxSubject+1), Text: "t"},
		"empty text":          {To: "a@example.test", Subject: "s", Text: " \n"},
		"long text":           {To: "a@example.test", Subject: "s", Text: strings.Repeat("x", mail.MaxText+1)},
		"invalid UTF-8 text":  {To: "a@example.test", Subject: "s", Text: "\xff"},
		"invalid UTF-8 title": {To: "a@example.test", Subject: "\xff", Text: "t"},
	} {
		err := mail.Enqueue(t.Context(), store.New(d.DB), "", m)
		if !errors.Is(err, mail.ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", name, err)
		}
	}
	if err := mail.Enqueue(t.Context(), store.New(d.DB), "", ok); err != nil {
		t.Errorf("a valid message: %v", err)
	}
	var n int64
	if err := d.Model(&store.OutboxMail{}).Count(&n).Error; err != nil || n != 1 {
		t.Errorf("%d rows (%v), want the valid message's alone", n, err)
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := time.Minute, time.Hour
	for attempts := 0; attempts <= 70; attempts++ {
		d := lo
		for i := 1; i < attempts && d < hi; i++ {
			d *= 2
		}
		d = min(d, hi)
		for range 50 {
			got := mail.Backoff(attempts, lo, hi)
			if got < d/2 || got > d {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", attempts, got, d/2, d)
			}
		}
	}
	if got := mail.Backoff(1000, lo, hi); got < hi/2 || got > hi {
		t.Errorf("Backoff(1000) = %v, want capped at %v", got, hi)
	}
}
