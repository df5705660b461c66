package domains

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// SystemResolvConf is where the system resolver is read from when no
// resolver is configured.
const SystemResolvConf = "/etc/resolv.conf"

// DefaultDNSTimeout bounds one exchange with one server.
const DefaultDNSTimeout = 3 * time.Second

// ednsSize is the UDP payload size advertised (the DNS flag day 2020
// value): larger answers come back truncated and are asked again over TCP.
const ednsSize = 1232

// Resolver looks up TXT records through a recursive resolver, with
// github.com/miekg/dns as the client: UDP first, TCP when the answer is
// truncated, each server of the list in turn until one answers.
type Resolver struct {
	// Servers are "host:port" addresses; none means the nameservers of
	// SystemResolvConf, read at each lookup (so a changed file applies).
	Servers []string
	// Timeout bounds one exchange with one server (DefaultDNSTimeout when 0).
	Timeout time.Duration
}

// NewResolver returns a resolver of the server at addr ("host:port", the
// NEOSC_DNS_RESOLVER setting), or of the system's nameservers when addr is
// empty.
func NewResolver(addr string) *Resolver {
	r := &Resolver{Timeout: DefaultDNSTimeout}
	if addr != "" {
		r.Servers = []string{addr}
	}
	return r
}

// LookupError is a lookup that got no usable answer (a timeout, an
// unreachable server, SERVFAIL or REFUSED): whether the record exists is
// unknown, as opposed to NXDOMAIN or an empty answer, which say it does not.
type LookupError struct {
	Name string
	Err  error
}

func (e *LookupError) Error() string { return "dns: TXT " + e.Name + ": " + e.Err.Error() }

func (e *LookupError) Unwrap() error { return e.Err }

// TXT returns the TXT records at name, each record's strings joined (a
// record longer than 255 bytes is published as several strings). A name
// that does not exist, or has no TXT record, answers none and no error; a
// lookup that gets no usable answer from any server is a *LookupError.
func (r *Resolver) TXT(ctx context.Context, name string) ([]string, error) {
	servers, err := r.servers()
	if err != nil {
		return nil, &LookupError{Name: name, Err: err}
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	q.RecursionDesired = true
	q.SetEdns0(ednsSize, false)
	var last error
	for _, server := range servers {
		in, err := r.exchange(ctx, q, server)
		if err != nil {
			last = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		switch in.Rcode {
		case dns.RcodeSuccess:
			return txtValues(in), nil
		case dns.RcodeNameError:
			return nil, nil
		}
		last = fmt.Errorf("server answered %s", dns.RcodeToString[in.Rcode])
	}
	return nil, &LookupError{Name: name, Err: last}
}

// exchange asks one server over UDP, and again over TCP when the answer is
// truncated.
func (r *Resolver) exchange(ctx context.Context, q *dns.Msg, server string) (*dns.Msg, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	in, _, err := (&dns.Client{Net: "udp", Timeout: timeout, UDPSize: ednsSize}).ExchangeContext(ctx, q, server)
	// A truncated answer may also fail to unpack; the client returns what
	// it read either way, and only TCP can give the whole answer.
	if in == nil || !in.Truncated {
		return in, err
	}
	in, _, err = (&dns.Client{Net: "tcp", Timeout: timeout}).ExchangeContext(ctx, q, server)
	return in, err
}

// servers is the configured list, or the system's nameservers.
func (r *Resolver) servers() ([]string, error) {
	if len(r.Servers) > 0 {
		return r.Servers, nil
	}
	cfg, err := dns.ClientConfigFromFile(SystemResolvConf)
	if err != nil {
		return nil, fmt.Errorf("no resolver configured: %w", err)
	}
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("no resolver configured: %s lists no nameserver", SystemResolvConf)
	}
	out := make([]string, len(cfg.Servers))
	for i, s := range cfg.Servers {
		out[i] = net.JoinHostPort(s, cfg.Port)
	}
	return out, nil
}

// txtValues collects the TXT records of an answer, each one's strings
// joined. A CNAME at the name is followed by the recursive resolver, whose
// answer then holds the TXT records of the target.
func txtValues(in *dns.Msg) []string {
	var out []string
	for _, rr := range in.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out
}
