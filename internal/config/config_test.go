package config_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/neosc/neosc/internal/config"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/store"
)

// env is a getenv built from a map; names not in it are unset.
func env(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

// The contract's defaults, written out here rather than taken from the
// package's constants, so a changed constant fails the test.
var contractOrgClaims = []string{"org", "urn:zitadel:iam:org:id", "urn:zitadel:iam:user:resourceowner:id"}

func TestLoadDefaults(t *testing.T) {
	for _, terminal := range []bool{true, false} {
		cfg, err := config.Load(env(nil), terminal)
		if err != nil {
			t.Fatalf("terminal=%v: Load with an empty environment: %v", terminal, err)
		}
		wantLog := "json"
		if terminal {
			wantLog = "text"
		}
		want := &config.Config{
			Addr:                  ":8080",
			DatabaseURL:           "sqlite:data/neosc.db",
			PublicURL:             "http://localhost:8080",
			SigningKeyFile:        "data/signing-key.jwk",
			TokenTTL:              time.Hour,
			DefaultOrgName:        "Default Organization",
			OIDCIssuer:            "",
			OIDCAudience:          "",
			OIDCOrgClaims:         contractOrgClaims,
			OIDCAdminRole:         "admin",
			Introspection:         "authenticated",
			LogFormat:             wantLog,
			SMTP:                  nil, // unset: mail is logged, not sent
			MailFrom:              "NeoSC <no-reply@localhost>",
			MaxPendingInvitations: 1000,
			RequestTimeout:        15 * time.Second,
			MemoryLimit:           384 << 20, // three quarters of a 512 MiB container
			HashConcurrency:       0,         // derived from GOMAXPROCS and the memory limit
			RateLimitAnonymous:    ratelimit.Rate{Limit: 120, Period: time.Minute},
			RateLimitToken:        ratelimit.Rate{Limit: 5000, Period: time.Hour},
			RateLimitOrganization: ratelimit.Rate{Limit: 50000, Period: time.Hour},
			LoginMaxFailures:      5,
		}
		if !reflect.DeepEqual(cfg, want) {
			t.Errorf("terminal=%v: defaults\n got %+v\nwant %+v", terminal, cfg, want)
		}
	}
}

// Blank values count as unset: the default applies.
func TestLoadBlankMeansDefault(t *testing.T) {
	blank := map[string]string{}
	for _, name := range []string{
		"NEOSC_ADDR", "NEOSC_DATABASE_URL", "NEOSC_PUBLIC_URL", "NEOSC_SIGNING_KEY_FILE", "NEOSC_TOKEN_TTL",
		"NEOSC_DEFAULT_ORG_NAME", "NEOSC_OIDC_ISSUER", "NEOSC_OIDC_AUDIENCE", "NEOSC_OIDC_ORG_CLAIMS", "NEOSC_LOG_FORMAT",
		"NEOSC_OIDC_ALLOW_INSECURE", "NEOSC_SMTP_URL", "NEOSC_MAIL_FROM",
		"NEOSC_DNS_RESOLVER", "NEOSC_MAX_PENDING_INVITATIONS", "NEOSC_REQUEST_TIMEOUT",
		"NEOSC_TRUSTED_PROXIES", "NEOSC_MEMORY_LIMIT", "NEOSC_PASSWORD_HASH_CONCURRENCY", "NEOSC_RATE_LIMIT_ANONYMOUS",
		"NEOSC_RATE_LIMIT_TOKEN", "NEOSC_RATE_LIMIT_ORGANIZATION", "NEOSC_LOGIN_MAX_FAILURES",
		"NEOSC_CORS_ORIGINS", "NEOSC_OIDC_CLIENT_ID",
		"NEOSC_DEFAULT_QUOTA",
	} {
		blank[name] = " \t "
	}
	cfg, err := config.Load(env(blank), false)
	if err != nil {
		t.Fatal(err)
	}
	def, err := config.Load(env(nil), false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, def) {
		t.Errorf("blank values:\n got %+v\nwant the defaults %+v", cfg, def)
	}
}

// Load(nil, ...) reads the process environment.
func TestLoadNilGetenvUsesEnvironment(t *testing.T) {
	t.Setenv("NEOSC_ADDR", "127.0.0.1:9191")
	t.Setenv("NEOSC_TOKEN_TTL", "15m")
	cfg, err := config.Load(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9191" || cfg.TokenTTL != 15*time.Minute {
		t.Errorf("Load(nil) = Addr %q TTL %v, want the process environment's 127.0.0.1:9191 and 15m", cfg.Addr, cfg.TokenTTL)
	}
}

func TestLoadGoodValues(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{
		"NEOSC_ADDR":                      "[::1]:9000",
		"NEOSC_DATABASE_URL":              " mysql://neosc:s3cret@db.internal:3307/neosc?tls=skip-verify ",
		"NEOSC_PUBLIC_URL":                "https://api.example.com/",
		"NEOSC_SIGNING_KEY_FILE":          "/run/secrets/key.jwk",
		"NEOSC_TOKEN_TTL":                 "90m",
		"NEOSC_DEFAULT_ORG_NAME":          "Acme Users",
		"NEOSC_OIDC_ISSUER":               "https://zitadel.example.com/",
		"NEOSC_OIDC_AUDIENCE":             "123456@neosc",
		"NEOSC_OIDC_ORG_CLAIMS":           "tenant",
		"NEOSC_LOG_FORMAT":                "text",
		"NEOSC_SMTP_URL":                  "smtp://mailer:p%40ss@smtp.example.com:2587",
		"NEOSC_DNS_RESOLVER":              " 127.0.0.53:53 ",
		"NEOSC_MAX_PENDING_INVITATIONS":   "25",
		"NEOSC_TRUSTED_PROXIES":           "10.0.0.0/8, 192.0.2.7 ,fd00::/8",
		"NEOSC_MEMORY_LIMIT":              "1GiB",
		"NEOSC_PASSWORD_HASH_CONCURRENCY": "6",
		"NEOSC_RATE_LIMIT_ANONYMOUS":      "30/10s",
		"NEOSC_RATE_LIMIT_TOKEN":          "100/1m",
		"NEOSC_RATE_LIMIT_ORGANIZATION":   "1000/24h",
		"NEOSC_LOGIN_MAX_FAILURES":        "10",
		"NEOSC_REQUEST_TIMEOUT":           "2500ms",
		"NEOSC_CORS_ORIGINS":              "https://Console.Example.com, http://localhost:5173/,https://app.example.com:443,http://[::1]:80",
		"NEOSC_OIDC_CLIENT_ID":            "console@neosc",
		"NEOSC_DEFAULT_QUOTA":             " workspaces=10, cpuCores = 32,users=0 ",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Config{
		Addr:                  "[::1]:9000",
		DatabaseURL:           "mysql://neosc:s3cret@db.internal:3307/neosc?tls=skip-verify",
		PublicURL:             "https://api.example.com", // trailing slash dropped: it is the token issuer
		SigningKeyFile:        "/run/secrets/key.jwk",
		TokenTTL:              90 * time.Minute,
		DefaultOrgName:        "Acme Users",
		OIDCIssuer:            "https://zitadel.example.com/", // kept as given: some providers' iss ends in "/"
		OIDCAudience:          "123456@neosc",
		OIDCOrgClaims:         []string{"tenant"},
		OIDCAdminRole:         "admin",
		Introspection:         "authenticated",
		LogFormat:             "text",
		SMTP:                  &config.SMTP{Host: "smtp.example.com", Port: 2587, Username: "mailer", Password: "p@ss"},
		MailFrom:              "NeoSC <no-reply@api.example.com>", // derived from NEOSC_PUBLIC_URL
		DNSResolver:           "127.0.0.53:53",
		MaxPendingInvitations: 25,
		RequestTimeout:        2500 * time.Millisecond,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
			netip.MustParsePrefix("fd00::/8")},
		MemoryLimit:           1 << 30,
		HashConcurrency:       6,
		RateLimitAnonymous:    ratelimit.Rate{Limit: 30, Period: 10 * time.Second},
		RateLimitToken:        ratelimit.Rate{Limit: 100, Period: time.Minute},
		RateLimitOrganization: ratelimit.Rate{Limit: 1000, Period: 24 * time.Hour},
		LoginMaxFailures:      10,
		CORSOrigins:           []string{"https://console.example.com", "http://localhost:5173", "https://app.example.com", "http://[::1]"},
		OIDCClientID:          "console@neosc",
		DefaultQuota:          store.Quota{MaxWorkspaces: ptr(10), MaxCPUCores: ptr(32), MaxUsers: ptr(0)},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("\n got %+v\nwant %+v", cfg, want)
	}
}

// Values at the edge of what is accepted.
func TestLoadAcceptsBoundaries(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"NEOSC_ADDR", ":0"},
		{"NEOSC_ADDR", "0.0.0.0:65535"},
		{"NEOSC_ADDR", "localhost:8080"},
		{"NEOSC_DATABASE_URL", "sqlite:/var/lib/neosc/neosc.db"},
		{"NEOSC_DATABASE_URL", "mysql://root@127.0.0.1/neosc"},
		{"NEOSC_PUBLIC_URL", "http://127.0.0.1:8080/neosc"},
		{"NEOSC_TOKEN_TTL", "1m"},
		{"NEOSC_TOKEN_TTL", "720h"},
		{"NEOSC_DEFAULT_ORG_NAME", strings.Repeat("é", 100)},
		{"NEOSC_OIDC_ISSUER", "http://localhost:8081"},
		{"NEOSC_LOG_FORMAT", "json"},
		{"NEOSC_SMTP_URL", "smtp://127.0.0.1:1"},
		{"NEOSC_SMTP_URL", "smtps://relay.example.com:65535/"},
		{"NEOSC_MAIL_FROM", "a@b"},
		{"NEOSC_DNS_RESOLVER", "[::1]:53"},
		{"NEOSC_DNS_RESOLVER", "resolver.internal:5353"},
		{"NEOSC_DNS_RESOLVER", "127.0.0.1:65535"},
		{"NEOSC_REQUEST_TIMEOUT", "1s"},
		{"NEOSC_REQUEST_TIMEOUT", "50s"},
		{"NEOSC_TRUSTED_PROXIES", "::1"},
		{"NEOSC_TRUSTED_PROXIES", "0.0.0.0/1,128.0.0.0/1"},
		{"NEOSC_MEMORY_LIMIT", "64MiB"},
		{"NEOSC_MEMORY_LIMIT", "off"},
		{"NEOSC_MEMORY_LIMIT", "1099511627776"},
		{"NEOSC_PASSWORD_HASH_CONCURRENCY", "1"},
		{"NEOSC_RATE_LIMIT_ANONYMOUS", "1/24h"},
		{"NEOSC_RATE_LIMIT_TOKEN", "100000000/1h"},
		{"NEOSC_LOGIN_MAX_FAILURES", "1"},
	} {
		vars := map[string]string{tc.name: tc.value}
		if tc.name == "NEOSC_OIDC_ISSUER" {
			vars["NEOSC_OIDC_AUDIENCE"] = "client-id"
		}
		if _, err := config.Load(env(vars), false); err != nil {
			t.Errorf("%s=%q refused: %v", tc.name, tc.value, err)
		}
	}
}

