package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/store"
)

// Options configures a Sender; zero fields take the defaults.
type Options struct {
	// SMTP is the mail server; nil logs each mail instead of sending it.
	SMTP *config.SMTP
	// From is the From of every mail (config.Config.MailFrom); required.
	From string
	Log  *slog.Logger

	Poll        time.Duration // how often due mail is looked for; 2s
	Batch       int           // mails claimed, and sent over one connection, at a time; 10
	Lease       time.Duration // how long a claimed mail is the sender's; 5m
	MinBackoff  time.Duration // delay after the first failed attempt; 1m
	MaxBackoff  time.Duration // cap of the doubling delay; 1h
	MaxAttempts int           // attempts before giving up; 10 (about 4h with the default backoff)
	Timeout     time.Duration // SMTP connect and per-command timeout; 15s
}

// Defaults of Options.
const (
	DefaultPoll        = 2 * time.Second
	DefaultBatch       = 10
	DefaultLease       = 5 * time.Minute
	DefaultMinBackoff  = time.Minute
	DefaultMaxBackoff  = time.Hour
	DefaultMaxAttempts = 10
	DefaultTimeout     = 15 * time.Second
)

// Sender delivers the outbox. Run one in every replica: they share the
// work through the outbox's leases.
//
// Delivery is at least once. A crash between the commit of a mail and its
// send loses nothing: the row stays until it is marked sent. A crash after
// the mail server accepted a mail and before MarkSent (or a MarkSent that
// fails) leaves the row claimed; once its lease (Options.Lease) runs out,
// a sender delivers it again, once, with the same Message-ID.
type Sender struct {
	outbox store.Outbox
	opts   Options
	client *gomail.Client // nil: log instead of sending
	domain string         // of From, for Message-IDs
}

// NewSender returns a sender over st's outbox.
func NewSender(st *store.Store, o Options) (*Sender, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	o.Poll = positive(o.Poll, DefaultPoll)
	o.Batch = max(o.Batch, 0)
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	o.Lease = positive(o.Lease, DefaultLease)
	o.MinBackoff = positive(o.MinBackoff, DefaultMinBackoff)
	o.MaxBackoff = max(positive(o.MaxBackoff, DefaultMaxBackoff), o.MinBackoff)
	if o.MaxAttempts < 1 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	o.Timeout = positive(o.Timeout, DefaultTimeout)
	from, err := netmail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("mail: From %q is not an address", o.From)
	}
	s := &Sender{outbox: st.Outbox, opts: o, domain: from.Address[strings.LastIndex(from.Address, "@")+1:]}
	if o.SMTP == nil {
		o.Log.Warn("NEOSC_SMTP_URL is unset: mail is logged, not sent")
		return s, nil
	}
	if s.client, err = newClient(o.SMTP, o.Timeout); err != nil {
		return nil, fmt.Errorf("mail: %s", redact(err.Error(), o.SMTP.Password))
	}
	o.Log.Info("mail delivery", "smtp", o.SMTP, "from", o.From)
	return s, nil
}

// newClient configures go-mail for the server: implicit TLS for smtps://;
// STARTTLS required for smtp://, or used when offered on a loopback host;
// SMTP AUTH (the strongest mechanism the server offers) when there are
// credentials.
func newClient(c *config.SMTP, timeout time.Duration) (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(timeout)}
	switch {
	case c.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case c.Loopback():
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	return gomail.NewClient(c.Host, opts...)
}

func positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Start runs the sender in a goroutine until ctx ends or the returned stop
// is called; stop waits for it to finish.
func (s *Sender) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Run delivers due mail until ctx ends: at once, then every Poll and
// whenever an Enqueue of this process commits. On shutdown, the mails it
// holds but has not started are handed back for another replica.
func (s *Sender) Run(ctx context.Context) {
	tick := time.NewTicker(s.opts.Poll)
	defer tick.Stop()
	for {
		s.drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
	}
}

// drain claims and delivers batches until no mail is due.
func (s *Sender) drain(ctx context.Context) {
	for ctx.Err() == nil {
		batch, err := s.outbox.Claim(ctx, s.opts.Batch, time.Now(), s.opts.Lease)
		if err != nil {
			if ctx.Err() == nil {
				s.opts.Log.Warn("mail: claiming due mail failed", "error", err)
			}
			return
		}
		if len(batch) == 0 {
			return
		}
		s.deliver(ctx, batch)
		if len(batch) < s.opts.Batch {
			return
		}
	}
}

