package policy

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/neosc/neosc/internal/apperr"
	"github.com/neosc/neosc/internal/names"
)

// Bounds of the inputs.
const (
	MaxIPRanges      = 100
	MinSessionTTL    = 5
	MaxSessionTTL    = 43200 // 30 days, in minutes
	MaxLogoURL       = 2048
	MaxDisplayName   = 100
	maxRangeLen      = 64
	fieldRanges      = "allowedIpRanges"
	fieldTTL         = "sessionTtlMinutes"
	fieldRequireSSO  = "requireSso"
	fieldLogoURL     = "logoUrl"
	fieldColor       = "primaryColor"
	fieldDisplayName = "displayName"
)

// CanonicalRanges checks a list of CIDRs or bare addresses (IPv4 or IPv6)
// and returns them canonical (masked prefixes; a bare address as /32 or
// /128), deduplicated and sorted. Anything else is BAD_USER_INPUT naming
// allowedIpRanges.
func CanonicalRanges(raw []string) ([]string, error) {
	if len(raw) > MaxIPRanges {
		return nil, apperr.Invalid(fieldRanges, "at most %d ranges", MaxIPRanges)
	}
	out := make([]netip.Prefix, 0, len(raw))
	for _, r := range raw {
		p, err := parseRange(r)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	out = slices.Compact(out)
	s := make([]string, len(out))
	for i, p := range out {
		s[i] = p.String()
	}
	return s, nil
}

func parseRange(raw string) (netip.Prefix, error) {
	r := strings.TrimSpace(raw)
	bad := func(why string) error {
		shown := r
		if len(shown) > maxRangeLen {
			shown = shown[:maxRangeLen] + "…"
		}
		return apperr.Invalid(fieldRanges, "%q is not an IP range: %s", shown, why)
	}
	if r == "" || len(r) > maxRangeLen {
		return netip.Prefix{}, bad("write a CIDR such as 192.0.2.0/24 or 2001:db8::/32, or one address")
	}
	var p netip.Prefix
	if strings.Contains(r, "/") {
		var err error
		if p, err = netip.ParsePrefix(r); err != nil {
			return netip.Prefix{}, bad("write a CIDR such as 192.0.2.0/24 or 2001:db8::/32")
		}
	} else {
		a, err := netip.ParseAddr(r)
		if err != nil {
			return netip.Prefix{}, bad("write a CIDR such as 192.0.2.0/24 or 2001:db8::/32, or one address")
		}
		if a.Zone() != "" { // PrefixFrom would drop it silently
			return netip.Prefix{}, bad("zones are not allowed")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	switch {
	case p.Addr().Zone() != "":
		return netip.Prefix{}, bad("zones are not allowed")
	case p.Addr().Is4In6():
		return netip.Prefix{}, bad("write IPv4 ranges in IPv4 form")
	}
	return p.Masked(), nil
}

// Allowed reports whether address ip (as the rate limits see it) is in one
// of ranges (canonical CIDRs); no ranges allow every address, and an
// address that does not parse is in none.
func Allowed(ranges []string, ip string) bool {
	if len(ranges) == 0 {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, r := range ranges {
		if p, err := netip.ParsePrefix(r); err == nil && p.Contains(a) {
			return true
		}
	}
	return false
}

// CheckSessionTTL checks sessionTtlMinutes (nil: the server's TTL).
func CheckSessionTTL(m *int) error {
	if m != nil && (*m < MinSessionTTL || *m > MaxSessionTTL) {
		return apperr.Invalid(fieldTTL, "sessionTtlMinutes must be between %d and %d, or null for the server's default", MinSessionTTL, MaxSessionTTL)
	}
	return nil
}

// LogoURL checks a logo URL: https, a host, no credentials, no control
// characters, whitespace or backslashes, at most MaxLogoURL bytes. It
// answers the URL as net/url writes it back.
func LogoURL(raw string) (string, error) {
	bad := func(why string) error { return apperr.Invalid(fieldLogoURL, "logoUrl %s", why) }
	if len(raw) > MaxLogoURL {
		return "", bad("is longer than 2048 bytes")
	}
	for _, r := range raw {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\\' || r == unicode.ReplacementChar ||
			unicode.Is(unicode.Cf, r) {
			return "", bad("contains a control, format or space character or a backslash")
		}
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", bad("is not a URL")
	case u.Scheme != "https":
		return "", bad("must be an https URL")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return "", bad("must name a host (https://host/path)")
	case u.User != nil:
		return "", bad("must not carry credentials")
	}
	out := u.String()
	if len(out) > MaxLogoURL {
		return "", bad("is longer than 2048 bytes")
	}
	return out, nil
}

// Color checks a #RRGGBB colour and answers it upper-case.
func Color(raw string) (string, error) {
	if len(raw) != 7 || raw[0] != '#' {
		return "", apperr.Invalid(fieldColor, "primaryColor must be #RRGGBB (six hexadecimal digits)")
	}
	for _, c := range raw[1:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return "", apperr.Invalid(fieldColor, "primaryColor must be #RRGGBB (six hexadecimal digits)")
		}
	}
	return strings.ToUpper(raw), nil
}

// DisplayName cleans a display name like every name (internal/names).
func DisplayName(raw string) (string, error) {
	return names.Display(fieldDisplayName, raw, MaxDisplayName)
}
