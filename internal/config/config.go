// Package config reads and validates the service's environment variables.
// Nothing else: no I/O beyond the environment, no defaults hidden elsewhere.
// A bad value is reported as one error naming the variable.
package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/migrations"
)

// Config is the validated configuration of one process.
type Config struct {
	Addr           string
	DatabaseURL    string
	PublicURL      string
	SigningKeyFile string
	TokenTTL       time.Duration
	DefaultOrgName string
	OIDCIssuer     string
	OIDCAudience   string
	OIDCOrgClaims  []string
	OIDCAdminRole  string
	// OIDCAllowInsecure (NEOSC_OIDC_ALLOW_INSECURE) lets the provider's
	// issuer, jwks_uri and redirects be plain http on a host that is not
	// loopback.
	OIDCAllowInsecure bool
	LogFormat         string // "text" or "json"
	Introspection     string // "authenticated", "public" or "off"
	SMTP              *SMTP  // nil: NEOSC_SMTP_URL unset, mail is logged instead of sent
	MailFrom          string // the From of every mail, a valid RFC 5322 address
	DNSResolver       string // "host:port" of the resolver for domain verification; "" = the system's
	// MaxPendingInvitations bounds each organization's unexpired pending
	// invitations.
	MaxPendingInvitations int
	// KeyEncryptionKey (NEOSC_KEY_ENCRYPTION_KEY), when set, keeps the
	// signing keys in the database, sealed with it; nil: the key file
	// SigningKeyFile.
	KeyEncryptionKey *Secret
	// RequestTimeout is the server-side deadline of every request, database
	// work included; past it the answer is UNAVAILABLE (HTTP 503).
	RequestTimeout time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// MemoryLimit is the Go runtime's soft memory limit in bytes
	// (debug.SetMemoryLimit); 0 leaves the runtime's own (GOMEMLIMIT, or
	// none), math.MaxInt64 is none.
	MemoryLimit int64
	// HashConcurrency bounds concurrent password hashes; 0 is
	// auth.DefaultHashConcurrency of the memory limit.
	HashConcurrency int
	// RateLimits are the budgets of anonymous callers (per address), of
	// each token, and of each tenant organization, and the sign-in throttle.
	RateLimitAnonymous    ratelimit.Rate
	RateLimitToken        ratelimit.Rate
	RateLimitOrganization ratelimit.Rate
	LoginMaxFailures      int
	// CORSOrigins (NEOSC_CORS_ORIGINS) are the exact origins
	// ("https://console.example.com") whose pages may call the API from a
	// browser; none: same-origin only.
	CORSOrigins []string
	// OIDCClientID (NEOSC_OIDC_CLIENT_ID) is the public client the console's
	// "Sign in with SSO" uses (authorization code + PKCE) with
	// NEOSC_OIDC_ISSUER; empty: no SSO button.
	OIDCClientID string
	// DefaultQuota (NEOSC_DEFAULT_QUOTA, e.g. "workspaces=10,cpuCores=32";
	// keys users, workspaces, cpuCores, memoryMb, storageGb) is the quota
	// of every organization created while it is set; unset: unlimited.
	DefaultQuota store.Quota
}

// Secret is a 32-byte key. String, GoString, LogValue and MarshalJSON show
// it redacted, so printing, logging or encoding a Config never leaks it.
type Secret [32]byte

// Bytes is the key itself.
func (s *Secret) Bytes() []byte { return s[:] }

// String is "REDACTED".
func (s *Secret) String() string { return "REDACTED" }

// GoString is String, so %#v redacts too.
func (s *Secret) GoString() string { return s.String() }

