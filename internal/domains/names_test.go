package domains_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/domains"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"example.com", "example.com"},
		{"  Example.COM.  ", "example.com"},
		{"eng.acme.co.uk", "eng.acme.co.uk"},
		{"bücher.de", "xn--bcher-kva.de"},
		{"BÜCHER.de", "xn--bcher-kva.de"},
		{"xn--bcher-kva.de", "xn--bcher-kva.de"},
		{"ＥＸＡＭＰＬＥ．ｃｏｍ", "example.com"}, // full-width letters and dot
		{"例え.jp", "xn--r8jz45g.jp"},
		{"my-shop.github.io", "my-shop.github.io"}, // below a private suffix
	} {
		got, err := domains.Normalize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizeRefuses(t *testing.T) {
	for _, in := range []string{
		"", "   ", ".", "com", "localhost", "example", "co.uk", "github.io", // no registrable part
		"acme.test", "acme.local", "acme.internal", "1.2.3.4", // no public suffix
		"foo_bar.com", "-acme.com", "acme-.com", "acme..com", ".acme.com", "*.acme.com", "acme com",
		"http://acme.com", "acme.com/path", "user@acme.com", "acme.com:443",
		strings.Repeat("a", 64) + ".com", strings.Repeat("abcdefghi.", 26) + "com", strings.Repeat("x", 5000),
		// public and disposable mail domains, however written
		"gmail.com", "GMail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "protonmail.com",
		"hotmail.co.uk", "mail.gmail.com", "mailinator.com", "guerrillamail.com",
	} {
		got, err := domains.Normalize(in)
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.BadUserInput || e.Field != "domain" {
			t.Errorf("Normalize(%.40q) = %q, %v; want BAD_USER_INPUT on domain", in, got, err)
		}
	}
}

func TestPublicMailList(t *testing.T) {
	b, err := os.ReadFile("public_mail_domains.txt")
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			list = append(list, line)
		}
	}
	if len(list) < 1000 || !slices.IsSorted(list) {
		t.Fatalf("%d domains, sorted: %v", len(list), slices.IsSorted(list))
	}
	for _, d := range list {
		if d != strings.ToLower(strings.TrimSpace(d)) || strings.ContainsAny(d, " \t/@") {
			t.Errorf("entry %q is not a lower-case domain", d)
		}
	}
	for _, d := range []string{"gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "mailinator.com"} {
		if !domains.IsPublicMailDomain(d) {
			t.Errorf("%s is not in the list", d)
		}
	}
	for _, d := range []string{"example.com", "acme.co.uk", "neosc.dev", "gmail.example.com"} {
		if domains.IsPublicMailDomain(d) {
			t.Errorf("%s is in the list", d)
		}
	}
}
