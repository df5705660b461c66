package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/neosc/neosc/internal/ids"
)

// Audience is the `aud` of service-issued tokens.
const Audience = "neosc"

// ClockSkew is how far token times may be off.
const ClockSkew = 30 * time.Second

// maxTokenLen bounds what is parsed at all.
const maxTokenLen = 8 << 10

// Tokens signs and verifies the service's own session tokens.
type Tokens struct {
	issuer string
	ttl    time.Duration
	key    jwk.Key
	alg    jwa.SignatureAlgorithm
	public jwk.Set
	now    func() time.Time
}

// NewTokens returns a signer/verifier for tokens issued by issuer.
func NewTokens(issuer string, ttl time.Duration, key jwk.Key) (*Tokens, error) {
	public, err := PublicKeySet(key)
	if err != nil {
		return nil, err
	}
	var alg jwa.SignatureAlgorithm
	if err := alg.Accept(key.Algorithm().String()); err != nil {
		return nil, err
	}
	return &Tokens{issuer: issuer, ttl: ttl, key: key, alg: alg, public: public, now: time.Now}, nil
}

// PublicKeys is the JWKS served at /.well-known/jwks.json.
func (t *Tokens) PublicKeys() jwk.Set { return t.public }

// Claims are the verified claims the service relies on; IDs are raw UUIDs.
// Exactly one of UserID (a session token) and APITokenID (a partner API
// token, whose jti is its ID) is set.
type Claims struct {
	UserID         string
	APITokenID     string
	OrganizationID string
	JTI            string
	IssuedAt       time.Time // zero when the token has no iat
	ExpiresAt      time.Time
}

// Issue signs a session token for a user of an organization (raw UUIDs).
func (t *Tokens) Issue(userID, orgID string) (string, time.Time, error) {
	return t.IssueAfter(userID, orgID, time.Time{})
}

// IssueAfter is Issue for a user whose tokens issued before validAfter are
// refused (store.User.SessionsValidAfter): the token's iat is never earlier
// than validAfter. validAfter is a whole second at most a second ahead (see
// SessionsCutoff), well within the clock skew allowed for iat.
func (t *Tokens) IssueAfter(userID, orgID string, validAfter time.Time) (string, time.Time, error) {
	now := t.now().UTC().Truncate(time.Second)
	exp := now.Add(t.ttl)
	iat := now
	if validAfter.After(iat) {
		iat = validAfter.UTC()
	}
	tok, err := jwt.NewBuilder().
		Issuer(t.issuer).
		Audience([]string{Audience}).
		Subject(ids.Encode(ids.User, userID)).
		Claim("org", ids.Encode(ids.Organization, orgID)).
		IssuedAt(iat).
		NotBefore(now).
		Expiration(exp).
		JwtID(ids.New()).
		Build()
	if err != nil {
		return "", time.Time{}, err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(t.alg, t.key))
	if err != nil {
		return "", time.Time{}, err
	}
	return string(signed), exp, nil
}

// SessionsCutoff is the sessions_valid_after that ends every session token
// issued up to now: tokens carry iat in whole seconds, so the cutoff is the
// next whole second (a token issued later in the same second is refused
// too, unless issued with IssueAfter).
func SessionsCutoff(now time.Time) time.Time {
	return now.UTC().Truncate(time.Second).Add(time.Second)
}

// IssueAPIToken signs a partner API token: sub and jti are the token's ID,
// exp its expiry, scope its scopes (informative: the database's scopes are
// the ones enforced).
func (t *Tokens) IssueAPIToken(tokenID, orgID string, exp time.Time, scopes []string) (string, error) {
	now := t.now().UTC().Truncate(time.Second)
	tok, err := jwt.NewBuilder().
		Issuer(t.issuer).
		Audience([]string{Audience}).
		Subject(ids.Encode(ids.APIToken, tokenID)).
		Claim("org", ids.Encode(ids.Organization, orgID)).
		Claim("scope", strings.Join(scopes, " ")).
		IssuedAt(now).
		NotBefore(now).
		Expiration(exp.UTC().Truncate(time.Second)).
		JwtID(tokenID).
		Build()
	if err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(t.alg, t.key))
	return string(signed), err
}

// ErrBadToken is every verification failure; the reason is for logs only.
var ErrBadToken = errors.New("invalid token")

// Verify checks a compact JWS: signature by one of the service's keys with
// that key's algorithm, exp present and not passed, nbf and iat not in the
// future, iss and aud ours, sub and org well-formed IDs. It runs no SQL.
func (t *Tokens) Verify(raw string) (*Claims, error) {
	if len(raw) == 0 || len(raw) > maxTokenLen || strings.Count(raw, ".") != 2 || strings.ContainsAny(raw, " \t\r\n{") {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrBadToken)
	}
	tok, err := jwt.ParseString(raw,
		jwt.WithKeySet(t.public, jws.WithInferAlgorithmFromKey(false), jws.WithRequireKid(true)),
		jwt.WithValidate(true),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(Audience),
		jwt.WithRequiredClaim("exp"),
		jwt.WithRequiredClaim("sub"),
		jwt.WithAcceptableSkew(ClockSkew),
		jwt.WithClock(jwt.ClockFunc(t.now)),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	orgClaim, _ := tok.Get("org")
	orgStr, _ := orgClaim.(string)
	orgID, ok := ids.Decode(ids.Organization, orgStr)
	if !ok {
		return nil, fmt.Errorf("%w: org is not an organization ID", ErrBadToken)
	}
	c := &Claims{OrganizationID: orgID, JTI: tok.JwtID(), IssuedAt: tok.IssuedAt(), ExpiresAt: tok.Expiration()}
	switch typ, id, _ := ids.Parse(tok.Subject()); typ {
	case ids.User:
		c.UserID = id
	case ids.APIToken:
		if tok.JwtID() != id {
			return nil, fmt.Errorf("%w: API token jti does not match sub", ErrBadToken)
		}
		c.APITokenID = id
	default:
		return nil, fmt.Errorf("%w: sub is neither a user nor an API token", ErrBadToken)
	}
	return c, nil
}
