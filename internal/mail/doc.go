// Package mail queues mail in the database and delivers it over SMTP.
//
// Rules:
//   - A mail is written by Enqueue on the store of the transaction that makes
//     the change it announces (an invitation, a verification token): both
//     commit or neither does. Nothing is sent inside a transaction.
//   - Every replica runs a Sender. It claims due mails with a lease
//     (store.Outbox.Claim: no two replicas hold the same mail), sends them
//     through github.com/wneessen/go-mail, and marks each sent, or failed
//     with a retry time (exponential backoff with jitter, capped), giving up
//     after Options.MaxAttempts and keeping the row with its last error.
//   - Delivery is at least once. A crash after the commit and before the
//     send loses nothing: the row stays until it is sent. A crash (or a lost
//     database connection) after the mail server accepted a mail and before
//     MarkSent leaves the row claimed; when its lease runs out another
//     sender delivers it again, once. The Message-ID is derived from the
//     row's ID, so the duplicate carries the same Message-ID as the first.
//   - Without NEOSC_SMTP_URL nothing is sent: each mail is logged once
//     (recipient, subject and its link line) and marked sent, so a
//     development server works without a mail server.
//   - SMTP: smtps:// is implicit TLS; smtp:// requires STARTTLS, except on a
//     loopback host, where STARTTLS is used when offered and a plain server
//     is used as it is. The password never reaches a log line or a stored
//     error.
//   - A sent row keeps its recipient and subject but not its body, which may
//     hold single-use links.
package mail
