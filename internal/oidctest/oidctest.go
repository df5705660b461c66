// Package oidctest runs a real OpenID Provider on loopback for tests.
//
// The provider is Zitadel's own OP library (github.com/zitadel/oidc/v3/pkg/op)
// with an in-memory storage written for tests. It serves OIDC discovery, a JWKS
// endpoint, a token endpoint, userinfo and introspection over real HTTP
// (net/http/httptest on 127.0.0.1). Access tokens are JWTs signed RS256 (or,
// after RotateKeyTo, another asymmetric algorithm) and are obtained from the
// OP's token endpoint with the OAuth2 client_credentials grant: the
// confidential client ClientID() authenticates with HTTP Basic and selects
// the user the token is for with a test-only scope (see Token).
//
// Endpoint paths mimic Zitadel's (/oauth/v2/token, /oauth/v2/keys, ...), but
// code under test should find them through discovery. Options and setters
// give the provider other real providers' shapes: an issuer with a path
// (Microsoft Entra ID's /{tenant}/v2.0, Keycloak's /realms/{realm}) or a
// trailing slash (Auth0), a JWKS whose keys carry no alg (Entra ID,
// panva's oidc-provider), a Cache-Control max-age on the JWKS, keys
// published beside the signing keys (an encryption or symmetric key).
package oidctest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Zitadel claim names carried by access tokens.
const (
	ClaimResourceOwnerID            = "urn:zitadel:iam:user:resourceowner:id"
	ClaimResourceOwnerName          = "urn:zitadel:iam:user:resourceowner:name"
	ClaimResourceOwnerPrimaryDomain = "urn:zitadel:iam:user:resourceowner:primary_domain"
	ClaimOrgID                      = "urn:zitadel:iam:org:id"
	ClaimOrgDomainPrimary           = "urn:zitadel:iam:org:domain:primary"
	ClaimProjectRoles               = "urn:zitadel:iam:org:project:roles"
)

// ClaimProjectIDRoles returns the name of the per-project roles claim,
// urn:zitadel:iam:org:project:{projectID}:roles.
func ClaimProjectIDRoles(projectID string) string {
	return "urn:zitadel:iam:org:project:" + projectID + ":roles"
}

// DefaultTokenLifetime is the lifetime of access tokens when User.Lifetime is zero.
const DefaultTokenLifetime = 10 * time.Minute

// Endpoint paths (relative to Issuer). Discovery advertises them.
const (
	pathAuthorize  = "/oauth/v2/authorize"
	pathToken      = "/oauth/v2/token"
	pathIntrospect = "/oauth/v2/introspect"
	pathUserinfo   = "/oidc/v1/userinfo"
	pathRevoke     = "/oauth/v2/revoke"
	pathEndSession = "/oidc/v1/end_session"
	pathKeys       = "/oauth/v2/keys"
)

// userScopePrefix is the test-only scope that selects the registered user a
// client_credentials token is issued for.
const userScopePrefix = "urn:oidctest:user:"

// User describes the subject and the Zitadel-style claims its access token carries.
type User struct {
	// Subject is the sub claim (required).
	Subject string
	// Email and Name become the "email" and "name" claims when not empty;
	// a non-empty Email also adds "email_verified": true (override it with Extra).
	Email, Name string

	// OrgID, OrgName and OrgPrimaryDomain become, each when not empty,
	// urn:zitadel:iam:user:resourceowner:{id,name,primary_domain},
	// and OrgID / OrgPrimaryDomain also urn:zitadel:iam:org:id and
	// urn:zitadel:iam:org:domain:primary.
	OrgID, OrgName, OrgPrimaryDomain string

	// Roles becomes urn:zitadel:iam:org:project:roles (role → {orgID: orgDomain}) when not empty.
	Roles map[string]map[string]string

	// ProjectID and ProjectRoles become urn:zitadel:iam:org:project:{ProjectID}:roles
	// when both are set. A non-empty ProjectID is also added to the default audience.
	ProjectID    string
	ProjectRoles map[string]map[string]string

	// Extra holds any other claims, e.g. "org" (string), "org_id" (Auth0),
	// "organization" (Keycloak: list or map). They are applied after the claims
	// above and override them, but registered claims (iss, sub, aud, exp, iat,
	// nbf, jti, client_id) always come from the OP and cannot be overridden.
	Extra map[string]any

	// OmitOrgClaims leaves out the resourceowner and org claims even when the
	// Org* fields are set (the roles claims are still emitted).
	OmitOrgClaims bool

	// Audience, when not nil, replaces the default audience
	// ([ClientID()] plus ProjectID when set). Use it for wrong-audience tests.
	Audience []string

	// Lifetime of the access token; zero means DefaultTokenLifetime. A negative
	// value yields a token that has already expired when it is issued.
	Lifetime time.Duration
}

