package domains

import (
	_ "embed"
	"slices"
	"strings"
	"sync"

	"github.com/weppos/publicsuffix-go/publicsuffix"
	"golang.org/x/net/idna"

	"github.com/neosc/neosc/internal/apperr"
)

// maxInputLen bounds the raw input looked at (a domain is at most 253
// bytes as an A-label; its Unicode form may take up to 4 bytes a character).
const maxInputLen = 1024

// profile turns user input into the lower-case A-label form: UTS #46
// mapping for lookup (case folding, width and dot variants), IDNA2008
// validity and the Bidi rule, STD3 host-name characters, DNS lengths.
var profile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true), idna.Transitional(false))

// Normalize returns the lower-case A-label form of a domain an
// organization may claim: a valid host name, at or below a registrable
// domain of the public suffix list (private suffixes such as github.io
// count: nobody registers them), and neither a public nor a disposable mail
// domain. Anything else is BAD_USER_INPUT on "domain".
func Normalize(raw string) (string, error) {
	d, err := canonical(raw)
	if err != nil {
		return "", err
	}
	if _, err := publicsuffix.DomainFromListWithOptions(publicsuffix.DefaultList, d,
		&publicsuffix.FindOptions{IgnorePrivate: false, DefaultRule: nil}); err != nil {
		return "", apperr.Invalid("domain", "%s is not a registrable domain: it must end in a public suffix such as .com or .co.uk and not be one itself", d)
	}
	if IsPublicMailDomain(d) {
		return "", apperr.Invalid("domain", "%s is a public or disposable mail domain: an organization can only claim a domain it owns", d)
	}
	return d, nil
}

// canonical is the A-label form of a valid host name, without the policy
// checks of Normalize: what names a domain an organization already has
// (a list refresh may since have made it a public mail domain, and it must
// stay removable).
func canonical(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if len(s) > maxInputLen {
		return "", errInvalid()
	}
	s = strings.TrimSuffix(s, ".") // the fully qualified form names the same domain
	d, err := profile.ToASCII(s)
	if err != nil || !hostname(d) {
		return "", errInvalid()
	}
	return d, nil
}

func errInvalid() error {
	return apperr.Invalid("domain", "domain must be a domain name such as example.com")
}

// hostname reports whether d is a host name of at least two labels of
// lower-case letters, digits and inner hyphens, 63 bytes a label and 253 in
// all.
func hostname(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// publicMailList is public_mail_domains.txt: its header says where it
// comes from and how to refresh it.
//
//go:embed public_mail_domains.txt
var publicMailList string

// publicMail is the sorted list of public and disposable mail domains.
var publicMail = sync.OnceValue(func() []string {
	var out []string
	for _, line := range strings.Split(publicMailList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
})

// IsPublicMailDomain reports whether d (a lower-case A-label) or a domain
// above it is a public or disposable mail domain (gmail.com,
// mail.gmail.com, a throwaway-inbox domain, ...).
func IsPublicMailDomain(d string) bool {
	list := publicMail()
	for {
		if _, found := slices.BinarySearch(list, d); found {
			return true
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(parent, ".") {
			return false
		}
		d = parent
	}
}
