// Package config reads and validates the service's environment variables.
// Nothing else: no I/O beyond the environment, no defaults hidden elsewhere.
// A bad value is reported as one error naming the variable.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/neosc/neosc/internal/db"
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
	LogFormat      string // "text" or "json"
	Introspection  string // "authenticated", "public" or "off"
	DNSResolver    string // "host:port" of the resolver for domain verification; "" = the system's
}

// Defaults of the contract's variables.
const (
	DefaultAddr           = ":8080"
	DefaultDatabaseURL    = "sqlite:data/neosc.db"
	DefaultPublicURL      = "http://localhost:8080"
	DefaultSigningKeyFile = "data/signing-key.jwk"
	DefaultTokenTTL       = time.Hour
	DefaultOrgName        = "Default Organization"
	DefaultOrgClaims      = "org,urn:zitadel:iam:org:id,urn:zitadel:iam:user:resourceowner:id"
	DefaultOIDCAdminRole  = "admin"
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
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, &Error{"NEOSC_OIDC_ISSUER", "want an absolute http(s) URL"}
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
	return c, nil
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