// claims returns the private (non-registered) claims of u's access token.
func (u *User) claims() map[string]any {
	c := map[string]any{}
	if u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = true
	}
	if u.Name != "" {
		c["name"] = u.Name
	}
	if !u.OmitOrgClaims {
		if u.OrgID != "" {
			c[ClaimResourceOwnerID] = u.OrgID
			c[ClaimOrgID] = u.OrgID
		}
		if u.OrgName != "" {
			c[ClaimResourceOwnerName] = u.OrgName
		}
		if u.OrgPrimaryDomain != "" {
			c[ClaimResourceOwnerPrimaryDomain] = u.OrgPrimaryDomain
			c[ClaimOrgDomainPrimary] = u.OrgPrimaryDomain
		}
	}
	if len(u.Roles) > 0 {
		c[ClaimProjectRoles] = u.Roles
	}
	if u.ProjectID != "" && len(u.ProjectRoles) > 0 {
		c[ClaimProjectIDRoles(u.ProjectID)] = u.ProjectRoles
	}
	for k, v := range u.Extra {
		c[k] = v
	}
	return c
}

// Provider is a running OpenID Provider.
type Provider struct {
	// Issuer is the issuer URL exactly as discovery and tokens spell it:
	// http://127.0.0.1:PORT by default (no trailing slash), with the path of
	// WithIssuerPath and the trailing slash of WithTrailingSlash.
	Issuer string

	server       *httptest.Server
	op           http.Handler
	storage      *storage
	clientID     string
	clientSecret string
	base         string // Issuer without a trailing slash: endpoints are base + path
	path         string // the issuer's path, stripped before the OP sees a request

	jwksDown     atomic.Bool
	jwksRequests atomic.Int64
	jwksMaxAge   atomic.Int64 // seconds of Cache-Control: max-age; negative: no header
}

// Option shapes the provider Start starts.
type Option func(*options)

type options struct {
	path          string
	trailingSlash bool
}

// WithIssuerPath serves the provider under path, as Microsoft Entra ID
// ("/{tenant}/v2.0") and Keycloak ("/realms/{realm}") do: the issuer is
// http://127.0.0.1:PORT{path} and discovery is at {issuer}/.well-known/….
func WithIssuerPath(path string) Option {
	return func(o *options) { o.path = "/" + strings.Trim(path, "/") }
}

// WithTrailingSlash makes the issuer end in "/" in discovery and in every
// token's iss, as Auth0's does ("https://TENANT.auth0.com/").
func WithTrailingSlash() Option { return func(o *options) { o.trailingSlash = true } }

// Start starts an OpenID Provider on 127.0.0.1 (httptest), stopped at cleanup.
func Start(t testing.TB, opts ...Option) *Provider {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p := &Provider{
		clientID:     "neosc-" + randomHex(t, 6),
		clientSecret: randomHex(t, 24),
		path:         o.path,
	}
	p.jwksMaxAge.Store(-1)
	st := newStorage(p.clientID, p.clientSecret)
	if err := st.rotate(jose.RS256); err != nil {
		t.Fatalf("oidctest: generate signing key: %v", err)
	}
	p.storage = st

	// The listener exists before the server starts, so the issuer is known
	// before the OP is built and before any request can be served.
	p.server = httptest.NewUnstartedServer(http.HandlerFunc(p.serveHTTP))
	p.base = "http://" + p.server.Listener.Addr().String() + o.path
	p.Issuer = p.base
	if o.trailingSlash {
		p.Issuer += "/"
	}

	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:      cryptoKey,
		CryptoKeyId:    "oidctest",
		AuthMethodPost: true,
	}, st, op.StaticIssuer(p.Issuer),
		op.WithAllowInsecure(),
		op.WithCustomEndpoints(
			op.NewEndpoint(pathAuthorize),
			op.NewEndpoint(pathToken),
			op.NewEndpoint(pathUserinfo),
			op.NewEndpoint(pathRevoke),
			op.NewEndpoint(pathEndSession),
			op.NewEndpoint(pathKeys),
		),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(pathIntrospect)),
	)
	if err != nil {
		t.Fatalf("oidctest: create OP: %v", err)
	}
	p.op = provider
	p.server.Start()
	t.Cleanup(p.server.Close)
	if p.server.URL+o.path != p.base {
		t.Fatalf("oidctest: server URL %s != issuer %s", p.server.URL, p.Issuer)
	}
	return p
}

