// Package dnstest runs a real DNS server on loopback for tests: the
// github.com/miekg/dns server, over UDP and TCP on one port of 127.0.0.1,
// answering from TXT records the test sets. Like a real server it
// truncates a UDP answer larger than the size the query advertises (512
// bytes without EDNS0), so a client must ask again over TCP; it answers
// NXDOMAIN for a name it holds nothing for. It is imported by tests only.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a running DNS server.
type Server struct {
	addr string

	mu      sync.Mutex
	txt     map[string][][]string // FQDN, lower-case → records → strings
	rcode   map[string]int        // FQDN → forced response code
	silent  map[string]bool       // FQDN → no answer at all
	queries map[string]int        // "udp" / "tcp" → queries received
}

// New starts a server, stopped when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{txt: map[string][][]string{}, rcode: map[string]int{}, silent: map[string]bool{}, queries: map[string]int{}}
	pc, l := listen(t)
	s.addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: l, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return s
}

// listen binds UDP and TCP to the same free loopback port.
func listen(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		_ = pc.Close() // the TCP port was taken: try another
	}
	t.Fatal("dnstest: no loopback port free for both UDP and TCP")
	return nil, nil
}

// Addr is the server's "host:port".
func (s *Server) Addr() string { return s.addr }

// SetTXT replaces the TXT records at name with one record per value (a
// value over 255 bytes is split into strings, as publishing it would);
// no values removes them.
func (s *Server) SetTXT(name string, values ...string) {
	records := make([][]string, len(values))
	for i, v := range values {
		for len(v) > 255 {
			records[i], v = append(records[i], v[:255]), v[255:]
		}
		records[i] = append(records[i], v)
	}
	s.SetTXTStrings(name, records...)
}

// SetTXTStrings replaces the TXT records at name with the given records,
// each made of the given strings.
func (s *Server) SetTXTStrings(name string, records ...[]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := fqdn(name)
	delete(s.rcode, key)
	delete(s.silent, key)
	if len(records) == 0 {
		delete(s.txt, key)
		return
	}
	s.txt[key] = records
}

// Fail makes queries for name answer rcode (e.g. dns.RcodeServerFailure).
func (s *Server) Fail(name string, rcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcode[fqdn(name)] = rcode
}

// Silence makes queries for name go unanswered (the client times out).
func (s *Server) Silence(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent[fqdn(name)] = true
}

// Queries is the number of queries received over network ("udp" or "tcp").
func (s *Server) Queries(network string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[network]
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	network := w.LocalAddr().Network()
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	s.mu.Lock()
	s.queries[network]++
	var name string
	if len(r.Question) == 1 {
		name = strings.ToLower(r.Question[0].Name)
	}
	rcode, failing := s.rcode[name]
	records, known := s.txt[name]
	silent := s.silent[name]
	s.mu.Unlock()
	switch {
	case silent:
		return
	case failing:
		m.Rcode = rcode
	case !known:
		m.Rcode = dns.RcodeNameError
	case r.Question[0].Qtype == dns.TypeTXT:
		for _, strs := range records {
			m.Answer = append(m.Answer, &dns.TXT{
				Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
				Txt: strs,
			})
		}
	}
	if network == "udp" {
		size := dns.MinMsgSize
		if opt := r.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}

func fqdn(name string) string { return dns.Fqdn(strings.ToLower(name)) }
