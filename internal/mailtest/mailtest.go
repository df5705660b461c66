// Package mailtest runs a real SMTP server on loopback for tests
// (github.com/emersion/go-smtp as the server, in-process, on 127.0.0.1:0)
// and collects what it receives, decoded: envelope sender and recipients,
// the Subject (RFC 2047 words decoded) and the text body (quoted-printable
// or base64 undone; the first text/plain part of a multipart mail). The
// server offers neither STARTTLS nor AUTH, which the service accepts on a
// loopback host only. It is imported by tests only.
//
//	srv := mailtest.Start(t)
//	t.Setenv("NEOSC_SMTP_URL", srv.URL())
//	...
//	msg := srv.WaitFor(t, "ada@example.com", 10*time.Second)
//	link := mailtest.Link(msg)
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one mail the server accepted.
type Message struct {
	From    string   // envelope sender (MAIL FROM)
	To      []string // envelope recipients (RCPT TO)
	Header  mail.Header
	Subject string // decoded
	Body    string // decoded text
	Raw     []byte // as received
	At      time.Time
}

// Server is a running loopback SMTP server.
type Server struct {
	srv  *smtp.Server
	addr string

	mu         sync.Mutex
	msgs       []Message
	refuse     int // connections still to refuse; < 0: every one
	refused    int
	turnedAway map[*smtp.Conn]bool // a client retries a refused EHLO as HELO: one connection, one refusal
	delay      time.Duration
	received   chan struct{} // closed and replaced on every accepted message
}

// Start starts a server on 127.0.0.1 at a free port; it stops when the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{received: make(chan struct{}), turnedAway: map[*smtp.Conn]bool{}}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 50
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.srv, s.addr = srv, ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL is the NEOSC_SMTP_URL of the server: smtp://127.0.0.1:PORT.
func (s *Server) URL() string { return "smtp://" + s.addr }

// Refuse makes the server turn away the next n connections, answering
// their EHLO with 421 (service not available, a temporary failure); n < 0
// refuses every connection until Refuse(0).
func (s *Server) Refuse(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = n
}

// Refused counts the connections turned away so far.
func (s *Server) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Delay makes the server wait d before accepting each message's data, like
// a slow relay.
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Messages returns every message accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// To returns the messages accepted so far for the recipient (compared
// case-insensitively).
func (s *Server) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// WaitFor waits up to timeout for a message to the recipient and returns
// the first one; it fails the test when none comes.
func (s *Server) WaitFor(t testing.TB, to string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		received := s.received
		s.mu.Unlock()
		if got := s.To(to); len(got) > 0 {
			return got[0]
		}
		select {
		case <-received:
		case <-deadline.C:
			t.Fatalf("mailtest: no mail to %s within %v (%d other messages received, %d connections refused)",
				to, timeout, len(s.Messages()), s.Refused())
			return Message{}
		}
	}
}

// WaitForCount waits up to timeout until at least n messages have been
// accepted in all, and returns them; it fails the test otherwise.
func (s *Server) WaitForCount(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		received, got := s.received, len(s.msgs)
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-received:
		case <-deadline.C:
			t.Fatalf("mailtest: %d messages within %v, want %d", got, timeout, n)
			return nil
		}
	}
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// Link returns the first http(s) URL in the message's body, "" when there
// is none.
func Link(m Message) string {
	return linkRE.FindString(m.Body)
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	refusal := &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "mailtest: refusing connections"}
	if s.turnedAway[c] {
		return nil, refusal
	}
	if s.refuse != 0 {
		if s.refuse > 0 {
			s.refuse--
		}
		s.refused++
		s.turnedAway[c] = true
		return nil, refusal
	}
	return &session{srv: s}, nil
}

func (s *Server) accept(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.received)
	s.received = make(chan struct{})
}

// session is one SMTP transaction's state.
type session struct {
	srv  *Server
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	delay := s.srv.delay
	s.srv.mu.Unlock()
	time.Sleep(delay)
	m, err := Parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: " + err.Error()}
	}
	m.From, m.To, m.At = s.from, append([]string(nil), s.to...), time.Now()
	s.srv.accept(m)
	return nil
}

// Parse decodes a raw RFC 5322 message into a Message (without envelope).
func Parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, fmt.Errorf("parse: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	body, err := textBody(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return Message{}, err
	}
	return Message{Header: msg.Header, Subject: subject, Body: body, Raw: raw}, nil
}

// textBody decodes a body part, descending into multipart bodies to their
// first text/plain part.
func textBody(contentType, encoding string, r io.Reader) (string, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mediaType, err = "text/plain", nil
	}
	if err != nil {
		return "", fmt.Errorf("content type: %w", err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return "", errors.New("no text/plain part")
			}
			if err != nil {
				return "", fmt.Errorf("multipart: %w", err)
			}
			text, err := textBody(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if err == nil {
				return text, nil
			}
		}
	}
	if mediaType != "text/plain" {
		return "", fmt.Errorf("%s is not text/plain", mediaType)
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineSkipper{r})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

// newlineSkipper drops line breaks, which base64 bodies carry every 76
// characters.
type newlineSkipper struct{ r io.Reader }

func (n *newlineSkipper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
