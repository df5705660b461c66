package auth

import (
	"sync"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"github.com/neosc/neosc/internal/apperr"
)

// Password bounds. The upper bound keeps hashing cost bounded for hostile
// input.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// passwordParams are OWASP's argon2id recommendation (19 MiB, 2 passes, 1
// lane). The parameters are stored in each PHC-encoded hash, so they can
// change without invalidating old hashes.
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// CheckPasswordPolicy validates a new password.
func CheckPasswordPolicy(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return apperr.Invalid("password", "password must be at least %d characters", MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return apperr.Invalid("password", "password must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// HashPassword returns the argon2id PHC string of pw.
func HashPassword(pw string) (string, error) {
	return argon2id.CreateHash(pw, passwordParams)
}

// CheckPassword reports whether pw matches hash. A nil hash (an account
// without a password, such as an SSO user) still costs one hash computation,
// so timing does not tell accounts apart.
func CheckPassword(pw string, hash *string) bool {
	if len(pw) > MaxPasswordLen {
		pw = pw[:MaxPasswordLen]
	}
	if hash == nil || *hash == "" {
		h := dummyHash()
		_, _ = argon2id.ComparePasswordAndHash(pw, h)
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, *hash)
	return err == nil && ok
}

var dummyHash = sync.OnceValue(func() string {
	h, err := argon2id.CreateHash("neosc-timing-equalizer", passwordParams)
	if err != nil {
		panic(err)
	}
	return h
})