// LogValue is String, so slog redacts too.
func (s *Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON is String as a JSON string, so encoding/json redacts too.
func (s *Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// SMTP is the mail server of NEOSC_SMTP_URL. It holds a password: String,
// GoString, LogValue and MarshalJSON show it redacted, so printing, logging
// or encoding a Config never leaks it.
type SMTP struct {
	Host string
	Port int
	// ImplicitTLS is smtps://: TLS from the first byte. Otherwise STARTTLS
	// is required, except on a loopback host (see Loopback).
	ImplicitTLS bool
	Username    string // "": no SMTP AUTH
	Password    string
}

// Loopback reports whether the server is on this host (localhost or a
// loopback address): mail to it never crosses a network, so a plain server
// without STARTTLS or AUTH (a local relay, a test server) is used as it is.
func (s *SMTP) Loopback() bool { return loopbackHost(s.Host) }

// loopbackHost reports whether host is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String is the URL with the password redacted.
func (s *SMTP) String() string {
	if s == nil {
		return ""
	}
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if s.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.Username != "" {
		u.User = url.UserPassword(s.Username, "REDACTED")
	}
	return u.String()
}

// GoString is String, so %#v redacts too.
func (s *SMTP) GoString() string { return s.String() }

// LogValue is String, so slog redacts too.
func (s *SMTP) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON is String as a JSON string, so encoding/json redacts too.
func (s *SMTP) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Defaults of the contract's variables.
const (
	DefaultAddr           = ":8080"
	DefaultDatabaseURL    = "sqlite:data/neosc.db"
	DefaultPublicURL      = "http://localhost:8080"
	DefaultSigningKeyFile = "data/signing-key.jwk"
	DefaultTokenTTL       = time.Hour
	DefaultOrgName        = migrations.DefaultOrganizationName
	DefaultOrgClaims      = "org,urn:zitadel:iam:org:id,urn:zitadel:iam:user:resourceowner:id"
	DefaultOIDCAdminRole  = "admin"
	// DefaultMaxPendingInvitations is NEOSC_MAX_PENDING_INVITATIONS's default.
	DefaultMaxPendingInvitations = 1000
	// NEOSC_REQUEST_TIMEOUT's default and bounds. The upper bound leaves the
	// HTTP server's 60 s write timeout room to send the answer, and stays
	// under the MySQL read timeout (db.MySQLReadTimeout).
	DefaultRequestTimeout = 15 * time.Second
	MinRequestTimeout     = time.Second
	MaxRequestTimeout     = 50 * time.Second
	// DefaultMemoryLimit is NEOSC_MEMORY_LIMIT's default: three quarters of
	// a 512 MiB container, leaving the rest to memory the Go runtime does
	// not count (the embedded SQLite's page cache, the binary).
	DefaultMemoryLimit = 384 << 20
	// DefaultGCPercent is the garbage collector's target (GOGC) when the
	// GOGC variable is unset: the heap may grow to two and a half times
	// what is live before a collection, a third less collector work than
	// the runtime's 100, while peak RSS under load stays well under 100 MiB
	// (at 200 a 90/10 read/write mix peaked at 99.5 MiB on SQLite once its
	// writers no longer waited in SQLite's busy handler); the memory limit
	// still bounds the heap (the collector runs earlier when it nears it).
	// docs/performance.md.
	DefaultGCPercent = 150
	// DefaultMailFromName is the display name of the default NEOSC_MAIL_FROM,
	// "NeoSC <no-reply@HOST>" with HOST the host name of NEOSC_PUBLIC_URL
	// (localhost when that is an IP address).
	DefaultMailFromName = "NeoSC"
	// Ports of an NEOSC_SMTP_URL without one: submission (STARTTLS) and
	// submissions (implicit TLS), RFC 8314.
	DefaultSMTPPort  = 587
	DefaultSMTPSPort = 465
)

// Error is a configuration error; its message names the variable.
type Error struct {
	Var    string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s: %s", e.Var, e.Reason) }

// Load reads the configuration from getenv (os.Getenv when nil). isTerminal
// tells whether standard error is a terminal, for the log format default.
func Load(getenv func(string) string, isTerminal bool) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &Config{
		Addr:           get("NEOSC_ADDR", DefaultAddr),
		DatabaseURL:    get("NEOSC_DATABASE_URL", DefaultDatabaseURL),
		PublicURL:      strings.TrimRight(get("NEOSC_PUBLIC_URL", DefaultPublicURL), "/"),
		SigningKeyFile: get("NEOSC_SIGNING_KEY_FILE", DefaultSigningKeyFile),
		DefaultOrgName: get("NEOSC_DEFAULT_ORG_NAME", DefaultOrgName),
		OIDCIssuer:     get("NEOSC_OIDC_ISSUER", ""),
		OIDCAudience:   get("NEOSC_OIDC_AUDIENCE", ""),
		OIDCAdminRole:  get("NEOSC_OIDC_ADMIN_ROLE", DefaultOIDCAdminRole),
	}

	// net.Listen would take "::" or "host:http" too, or fail later with a
	// message that does not name the variable: want a numeric port.
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, &Error{"NEOSC_ADDR", "want HOST:PORT or :PORT"}
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return nil, &Error{"NEOSC_ADDR", "want HOST:PORT or :PORT with a numeric port (0-65535)"}
	}
	switch {
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		if strings.TrimPrefix(c.DatabaseURL, "sqlite:") == "" {
			return nil, &Error{"NEOSC_DATABASE_URL", "sqlite: needs a file path"}
		}
	case strings.HasPrefix(c.DatabaseURL, "mysql://"):
		// The same parser db.Open uses; its messages never quote the URL,
		// so the password stays out of the error.
		if _, err := db.ParseMySQLURL(c.DatabaseURL); err != nil {
			return nil, &Error{"NEOSC_DATABASE_URL", err.Error() + " (want mysql://USER:PASS@HOST:PORT/DB)"}
		}
	default:
		return nil, &Error{"NEOSC_DATABASE_URL", "want sqlite:PATH or mysql://USER:PASS@HOST:PORT/DB"}
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{"NEOSC_PUBLIC_URL", "want an absolute http(s) URL"}
	}
	ttl, err := time.ParseDuration(get("NEOSC_TOKEN_TTL", DefaultTokenTTL.String()))
	if err != nil || ttl < time.Minute || ttl > 30*24*time.Hour {
		return nil, &Error{"NEOSC_TOKEN_TTL", "want a Go duration between 1m and 720h (e.g. 1h)"}
	}
	c.TokenTTL = ttl
	if !utf8.ValidString(c.DefaultOrgName) || utf8.RuneCountInString(c.DefaultOrgName) > 100 {
		return nil, &Error{"NEOSC_DEFAULT_ORG_NAME", "at most 100 characters of valid UTF-8"}
	}
	if strings.IndexFunc(c.DefaultOrgName, unicode.IsControl) >= 0 {
		return nil, &Error{"NEOSC_DEFAULT_ORG_NAME", "must not contain control characters"}
	}
	switch get("NEOSC_OIDC_ALLOW_INSECURE", "false") {
	case "true":
		c.OIDCAllowInsecure = true
	case "false":
	default:
		return nil, &Error{"NEOSC_OIDC_ALLOW_INSECURE", "want true or false"}
	}
	if c.OIDCIssuer != "" {
		u, err := url.Parse(c.OIDCIssuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, &Error{"NEOSC_OIDC_ISSUER", "want an absolute http(s) URL"}
		}
		if u.Scheme == "http" && !loopbackHost(u.Hostname()) && !c.OIDCAllowInsecure {
			return nil, &Error{"NEOSC_OIDC_ISSUER", "plain http to a host that is not loopback lets anyone on the path serve their own keys: use https, or set NEOSC_OIDC_ALLOW_INSECURE=true to accept it"}
		}
		if strings.TrimRight(c.OIDCIssuer, "/") == c.PublicURL {
			return nil, &Error{"NEOSC_OIDC_ISSUER", "must not be the service's own NEOSC_PUBLIC_URL"}
		}
		if c.OIDCAudience == "" {
			return nil, &Error{"NEOSC_OIDC_AUDIENCE", "required with NEOSC_OIDC_ISSUER: the client or project ID external tokens must be issued for"}
		}
	}
	for _, claim := range strings.Split(get("NEOSC_OIDC_ORG_CLAIMS", DefaultOrgClaims), ",") {
		if claim = strings.TrimSpace(claim); claim != "" {
			c.OIDCOrgClaims = append(c.OIDCOrgClaims, claim)
		}
	}
	if len(c.OIDCOrgClaims) == 0 {
		return nil, &Error{"NEOSC_OIDC_ORG_CLAIMS", "want a comma-separated list of claim names"}
	}
	c.DNSResolver = get("NEOSC_DNS_RESOLVER", "")
	if c.DNSResolver != "" {
		if err := checkHostPort(c.DNSResolver); err != nil {
			return nil, &Error{"NEOSC_DNS_RESOLVER", err.Error() + " (e.g. 127.0.0.53:53 or [2001:db8::53]:53; unset uses /etc/resolv.conf)"}
		}
	}
	n, err := strconv.Atoi(get("NEOSC_MAX_PENDING_INVITATIONS", strconv.Itoa(DefaultMaxPendingInvitations)))
	if err != nil || n < 1 || n > 1_000_000 {
		return nil, &Error{"NEOSC_MAX_PENDING_INVITATIONS", "want a whole number from 1 to 1000000"}
	}
	c.MaxPendingInvitations = n
	rt, err := time.ParseDuration(get("NEOSC_REQUEST_TIMEOUT", DefaultRequestTimeout.String()))
	if err != nil || rt < MinRequestTimeout || rt > MaxRequestTimeout {
		return nil, &Error{"NEOSC_REQUEST_TIMEOUT", fmt.Sprintf("want a Go duration from %s to %s (e.g. 15s)", MinRequestTimeout, MaxRequestTimeout)}
	}
	c.RequestTimeout = rt
	if err := loadLimits(c, get); err != nil {
		return nil, err
	}
	c.Introspection = get("NEOSC_INTROSPECTION", "authenticated")
	if c.Introspection != "authenticated" && c.Introspection != "public" && c.Introspection != "off" {
		return nil, &Error{"NEOSC_INTROSPECTION", "want authenticated, public or off"}
	}
	def := "json"
	if isTerminal {
		def = "text"
	}
	c.LogFormat = get("NEOSC_LOG_FORMAT", def)
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, &Error{"NEOSC_LOG_FORMAT", "want text or json"}
	}
	if v := get("NEOSC_SMTP_URL", ""); v != "" {
		if c.SMTP, err = parseSMTPURL(v); err != nil {
			return nil, err
		}
	}
	if c.MailFrom, err = mailFrom(get("NEOSC_MAIL_FROM", ""), c.PublicURL); err != nil {
		return nil, err
	}
	if v := get("NEOSC_KEY_ENCRYPTION_KEY", ""); v != "" {
		if c.KeyEncryptionKey, err = parseSecret(v); err != nil {
			return nil, &Error{"NEOSC_KEY_ENCRYPTION_KEY", err.Error()}
		}
	}
	if c.CORSOrigins, err = parseOrigins(get("NEOSC_CORS_ORIGINS", "")); err != nil {
		return nil, &Error{"NEOSC_CORS_ORIGINS", err.Error()}
	}
	c.OIDCClientID = get("NEOSC_OIDC_CLIENT_ID", "")
	if c.OIDCClientID != "" && c.OIDCIssuer == "" {
		return nil, &Error{"NEOSC_OIDC_CLIENT_ID", "needs NEOSC_OIDC_ISSUER: the console signs in with that provider"}
	}
	if c.DefaultQuota, err = quota.Parse(get("NEOSC_DEFAULT_QUOTA", "")); err != nil {
		return nil, &Error{"NEOSC_DEFAULT_QUOTA", err.Error() + " (e.g. workspaces=10,cpuCores=32)"}
	}
	return c, nil
}

