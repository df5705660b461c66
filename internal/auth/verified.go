package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash/maphash"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// VerifiedTokens is how many verified tokens a Tokens remembers (under half
// a kilobyte each, claims and LRU bookkeeping: 5 MB at most): a client calls with the same token until it expires, so
// its signature is checked once per token and process, not once per
// request.
const VerifiedTokens = 10_000

// RejectedTokens is how many forged tokens a Tokens remembers at most
// (8 bytes each: 32 KB).
const RejectedTokens = 4096

// verifiedTokens remembers the tokens Tokens.VerifyContext accepted. It is
// keyed by a hash of the token as sent that is cheap and seeded per process
// (hash/maphash), and each entry holds the token's SHA-256, which a hit must
// match: a hit needs the very bytes that verified (a token's SHA-256
// collides with no other's), while a token that was never accepted (S6: a
// flood of forged signatures) costs one cheap hash and a map lookup before
// its signature is checked. Only accepted tokens go in, so bad ones neither
// grow the cache nor evict anything; valid ones beyond the bound evict the
// least recently used.
//
// Verification is a pure function of the token, the keys and the clock, so
// the cache is a per-process memo and replicas need nothing shared: a hit is
// taken only while the token is unexpired by the rule jwx applied to it
// (unexpired) and the key that verified it is still one whose tokens are
// accepted (Keys.Verifier: a key retired past its verify window, or removed
// from the database, ends its cached tokens at that replica's next key load,
// as it does for uncached ones). What a token does not say is not cached:
// the caller's row, the signOut denylist, sessions_valid_after and an API
// token's revocation are read from the database on every request
// (Users.GetActor, APITokens.GetActor).
//
// hashicorp/golang-lru (already a module dependency, through gqlgen) is a
// mutex-guarded LRU: one lock held for a map lookup and a list move costs
// far less than the signature check it saves, and a bounded LRU written
// here would be the same code again.
type verifiedTokens struct {
	seed maphash.Seed
	lru  *lru.Cache[uint64, *verifiedToken]
}

// verifiedToken is what verifying a token found: the token's SHA-256, its
// claims, never changed once stored (Verify answers a copy), and the kid of
// the key that verified its signature.
type verifiedToken struct {
	sum    [sha256.Size]byte
	claims Claims
	kid    string
}

// newVerifiedTokens returns a cache of up to n tokens; nil (no cache) when
// n is not positive.
func newVerifiedTokens(n int) *verifiedTokens {
	if n <= 0 {
		return nil
	}
	c, err := lru.New[uint64, *verifiedToken](n)
	if err != nil { // only for n <= 0
		panic(err)
	}
	return &verifiedTokens{seed: maphash.MakeSeed(), lru: c}
}

// get answers the claims of raw when it verified before and still would:
// unexpired at now, its key still accepted by keys. An entry that would not
// is dropped.
func (v *verifiedTokens) get(ctx context.Context, raw string, keys Keys, now time.Time) (*Claims, bool) {
	if v == nil {
		return nil, false
	}
	key := maphash.String(v.seed, raw)
	e, ok := v.lru.Get(key)
	if !ok || e.sum != tokenSum(raw) {
		return nil, false
	}
	if !unexpired(e.claims.ExpiresAt, now) {
		v.lru.Remove(key)
		return nil, false
	}
	if _, ok := keys.Verifier(ctx, e.kid); !ok {
		v.lru.Remove(key)
		return nil, false
	}
	c := e.claims
	return &c, true
}

// add remembers that raw verified as c with key kid.
func (v *verifiedTokens) add(raw string, c *Claims, kid string) {
	if v != nil {
		v.lru.Add(maphash.String(v.seed, raw), &verifiedToken{sum: tokenSum(raw), claims: *c, kid: kid})
	}
}

// len is how many tokens are remembered.
func (v *verifiedTokens) len() int {
	if v == nil {
		return 0
	}
	return v.lru.Len()
}

// rejectedTokens remembers tokens refused for good (forGood: a signature
// that does not verify with the key its kid names), so that the same
// forged token sent again — a flood replaying one forgery, a client stuck
// with a corrupted token — costs two cheap hashes and a load, not a parse
// and a signature check, and is refused again (errRemembered). Nothing
// refused for a reason that can pass is remembered: no kid, a kid naming
// no key yet (a key may be added), nbf or iat in the future, expiry (the
// clock decides it, and a corrected clock can move back).
//
// It is a direct-mapped table of RejectedTokens slots, each the 64-bit tag
// of the token last remembered there: one hash of the token (seeded per
// process, hash/maphash) picks the slot, a second, independently seeded,
// is the tag. Remembering a token is one atomic store and allocates
// nothing; a flood of distinct forgeries, which still costs a signature
// check each, only overwrites slots, and the table holds no pointer for
// the collector to follow. A tag matching by chance (1 in 2^64 per lookup)
// would refuse one valid token once: it fails closed, and with seeds an
// attacker never sees it cannot be aimed. The verified cache, where a
// false match would admit a caller, keeps each token's SHA-256 instead.
type rejectedTokens struct {
	slot, tag maphash.Seed
	slots     []atomic.Uint64
}

// errRemembered is the refusal of a token remembered as forged (its
// first refusal logged jwx's reason).
var errRemembered = fmt.Errorf("%w: signature does not verify with the key its kid names (remembered)", ErrBadToken)

// newRejectedTokens returns a table of n slots; nil (none) when n is not
// positive.
func newRejectedTokens(n int) *rejectedTokens {
	if n <= 0 {
		return nil
	}
	return &rejectedTokens{slot: maphash.MakeSeed(), tag: maphash.MakeSeed(), slots: make([]atomic.Uint64, n)}
}

// at is raw's slot and tag (never 0, which marks an empty slot).
func (r *rejectedTokens) at(raw string) (*atomic.Uint64, uint64) {
	i := maphash.String(r.slot, raw) % uint64(len(r.slots))
	return &r.slots[i], maphash.String(r.tag, raw) | 1
}

// has reports whether raw was remembered as refused for good.
func (r *rejectedTokens) has(raw string) bool {
	if r == nil || len(raw) > maxTokenLen {
		return false
	}
	s, tag := r.at(raw)
	return s.Load() == tag
}

// add remembers raw as refused for good.
func (r *rejectedTokens) add(raw string) {
	if r != nil {
		s, tag := r.at(raw)
		s.Store(tag)
	}
}

// len is how many slots hold a token.
func (r *rejectedTokens) len() int {
	if r == nil {
		return 0
	}
	n := 0
	for i := range r.slots {
		if r.slots[i].Load() != 0 {
			n++
		}
	}
	return n
}

// tokenSum is the SHA-256 of raw, copied through a buffer on the stack
// (tokens are some hundred bytes) rather than a []byte on the heap.
func tokenSum(raw string) [sha256.Size]byte {
	var buf [2048]byte
	if len(raw) <= len(buf) {
		return sha256.Sum256(append(buf[:0], raw...))
	}
	return sha256.Sum256([]byte(raw))
}

// unexpired applies jwx's exp rule (as VerifyContext configures it: times
// truncated to the second, ClockSkew of leeway) to a token verified
// earlier: now is before exp plus the skew, in whole seconds. A cached
// token is accepted exactly as long as verifying it again would accept it.
func unexpired(exp, now time.Time) bool {
	return now.Unix() < exp.Unix()+int64(ClockSkew/time.Second)
}
