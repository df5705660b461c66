package server

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name    string
		peer    string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies: the peer, whatever the header says", "192.0.2.1:5000", []string{"203.0.113.9"}, nil, "192.0.2.1"},
		{"an untrusted peer's header is ignored", "192.0.2.1:5000", []string{"203.0.113.9"}, proxies, "192.0.2.1"},
		{"a trusted proxy names the client", "10.1.2.3:5000", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"the rightmost untrusted entry: entries left of it are the client's own say", "10.1.2.3:5000",
			[]string{"198.51.100.66, 203.0.113.9"}, proxies, "203.0.113.9"},
		{"proxies in a chain are skipped", "10.1.2.3:5000", []string{"203.0.113.9, 10.9.9.9", "10.8.8.8"}, proxies, "203.0.113.9"},
		{"only proxies: the farthest one", "10.1.2.3:5000", []string{"10.9.9.9"}, proxies, "10.9.9.9"},
		{"no header: the proxy itself", "10.1.2.3:5000", nil, proxies, "10.1.2.3"},
		{"garbage stops at the proxy that wrote it", "10.1.2.3:5000", []string{"203.0.113.9, not-an-ip"}, proxies, "10.1.2.3"},
		{"ports and brackets", "[fd00::1]:443", []string{"[2001:db8::7]:5555"}, proxies, "2001:db8::7"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:5000", []string{"192.0.2.44:80"}, proxies, "192.0.2.44"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tc.trusted); got != tc.want {
				t.Errorf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}
