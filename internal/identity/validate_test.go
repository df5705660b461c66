package identity

import (
	"net/mail"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/neosc/neosc/internal/apperr"
)

func wantEmailInvalid(t interface {
	Helper()
	Fatalf(string, ...any)
}, err error) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.BadUserInput || e.Field != "email" {
		t.Fatalf("error = %v, want BAD_USER_INPUT on email", err)
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ name, raw, want, domain string }{
		{"happy path", "ann@acme.test", "ann@acme.test", "acme.test"},
		{"upper case and spaces", "  ANN@Acme.TEST\n", "ann@acme.test", "acme.test"},
		{"NFC élise", "\u00e9lise@example.com", "\u00e9lise@example.com", "example.com"},
		{"NFD élise is the NFC twin", "e\u0301lise@example.com", "\u00e9lise@example.com", "example.com"},
		{"upper-case ÉLISE, NFC", "\u00c9LISE@EXAMPLE.COM", "\u00e9lise@example.com", "example.com"},
		{"upper-case ÉLISE, NFD", "E\u0301LISE@EXAMPLE.COM", "\u00e9lise@example.com", "example.com"},
		{"internationalised domain to A-label", "user@b\u00fccher.example", "user@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"upper-case internationalised domain", "USER@B\u00dcCHER.EXAMPLE", "user@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"NFD internationalised domain", "user@bu\u0308cher.example", "user@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"A-label kept", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"full-width domain", "user@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "user@example.com", "example.com"},
		{"plus and dots kept", "a.b+tag@sub.example.org", "a.b+tag@sub.example.org", "sub.example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, domain, err := NormalizeEmail(tc.raw)
			if err != nil || got != tc.want || domain != tc.domain {
				t.Fatalf("NormalizeEmail(%+q) = %+q, %q, %v; want %+q, %q", tc.raw, got, domain, err, tc.want, tc.domain)
			}
			if again, _, err := NormalizeEmail(got); err != nil || again != got {
				t.Errorf("NormalizeEmail(%+q) = %+q, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func TestNormalizeEmailRefuses(t *testing.T) {
	for _, tc := range []struct{ name, raw string }{
		{"empty", "  "},
		{"not an address", "not-an-email"},
		{"display name", "P <p@x.test>"},
		{"NUL", "ann\x00@acme.test"},
		{"control character", "ann\x07@acme.test"},
		{"tab inside", "an\tn@acme.test"},
		{"zero-width space", "ann\u200b@acme.test"},
		{"zero-width space in domain", "ann@ac\u200bme.test"},
		{"right-to-left override", "\u202eann@acme.test"},
		{"BOM", "\ufeffann@acme.test"},
		{"no-break space", "an\u00a0n@acme.test"},
		{"Braille blank", "ann\u2800@acme.test"},
		{"invalid UTF-8", "ann\xff@acme.test"},
		{"replacement character", "ann\ufffd@acme.test"},
		{"invalid internationalised domain", "user@b\u00fccher_.example"},
		{"undotted domain", "user@b\u00fccher"},
		{"too long after IDNA", "user@" + strings.Repeat("\u00fc", 60) + "." + strings.Repeat("\u00fc", 60) + "." + strings.Repeat("a", 60) + ".example"},
		{"too long", strings.Repeat("a", 250) + "@x.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := NormalizeEmail(tc.raw)
			if err == nil {
				t.Fatalf("NormalizeEmail(%+q) = %q, want an error", tc.raw, got)
			}
			wantEmailInvalid(t, err)
		})
	}
}

// legacyNormalizeEmail is NormalizeEmail as it was before Unicode
// normalisation, frozen here: printable ASCII must keep getting the same
// answer.
func legacyNormalizeEmail(raw string) (string, string, error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" || len(email) > 254 {
		return "", "", apperr.Invalid("email", "too long")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", "", apperr.Invalid("email", "invalid")
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	if !validDomain(domain) {
		return "", "", apperr.Invalid("email", "bad domain")
	}
	return email, domain, nil
}

func TestNormalizeEmailKeepsASCIIBehaviour(t *testing.T) {
	var printable []rune
	for r := rune(' '); r <= '~'; r++ {
		printable = append(printable, r)
	}
	part := func(alphabet string) *rapid.Generator[string] {
		return rapid.StringOf(rapid.RuneFrom([]rune(alphabet)))
	}
	local := rapid.OneOf(part("abcXYZ019.+-_"), part("aB.\"\\ (),:;<>[]@!#$%&'*/=?^`{|}~"), rapid.StringOf(rapid.RuneFrom(printable)))
	domain := rapid.OneOf(part("abXY09.-"), part("ab.-_ [](),@"), rapid.StringOf(rapid.RuneFrom(printable)))
	rapid.Check(t, func(t *rapid.T) {
		raw := part(" ").Draw(t, "lead") + local.Draw(t, "local") + "@" + domain.Draw(t, "domain") + part(" ").Draw(t, "trail")
		if rapid.Bool().Draw(t, "no @") {
			raw = strings.Replace(raw, "@", "", 1)
		}
		got, gotDomain, err := NormalizeEmail(raw)
		want, wantDomain, legacyErr := legacyNormalizeEmail(raw)
		if (err == nil) != (legacyErr == nil) || got != want || gotDomain != wantDomain {
			t.Fatalf("NormalizeEmail(%q) = %q, %q, %v; before: %q, %q, %v", raw, got, gotDomain, err, want, wantDomain, legacyErr)
		}
		if err != nil {
			wantEmailInvalid(t, err)
		}
	})
	for _, raw := range []string{"ann@acme.test", "ANN@acme.test", "\"a b\"@x.test", "a@ab--cd.com", "a@xn--zz.com", "a@-x.com", "a@x_y.com", "a@x..com", "a@1.2"} {
		got, _, err := NormalizeEmail(raw)
		want, _, legacyErr := legacyNormalizeEmail(raw)
		if (err == nil) != (legacyErr == nil) || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; before: %q, %v", raw, got, err, want, legacyErr)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ann@acme.test", "e\u0301lise@example.com", "USER@B\u00dcCHER.EXAMPLE", "a\x00@x.test", "\"a b\"@x.test", "x@xn--zz.com", "@", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		email, domain, err := NormalizeEmail(raw)
		if err != nil {
			wantEmailInvalid(t, err)
			return
		}
		if !strings.HasSuffix(email, "@"+domain) || !isASCII(domain) {
			t.Fatalf("NormalizeEmail(%+q) = %+q, %q: domain not the ASCII tail", raw, email, domain)
		}
		if again, _, err := NormalizeEmail(email); err != nil || again != email {
			t.Fatalf("NormalizeEmail(%+q) = %+q, but again %+q, %v", raw, email, again, err)
		}
	})
}