// TestOIDCNeedsAudience: accepting any audience of a shared identity
// provider would accept tokens minted for other applications.
func TestOIDCNeedsAudience(t *testing.T) {
	_, err := config.Load(env(map[string]string{"NEOSC_OIDC_ISSUER": "https://idp.example.com"}), false)
	var ce *config.Error
	if !errors.As(err, &ce) || ce.Var != "NEOSC_OIDC_AUDIENCE" {
		t.Fatalf("want a NEOSC_OIDC_AUDIENCE error, got %v", err)
	}
	_, err = config.Load(env(map[string]string{"NEOSC_OIDC_ISSUER": "http://localhost:8080/", "NEOSC_OIDC_AUDIENCE": "x"}), false)
	if !errors.As(err, &ce) || ce.Var != "NEOSC_OIDC_ISSUER" {
		t.Fatalf("the service's own URL as external issuer: want a NEOSC_OIDC_ISSUER error, got %v", err)
	}
}

func TestLoadRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		secret      string // must not appear in the error
	}{
		{name: "NEOSC_ADDR", value: "8080"},
		{name: "NEOSC_ADDR", value: "localhost"},
		{name: "NEOSC_ADDR", value: "localhost:"},
		{name: "NEOSC_ADDR", value: ":http"},
		{name: "NEOSC_ADDR", value: ":70000"},
		{name: "NEOSC_ADDR", value: ":-1"},
		{name: "NEOSC_ADDR", value: "::"},
		{name: "NEOSC_ADDR", value: "a:b:8080"},

		{name: "NEOSC_DATABASE_URL", value: "postgres://neosc@localhost/neosc"},
		{name: "NEOSC_DATABASE_URL", value: "data/neosc.db"},
		{name: "NEOSC_DATABASE_URL", value: "sqlite:"},
		{name: "NEOSC_DATABASE_URL", value: "mysql://"},
		{name: "NEOSC_DATABASE_URL", value: "mysql://neosc:hunter2pw@db:3306", secret: "hunter2pw"},

		{name: "NEOSC_KEY_ENCRYPTION_KEY", value: "hunter2-is-no-key", secret: "hunter2"},
		{name: "NEOSC_KEY_ENCRYPTION_KEY", value: "aHVudGVyMnB3", secret: "aHVudGVyMnB3"},                                     // 9 bytes
		{name: "NEOSC_KEY_ENCRYPTION_KEY", value: "aHVudGVyMnB3aHVudGVyMnB3aHVudGVyMnB3aHVudGVyMnB3", secret: "aHVudGVyMnB3"}, // 36 bytes
		{name: "NEOSC_DATABASE_URL", value: "mysql://neosc:hunter2pw@db:3306/", secret: "hunter2pw"},
		{name: "NEOSC_DATABASE_URL", value: "mysql://neosc:hunter2pw@db:3306/a/b", secret: "hunter2pw"},
		{name: "NEOSC_DATABASE_URL", value: "mysql://neosc:hunter2pw@db:bad port/neosc", secret: "hunter2pw"},

		{name: "NEOSC_PUBLIC_URL", value: "localhost:8080"},
		{name: "NEOSC_PUBLIC_URL", value: "/graphql"},
		{name: "NEOSC_PUBLIC_URL", value: "ftp://example.com"},
		{name: "NEOSC_PUBLIC_URL", value: "https://"},
		{name: "NEOSC_PUBLIC_URL", value: "http://exa mple.com"},

		{name: "NEOSC_TOKEN_TTL", value: "forever"},
		{name: "NEOSC_TOKEN_TTL", value: "3600"},
		{name: "NEOSC_TOKEN_TTL", value: "0"},
		{name: "NEOSC_TOKEN_TTL", value: "-1h"},
		{name: "NEOSC_TOKEN_TTL", value: "59s"},
		{name: "NEOSC_TOKEN_TTL", value: "721h"},

		{name: "NEOSC_OIDC_ISSUER", value: "zitadel.example.com"},
		{name: "NEOSC_OIDC_ISSUER", value: "ftp://zitadel.example.com"},
		{name: "NEOSC_OIDC_ISSUER", value: "https://"},

		{name: "NEOSC_DNS_RESOLVER", value: "127.0.0.1"},
		{name: "NEOSC_DNS_RESOLVER", value: ":53"},
		{name: "NEOSC_DNS_RESOLVER", value: "127.0.0.1:0"},
		{name: "NEOSC_DNS_RESOLVER", value: "127.0.0.1:dns"},
		{name: "NEOSC_DNS_RESOLVER", value: "1.1.1.1:70000"},
		{name: "NEOSC_DNS_RESOLVER", value: "udp://1.1.1.1:53"},
		{name: "NEOSC_DNS_RESOLVER", value: "::1:53"},

		{name: "NEOSC_TRUSTED_PROXIES", value: "10.0.0.0/33"},
		{name: "NEOSC_TRUSTED_PROXIES", value: "10.0.0.1/8"},
		{name: "NEOSC_TRUSTED_PROXIES", value: "0.0.0.0/0"},
		{name: "NEOSC_TRUSTED_PROXIES", value: "::/0"},
		{name: "NEOSC_TRUSTED_PROXIES", value: "proxy.internal"},
		{name: "NEOSC_TRUSTED_PROXIES", value: "10.0.0.1;10.0.0.2"},
		{name: "NEOSC_MEMORY_LIMIT", value: "32MiB"},
		{name: "NEOSC_MEMORY_LIMIT", value: "lots"},
		{name: "NEOSC_MEMORY_LIMIT", value: "1GB"},
		{name: "NEOSC_MEMORY_LIMIT", value: "-1"},
		{name: "NEOSC_PASSWORD_HASH_CONCURRENCY", value: "0"},
		{name: "NEOSC_PASSWORD_HASH_CONCURRENCY", value: "many"},
		{name: "NEOSC_RATE_LIMIT_ANONYMOUS", value: "120"},
		{name: "NEOSC_RATE_LIMIT_ANONYMOUS", value: "0/1m"},
		{name: "NEOSC_RATE_LIMIT_ANONYMOUS", value: "10/0s"},
		{name: "NEOSC_RATE_LIMIT_TOKEN", value: "5000/hour"},
		{name: "NEOSC_RATE_LIMIT_TOKEN", value: "5000/48h"},
		{name: "NEOSC_RATE_LIMIT_ORGANIZATION", value: "-5/1h"},
		{name: "NEOSC_LOGIN_MAX_FAILURES", value: "0"},
		{name: "NEOSC_LOGIN_MAX_FAILURES", value: "five"},
		{name: "NEOSC_CORS_ORIGINS", value: "*"},
		{name: "NEOSC_CORS_ORIGINS", value: "https://*.example.com"},
		{name: "NEOSC_CORS_ORIGINS", value: "https://example.com/app"},
		{name: "NEOSC_CORS_ORIGINS", value: "example.com"},
		{name: "NEOSC_CORS_ORIGINS", value: "null"},
		{name: "NEOSC_OIDC_CLIENT_ID", value: "console"}, // without NEOSC_OIDC_ISSUER

		{name: "NEOSC_LOG_FORMAT", value: "xml"},
		{name: "NEOSC_LOG_FORMAT", value: "logfmt"},

		{name: "NEOSC_OIDC_ORG_CLAIMS", value: ","},
		{name: "NEOSC_OIDC_ORG_CLAIMS", value: " , ,, "},

		{name: "NEOSC_DEFAULT_ORG_NAME", value: strings.Repeat("a", 101)},
		{name: "NEOSC_DEFAULT_ORG_NAME", value: strings.Repeat("é", 101)},
		{name: "NEOSC_DEFAULT_ORG_NAME", value: "Acme\x00Corp"},
		{name: "NEOSC_DEFAULT_ORG_NAME", value: "Acme\nCorp"},
		{name: "NEOSC_DEFAULT_ORG_NAME", value: "Acme \xff Corp"},

		{name: "NEOSC_SMTP_URL", value: "mail.example.com:587"},
		{name: "NEOSC_SMTP_URL", value: "http://mail.example.com"},
		{name: "NEOSC_SMTP_URL", value: "smtp://"},
		{name: "NEOSC_SMTP_URL", value: "smtp:mail.example.com:587"},
		{name: "NEOSC_SMTP_URL", value: "smtp://mail.example.com:0"},
		{name: "NEOSC_SMTP_URL", value: "smtp://mail.example.com:65536"},
		{name: "NEOSC_SMTP_URL", value: "smtp://mail.example.com:"},
		{name: "NEOSC_SMTP_URL", value: "smtp://mail.example.com:smtp"},
		{name: "NEOSC_SMTP_URL", value: "smtp://u:hunter2pw@mail.example.com:587/inbox", secret: "hunter2pw"},
		{name: "NEOSC_SMTP_URL", value: "smtp://u:hunter2pw@mail.example.com:587?tls=off", secret: "hunter2pw"},
		{name: "NEOSC_SMTP_URL", value: "smtp://u:hunter2pw@mail example.com:587", secret: "hunter2pw"},
		{name: "NEOSC_SMTP_URL", value: "smtps://u:hunter2pw@:465", secret: "hunter2pw"},
		{name: "NEOSC_SMTP_URL", value: "smtp://:hunter2pw@mail.example.com:587", secret: "hunter2pw"},
		{name: "NEOSC_SMTP_URL", value: "smtp://user@mail.example.com:587"},

		{name: "NEOSC_MAIL_FROM", value: "no-reply"},
		{name: "NEOSC_MAIL_FROM", value: "NeoSC"},
		{name: "NEOSC_MAIL_FROM", value: "a@b, c@d"},
		{name: "NEOSC_MAIL_FROM", value: "a@b\r\nBcc: victim@example.com"},
		{name: "NEOSC_MAIL_FROM", value: "NeoSC <no-reply@example.com"},

		{name: "NEOSC_MAX_PENDING_INVITATIONS", value: "0"},
		{name: "NEOSC_MAX_PENDING_INVITATIONS", value: "-5"},
		{name: "NEOSC_MAX_PENDING_INVITATIONS", value: "1e3"},
		{name: "NEOSC_MAX_PENDING_INVITATIONS", value: "2000000"},

		{name: "NEOSC_REQUEST_TIMEOUT", value: "15"},
		{name: "NEOSC_REQUEST_TIMEOUT", value: "0"},
		{name: "NEOSC_REQUEST_TIMEOUT", value: "-15s"},
		{name: "NEOSC_REQUEST_TIMEOUT", value: "999ms"},
		{name: "NEOSC_REQUEST_TIMEOUT", value: "51s"},
		{name: "NEOSC_REQUEST_TIMEOUT", value: "never"},

		{name: "NEOSC_DEFAULT_QUOTA", value: "workspaces"},
		{name: "NEOSC_DEFAULT_QUOTA", value: "workspaces=-1"},
		{name: "NEOSC_DEFAULT_QUOTA", value: "workspaces=ten"},
		{name: "NEOSC_DEFAULT_QUOTA", value: "workspaces=10,workspaces=11"},
		{name: "NEOSC_DEFAULT_QUOTA", value: "maxWorkspaces=10"},
		{name: "NEOSC_DEFAULT_QUOTA", value: "cpu=4"},
		{name: "NEOSC_DEFAULT_QUOTA", value: "memoryMb=99999999999"},
		{name: "NEOSC_DEFAULT_QUOTA", value: "users=1,,"},
	} {
		t.Run(fmt.Sprintf("%s=%q", tc.name, tc.value), func(t *testing.T) {
			// Every other variable is unset, so the error can only come from this one.
			for _, terminal := range []bool{false, true} {
				cfg, err := config.Load(env(map[string]string{tc.name: tc.value}), terminal)
				if err == nil {
					t.Fatalf("accepted, got %+v", cfg)
				}
				if cfg != nil {
					t.Errorf("a Config came back with the error: %+v", cfg)
				}
				var ce *config.Error
				if !errors.As(err, &ce) {
					t.Fatalf("error %v (%T) is not a *config.Error", err, err)
				}
				if ce.Var != tc.name {
					t.Errorf("error names %s, want %s", ce.Var, tc.name)
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.name) {
					t.Errorf("message %q does not name %s", msg, tc.name)
				}
				if strings.ContainsAny(msg, "\r\n") {
					t.Errorf("message %q is not one line", msg)
				}
				if tc.secret != "" && strings.Contains(msg, tc.secret) {
					t.Errorf("message %q shows the password", msg)
				}
			}
		})
	}
}