// deliver sends a claimed batch over one connection and records each
// outcome. A mail is started only while at least half of its lease is left,
// so it is marked before another sender may claim it again.
func (s *Sender) deliver(ctx context.Context, batch []*store.OutboxMail) {
	// Outcomes are recorded even when ctx has ended: a mail the server took
	// must be marked sent.
	record, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if s.client == nil {
		for _, m := range batch {
			s.opts.Log.Info("mail not sent (NEOSC_SMTP_URL is unset)", "id", m.ID, "to", m.Recipient,
				"subject", m.Subject, "link", linkLine(m.Body))
			s.sent(record, m)
		}
		return
	}
	conn, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		for _, m := range batch {
			if ctx.Err() != nil {
				s.release(record, m)
			} else {
				s.failed(record, m, err)
			}
		}
		return
	}
	defer func() { _ = s.client.CloseWithSMTPClient(conn) }()
	for _, m := range batch {
		if ctx.Err() != nil || time.Until(*m.ClaimedUntil) < s.opts.Lease/2 {
			s.release(record, m)
			continue
		}
		msg, err := s.message(m)
		if err != nil {
			s.giveUp(record, m, err)
			continue
		}
		err = s.client.SendWithSMTPClient(conn, msg)
		if msg.IsDelivered() {
			s.sent(record, m)
		} else {
			s.failed(record, m, cmpErr(err, errors.New("not delivered")))
		}
	}
}

// message builds the mail of an outbox row.
func (s *Sender) message(m *store.OutboxMail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.opts.From); err != nil {
		return nil, err
	}
	if err := msg.To(m.Recipient); err != nil {
		return nil, err
	}
	msg.Subject(m.Subject)
	// The same ID on every attempt: a duplicate from the at-least-once
	// window is recognisable as one.
	msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	msg.SetDateWithValue(time.Now())
	msg.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return msg, nil
}

func (s *Sender) sent(ctx context.Context, m *store.OutboxMail) {
	if err := s.outbox.MarkSent(ctx, m.ID, time.Now()); err != nil {
		// The lease will run out and the mail go out again: the
		// at-least-once window.
		s.opts.Log.Error("mail: sent, but marking it sent failed", "id", m.ID, "error", err)
		return
	}
	if s.client != nil {
		s.opts.Log.Info("mail sent", "id", m.ID, "attempts", m.Attempts)
	}
}

// failed schedules the next attempt of a mail, or gives up after
// MaxAttempts.
func (s *Sender) failed(ctx context.Context, m *store.OutboxMail, cause error) {
	if m.Attempts >= s.opts.MaxAttempts {
		s.giveUp(ctx, m, cause)
		return
	}
	msg := s.errorText(cause)
	next := time.Now().Add(Backoff(m.Attempts, s.opts.MinBackoff, s.opts.MaxBackoff))
	if err := s.outbox.MarkFailed(ctx, m.ID, msg, next); err != nil {
		s.opts.Log.Error("mail: recording a failed attempt failed", "id", m.ID, "error", err)
		return
	}
	s.opts.Log.Warn("mail not delivered; will retry", "id", m.ID, "attempts", m.Attempts,
		"retry_at", next.UTC().Format(time.RFC3339), "error", msg)
}

func (s *Sender) giveUp(ctx context.Context, m *store.OutboxMail, cause error) {
	msg := s.errorText(cause)
	if err := s.outbox.MarkFailed(ctx, m.ID, msg, time.Time{}); err != nil {
		s.opts.Log.Error("mail: recording a failed attempt failed", "id", m.ID, "error", err)
		return
	}
	s.opts.Log.Error("mail abandoned", "id", m.ID, "attempts", m.Attempts, "error", msg)
}

func (s *Sender) release(ctx context.Context, m *store.OutboxMail) {
	if err := s.outbox.Release(ctx, m.ID); err != nil {
		s.opts.Log.Warn("mail: handing back a claimed mail failed; it waits for its lease", "id", m.ID, "error", err)
	}
}

// errorText is the cause as stored and logged: one line, without the SMTP
// password.
func (s *Sender) errorText(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if s.opts.SMTP != nil {
		msg = redact(msg, s.opts.SMTP.Password)
	}
	return msg
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "REDACTED")
}

func cmpErr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

// Backoff is the delay after the given number of failed attempts (1 for the
// first): lo doubled per further attempt, capped at hi, then jittered down
// by up to half so that mails failing together spread out ("equal jitter").
func Backoff(attempts int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < attempts && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}

// linkLine is the first line of body holding an http(s) URL, trimmed: what
// a developer needs from a mail that was logged instead of sent.
func linkLine(body string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.Contains(line, "http://") || strings.Contains(line, "https://") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
