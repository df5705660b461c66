package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// OIDC verifies access tokens of one external OpenID Provider. Its keys come
// from the provider's discovery document (jwks_uri), are kept in memory (see
// keysFor) and are used only for tokens whose iss is that provider: keys of
// different issuers never mix.
type OIDC struct {
	Issuer    string
	Audience  string
	OrgClaims []string
	AdminRole string
	// RefreshInterval is the longest the provider's keys are used without
	// fetching the JWKS again: a key the provider removes is refused at most
	// this long after. A JWKS response with a shorter Cache-Control max-age
	// (or no-cache, no-store) shortens it, down to MinRefresh; a longer one
	// changes nothing.
	RefreshInterval time.Duration
	// MinRefresh is the least time between two JWKS fetches of one kind: a
	// refresh the JWKS's max-age asks for, the fetch a token with an unknown
	// kid triggers (across all requests), and the retry after a failed
	// fetch.
	MinRefresh time.Duration
	// AllowInsecure accepts a plain-http issuer, jwks_uri or redirect to a
	// host that is not loopback (NEOSC_OIDC_ALLOW_INSECURE); otherwise only
	// https, or http to loopback, is fetched.
	AllowInsecure bool
	Client        *http.Client

	ctx    context.Context // of JWKS fetches: Close cancels it
	cancel context.CancelFunc
	now    func() time.Time // the clock; nil is time.Now

	mu      sync.Mutex
	jwksURL string
	iss     string    // the issuer exactly as the discovery document spells it
	lastTry time.Time // of discovery
	jwks    keyCache

	fetchMu sync.Mutex // one JWKS fetch at a time
}

// Defaults of NewOIDC.
const (
	DefaultJWKSRefreshInterval = 5 * time.Minute
	DefaultJWKSMinRefresh      = 10 * time.Second
)

// ExternalIdentity is what a verified external token says about its subject.
type ExternalIdentity struct {
	// Issuer is the provider's issuer in canonical form (CanonicalIssuer):
	// with Subject it keys the user, with OrgID the organization.
	Issuer    string
	Subject   string
	Email     string
	Name      string
	OrgID     string // external organization ID
	OrgName   string
	OrgDomain string
	Admin     bool // the admin role is granted under OrgID
}

// NewOIDC returns a verifier for issuer. Close stops its JWKS fetches.
func NewOIDC(issuer, audience string, orgClaims []string, adminRole string) *OIDC {
	ctx, cancel := context.WithCancel(context.Background())
	return &OIDC{
		Issuer: issuer, Audience: audience, OrgClaims: orgClaims, AdminRole: adminRole,
		RefreshInterval: DefaultJWKSRefreshInterval, MinRefresh: DefaultJWKSMinRefresh,
		Client: &http.Client{Timeout: 10 * time.Second}, ctx: ctx, cancel: cancel,
	}
}

// Close cancels a JWKS fetch in flight and any later one.
func (o *OIDC) Close() { o.cancel() }

// discover returns the provider's jwks_uri, fetching the discovery document
// at most once every 5 seconds until it succeeds.
func (o *OIDC) discover(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.jwksURL != "" {
		return o.jwksURL, nil
	}
	if time.Since(o.lastTry) < 5*time.Second {
		return "", errors.New("oidc: discovery failed recently")
	}
	o.lastTry = time.Now()
	res, err := o.get(ctx, CanonicalIssuer(o.Issuer)+"/.well-known/openid-configuration")
	if err != nil {
		return "", fmt.Errorf("oidc: discovery: %w", err)
	}
	defer res.Body.Close()
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("oidc: discovery: %w", err)
	}
	if CanonicalIssuer(doc.Issuer) != CanonicalIssuer(o.Issuer) {
		return "", fmt.Errorf("oidc: discovery names issuer %q, want %q", doc.Issuer, o.Issuer)
	}
	if u, err := url.Parse(doc.JWKSURI); err != nil || u.Host == "" {
		return "", errors.New("oidc: discovery has no usable jwks_uri")
	} else if err := o.checkURL(u); err != nil {
		return "", fmt.Errorf("oidc: discovery's jwks_uri: %w", err)
	}
	o.jwksURL, o.iss = doc.JWKSURI, doc.Issuer
	return o.jwksURL, nil
}