func TestLogFormatDefault(t *testing.T) {
	for _, tc := range []struct {
		set      string
		terminal bool
		want     string
	}{
		{"", true, "text"},
		{"", false, "json"},
		{"json", true, "json"},
		{"text", false, "text"},
		{" json ", true, "json"},
	} {
		cfg, err := config.Load(env(map[string]string{"NEOSC_LOG_FORMAT": tc.set}), tc.terminal)
		if err != nil {
			t.Fatalf("NEOSC_LOG_FORMAT=%q terminal=%v: %v", tc.set, tc.terminal, err)
		}
		if cfg.LogFormat != tc.want {
			t.Errorf("NEOSC_LOG_FORMAT=%q terminal=%v: LogFormat %q, want %q", tc.set, tc.terminal, cfg.LogFormat, tc.want)
		}
	}
}

func TestOrgClaimsSplitAndTrimmed(t *testing.T) {
	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"", contractOrgClaims},
		{"org", []string{"org"}},
		{" org , urn:zitadel:iam:org:id ", []string{"org", "urn:zitadel:iam:org:id"}},
		{"tenant,,  ,org_id,", []string{"tenant", "org_id"}},
		{"\turn:a:b\t,\tc ", []string{"urn:a:b", "c"}},
	} {
		cfg, err := config.Load(env(map[string]string{"NEOSC_OIDC_ORG_CLAIMS": tc.set}), false)
		if err != nil {
			t.Fatalf("NEOSC_OIDC_ORG_CLAIMS=%q: %v", tc.set, err)
		}
		if !reflect.DeepEqual(cfg.OIDCOrgClaims, tc.want) {
			t.Errorf("NEOSC_OIDC_ORG_CLAIMS=%q: %q, want %q", tc.set, cfg.OIDCOrgClaims, tc.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	err := &config.Error{Var: "NEOSC_X", Reason: "want y"}
	if got, want := err.Error(), "config: NEOSC_X: want y"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		value    string
		want     config.SMTP
		loopback bool
	}{
		{"smtp://127.0.0.1:2525", config.SMTP{Host: "127.0.0.1", Port: 2525}, true},
		{"smtp://localhost:25", config.SMTP{Host: "localhost", Port: 25}, true},
		{"smtp://[::1]:25", config.SMTP{Host: "::1", Port: 25}, true},
		{"smtp://127.8.9.10:25", config.SMTP{Host: "127.8.9.10", Port: 25}, true},
		{"smtp://mail.example.com", config.SMTP{Host: "mail.example.com", Port: 587}, false},
		{"smtps://mail.example.com", config.SMTP{Host: "mail.example.com", Port: 465, ImplicitTLS: true}, false},
		{"smtps://u%40example.com:p%3Ass@mail.example.com:4650",
			config.SMTP{Host: "mail.example.com", Port: 4650, ImplicitTLS: true, Username: "u@example.com", Password: "p:ss"}, false},
		{"smtp://localhost.example.com:25", config.SMTP{Host: "localhost.example.com", Port: 25}, false},
		{"smtp://10.0.0.1:25", config.SMTP{Host: "10.0.0.1", Port: 25}, false},
	} {
		cfg, err := config.Load(env(map[string]string{"NEOSC_SMTP_URL": tc.value}), false)
		if err != nil {
			t.Errorf("NEOSC_SMTP_URL=%q: %v", tc.value, err)
			continue
		}
		if cfg.SMTP == nil || *cfg.SMTP != tc.want {
			t.Errorf("NEOSC_SMTP_URL=%q: %+v, want %+v", tc.value, cfg.SMTP, tc.want)
			continue
		}
		if cfg.SMTP.Loopback() != tc.loopback {
			t.Errorf("NEOSC_SMTP_URL=%q: Loopback() = %v, want %v", tc.value, cfg.SMTP.Loopback(), tc.loopback)
		}
	}
}

// TestSMTPPasswordNeverPrinted: however a Config is printed or logged, the
// SMTP password stays out.
func TestSMTPPasswordNeverPrinted(t *testing.T) {
	cfg, err := config.Load(env(map[string]string{"NEOSC_SMTP_URL": "smtps://mailer:hunter2pw@mail.example.com:465"}), false)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "smtp", cfg.SMTP, "config", cfg)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "smtp", cfg.SMTP)
	encoded, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		fmt.Sprint(cfg.SMTP), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.SMTP),
		fmt.Sprintf("%v %+v %#v", *cfg, *cfg, *cfg), logged.String(), string(encoded),
	} {
		if strings.Contains(out, "hunter2pw") {
			t.Errorf("the password is printed: %s", out)
		}
	}
	if got, want := cfg.SMTP.String(), "smtps://mailer:REDACTED@mail.example.com:465"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestMailFrom(t *testing.T) {
	for _, tc := range []struct{ from, publicURL, want string }{
		{"", "", "NeoSC <no-reply@localhost>"},
		{"", "https://api.example.com:8443/neosc", "NeoSC <no-reply@api.example.com>"},
		{"", "http://127.0.0.1:8080", "NeoSC <no-reply@localhost>"},
		{"", "http://[::1]:8080", "NeoSC <no-reply@localhost>"},
		{"ops@example.com", "", "ops@example.com"},
		{" \"Acme, Inc.\" <ops@example.com> ", "", "\"Acme, Inc.\" <ops@example.com>"},
	} {
		cfg, err := config.Load(env(map[string]string{"NEOSC_MAIL_FROM": tc.from, "NEOSC_PUBLIC_URL": tc.publicURL}), false)
		if err != nil {
			t.Errorf("NEOSC_MAIL_FROM=%q NEOSC_PUBLIC_URL=%q: %v", tc.from, tc.publicURL, err)
			continue
		}
		if cfg.MailFrom != tc.want {
			t.Errorf("NEOSC_MAIL_FROM=%q NEOSC_PUBLIC_URL=%q: %q, want %q", tc.from, tc.publicURL, cfg.MailFrom, tc.want)
		}
	}
}

