// Package apitest runs the real HTTP handler on a real database for tests
// and gives them a small GraphQL client. It is imported by tests only.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/tidwall/gjson"

	"github.com/neosc/neosc/internal/auth"
	"github.com/neosc/neosc/internal/db"
	"github.com/neosc/neosc/internal/quota"
	"github.com/neosc/neosc/internal/ratelimit"
	"github.com/neosc/neosc/internal/server"
	"github.com/neosc/neosc/internal/store"
	"github.com/neosc/neosc/internal/testdb"
)

// Issuer is the iss of tokens in tests.
const Issuer = "http://neosc.test"

// DefaultOrg is the default organization's name in tests.
const DefaultOrg = "Default Organization"

// Env is a running service.
type Env struct {
	T        testing.TB
	DB       *db.DB
	Server   *httptest.Server
	Tokens   *auth.Tokens
	Key      jwk.Key // the private signing key (at start), for hand-built tokens
	Counter  *testdb.Counter
	Handler  http.Handler
	Migrator *db.Migrator
	Logs     *SyncBuffer
	OIDC     *auth.OIDC
	// Limits is the service's rate limiter (Flush writes what requests
	// spent; tests run without the periodic writer, see New).
	Limits *ratelimit.Limiter
}

// SyncBuffer is a goroutine-safe log sink.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Option changes the service's dependencies before it starts.
type Option func(*settings)

// settings are what options change: the dependencies, and the rate-limit
// configuration the limiter is built from.
type settings struct {
	server.Deps
	limits ratelimit.Config
	key    jwk.Key
}

// Test budgets: the suites make many requests from one address and one
// token, so the budgets are far above anything a test spends unless it
// sets its own (WithRateLimits). The sign-in throttle and the number of
// concurrent hashes are the production ones; a hash waits for its turn up
// to testHashWait instead of a second, as test packages share the CPU.
var (
	testAnonymous = ratelimit.Rate{Limit: 1_000_000, Period: time.Minute}
	testCaller    = ratelimit.Rate{Limit: 10_000_000, Period: time.Hour}
)

const testHashWait = 30 * time.Second

// WithRateLimits sets the rate limits; zero fields keep the test defaults
// (very large budgets, the production sign-in throttle).
func WithRateLimits(c ratelimit.Config) Option {
	return func(s *settings) {
		if c.Anonymous.Limit != 0 {
			s.limits.Anonymous = c.Anonymous
		}
		if c.Caller.Limit != 0 {
			s.limits.Caller = c.Caller
		}
		if c.Organization.Limit != 0 {
			s.limits.Organization = c.Organization
		}
		if c.Logins != (ratelimit.LoginPolicy{}) {
			s.limits.Logins = c.Logins
		}
		if c.FlushEvery != 0 {
			s.limits.FlushEvery = c.FlushEvery
		}
	}
}

// WithTrustedProxies trusts the X-Forwarded-For of peers in cidrs (the
// test client connects from 127.0.0.1).
func WithTrustedProxies(cidrs ...string) Option {
	return func(s *settings) {
		for _, c := range cidrs {
			s.TrustedProxies = append(s.TrustedProxies, netip.MustParsePrefix(c))
		}
	}
}

// WithPasswords bounds password hashing as given instead of the production
// default.
func WithPasswords(p *auth.Passwords) Option {
	return func(s *settings) { s.Passwords = p }
}

// WithOIDC makes the service accept tokens of an OpenID Provider.
func WithOIDC(issuer, audience string, orgClaims []string) Option {
	return func(d *settings) {
		d.OIDC = auth.NewOIDC(issuer, audience, orgClaims, "admin")
	}
}

// WithIntrospection sets who may introspect: authenticated, public or off.
func WithIntrospection(who string) Option {
	return func(d *settings) { d.Introspection = who }
}

// WithCORSOrigins lets pages on origins (exact, e.g.
// "http://localhost:5173") call the API from a browser
// (NEOSC_CORS_ORIGINS).
func WithCORSOrigins(origins ...string) Option {
	return func(d *settings) { d.CORSOrigins = append(d.CORSOrigins, origins...) }
}

// WithDNSResolver sends the service's DNS lookups (domain verification) to
// the server at addr ("host:port"), e.g. a test's own DNS server.
func WithDNSResolver(addr string) Option {
	return func(d *settings) { d.DNSResolver = addr }
}

// WithMaxPendingInvitations bounds each organization's pending
// invitations (NEOSC_MAX_PENDING_INVITATIONS).
func WithMaxPendingInvitations(n int) Option {
	return func(d *settings) { d.MaxPendingInvitations = n }
}

