package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/neosc/neosc/internal/store"
)

// LoadOrCreateSigningKey reads the private JWK at path, or generates an
// Ed25519 key there (mode 0600, directory 0700) when the file is absent. The
// key gets a kid (its RFC 7638 thumbprint) and alg when it lacks them.
func LoadOrCreateSigningKey(path string) (jwk.Key, error) {
	if key, err := ReadSigningKeyFile(path); key != nil || err != nil {
		return key, err
	}
	key, err := NewSigningKey()
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	// O_EXCL: when two processes start together, one writes and the other
	// reads what it wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateSigningKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	if _, err := f.Write(out); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return key, nil
}

// ReadSigningKeyFile reads the private JWK at path; nil, without an error,
// when there is no such file.
func ReadSigningKeyFile(path string) (jwk.Key, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseSigningKey(b)
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	}
	return nil, fmt.Errorf("signing key %s: %w", path, err)
}

// NewSigningKey generates an Ed25519 private JWK with its kid, alg and use.
func NewSigningKey() (jwk.Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := jwk.FromRaw(priv)
	if err != nil {
		return nil, err
	}
	if err := completeKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

func parseSigningKey(b []byte) (jwk.Key, error) {
	key, err := jwk.ParseKey(b)
	if err != nil {
		return nil, errors.New("signing key: not a JWK")
	}
	switch key.KeyType() {
	case "OKP", "EC":
	default:
		return nil, fmt.Errorf("signing key: want an EdDSA (OKP) or ES256 (EC P-256) private key, got %s", key.KeyType())
	}
	if _, err := key.PublicKey(); err != nil {
		return nil, errors.New("signing key: not a private key")
	}
	if err := completeKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

func completeKey(key jwk.Key) error {
	var alg jwa.SignatureAlgorithm
	switch key.KeyType() {
	case "OKP":
		alg = jwa.EdDSA
	case "EC":
		alg = jwa.ES256
	}
	if a, ok := key.Get(jwk.AlgorithmKey); ok && fmt.Sprint(a) != alg.String() {
		return fmt.Errorf("signing key: alg %v does not fit key type %s", a, key.KeyType())
	}
	if err := key.Set(jwk.AlgorithmKey, alg); err != nil {
		return err
	}
	if err := key.Set(jwk.KeyUsageKey, "sig"); err != nil {
		return err
	}
	if key.KeyID() == "" {
		if err := jwk.AssignKeyID(key); err != nil {
			return err
		}
	}
	return nil
}

// PublicKeySet returns the JWKS of the public halves of keys.
func PublicKeySet(keys ...jwk.Key) (jwk.Set, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := k.PublicKey()
		if err != nil {
			return nil, err
		}
		if err := set.AddKey(pub); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// Keys are what Tokens signs and verifies with: one private key signs new
// tokens; the public keys of every key whose tokens are still accepted
// verify them. A key file is one key (SingleKey); the database holds many
// (Keyring).
type Keys interface {
	// Signer is the private key that signs new tokens, with kid and alg.
	Signer() jwk.Key
	// Verifier is the public key named kid, if tokens it signed are still
	// accepted. It may look for a key it does not know (bounded).
	Verifier(ctx context.Context, kid string) (jwk.Key, bool)
	// Public is the JWKS of every key whose tokens are accepted.
	Public() jwk.Set
	// Signed records, through tx, that key kid signed a token valid until
	// exp that may outlive session tokens (an API token), so that the key
	// keeps verifying until then.
	Signed(ctx context.Context, tx *store.Store, kid string, exp time.Time) error
}

// SingleKey is the one key of a key file: it signs and verifies, forever.
func SingleKey(key jwk.Key) (Keys, error) {
	var alg jwa.SignatureAlgorithm
	if err := alg.Accept(key.Algorithm().String()); err != nil {
		return nil, err
	}
	public, err := PublicKeySet(key)
	if err != nil {
		return nil, err
	}
	pub, _ := public.Key(0)
	return &singleKey{key: key, pub: pub, public: public}, nil
}

type singleKey struct {
	key, pub jwk.Key
	public   jwk.Set
}

func (s *singleKey) Signer() jwk.Key { return s.key }

func (s *singleKey) Verifier(_ context.Context, kid string) (jwk.Key, bool) {
	return s.pub, kid == s.pub.KeyID()
}

func (s *singleKey) Public() jwk.Set { return s.public }

func (s *singleKey) Signed(context.Context, *store.Store, string, time.Time) error { return nil }