func TestKeyEncryptionKey(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		v := enc.EncodeToString(key)
		cfg, err := config.Load(env(map[string]string{"NEOSC_KEY_ENCRYPTION_KEY": " " + v + " "}), false)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if cfg.KeyEncryptionKey == nil || !bytes.Equal(cfg.KeyEncryptionKey.Bytes(), key) {
			t.Fatalf("%s: decoded %v", v, cfg.KeyEncryptionKey)
		}
		var logged strings.Builder
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "kek", cfg.KeyEncryptionKey, "config", cfg)
		encoded, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, out := range []string{
			fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.KeyEncryptionKey), fmt.Sprintf("%v %+v %#v", *cfg, *cfg, *cfg),
			logged.String(), string(encoded),
		} {
			if strings.Contains(out, v) || strings.Contains(out, fmt.Sprint(key)) || strings.Contains(out, fmt.Sprintf("%x", key)) {
				t.Errorf("the key is printed: %s", out)
			}
		}
	}
}

// TestOIDCInsecureIssuer (finding: "http:// issuers are accepted
// silently"): a plain-http issuer is refused unless its host is loopback or
// NEOSC_OIDC_ALLOW_INSECURE=true, and the error names that variable.
func TestOIDCInsecureIssuer(t *testing.T) {
	load := func(issuer, allow string) (*config.Config, error) {
		return config.Load(env(map[string]string{"NEOSC_OIDC_ISSUER": issuer, "NEOSC_OIDC_AUDIENCE": "x", "NEOSC_OIDC_ALLOW_INSECURE": allow}), false)
	}
	for _, issuer := range []string{"http://idp.example.com", "http://idp.example.com/realms/neosc/", "http://10.0.0.5:8080", "http://localhost.example.com"} {
		_, err := load(issuer, "")
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "NEOSC_OIDC_ISSUER" || !strings.Contains(err.Error(), "NEOSC_OIDC_ALLOW_INSECURE=true") {
			t.Errorf("%s: want a NEOSC_OIDC_ISSUER error naming NEOSC_OIDC_ALLOW_INSECURE=true, got %v", issuer, err)
		}
		if _, err := load(issuer, "false"); err == nil {
			t.Errorf("%s with NEOSC_OIDC_ALLOW_INSECURE=false accepted", issuer)
		}
	}
	for _, issuer := range []string{"https://idp.example.com", "http://localhost:8081", "http://127.0.0.1:9000/realms/x", "http://[::1]:9000", "http://LOCALHOST:1"} {
		if cfg, err := load(issuer, ""); err != nil || cfg.OIDCAllowInsecure {
			t.Errorf("%s: refused (%v) or insecure allowed (%v)", issuer, err, cfg != nil && cfg.OIDCAllowInsecure)
		}
	}
	if cfg, err := load("http://idp.example.com", "true"); err != nil || !cfg.OIDCAllowInsecure {
		t.Errorf("NEOSC_OIDC_ALLOW_INSECURE=true: %v", err)
	}
	for _, bad := range []string{"yes", "1", "TRUE", "on"} {
		_, err := load("https://idp.example.com", bad)
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Var != "NEOSC_OIDC_ALLOW_INSECURE" {
			t.Errorf("NEOSC_OIDC_ALLOW_INSECURE=%s: want its error, got %v", bad, err)
		}
	}
}

// TestMemoryLimit: NEOSC_MEMORY_LIMIT wins; unset, a GOMEMLIMIT the runtime
// already read is left alone (0); neither set: the default.
func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want int64
	}{
		{nil, 384 << 20},
		{map[string]string{"GOMEMLIMIT": "200MiB"}, 0},
		{map[string]string{"GOMEMLIMIT": "200MiB", "NEOSC_MEMORY_LIMIT": "256MiB"}, 256 << 20},
		{map[string]string{"NEOSC_MEMORY_LIMIT": "off"}, math.MaxInt64},
		{map[string]string{"NEOSC_MEMORY_LIMIT": "536870912"}, 512 << 20},
	} {
		cfg, err := config.Load(env(tc.vars), false)
		if err != nil {
			t.Fatalf("%v: %v", tc.vars, err)
		}
		if cfg.MemoryLimit != tc.want {
			t.Errorf("%v: MemoryLimit %d, want %d", tc.vars, cfg.MemoryLimit, tc.want)
		}
	}
}

func ptr(n int) *int { return &n }
