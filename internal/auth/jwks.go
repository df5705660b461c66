package auth

import (
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

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
