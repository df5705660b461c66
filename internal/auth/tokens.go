package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/neosc/neosc/internal/ids"
	"github.com/neosc/neosc/internal/store"
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
	keys   Keys
	now    func() time.Time
	// verified remembers the tokens that verified (see verifiedTokens).
	verified *verifiedTokens
	// rejected remembers tokens refused for good (see rejectedTokens).
	rejected *rejectedTokens
	// checks counts signature checks (verify calls), for tests.
	checks atomic.Int64
}

// NewTokens returns a signer/verifier for tokens issued by issuer, with one
// key (a key file).
func NewTokens(issuer string, ttl time.Duration, key jwk.Key) (*Tokens, error) {
	keys, err := SingleKey(key)
	if err != nil {
		return nil, err
	}
	return NewTokensWith(issuer, ttl, keys), nil
}

// NewTokensWith returns a signer/verifier for tokens issued by issuer with
// keys (a Keyring, in the database).
func NewTokensWith(issuer string, ttl time.Duration, keys Keys) *Tokens {
	return &Tokens{issuer: issuer, ttl: ttl, keys: keys, now: time.Now,
		verified: newVerifiedTokens(VerifiedTokens), rejected: newRejectedTokens(RejectedTokens)}
}

// PublicKeys is the JWKS served at /.well-known/jwks.json.
func (t *Tokens) PublicKeys() jwk.Set { return t.keys.Public() }

// SigningKey is the private key that signs new tokens now.
func (t *Tokens) SigningKey() jwk.Key { return t.keys.Signer() }

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
	return t.IssueCapped(userID, orgID, validAfter, 0)
}

// IssueCapped is IssueAfter with the token's lifetime at most maxTTL (the
// organization's sessionTtlMinutes); 0: the configured TTL.
func (t *Tokens) IssueCapped(userID, orgID string, validAfter time.Time, maxTTL time.Duration) (string, time.Time, error) {
	now := t.now().UTC().Truncate(time.Second)
	ttl := t.ttl
	if maxTTL > 0 && maxTTL < ttl {
		ttl = maxTTL
	}
	exp := now.Add(ttl)
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
	signed, _, err := t.sign(tok)
	if err != nil {
		return "", time.Time{}, err
	}
	return signed, exp, nil
}

// SessionsCutoff is the sessions_valid_after that ends every session token
// issued up to now: tokens carry iat in whole seconds, so the cutoff is the
// next whole second (a token issued later in the same second is refused
// too, unless issued with IssueAfter).
func SessionsCutoff(now time.Time) time.Time {
	return now.UTC().Truncate(time.Second).Add(time.Second)
}

// sign signs tok with the current signing key and answers the key's kid.
func (t *Tokens) sign(tok jwt.Token) (string, string, error) {
	key := t.keys.Signer()
	var alg jwa.SignatureAlgorithm
	if err := alg.Accept(key.Algorithm().String()); err != nil {
		return "", "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	return string(signed), key.KeyID(), err
}

// IssueAPIToken signs a partner API token: sub and jti are the token's ID,
// exp its expiry, scope its scopes (informative: the database's scopes are
// the ones enforced). It runs in tx, the transaction storing the token,
// which also records that the signing key must verify until exp.
func (t *Tokens) IssueAPIToken(ctx context.Context, tx *store.Store, tokenID, orgID string, exp time.Time, scopes []string) (string, error) {
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
	signed, kid, err := t.sign(tok)
	if err != nil {
		return "", err
	}
	return signed, t.keys.Signed(ctx, tx, kid, exp)
}

// ErrBadToken is every verification failure; the reason is for logs only.
var ErrBadToken = errors.New("invalid token")

// Verify checks a compact JWS: signature by one of the service's keys with
// that key's algorithm, exp present and not passed, nbf and iat not in the
// future, iss and aud ours, sub and org well-formed IDs. It runs no SQL
// (but for the bounded reload of database keys for an unknown kid).
//
// A token that verified before is answered from memory (verifiedTokens)
// while it is unexpired and its key still verifies: the signature is
// checked once per token, not once per request. So is a token refused for
// a reason that cannot change: its signature does not verify with the key
// its kid names (rejectedTokens). What can change without
// the token changing (the user, the denylist, an API token's revocation)
// is the caller's to read on every request; the Authenticator does.
func (t *Tokens) Verify(raw string) (*Claims, error) {
	return t.VerifyContext(context.Background(), raw)
}

// VerifyContext is Verify within ctx.
func (t *Tokens) VerifyContext(ctx context.Context, raw string) (*Claims, error) {
	if c, ok := t.cached(ctx, raw); ok {
		return c, nil
	}
	return t.verifyNew(ctx, raw)
}

// cached answers the claims of raw when it verified before and still would
// (see verifiedTokens).
func (t *Tokens) cached(ctx context.Context, raw string) (*Claims, bool) {
	if len(raw) > maxTokenLen { // not hashed at all
		return nil, false
	}
	return t.verified.get(ctx, raw, t.keys, t.now())
}

// verifyNew verifies raw, a token cached did not know, unless it was
// refused for good before (rejectedTokens), and remembers it when it
// verifies or is refused for good.
func (t *Tokens) verifyNew(ctx context.Context, raw string) (*Claims, error) {
	if !compactJWS(raw) {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrBadToken)
	}
	if t.rejected.has(raw) {
		return nil, errRemembered
	}
	c, kid, err := t.verify(ctx, raw)
	if err != nil {
		if forGood(err) {
			t.rejected.add(raw)
		}
		return nil, err
	}
	t.verified.add(raw, c, kid)
	return c, nil
}