// serveHTTP strips the issuer's path and wraps the OP's handler to implement
// SetJWKSDown, SetJWKSMaxAge and JWKSRequests.
func (p *Provider) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if p.path != "" {
		rest, ok := strings.CutPrefix(r.URL.Path, p.path)
		if !ok || (rest != "" && rest[0] != '/') {
			http.NotFound(w, r)
			return
		}
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = rest, ""
	}
	if r.URL.Path == pathKeys {
		p.jwksRequests.Add(1)
		if p.jwksDown.Load() {
			http.Error(w, "JWKS unavailable (oidctest.SetJWKSDown)", http.StatusServiceUnavailable)
			return
		}
		if age := p.jwksMaxAge.Load(); age >= 0 {
			w.Header().Set("Cache-Control", "public, max-age="+strconv.FormatInt(age, 10))
		}
	}
	p.op.ServeHTTP(w, r)
}

// ClientID is the client/audience that tokens are issued for (the aud the service must require).
func (p *Provider) ClientID() string { return p.clientID }

// ClientSecret is the secret of the confidential client ClientID().
func (p *Provider) ClientSecret() string { return p.clientSecret }

// DiscoveryURL is {Issuer}/.well-known/openid-configuration (without a
// doubled slash when the issuer ends in one).
func (p *Provider) DiscoveryURL() string { return p.base + oidc.DiscoveryEndpoint }

// JWKSURI is the jwks_uri advertised by discovery.
func (p *Provider) JWKSURI() string { return p.base + pathKeys }

// TokenEndpoint is the token_endpoint advertised by discovery.
func (p *Provider) TokenEndpoint() string { return p.base + pathToken }

