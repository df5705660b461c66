package identity

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/names"
)

// NormalizeEmail trims an email address, checks that it is a plain address
// (no display name) with a dotted domain, and returns it in the one form it
// is stored and looked up in, with its domain:
//   - the whole address is lower-cased (the contract makes addresses
//     case-insensitive, local part included) and put in NFC, so "élise@",
//     typed precomposed or decomposed, and "ÉLISE@" are one account;
//   - an internationalised domain becomes its IDNA A-label (UTS #46 lookup
//     profile): "user@bücher.example" is "user@xn--bcher-kva.example";
//   - controls, invisible and bidi characters (names.Invisible), non-ASCII
//     spaces and invalid UTF-8 are refused.
//
// A plain ASCII address comes out exactly as before these rules: lower-cased,
// with its domain checked by the same label rules (an ASCII domain is not
// run through IDNA). Errors are BAD_USER_INPUT on the field "email".
func NormalizeEmail(raw string) (string, string, error) {
	email := norm.NFC.String(strings.ToLower(strings.TrimSpace(raw)))
	if email == "" || len(email) > 254 {
		return "", "", apperr.Invalid("email", "email must be a valid address of at most 254 characters")
	}
	for _, r := range email {
		if r == utf8.RuneError || names.Invisible(r) || r >= utf8.RuneSelf && unicode.IsSpace(r) {
			return "", "", apperr.Invalid("email", "email must not contain control, invisible or space characters")
		}
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", "", apperr.Invalid("email", "email must be a valid address")
	}
	at := strings.LastIndexByte(email, '@')
	domain := email[at+1:]
	if !isASCII(domain) {
		if domain, err = idna.Lookup.ToASCII(domain); err != nil {
			return "", "", apperr.Invalid("email", "email must have a valid domain")
		}
		domain = strings.ToLower(domain)
		email = email[:at+1] + domain
		if len(email) > 254 {
			return "", "", apperr.Invalid("email", "email must be a valid address of at most 254 characters")
		}
	}
	if !validDomain(domain) {
		return "", "", apperr.Invalid("email", "email must have a valid domain")
	}
	return email, domain, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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
