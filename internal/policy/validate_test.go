package policy

import (
	"slices"
	"testing"
)

func TestCanonicalRanges(t *testing.T) {
	got, err := CanonicalRanges([]string{"2001:DB8::1", "10.1.2.3/8", " 192.0.2.9 ", "10.0.0.0/8", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.9/32", "2001:db8::/32", "2001:db8::1/128"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "10.0.0.0/33", "::ffff:10.0.0.1", "fe80::1%eth0", "10.0.0.0/8/8", "example.com", "10.0.0.256"} {
		if _, err := CanonicalRanges([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAllowed(t *testing.T) {
	ranges := []string{"192.0.2.0/24", "2001:db8::/32"}
	for ip, want := range map[string]bool{
		"192.0.2.1": true, "192.0.3.1": false, "2001:db8::5": true, "2001:db9::": false,
		"::ffff:192.0.2.7": true, "": false, "garbage": false,
	} {
		if got := Allowed(ranges, ip); got != want {
			t.Errorf("Allowed(%q) = %v", ip, got)
		}
	}
	if !Allowed(nil, "anything") {
		t.Error("no ranges must allow every address")
	}
}

func TestLogoURLAndColor(t *testing.T) {
	if u, err := LogoURL("https://cdn.example.com/a.png?x=1#f"); err != nil || u != "https://cdn.example.com/a.png?x=1#f" {
		t.Errorf("good URL: %q %v", u, err)
	}
	for _, bad := range []string{"javascript:alert(1)", "https://u:p@x.test/", "http://x.test/", "https://x.test/\t", "https:x", "//x.test/a"} {
		if _, err := LogoURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if c, err := Color("#abcdef"); err != nil || c != "#ABCDEF" {
		t.Errorf("Color: %q %v", c, err)
	}
	if _, err := Color("#abcdeg"); err == nil {
		t.Error("#abcdeg accepted")
	}
}
