package auth

import (
	"context"
	"runtime"
	"sync"
	"time"
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

// HashMemory is what one hash holds while it runs (argon2id's memory
// parameter): concurrent hashes multiply it.
const HashMemory = 19 << 20

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

// Passwords hashes and verifies passwords under a process-wide bound: at
// most Concurrency hashes run at once (each holds HashMemory), at most
// Queue callers wait for a turn, each at most Wait; anyone else is answered
// RATE_LIMITED at once. It bounds this process's memory and CPU, which is
// why it is the one piece of rate limiting kept in the process: it guards
// the process, not a budget shared by replicas.
type Passwords struct {
	slots   chan struct{}
	waiters chan struct{}
	wait    time.Duration
}

// Hashing limits' defaults.
const (
	// DefaultHashQueuePerSlot is how many callers may wait per concurrent
	// hash.
	DefaultHashQueuePerSlot = 4
	// DefaultHashWait bounds a caller's wait for a turn.
	DefaultHashWait = time.Second
)

// DefaultHashConcurrency is 2 × GOMAXPROCS, but at most what two fifths
// of memoryLimit hold counting each hash twice (its HashMemory, and as much
// garbage left until the collector runs), and at least one. memoryLimit 0
// is no limit. At the default 384 MiB that is 4.
func DefaultHashConcurrency(memoryLimit int64) int {
	n := 2 * runtime.GOMAXPROCS(0)
	if memoryLimit > 0 {
		n = min(n, int(memoryLimit*2/5/(2*HashMemory)))
	}
	return max(n, 1)
}

// NewPasswords returns a limiter running at most concurrency hashes, with
// at most queue callers waiting at most wait each.
func NewPasswords(concurrency, queue int, wait time.Duration) *Passwords {
	return &Passwords{slots: make(chan struct{}, max(concurrency, 1)), waiters: make(chan struct{}, max(queue, 0)), wait: wait}
}

// errHashBusy is the answer when every hashing turn is taken.
func errHashBusy() error {
	return apperr.TooMany(time.Second, "too many sign-ins and sign-ups at once; try again in a moment")
}

// Acquire waits for a hashing turn: at once when one is free, else in the
// queue for at most the limiter's wait. A full queue, the wait running out
// or ctx ending answers RATE_LIMITED. The turn is the caller's until
// Release.
func (p *Passwords) Acquire(ctx context.Context) (*Turn, error) {
	select {
	case p.slots <- struct{}{}:
		return &Turn{p: p}, nil
	default:
	}
	select {
	case p.waiters <- struct{}{}:
	default:
		return nil, errHashBusy()
	}
	defer func() { <-p.waiters }()
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return &Turn{p: p}, nil
	case <-t.C:
		return nil, errHashBusy()
	case <-ctx.Done():
		return nil, errHashBusy()
	}
}

// Hash returns the argon2id PHC string of pw, in a turn of its own.
func (p *Passwords) Hash(ctx context.Context, pw string) (string, error) {
	t, err := p.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer t.Release()
	return t.Hash(pw)
}

// Check reports whether pw matches hash (see Turn.Check), in a turn of its
// own.
func (p *Passwords) Check(ctx context.Context, pw string, hash *string) (bool, error) {
	t, err := p.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer t.Release()
	return t.Check(pw, hash), nil
}

// Turn is a caller's hashing turn: the only way to hash or verify.
type Turn struct {
	p    *Passwords
	once sync.Once
}

// Release gives the turn back; later calls do nothing. The hash's memory
// (HashMemory of garbage once it is done) is collected before the next
// caller gets the turn: the server runs the collector at GOGC=150 (it was
// 200 when this was measured), which would otherwise let a storm of
// sign-ins leave several hashes' worth of garbage on the heap (peak RSS
// 322 MiB at 200 in TestMemoryExhaustionNoTokenNeeded instead of under 300). A collection costs a few milliseconds, against a
// hash's tens.
func (t *Turn) Release() {
	t.once.Do(func() {
		runtime.GC()
		<-t.p.slots
	})
}

// Hash returns the argon2id PHC string of pw.
func (t *Turn) Hash(pw string) (string, error) {
	return argon2id.CreateHash(pw, passwordParams)
}

// Check reports whether pw matches hash. A nil hash (an account without a
// password, such as an SSO user) still costs one hash computation, so
// timing does not tell accounts apart.
func (t *Turn) Check(pw string, hash *string) bool {
	return checkPassword(pw, hash)
}

func checkPassword(pw string, hash *string) bool {
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