// WithSigningKey signs and verifies tokens with key (another Env's Key: a
// second replica of the same deployment).
func WithSigningKey(key jwk.Key) Option {
	return func(s *settings) { s.key = key }
}

// WithKeys signs and verifies tokens with keys (a database Keyring, as
// replicas share) instead of a key file of the test's own.
func WithKeys(keys auth.Keys) Option {
	return func(s *settings) { s.Tokens = auth.NewTokensWith(Issuer, time.Hour, keys) }
}

// WithRequestTimeout sets the server-side deadline of each request
// (NEOSC_REQUEST_TIMEOUT).
func WithRequestTimeout(d time.Duration) Option {
	return func(s *settings) { s.RequestTimeout = d }
}

// WithDefaultQuota gives organizations created from now on the quota q
// (NEOSC_DEFAULT_QUOTA's format, e.g. "workspaces=10,cpuCores=32").
func WithDefaultQuota(q string) Option {
	return func(s *settings) {
		var err error
		if s.DefaultQuota, err = quota.Parse(q); err != nil {
			panic("apitest.WithDefaultQuota: " + err.Error())
		}
	}
}

// New starts the service on d (already migrated).
func New(t testing.TB, d *db.DB, opts ...Option) *Env {
	t.Helper()
	m, err := db.NewMigrator(d, nil, db.WithDefaultOrganization(DefaultOrg))
	if err != nil {
		t.Fatal(err)
	}
	logs := &SyncBuffer{}
	log := server.NewLogger(logs, "json", slog.LevelInfo)
	hashes := auth.DefaultHashConcurrency(384 << 20)
	set := settings{
		Deps: server.Deps{DB: d, Migrator: m, Log: log, DefaultOrgName: DefaultOrg, PublicURL: Issuer,
			Passwords: auth.NewPasswords(hashes, hashes*auth.DefaultHashQueuePerSlot, testHashWait)},
		// No periodic writer: spending is decided in memory and written by
		// Limits.Flush, so the statement counters of the suites see no
		// background writes. The budgets stay enforced all the same.
		limits: ratelimit.Config{Anonymous: testAnonymous, Caller: testCaller, Organization: testCaller},
	}
	for _, o := range opts {
		o(&set)
	}
	if set.Tokens == nil { // WithKeys sets them: a database keyring replicas share
		if set.key == nil {
			if set.key, err = auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "signing-key.jwk")); err != nil {
				t.Fatal(err)
			}
		}
		if set.Tokens, err = auth.NewTokens(Issuer, time.Hour, set.key); err != nil {
			t.Fatal(err)
		}
	}
	e := &Env{T: t, DB: d, Tokens: set.Tokens, Key: set.Tokens.SigningKey(), Migrator: m, Logs: logs}
	e.Counter = testdb.CountStatements(t, d)
	deps := set.Deps
	deps.Limits = ratelimit.New(store.New(d.DB), set.limits, log)
	e.Limits = deps.Limits
	if deps.OIDC != nil {
		e.OIDC = deps.OIDC
		t.Cleanup(deps.OIDC.Close)
	}
	e.Handler = server.New(deps)
	e.Server = httptest.NewServer(e.Handler)
	t.Cleanup(e.Server.Close)
	return e
}

// Response is a GraphQL answer.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// Get reads a gjson path of the body (e.g. "data.me.email").
func (r *Response) Get(path string) gjson.Result { return gjson.GetBytes(r.Body, path) }

// Code is the first error's extensions.code ("" when there is none).
func (r *Response) Code() string { return r.Get("errors.0.extensions.code").String() }

// Message is the first error's message.
func (r *Response) Message() string { return r.Get("errors.0.message").String() }

// TB is the part of testing.TB the checks need (rapid.T has it too).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// OK fails the test when the response has errors.
func (r *Response) OK(t TB) *Response {
	t.Helper()
	if r.Status != http.StatusOK || r.Get("errors").Exists() {
		t.Fatalf("want success, got %d: %s", r.Status, r.Body)
	}
	return r
}

// Want fails the test unless the first error has code.
func (r *Response) Want(t TB, code string) *Response {
	t.Helper()
	if got := r.Code(); got != code {
		t.Fatalf("want error %s, got %q: %s", code, got, r.Body)
	}
	return r
}

// Do posts a GraphQL request with an optional Bearer token.
func (e *Env) Do(token, query string, vars map[string]any) *Response {
	e.T.Helper()
	return e.DoFrom("", token, query, vars)
}

