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

// SetRejectedTokens makes t remember up to n tokens refused for good (0:
// none), forgetting those it remembered.
func (t *Tokens) SetRejectedTokens(n int) { t.rejected = newRejectedTokens(n) }

// RejectedLen is how many refused tokens t remembers.
func (t *Tokens) RejectedLen() int { return t.rejected.len() }

// SignatureChecks is how many tokens t has verified without a cache.
func (t *Tokens) SignatureChecks() int64 { return t.checks.Load() }
