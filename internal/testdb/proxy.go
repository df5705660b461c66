package testdb

import (
	"context"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/neosc/neosc/internal/db"
)

// Proxy is a TCP forwarder between the service and a database server, for
// tests that take the database away: Freeze stops forwarding bytes (a hung
// server or network: connections stay open, nothing answers), Down refuses
// connections and cuts the open ones (a server that is down), Restore
// undoes either.
type Proxy struct {
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	thawed chan struct{} // closed while bytes flow
}

// NewProxy forwards a loopback port to target ("host:port") until the test
// ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}, thawed: make(chan struct{})}
	close(p.thawed)
	p.serve(ln)
	t.Cleanup(func() { p.Down(); p.Restore() })
	return p
}

// Addr is the proxy's "host:port".
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *Proxy) forward(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // went down meanwhile
		p.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		defer func() { _ = dst.Close(); _ = src.Close() }()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				<-p.gate()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(server, client)
	go pipe(client, server)
}

func (p *Proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.thawed
}

// Freeze holds every byte from now on, both ways, until Restore.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
		p.thawed = make(chan struct{})
	default:
	}
}

// Down refuses new connections and closes the open ones.
func (p *Proxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Restore lets bytes flow again and, after Down, accepts connections on
// the same address again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
	if p.ln == nil {
		if ln, err := net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
		}
	}
}

// MySQLBehindProxy creates a fresh MySQL database (dropped at cleanup) and
// returns its NEOSC_DATABASE_URL through a Proxy, and the proxy.
func MySQLBehindProxy(t testing.TB) (string, *Proxy) {
	t.Helper()
	u, err := url.Parse(URL(t, db.MySQL))
	if err != nil {
		t.Fatal(err)
	}
	p := NewProxy(t, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}

// NewMySQLBehindProxy returns a fresh, migrated MySQL database reached
// through a Proxy, and the proxy.
func NewMySQLBehindProxy(t testing.TB) (*db.DB, *Proxy) {
	t.Helper()
	u, p := MySQLBehindProxy(t)
	d, err := db.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open mysql through a proxy: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	smallPool(d)
	migrateUp(t, d)
	return d, p
}