// DoFrom is Do from client address ip, as a proxy in front of the service
// would say it (X-Forwarded-For; believed with WithTrustedProxies("127.0.0.1/32")).
// An empty ip sends no such header.
func (e *Env) DoFrom(ip, token, query string, vars map[string]any) *Response {
	e.T.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		e.T.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.Server.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	return e.Send(req)
}

// Send runs any request against the service.
func (e *Env) Send(req *http.Request) *Response {
	e.T.Helper()
	res, err := e.Server.Client().Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return &Response{Status: res.StatusCode, Body: b, Header: res.Header}
}

// Account is a registered user.
type Account struct {
	Token  string
	UserID string
	OrgID  string
	Email  string
}

const registerMutation = `mutation($in: RegisterInput!) {
  register(input: $in) { token user { id organization { id } } }
}`

// Register signs up a user; org "" joins the default organization.
func (e *Env) Register(email, org string) Account {
	e.T.Helper()
	in := map[string]any{"email": email, "password": "password-" + email, "name": strings.Split(email, "@")[0]}
	if org != "" {
		in["organization"] = org
	}
	r := e.Do("", registerMutation, map[string]any{"in": in}).OK(e.T)
	return Account{
		Token:  r.Get("data.register.token").String(),
		UserID: r.Get("data.register.user.id").String(),
		OrgID:  r.Get("data.register.user.organization.id").String(),
		Email:  email,
	}
}

// Invite has admin invite email into their organization with role (MEMBER
// or ADMIN), then accepts the invitation with the token of the mailed link,
// read from the mail outbox as a mail client would; it returns the new
// account.
func (e *Env) Invite(admin Account, email, role string) Account {
	e.T.Helper()
	e.Do(admin.Token, `mutation($in: InviteUserInput!) { inviteUser(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"email": email, "role": role}}).OK(e.T)
	r := e.Do("", `mutation($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { token user { id organization { id } } } }`,
		map[string]any{"in": map[string]any{"token": e.MailedToken(email), "name": strings.Split(email, "@")[0], "password": "password-" + email}}).OK(e.T)
	return Account{
		Token:  r.Get("data.acceptInvitation.token").String(),
		UserID: r.Get("data.acceptInvitation.user.id").String(),
		OrgID:  r.Get("data.acceptInvitation.user.organization.id").String(),
		Email:  email,
	}
}

// MailedToken is the token of the link in the newest mail queued for to.
func (e *Env) MailedToken(to string) string {
	e.T.Helper()
	var body string
	err := e.DB.DB.Raw("SELECT body FROM mail_outbox WHERE recipient = ? ORDER BY created_at DESC, id DESC LIMIT 1", to).Row().Scan(&body)
	if err != nil {
		e.T.Fatalf("no mail queued for %s: %v", to, err)
	}
	m := mailedToken.FindStringSubmatch(body)
	if m == nil {
		e.T.Fatalf("the mail to %s carries no link with a token:\n%s", to, body)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		e.T.Fatal(err)
	}
	return tok
}

var mailedToken = regexp.MustCompile(`[?&]token=([^\s&]+)`)

// CreateWorkspace creates a workspace as acc and returns its ID.
func (e *Env) CreateWorkspace(acc Account, name string) string {
	e.T.Helper()
	r := e.Do(acc.Token, `mutation($in: CreateWorkspaceInput!) { createWorkspace(input: $in) { id } }`,
		map[string]any{"in": WorkspaceInput(name)}).OK(e.T)
	return r.Get("data.createWorkspace.id").String()
}

// WorkspaceInput is a valid CreateWorkspaceInput.
func WorkspaceInput(name string) map[string]any {
	return map[string]any{
		"name": name, "type": "DEV", "connectionType": "WEB",
		"cpuCores": 2, "memoryMb": 4096, "storageGb": 20,
	}
}

// Exec runs SQL directly (for fixtures a test cannot make through the API,
// such as deactivating a user before that mutation exists).
func (e *Env) Exec(sql string, args ...any) {
	e.T.Helper()
	if err := e.DB.Exec(sql, args...).Error; err != nil {
		e.T.Fatalf("%s: %v", sql, err)
	}
}

// Count runs a COUNT(*) query.
func (e *Env) Count(sql string, args ...any) int {
	e.T.Helper()
	var n int64
	if err := e.DB.Raw(sql, args...).Scan(&n).Error; err != nil {
		e.T.Fatalf("%s: %v", sql, err)
	}
	return int(n)
}

// Sprintf is fmt.Sprintf, for building queries.
func Sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// WithClock sets the clock of the workspace usage records and the usage
// reports (server.Deps.Now): known start/stop sequences give exact hours.
func WithClock(now func() time.Time) Option {
	return func(s *settings) { s.Now = now }
}