// compactJWS reports whether raw is worth parsing: bounded length, three
// parts, no JSON serialization, no whitespace.
func compactJWS(raw string) bool {
	if len(raw) == 0 || len(raw) > maxTokenLen {
		return false
	}
	dots := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '.':
			dots++
		case ' ', '\t', '\r', '\n', '{':
			return false
		}
	}
	return dots == 2
}

// verify checks raw's signature and claims (Verify, without the cache) and
// answers the kid of the key that verified it.
func (t *Tokens) verify(ctx context.Context, raw string) (*Claims, string, error) {
	t.checks.Add(1)
	var kid string
	tok, err := jwt.ParseString(raw,
		jwt.WithKeyProvider(t.keyFor(ctx, &kid)),
		jwt.WithValidate(true),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(Audience),
		jwt.WithRequiredClaim("exp"),
		jwt.WithRequiredClaim("sub"),
		jwt.WithAcceptableSkew(ClockSkew),
		jwt.WithClock(jwt.ClockFunc(t.now)),
	)
	if err != nil {
		return nil, "", &jwtError{err}
	}
	orgClaim, _ := tok.Get("org")
	orgStr, _ := orgClaim.(string)
	orgID, ok := ids.Decode(ids.Organization, orgStr)
	if !ok {
		return nil, "", fmt.Errorf("%w: org is not an organization ID", ErrBadToken)
	}
	c := &Claims{OrganizationID: orgID, JTI: tok.JwtID(), IssuedAt: tok.IssuedAt(), ExpiresAt: tok.Expiration()}
	switch typ, id, _ := ids.Parse(tok.Subject()); typ {
	case ids.User:
		c.UserID = id
	case ids.APIToken:
		if tok.JwtID() != id {
			return nil, "", fmt.Errorf("%w: API token jti does not match sub", ErrBadToken)
		}
		c.APITokenID = id
	default:
		return nil, "", fmt.Errorf("%w: sub is neither a user nor an API token", ErrBadToken)
	}
	return c, kid, nil
}

// jwtError is a refusal by jwx (signature or claims): ErrBadToken, with
// jwx's error kept for forGood.
type jwtError struct{ err error }

func (e *jwtError) Error() string        { return ErrBadToken.Error() + ": " + e.err.Error() }
func (e *jwtError) Is(target error) bool { return target == ErrBadToken }

// forGood reports whether err refuses a token whatever happens next: its
// signature did not verify with the key its kid names. A kid names one
// key for the life of a process (a key file holds one key; a database
// key's kid is its row's primary key, checked against the key when it is
// loaded), so the same bytes fail again. Not for good: no kid, or one
// naming no key yet (keys are added); nbf or iat in the future; expiry
// (it is decided by the clock, which a correction can move back); anything
// but jwx's verdict.
func forGood(err error) bool {
	var je *jwtError
	return errors.As(err, &je) && jws.IsVerificationError(je.err)
}

// keyFor offers the public key the signature's kid names, with that key's
// own algorithm (never one inferred from the key or taken from the header);
// a signature without kid, or naming no key whose tokens are accepted, gets
// none. The kid of the key offered is stored in *kid.
func (t *Tokens) keyFor(ctx context.Context, kid *string) jws.KeyProvider {
	return jws.KeyProviderFunc(func(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
		named := sig.ProtectedHeaders().KeyID()
		if named == "" {
			return errors.New("no kid")
		}
		key, ok := t.keys.Verifier(ctx, named)
		if !ok {
			return fmt.Errorf("no key %q", named)
		}
		var alg jwa.SignatureAlgorithm
		if err := alg.Accept(key.Algorithm().String()); err != nil {
			return err
		}
		*kid = named
		sink.Key(alg, key)
		return nil
	})
}
