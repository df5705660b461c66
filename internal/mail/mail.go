package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
)

// Message is a plain-text mail to one recipient.
type Message struct {
	To      string // one address, "ada@example.com" or "Ada <ada@example.com>"; only the address is kept
	Subject string // one line
	Text    string // the body; put each link on a line of its own
}

// Bounds of a Message.
const (
	MaxSubject = 200      // characters
	MaxText    = 32 << 10 // bytes
)

// ErrInvalid is the error Enqueue wraps for a message it refuses.
var ErrInvalid = errors.New("mail: invalid message")

// Enqueue queues m for delivery, on tx: call it with the store of the
// transaction that makes the change the mail announces, so the mail is sent
// only if that change commits (and the change commits only with its mail).
// orgID is the organization the mail belongs to, "" for a platform mail.
// Once the transaction has ended, the senders of this process are woken so
// the mail goes out at once rather than at their next poll.
func Enqueue(ctx context.Context, tx *store.Store, orgID string, m Message) error {
	addr, err := netmail.ParseAddress(m.To)
	if err != nil || len(addr.Address) > 254 || strings.ContainsAny(addr.Address, "\r\n") {
		return fmt.Errorf("%w: recipient is not one valid address", ErrInvalid)
	}
	if m.Subject == "" || !utf8.ValidString(m.Subject) || utf8.RuneCountInString(m.Subject) > MaxSubject ||
		strings.IndexFunc(m.Subject, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: subject must be one line of 1 to %d characters", ErrInvalid, MaxSubject)
	}
	if strings.TrimSpace(m.Text) == "" || !utf8.ValidString(m.Text) || len(m.Text) > MaxText {
		return fmt.Errorf("%w: text must be valid UTF-8 of 1 to %d bytes", ErrInvalid, MaxText)
	}
	row := &store.OutboxMail{
		ID:        ids.New(),
		Recipient: addr.Address,
		Subject:   m.Subject,
		Body:      m.Text,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
	if orgID != "" {
		row.OrganizationID = &orgID
	}
	if err := tx.Outbox.Enqueue(ctx, row); err != nil {
		return err
	}
	tx.AfterTx(nudge)
	return nil
}

// wake nudges this process's senders; a nudge that finds none waiting is
// dropped (they poll anyway).
var wake = make(chan struct{}, 1)

func nudge() {
	select {
	case wake <- struct{}{}:
	default:
	}
}