// parseOrigins reads a comma-separated list of exact web origins
// (scheme://host[:port], no path, no wildcard).
func parseOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(o, "*") {
			return nil, fmt.Errorf("want exact origins such as https://console.example.com, comma-separated (no path, no wildcard); %q is not one", o)
		}
		host := strings.ToLower(u.Host)
		// A browser never sends the scheme's default port: drop it, or the
		// origin would never match.
		if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
			host = strings.ToLower(u.Hostname())
			if strings.Contains(host, ":") {
				host = "[" + host + "]"
			}
		}
		out = append(out, u.Scheme+"://"+host)
	}
	return out, nil
}

// parseSecret decodes 32 bytes of base64 (standard or URL alphabet,
// padded or not). Its errors never quote the value.
func parseSecret(v string) (*Secret, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) != len(Secret{}) {
				return nil, fmt.Errorf("want 32 bytes, base64-encoded, got %d bytes (make one with: openssl rand -base64 32)", len(b))
			}
			s := Secret(b)
			return &s, nil
		}
	}
	return nil, errors.New("not base64: want 32 random bytes, base64-encoded (make one with: openssl rand -base64 32)")
}

// loadLimits reads the variables of the rate limits, the trusted proxies
// and the memory limit.
func loadLimits(c *Config, get func(name, def string) string) error {
	var err error
	if c.TrustedProxies, err = parseProxies(get("NEOSC_TRUSTED_PROXIES", "")); err != nil {
		return &Error{"NEOSC_TRUSTED_PROXIES", err.Error()}
	}
	switch v := get("NEOSC_MEMORY_LIMIT", ""); {
	case v == "" && get("GOMEMLIMIT", "") != "":
		c.MemoryLimit = 0 // the runtime read GOMEMLIMIT itself
	case v == "":
		c.MemoryLimit = DefaultMemoryLimit
	case v == "off":
		c.MemoryLimit = math.MaxInt64
	default:
		if c.MemoryLimit, err = ParseSize(v); err != nil || c.MemoryLimit < 64<<20 {
			return &Error{"NEOSC_MEMORY_LIMIT", "want a size of at least 64MiB such as 384MiB or 1GiB (B, KiB, MiB, GiB, TiB), or off"}
		}
	}
	if v := get("NEOSC_PASSWORD_HASH_CONCURRENCY", ""); v != "" {
		if c.HashConcurrency, err = strconv.Atoi(v); err != nil || c.HashConcurrency < 1 || c.HashConcurrency > 1024 {
			return &Error{"NEOSC_PASSWORD_HASH_CONCURRENCY", "want a whole number from 1 to 1024 (each hash holds 19 MiB while it runs)"}
		}
	}
	for _, r := range []struct {
		name string
		def  ratelimit.Rate
		dst  *ratelimit.Rate
	}{
		{"NEOSC_RATE_LIMIT_ANONYMOUS", ratelimit.DefaultAnonymous, &c.RateLimitAnonymous},
		{"NEOSC_RATE_LIMIT_TOKEN", ratelimit.DefaultCaller, &c.RateLimitToken},
		{"NEOSC_RATE_LIMIT_ORGANIZATION", ratelimit.DefaultOrganization, &c.RateLimitOrganization},
	} {
		if *r.dst, err = ratelimit.ParseRate(get(r.name, r.def.String())); err != nil {
			return &Error{r.name, err.Error()}
		}
	}
	n, err := strconv.Atoi(get("NEOSC_LOGIN_MAX_FAILURES", strconv.Itoa(ratelimit.DefaultLoginMaxFailures)))
	if err != nil || n < 1 || n > 1000 {
		return &Error{"NEOSC_LOGIN_MAX_FAILURES", "want a whole number from 1 to 1000"}
	}
	c.LoginMaxFailures = n
	return nil
}

