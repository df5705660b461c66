package identity

import (
	"net/mail"
	"strings"

	"github.com/neosc/neosc/internal/apperr"
)

// NormalizeEmail trims and lower-cases an email address and checks that it is
// a plain address (no display name) with a dotted domain. It returns the
// address and its domain.
func NormalizeEmail(raw string) (string, string, error) {
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" || len(email) > 254 {
		return "", "", apperr.Invalid("email", "email must be a valid address of at most 254 characters")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", "", apperr.Invalid("email", "email must be a valid address")
	}
	at := strings.LastIndexByte(email, '@')
	domain := email[at+1:]
	if !validDomain(domain) {
		return "", "", apperr.Invalid("email", "email must have a valid domain")
	}
	return email, domain, nil
}

func validDomain(d string) bool {
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
