package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// NewOneTime returns a single-use token for the row rowID (an invitation, an
// email verification): "<rowID>.<secret>", to be mailed, and the hash of
// its secret, the only part that is stored. The secret has 256 random bits.
func NewOneTime(rowID string) (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	secret := base64.RawURLEncoding.EncodeToString(b)
	return rowID + "." + secret, hashSecret(secret)
}

// ParseOneTime splits a token into its row ID and secret; ok is false for
// anything that is not one (bounded: a token is at most 128 bytes).
func ParseOneTime(token string) (rowID, secret string, ok bool) {
	if len(token) > 128 {
		return "", "", false
	}
	rowID, secret, ok = strings.Cut(strings.TrimSpace(token), ".")
	return rowID, secret, ok && len(rowID) == 36 && len(secret) == 43
}

// OneTimeMatches reports whether secret is the one whose hash is stored,
// comparing in constant time.
func OneTimeMatches(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(hash)) == 1
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