// get fetches rawURL (discovery, JWKS) when checkURL allows it and every
// redirect on the way; any status but 200 is an error.
func (o *OIDC) get(ctx context.Context, rawURL string) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if err := o.checkURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	client := *o.Client
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return o.checkURL(req.URL)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	return res, nil
}

// checkURL allows https, and plain http only to a loopback host (a provider
// on this machine, as in tests) or with AllowInsecure: over plain http
// anyone on the path could serve their own keys, and their tokens would
// verify.
func (o *OIDC) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return fmt.Errorf("%s: want an https URL", u.Redacted())
	case o.AllowInsecure || loopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%s is plain http to a host that is not loopback: use https, or set NEOSC_OIDC_ALLOW_INSECURE=true to accept it", u.Redacted())
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (o *OIDC) exactIssuer() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.iss
}

// CanonicalIssuer is an issuer as it keys identities (users.sso_issuer and
// email_scope, organizations.external_issuer): without trailing slashes.
// NEOSC_OIDC_ISSUER, the discovery document and the tokens' iss may differ
// only by those (discover checks it), so whichever spelling is configured,
// a provider's users and organizations keep one key. Migration 00008
// brought rows keyed by older spellings to this form.
func CanonicalIssuer(iss string) string { return strings.TrimRight(iss, "/") }

// Handles reports whether a token's unverified iss names this provider.
func (o *OIDC) Handles(iss string) bool {
	return iss != "" && CanonicalIssuer(iss) == CanonicalIssuer(o.Issuer)
}