// Token obtains a JWT access token for u from the provider's token endpoint
// over HTTP with the client_credentials grant: client ClientID() authenticates
// with HTTP Basic and asks for scope "openid urn:oidctest:user:{n}", where n is
// the handle under which u was registered just before. The token is signed
// RS256 with the current signing key (kid in the header), iss = Issuer,
// aud = [ClientID()] (plus u.ProjectID when set) unless u.Audience is set,
// client_id = ClientID(), iat = nbf = now, exp = now + u.Lifetime (default
// DefaultTokenLifetime), a random jti, and u's claims at the top level.
func (p *Provider) Token(t testing.TB, u User) string {
	t.Helper()
	if u.Subject == "" {
		t.Fatalf("oidctest: User.Subject is required")
	}
	handle := p.storage.register(u)
	form := url.Values{
		"grant_type": {string(oidc.GrantTypeClientCredentials)},
		"scope":      {oidc.ScopeOpenID + " " + userScopePrefix + handle},
	}
	req, err := http.NewRequest(http.MethodPost, p.TokenEndpoint(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(p.clientID), url.QueryEscape(p.clientSecret))
	resp, err := p.server.Client().Do(req)
	if err != nil {
		t.Fatalf("oidctest: token request: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("oidctest: read token response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("oidctest: token endpoint answered %s: %s", resp.Status, body)
	}
	var tr oidc.AccessTokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("oidctest: decode token response: %v: %s", err, body)
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, oidc.BearerToken) {
		t.Fatalf("oidctest: unexpected token response: %s", body)
	}
	return tr.AccessToken
}

// RotateKey makes a new RS256 signing key (new kid) current; the JWKS then
// serves both the new and the old public keys, so old tokens keep verifying
// until they expire (or RetireOldKeys is called).
func (p *Provider) RotateKey(t testing.TB) { p.RotateKeyTo(t, "RS256") }

// RotateKeyTo is RotateKey with a key for alg: RS256, RS384, RS512, PS256,
// PS384, PS512 (RSA 2048), ES256, ES384, ES512 (EC P-256, P-384, P-521) or
// EdDSA (Ed25519).
func (p *Provider) RotateKeyTo(t testing.TB, alg string) {
	t.Helper()
	if err := p.storage.rotate(jose.SignatureAlgorithm(alg)); err != nil {
		t.Fatalf("oidctest: rotate signing key: %v", err)
	}
}

// RetireOldKeys drops all but the current key from the JWKS.
func (p *Provider) RetireOldKeys() { p.storage.retireOld() }

// SetJWKSDown makes the JWKS endpoint answer 503 (true) or work again (false);
// discovery and the token endpoint keep working.
func (p *Provider) SetJWKSDown(down bool) { p.jwksDown.Store(down) }

// SetJWKSOmitAlg makes the JWKS serve its keys without "alg" (true), as
// Microsoft Entra ID and panva's oidc-provider do for RSA keys (RFC 7517
// makes it optional), or with it again (false). Tokens are signed as before.
func (p *Provider) SetJWKSOmitAlg(omit bool) { p.storage.omitAlg.Store(omit) }

// SetJWKSMaxAge makes the JWKS response carry "Cache-Control: public,
// max-age=N" with N the whole seconds of d; a negative d removes the header
// (the default).
func (p *Provider) SetJWKSMaxAge(d time.Duration) {
	if d < 0 {
		p.jwksMaxAge.Store(-1)
		return
	}
	p.jwksMaxAge.Store(int64(d / time.Second))
}

// PublishKey adds key to the JWKS beside the signing keys, as it is: kid,
// alg and use as set on key, the public part of an asymmetric key and the
// secret of a symmetric one ("oct"). The provider never signs with it: it
// stands for an encryption key (Keycloak publishes one, use "enc") or a
// provider that wrongly publishes a symmetric key.
func (p *Provider) PublishKey(t testing.TB, key jwk.Key) {
	t.Helper()
	var raw any
	if err := key.Raw(&raw); err != nil {
		t.Fatalf("oidctest: publish key: %v", err)
	}
	if signer, ok := raw.(crypto.Signer); ok {
		raw = signer.Public()
	}
	alg := ""
	if a := key.Algorithm(); a != nil {
		alg = a.String()
	}
	p.storage.publish(publishedKey{id: key.KeyID(), alg: alg, use: key.KeyUsage(), key: raw})
}

// JWKSRequests counts HTTP requests to the JWKS endpoint, including those
// answered 503 while SetJWKSDown(true) is in effect.
func (p *Provider) JWKSRequests() int { return int(p.jwksRequests.Load()) }

// PublicJWKS returns the provider's current public JWK set as JSON, exactly as
// the JWKS endpoint serves it (not counted by JWKSRequests).
func (p *Provider) PublicJWKS() []byte {
	keys, _ := p.storage.KeySet(context.Background())
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{
			KeyID:     k.ID(),
			Algorithm: string(k.Algorithm()),
			Use:       k.Use(),
			Key:       k.Key(),
		})
	}
	b, err := json.Marshal(set)
	if err != nil {
		panic(fmt.Sprintf("oidctest: marshal JWKS: %v", err))
	}
	return b
}

// SigningKey returns the current private key as a jwk.Key with kid, alg
// (RS256 unless RotateKeyTo chose another) and use (sig) set, for
// hand-built attack tokens only.
func (p *Provider) SigningKey() jwk.Key {
	k := p.storage.current()
	key, err := jwk.FromRaw(k.priv)
	if err != nil {
		panic(fmt.Sprintf("oidctest: jwk from private key: %v", err))
	}
	for name, v := range map[string]any{
		jwk.KeyIDKey:     k.id,
		jwk.AlgorithmKey: jwa.SignatureAlgorithm(k.alg),
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := key.Set(name, v); err != nil {
			panic(fmt.Sprintf("oidctest: set %s: %v", name, err))
		}
	}
	return key
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	return hex.EncodeToString(b)
}

