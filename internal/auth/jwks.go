package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// keyCache is the provider's key set as last fetched, guarded by OIDC.mu.
type keyCache struct {
	keys        map[string][]signatureKey // by kid; nil until a fetch succeeds
	expires     time.Time                 // fetch again from then on
	retryAt     time.Time                 // no fetch before, after a failed one
	lastUnknown time.Time                 // of the last fetch for an unknown kid
	err         error                     // why the last fetch failed
	attempts    uint64                    // fetches done, to spot one done meanwhile
}

// keysFor returns the provider's usable keys of key ID kid.
//
// The key set is fetched again, on the request that finds it due, once it
// is older than RefreshInterval or the JWKS's shorter max-age (never under
// MinRefresh): so a key the provider removed is refused from then on, on
// every replica, with no background refresh to wait for. Requests that find
// it due together wait for one fetch. A set lacking kid is fetched again
// at most once per MinRefresh across all requests (a rotation is picked up
// at once; unknown kids sent on purpose cost the provider one fetch per
// MinRefresh). A fetch that fails keeps the last good keys, and the next
// try waits MinRefresh.
func (o *OIDC) keysFor(ctx context.Context, kid string) ([]signatureKey, error) {
	u, err := o.discover(ctx)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	c, now := &o.jwks, o.clock()
	fetch := !now.Before(c.retryAt) && (c.keys == nil || !now.Before(c.expires))
	if !fetch && c.keys != nil && len(c.keys[kid]) == 0 && !now.Before(c.retryAt) && now.Sub(c.lastUnknown) >= o.MinRefresh {
		c.lastUnknown, fetch = now, true
	}
	attempts := c.attempts
	o.mu.Unlock()
	if fetch {
		o.refreshKeys(u, attempts)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if c.keys == nil {
		return nil, c.err
	}
	return c.keys[kid], nil
}

// refreshKeys fetches the key set from u, unless another request fetched it
// since the caller saw attempts fetches.
func (o *OIDC) refreshKeys(u string, attempts uint64) {
	o.fetchMu.Lock()
	defer o.fetchMu.Unlock()
	o.mu.Lock()
	done := o.jwks.attempts != attempts
	o.mu.Unlock()
	if done {
		return
	}
	keys, maxAge, err := o.fetchJWKS(u)
	o.mu.Lock()
	defer o.mu.Unlock()
	c, now := &o.jwks, o.clock()
	c.attempts++
	if err != nil {
		c.err, c.retryAt = fmt.Errorf("oidc: keys: %w", err), now.Add(o.MinRefresh)
		return
	}
	ttl := o.RefreshInterval
	if maxAge >= 0 && maxAge < ttl {
		ttl = maxAge
	}
	c.keys, c.expires, c.err = keys, now.Add(max(ttl, o.MinRefresh)), nil
}

// fetchJWKS fetches the provider's JWKS: its usable keys by kid, and its
// Cache-Control max-age (negative when it has none). A key this service
// cannot read or must not use is left out; the others still count.
func (o *OIDC) fetchJWKS(u string) (map[string][]signatureKey, time.Duration, error) {
	res, err := o.get(o.ctx, u)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil || doc.Keys == nil {
		return nil, 0, errors.New("the JWKS is not a JWK set")
	}
	keys := map[string][]signatureKey{}
	for _, raw := range doc.Keys {
		if k, err := jwk.ParseKey(raw); err == nil {
			if sk, ok := signatureKeyOf(k); ok {
				keys[sk.key.KeyID()] = append(keys[sk.key.KeyID()], sk)
			}
		}
	}
	return keys, cacheMaxAge(res.Header), nil
}

// cacheMaxAge reads how long a response may be reused from its
// Cache-Control header: max-age, 0 for no-cache or no-store, and a negative
// duration when it says neither.
func cacheMaxAge(h http.Header) time.Duration {
	age := time.Duration(-1)
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			name, val, _ := strings.Cut(strings.ToLower(strings.TrimSpace(d)), "=")
			switch name {
			case "no-cache", "no-store":
				age = 0
			case "max-age":
				if n, err := strconv.ParseUint(strings.Trim(val, `"`), 10, 32); err == nil && (age < 0 || time.Duration(n)*time.Second < age) {
					age = time.Duration(n) * time.Second
				}
			}
		}
	}
	return age
}

func (o *OIDC) clock() time.Time {
	if o.now != nil {
		return o.now()
	}
	return time.Now()
}

// signatureKey is one of the provider's public keys with the algorithms it
// may verify.
type signatureKey struct {
	key  jwk.Key
	algs []jwa.SignatureAlgorithm
}

// allows reports whether the key verifies signatures made with alg.
func (k signatureKey) allows(alg jwa.SignatureAlgorithm) bool { return slices.Contains(k.algs, alg) }

// signatureKeyOf returns the public part of a JWKS entry and the algorithms
// it verifies, or false when it must verify nothing:
//
//   - without a kid (tokens must name their key), marked for another use
//     than "sig", or with key_ops lacking "verify";
//   - symmetric ("oct"): a secret the provider publishes is no secret, and
//     an HS* token "signed" with it proves nothing;
//   - with an alg its key type does not allow (HS256 on an RSA key,
//     RSA-OAEP, ...).
//
// A key with alg verifies that algorithm only. A key without alg (RFC 7517
// makes it optional; Microsoft Entra ID and panva's oidc-provider omit it)
// verifies the algorithms of its type: the token's header says which one.
func signatureKeyOf(k jwk.Key) (signatureKey, bool) {
	if k.KeyID() == "" || (k.KeyUsage() != "" && k.KeyUsage() != string(jwk.ForSignature)) {
		return signatureKey{}, false
	}
	if ops := k.KeyOps(); len(ops) > 0 && !slices.Contains(ops, jwk.KeyOpVerify) {
		return signatureKey{}, false
	}
	pub, err := k.PublicKey()
	if err != nil {
		return signatureKey{}, false
	}
	algs := algorithmsOf(pub)
	if alg := k.Algorithm().String(); alg != "" {
		if !slices.Contains(algs, jwa.SignatureAlgorithm(alg)) {
			return signatureKey{}, false
		}
		algs = []jwa.SignatureAlgorithm{jwa.SignatureAlgorithm(alg)}
	}
	if len(algs) == 0 {
		return signatureKey{}, false
	}
	return signatureKey{key: pub, algs: algs}, true
}

// algorithmsOf lists the asymmetric signature algorithms a public key's type
// allows: RSA the RS* and PS* family, EC the ES* of its curve, OKP EdDSA on
// Ed25519. Anything else (oct, X25519, secp256k1, ...) gets none.
func algorithmsOf(pub jwk.Key) []jwa.SignatureAlgorithm {
	switch k := pub.(type) {
	case jwk.RSAPublicKey:
		return []jwa.SignatureAlgorithm{jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512}
	case jwk.ECDSAPublicKey:
		switch k.Crv() {
		case jwa.P256:
			return []jwa.SignatureAlgorithm{jwa.ES256}
		case jwa.P384:
			return []jwa.SignatureAlgorithm{jwa.ES384}
		case jwa.P521:
			return []jwa.SignatureAlgorithm{jwa.ES512}
		}
	case jwk.OKPPublicKey:
		if k.Crv() == jwa.Ed25519 {
			return []jwa.SignatureAlgorithm{jwa.EdDSA}
		}
	}
	return nil
}
