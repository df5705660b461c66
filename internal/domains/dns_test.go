package domains_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/neosc/neosc/internal/dnstest"
	"github.com/neosc/neosc/internal/domains"
)

func TestResolverTXT(t *testing.T) {
	ctx := context.Background()
	srv := dnstest.New(t)
	r := domains.NewResolver(srv.Addr())

	t.Run("happy path, several records, a record's strings joined", func(t *testing.T) {
		srv.SetTXTStrings("_neosc-challenge.acme.example.com", []string{"v=spf1 -all"}, []string{"neosc-verification=", "abc", "def"})
		got, err := r.TXT(ctx, "_neosc-challenge.acme.example.com")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"v=spf1 -all", "neosc-verification=abcdef"}; !slices.Equal(got, want) {
			t.Errorf("TXT = %q, want %q", got, want)
		}
	})
	t.Run("happy path, names are case-insensitive and may end in a dot", func(t *testing.T) {
		srv.SetTXT("mixed.example.com", "x")
		if got, err := r.TXT(ctx, "MIXED.Example.com."); err != nil || !slices.Equal(got, []string{"x"}) {
			t.Errorf("TXT = %q, %v", got, err)
		}
	})
	t.Run("happy path, a truncated UDP answer is asked again over TCP", func(t *testing.T) {
		big := make([]string, 8) // 8 records of 400 bytes: more than the 1232 bytes UDP carries
		for i := range big {
			big[i] = strings.Repeat(string(rune('a'+i)), 400)
		}
		srv.SetTXT("big.example.com", append(big, "neosc-verification=needle")...)
		tcp := srv.Queries("tcp")
		got, err := r.TXT(ctx, "big.example.com")
		if err != nil {
			t.Fatal(err)
		}
		if srv.Queries("tcp") != tcp+1 {
			t.Errorf("TCP queries: %d, want %d", srv.Queries("tcp"), tcp+1)
		}
		if len(got) != 9 || !slices.Contains(got, "neosc-verification=needle") || !slices.Contains(got, big[3]) {
			t.Errorf("TXT over TCP: %d records", len(got))
		}
	})
	t.Run("no record: a missing name answers none, and no error", func(t *testing.T) {
		if got, err := r.TXT(ctx, "nothing-here.example.com"); err != nil || len(got) != 0 {
			t.Errorf("NXDOMAIN: %q, %v", got, err)
		}
		srv.SetTXT("removed.example.com", "x")
		srv.SetTXT("removed.example.com")
		if got, err := r.TXT(ctx, "removed.example.com"); err != nil || len(got) != 0 {
			t.Errorf("removed: %q, %v", got, err)
		}
	})
	t.Run("no answer: SERVFAIL and REFUSED are lookup errors", func(t *testing.T) {
		for _, rcode := range []int{dns.RcodeServerFailure, dns.RcodeRefused} {
			srv.Fail("broken.example.com", rcode)
			_, err := r.TXT(ctx, "broken.example.com")
			var le *domains.LookupError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), dns.RcodeToString[rcode]) {
				t.Errorf("rcode %s: %v", dns.RcodeToString[rcode], err)
			}
		}
	})
	t.Run("no answer: a silent server times out", func(t *testing.T) {
		srv.Silence("slow.example.com")
		quick := &domains.Resolver{Servers: []string{srv.Addr()}, Timeout: 200 * time.Millisecond}
		start := time.Now()
		_, err := quick.TXT(ctx, "slow.example.com")
		var le *domains.LookupError
		if !errors.As(err, &le) {
			t.Fatalf("want a LookupError, got %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("happy path, the next server answers when the first cannot", func(t *testing.T) {
		srv.SetTXT("fallback.example.com", "ok")
		both := &domains.Resolver{Servers: []string{closedPort(t), srv.Addr()}, Timeout: time.Second}
		if got, err := both.TXT(ctx, "fallback.example.com"); err != nil || !slices.Equal(got, []string{"ok"}) {
			t.Errorf("TXT = %q, %v", got, err)
		}
	})
}

// closedPort is a loopback UDP address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	_ = pc.Close()
	return addr
}