// ---- storage ----------------------------------------------------------------

type privateKey struct {
	id   string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

// newPrivateKey generates a key for alg.
func newPrivateKey(alg jose.SignatureAlgorithm) (*privateKey, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.ES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case jose.ES512:
		priv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("oidctest: unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return nil, err
	}
	kid := make([]byte, 8)
	if _, err := rand.Read(kid); err != nil {
		return nil, err
	}
	return &privateKey{id: hex.EncodeToString(kid), alg: alg, priv: priv}, nil
}

// signingKey implements op.SigningKey.
type signingKey struct{ k *privateKey }

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return s.k.alg }
func (s signingKey) Key() any                                    { return s.k.priv }
func (s signingKey) ID() string                                  { return s.k.id }

// publishedKey implements op.Key: a signing key's public part, or a key
// given to PublishKey.
type publishedKey struct {
	id, alg, use string
	key          any
}

func (p publishedKey) ID() string                         { return p.id }
func (p publishedKey) Algorithm() jose.SignatureAlgorithm { return jose.SignatureAlgorithm(p.alg) }
func (p publishedKey) Use() string                        { return p.use }
func (p publishedKey) Key() any                           { return p.key }

// client implements op.Client: a confidential client allowed the
// client_credentials grant, whose access tokens are JWTs.
type client struct{ id string }

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return nil }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (c *client) LoginURL(string) string              { return "" }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return time.Hour }
func (c *client) DevMode() bool                       { return true }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool     { return strings.HasPrefix(scope, userScopePrefix) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

// tokenRequest implements op.TokenRequest for a registered user.
type tokenRequest struct {
	user     User
	audience []string
	scopes   []string
}

func (r *tokenRequest) GetSubject() string    { return r.user.Subject }
func (r *tokenRequest) GetAudience() []string { return r.audience }
func (r *tokenRequest) GetScopes() []string   { return r.scopes }

type issuedToken struct {
	user       User
	audience   []string
	issuedAt   time.Time
	expiration time.Time
}

var errNotSupported = errors.New("oidctest: not supported by the test provider")

// storage implements op.Storage, op.ClientCredentialsStorage and
// op.CanGetPrivateClaimsFromRequest, in memory.
type storage struct {
	clientID, clientSecret string

	omitAlg atomic.Bool // serve keys without alg (SetJWKSOmitAlg)

	mu        sync.Mutex
	keys      []*privateKey // last one is current
	published []publishedKey
	users     map[string]User
	nextID    int
	tokens    map[string]issuedToken
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
)

func newStorage(clientID, clientSecret string) *storage {
	return &storage{
		clientID:     clientID,
		clientSecret: clientSecret,
		users:        map[string]User{},
		tokens:       map[string]issuedToken{},
	}
}

func (s *storage) rotate(alg jose.SignatureAlgorithm) error {
	k, err := newPrivateKey(alg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, k)
	return nil
}

func (s *storage) publish(k publishedKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, k)
}

func (s *storage) retireOld() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = s.keys[len(s.keys)-1:]
}

func (s *storage) current() *privateKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[len(s.keys)-1]
}

func (s *storage) register(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	h := strconv.Itoa(s.nextID)
	s.users[h] = u
	return h
}

// SigningKey, SignatureAlgorithms and KeySet (op.AuthStorage).

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{s.current()}, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	algs := []jose.SignatureAlgorithm{jose.RS256}
	for _, k := range s.keys {
		if !slices.Contains(algs, k.alg) {
			algs = append(algs, k.alg)
		}
	}
	return algs, nil
}

// KeySet is what the JWKS endpoint serves: the signing keys' public parts,
// current first, then the keys given to PublishKey.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]op.Key, 0, len(s.keys)+len(s.published))
	for i := len(s.keys) - 1; i >= 0; i-- { // current key first
		k := publishedKey{id: s.keys[i].id, alg: string(s.keys[i].alg), use: "sig", key: s.keys[i].priv.Public()}
		if s.omitAlg.Load() {
			k.alg = ""
		}
		keys = append(keys, k)
	}
	for _, k := range s.published {
		keys = append(keys, k)
	}
	return keys, nil
}

// Clients.

