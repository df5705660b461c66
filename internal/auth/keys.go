package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// LoadOrCreateSigningKey reads the private JWK at path, or generates an
// Ed25519 key there (mode 0600, directory 0700) when the file is absent. The
// key gets a kid (its RFC 7638 thumbprint) and alg when it lacks them.
func LoadOrCreateSigningKey(path string) (jwk.Key, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseSigningKey(b)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
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