// Verify checks an external access token: compact JWS only, no jku/x5u/jwk
// headers, signature by the provider's key of the header's kid with an
// algorithm that key allows (its alg, or its key type's when it has none;
// never HS* or none, see signatureKeyOf),
// iss equal to the provider, aud containing the configured audience, exp
// required, nbf/iat honoured with a 30 s skew. It runs no SQL.
func (o *OIDC) Verify(ctx context.Context, raw string) (*ExternalIdentity, error) {
	if !compactJWS(raw) {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrBadToken)
	}
	msg, err := jws.Parse([]byte(raw))
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, fmt.Errorf("%w: unparsable JWS", ErrBadToken)
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	if hdr.JWKSetURL() != "" || hdr.X509URL() != "" || hdr.JWK() != nil || (hdr.X509CertChain() != nil && hdr.X509CertChain().Len() > 0) {
		return nil, fmt.Errorf("%w: key-carrying headers (jku/x5u/jwk/x5c) are refused", ErrBadToken)
	}
	if hdr.KeyID() == "" {
		return nil, fmt.Errorf("%w: no kid", ErrBadToken)
	}
	keys, err := o.keysFor(ctx, hdr.KeyID())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	// The header's alg is used only when the key of that kid allows it:
	// its own alg, or (a key without alg) one of its key type's.
	alg := hdr.Algorithm()
	verify := []jwt.ParseOption{
		jwt.WithValidate(true),
		jwt.WithIssuer(o.exactIssuer()),
		jwt.WithAudience(o.Audience),
		jwt.WithRequiredClaim("exp"),
		jwt.WithRequiredClaim("sub"),
		jwt.WithAcceptableSkew(ClockSkew),
	}
	n := len(verify)
	for _, k := range keys {
		if k.allows(alg) {
			verify = append(verify, jwt.WithKey(alg, k.key))
		}
	}
	if len(verify) == n {
		return nil, fmt.Errorf("%w: no key %q of the provider verifies alg %q", ErrBadToken, hdr.KeyID(), alg)
	}
	tok, err := jwt.ParseString(raw, verify...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	claims, err := tok.AsMap(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	id := &ExternalIdentity{Issuer: CanonicalIssuer(tok.Issuer()), Subject: tok.Subject()}
	if len(id.Subject) > 255 {
		return nil, fmt.Errorf("%w: sub too long", ErrBadToken)
	}
	id.OrgID, id.OrgName = o.organization(claims)
	if id.OrgID == "" {
		return nil, fmt.Errorf("%w: no organization claim (tried %s)", ErrBadToken, strings.Join(o.OrgClaims, ", "))
	}
	if n := str(claims["urn:zitadel:iam:user:resourceowner:name"]); n != "" {
		id.OrgName = n
	}
	id.OrgDomain = strings.ToLower(first(str(claims["urn:zitadel:iam:user:resourceowner:primary_domain"]),
		str(claims["urn:zitadel:iam:org:domain:primary"])))
	// An email counts only when the provider says it verified it: otherwise
	// anyone could assert anyone's address.
	if verified(claims["email_verified"]) {
		id.Email = strings.ToLower(emailOrEmpty(str(claims["email"])))
	}
	id.Name = first(str(claims["name"]), strings.TrimSpace(str(claims["given_name"])+" "+str(claims["family_name"])),
		str(claims["preferred_username"]), id.Subject)
	id.Admin = o.isAdmin(claims, id.OrgID)
	return id, nil
}

// organization returns the first present organization claim's ID (and a
// name when the claim carries one). Accepted shapes: a string (Zitadel,
// Auth0 org_id), a list of strings (Keycloak's aliases), or Keycloak's map
// {alias: {id: ...}}. A user in several organizations belongs to the first
// in alphabetical order, whatever order the token lists them in: the same
// user must land in the same organization on every request.
func (o *OIDC) organization(claims map[string]any) (string, string) {
	for _, name := range o.OrgClaims {
		switch v := claims[name].(type) {
		case string:
			if v != "" {
				return v, ""
			}
		case []any: // Keycloak: ["acme", "beta"]; the first in sorted order counts
			var aliases []string
			for _, a := range v {
				if s := str(a); s != "" {
					aliases = append(aliases, s)
				}
			}
			if len(aliases) > 0 {
				s := slices.Min(aliases)
				return s, s
			}
		case map[string]any: // Keycloak: {"acme": {"id": "..."}}; only the first alias in sorted order counts
			if len(v) == 0 {
				continue
			}
			alias := slices.Min(slices.Collect(maps.Keys(v)))
			if m, ok := v[alias].(map[string]any); ok && str(m["id"]) != "" {
				return str(m["id"]), alias
			}
			return alias, alias
		}
	}
	return "", ""
}

// isAdmin reports whether a Zitadel project-roles claim (the generic one or
// the one of the project named by the audience) grants the admin role under
// organization orgID: roles
// are keyed role → {orgID: domain}, and admin in another organization
// counts for nothing here.
func (o *OIDC) isAdmin(claims map[string]any, orgID string) bool {
	if o.AdminRole == "" {
		return false
	}
	// The generic claim, and the per-project claim of this very project (the
	// audience): an admin role in another project means nothing here.
	for _, name := range []string{"urn:zitadel:iam:org:project:roles", "urn:zitadel:iam:org:project:" + o.Audience + ":roles"} {
		roles, ok := claims[name].(map[string]any)
		if !ok {
			continue
		}
		if orgs, ok := roles[o.AdminRole].(map[string]any); ok {
			if _, ok := orgs[orgID]; ok {
				return true
			}
		}
	}
	return false
}

// UnverifiedIssuer reads the unverified iss of a compact JWT, only to pick the
// verifier that will check the token (and its iss) for real.
func UnverifiedIssuer(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(raw) > maxTokenLen {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Iss
}

func verified(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func emailOrEmpty(s string) string {
	if a, err := mail.ParseAddress(s); err == nil && a.Address == s && len(s) <= 254 {
		return s
	}
	return ""
}