func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	if clientID != s.clientID {
		return nil, fmt.Errorf("unknown client %q", clientID)
	}
	return &client{id: s.clientID}, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, clientSecret string) error {
	if clientID != s.clientID || clientSecret != s.clientSecret {
		return errors.New("invalid client credentials")
	}
	return nil
}

// op.ClientCredentialsStorage.

func (s *storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, clientID, clientSecret); err != nil {
		return nil, err
	}
	return &client{id: s.clientID}, nil
}

func (s *storage) ClientCredentialsTokenRequest(_ context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	var handle string
	for _, sc := range scopes {
		if h, ok := strings.CutPrefix(sc, userScopePrefix); ok {
			handle = h
		}
	}
	s.mu.Lock()
	u, ok := s.users[handle]
	s.mu.Unlock()
	if !ok {
		return nil, oidc.ErrInvalidScope().WithDescription("scope %s{n} naming a registered user is required", userScopePrefix)
	}
	aud := u.Audience
	if aud == nil {
		aud = []string{clientID}
		if u.ProjectID != "" && u.ProjectID != clientID {
			aud = append(aud, u.ProjectID)
		}
	}
	return &tokenRequest{user: u, audience: aud, scopes: scopes}, nil
}

// Access tokens.

func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	tr, ok := req.(*tokenRequest)
	if !ok {
		return "", time.Time{}, errNotSupported
	}
	lifetime := tr.user.Lifetime
	if lifetime == 0 {
		lifetime = DefaultTokenLifetime
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return "", time.Time{}, err
	}
	now := time.Now().UTC()
	tok := issuedToken{user: tr.user, audience: tr.audience, issuedAt: now, expiration: now.Add(lifetime)}
	jti := hex.EncodeToString(id)
	s.mu.Lock()
	s.tokens[jti] = tok
	s.mu.Unlock()
	return jti, tok.expiration, nil
}

func (s *storage) GetPrivateClaimsFromRequest(_ context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	if tr, ok := req.(*tokenRequest); ok {
		return tr.user.claims(), nil
	}
	return nil, nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// Userinfo and introspection, for JWT access tokens issued here.

func (s *storage) token(tokenID, subject string) (issuedToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[tokenID]
	if !ok || tok.user.Subject != subject || time.Now().After(tok.expiration) {
		return issuedToken{}, errors.New("token is not active")
	}
	return tok, nil
}

func userinfoOf(u User) *oidc.UserInfo {
	info := &oidc.UserInfo{Subject: u.Subject}
	info.Name = u.Name
	info.Email = u.Email
	info.EmailVerified = oidc.Bool(u.Email != "")
	for k, v := range u.claims() {
		switch k {
		case "email", "email_verified", "name":
		default:
			info.AppendClaims(k, v)
		}
	}
	return info
}

func (s *storage) SetUserinfoFromToken(_ context.Context, userinfo *oidc.UserInfo, tokenID, subject, _ string) error {
	tok, err := s.token(tokenID, subject)
	if err != nil {
		return err
	}
	*userinfo = *userinfoOf(tok.user)
	return nil
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, _ string) error {
	tok, err := s.token(tokenID, subject)
	if err != nil {
		return nil // inactive
	}
	resp.SetUserInfo(userinfoOf(tok.user))
	resp.Active = true
	resp.ClientID = s.clientID
	resp.Audience = tok.audience
	resp.IssuedAt = oidc.FromTime(tok.issuedAt)
	resp.Expiration = oidc.FromTime(tok.expiration)
	resp.JWTID = tokenID
	return nil
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// Everything else is unsupported: the test provider only does client_credentials.

func (s *storage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (op.AuthRequest, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("oidctest supports only client_credentials")
}
func (s *storage) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotSupported
}
func (s *storage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotSupported
}
func (s *storage) SaveAuthCode(context.Context, string, string) error { return errNotSupported }
func (s *storage) DeleteAuthRequest(context.Context, string) error    { return nil }
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotSupported
}
func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNotSupported
}
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }
func (s *storage) RevokeToken(_ context.Context, tokenOrTokenID, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, tokenOrTokenID)
	return nil
}
func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotSupported
}
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errNotSupported
}
func (s *storage) Health(context.Context) error { return nil }
