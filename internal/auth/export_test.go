package auth

import "time"

// Hooks for this package's external tests.

// SetClock makes t verify (and issue) at the times now answers.
func (t *Tokens) SetClock(now func() time.Time) { t.now = now }

// SetVerifiedTokens makes t remember up to n verified tokens (0: none),
// forgetting those it remembered.
func (t *Tokens) SetVerifiedTokens(n int) { t.verified = newVerifiedTokens(n) }

// VerifiedLen is how many verified tokens t remembers.
func (t *Tokens) VerifiedLen() int { return t.verified.len() }