// parseProxies reads a comma-separated list of CIDRs or single addresses.
func parseProxies(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an address (want e.g. 10.0.0.0/8, 192.0.2.7, fd00::/8)", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Zone() != "" {
			return nil, fmt.Errorf("%q: no zones", f)
		}
		if p.Masked() != p {
			return nil, fmt.Errorf("%q has bits set past its prefix length (did you mean %s?)", f, p.Masked())
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%q trusts every address: any client could then choose the address it is limited and audited by", f)
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseSize reads a byte count with an optional unit (B, KiB, MiB, GiB,
// TiB), as GOMEMLIMIT does.
func ParseSize(v string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	shift := uint(0)
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, errors.New("bad size")
	}
	return n << shift, nil
}

// parseSMTPURL parses smtp://[USER:PASS@]HOST[:PORT] or smtps://…. Its
// errors never quote the URL: it may hold a password.
func parseSMTPURL(v string) (*SMTP, error) {
	const want = "want smtp://[USER:PASS@]HOST:PORT (STARTTLS) or smtps://[USER:PASS@]HOST:PORT (implicit TLS)"
	fail := func(reason string) (*SMTP, error) {
		return nil, &Error{"NEOSC_SMTP_URL", reason + " (" + want + ")"}
	}
	u, err := url.Parse(v)
	if err != nil {
		return fail("cannot be parsed")
	}
	s := &SMTP{Host: u.Hostname(), Port: DefaultSMTPPort}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		s.ImplicitTLS, s.Port = true, DefaultSMTPSPort
	default:
		return fail("unknown scheme")
	}
	if s.Host == "" || u.Opaque != "" {
		return fail("missing host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fail("unexpected path, query or fragment")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fail("port must be a number from 1 to 65535")
		}
		s.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return fail("empty port")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" || s.Password == "" {
			return fail("want both a user and a password, or neither")
		}
	}
	return s, nil
}

// mailFrom validates NEOSC_MAIL_FROM, or derives the default from the
// public URL's host.
func mailFrom(v, publicURL string) (string, error) {
	if v == "" {
		host := "localhost"
		if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
			host = u.Hostname()
		}
		return DefaultMailFromName + " <no-reply@" + host + ">", nil
	}
	if strings.ContainsAny(v, "\r\n") {
		return "", &Error{"NEOSC_MAIL_FROM", "must be one line"}
	}
	if a, err := mail.ParseAddress(v); err != nil || !strings.Contains(a.Address, "@") {
		return "", &Error{"NEOSC_MAIL_FROM", "want an address such as no-reply@example.com or \"NeoSC <no-reply@example.com>\""}
	}
	return v, nil
}

// checkHostPort accepts "host:port" with a non-empty host and a numeric
// port from 1 to 65535.
func checkHostPort(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil || host == "" {
		return fmt.Errorf("want HOST:PORT")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("want HOST:PORT with a numeric port (1-65535)")
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("want HOST:PORT with a host name or IP address")
	}
	return nil
}
