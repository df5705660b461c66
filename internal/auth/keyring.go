package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/neosc/neosc/internal/store"
)

// The timing of database keys. Every replica reloads the keys every
// KeyRefresh; a rotated-in key starts signing KeyActivationDelay after the
// rotation, by when every replica has reloaded it and every client caching
// the JWKS for JWKSMaxAge has seen it, so no replica ever meets a token
// signed by a key it has not loaded yet. A replaced key keeps verifying until
// the longest token it may have signed has expired.
const (
	KeyRefresh         = time.Minute
	JWKSMaxAge         = 5 * time.Minute
	KeyActivationDelay = JWKSMaxAge + KeyRefresh
	// unknownKidReload bounds the reloads that tokens naming a key the
	// replica does not know can cause: one per interval at most.
	unknownKidReload = 10 * time.Second
	reloadTimeout    = 2 * time.Second
)

// ErrWrongKeyEncryptionKey is the start-up failure when the key-encryption
// key does not open the signing keys stored in the database.
var ErrWrongKeyEncryptionKey = errors.New("NEOSC_KEY_ENCRYPTION_KEY does not decrypt the signing keys stored in the database: it is not the key they were stored with")

// Keyring is the signing keys kept in the database (table signing_keys),
// shared by every replica: the private halves sealed with AES-256-GCM under
// the key-encryption key (NEOSC_KEY_ENCRYPTION_KEY), which never leaves the
// process. It is loaded at start, reloaded every KeyRefresh by Start, and
// for a token naming an unknown key at most once every 10 s; verifying a
// token otherwise runs no SQL.
type Keyring struct {
	st   *store.Store
	aead cipher.AEAD
	log  *slog.Logger
	now  func() time.Time

	state atomic.Pointer[[]ringKey] // generation ascending

	mu       sync.Mutex // one load at a time; guards lastLoad
	lastLoad time.Time
}

// ringKey is a loaded key: its row and both halves.
type ringKey struct {
	row  store.SigningKey
	priv jwk.Key
	pub  jwk.Key
}

// KeyringOptions configures OpenKeyring.
type KeyringOptions struct {
	// FirstKey supplies the key stored when the database has none; nil, or a
	// nil key, generates an Ed25519 key. A single-node install switching to
	// the database passes its key file, so its tokens keep working.
	FirstKey func() (jwk.Key, error)
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// OpenKeyring loads the keys stored in the database, after storing the
// first one when there is none. Replicas starting together race to store
// it; the unique generation lets exactly one insert win, and the others load
// the winner's. A key-encryption key that does not open the stored keys is
// ErrWrongKeyEncryptionKey.
func OpenKeyring(ctx context.Context, st *store.Store, kek []byte, o KeyringOptions) (*Keyring, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("NEOSC_KEY_ENCRYPTION_KEY: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Keyring{st: st, aead: aead, log: o.Log, now: o.Now}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	if k.now == nil {
		k.now = time.Now
	}
	for attempt := 0; attempt < 3; attempt++ {
		// The generation is read before the live keys: a replica that
		// stores the first key in between is either seen by the listing or
		// collides with this one's insert on the generation.
		gen, err := st.SigningKeys.MaxGeneration(ctx)
		if err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		if err := k.Refresh(ctx); err != nil {
			return nil, err
		}
		if len(k.keys()) > 0 {
			return k, nil
		}
		if err := k.storeFirst(ctx, gen+1, o.FirstKey); err != nil && !errors.Is(err, store.ErrDuplicate) {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
	}
	return nil, errors.New("signing keys: none stored, and storing the first one failed")
}

// storeFirst stores the first key, of generation gen: active at once,
// verifying as long as the API tokens already issued if it is a key file's
// (they were signed by it).
func (k *Keyring) storeFirst(ctx context.Context, gen int, first func() (jwk.Key, error)) error {
	var key jwk.Key
	if first != nil {
		var err error
		if key, err = first(); err != nil {
			return err
		}
	}
	now := k.clock()
	row, err := k.newRow(key, now, now)
	if err != nil {
		return err
	}
	if key != nil {
		latest, err := k.st.APITokens.LatestExpiry(ctx, now)
		if err != nil {
			return err
		}
		if !latest.IsZero() {
			row.KeepUntil = &latest
		}
	}
	row.Generation = gen
	return k.st.SigningKeys.Create(ctx, row)
}

// newRow seals key (a new one when nil) into a row created at now that
// signs from activates; the caller sets its generation.
func (k *Keyring) newRow(key jwk.Key, now, activates time.Time) (*store.SigningKey, error) {
	if key == nil {
		var err error
		if key, err = NewSigningKey(); err != nil {
			return nil, err
		}
	}
	priv, err := json.Marshal(key)
	if err != nil {
		return nil, err
	}
	pub, err := key.PublicKey()
	if err != nil {
		return nil, err
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := k.aead.Seal(nonce, nonce, priv, sealedWith(key.KeyID()))
	return &store.SigningKey{
		ID: key.KeyID(), Algorithm: key.Algorithm().String(),
		PublicKey: string(pubJSON), PrivateKey: base64.StdEncoding.EncodeToString(sealed),
		CreatedAt: now, ActivatesAt: activates,
	}, nil
}

// sealedWith is the additional data a key is sealed with: its kid, so a
// sealed private key cannot pass for another row's.
func sealedWith(kid string) []byte { return []byte("neosc signing key " + kid) }

// open unseals a stored key.
func (k *Keyring) open(row *store.SigningKey) (ringKey, error) {
	sealed, err := base64.StdEncoding.DecodeString(row.PrivateKey)
	if err != nil || len(sealed) < k.aead.NonceSize() {
		return ringKey{}, fmt.Errorf("signing key %s: stored private key is malformed", row.ID)
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], sealedWith(row.ID))
	if err != nil {
		return ringKey{}, fmt.Errorf("%w (key %s)", ErrWrongKeyEncryptionKey, row.ID)
	}
	priv, err := parseSigningKey(plain)
	if err != nil {
		return ringKey{}, fmt.Errorf("signing key %s: %w", row.ID, err)
	}
	if priv.KeyID() != row.ID {
		return ringKey{}, fmt.Errorf("signing key %s: stored key has kid %s", row.ID, priv.KeyID())
	}
	pub, err := priv.PublicKey()
	if err != nil {
		return ringKey{}, err
	}
	return ringKey{row: *row, priv: priv, pub: pub}, nil
}

func (k *Keyring) clock() time.Time { return k.now().UTC().Truncate(time.Microsecond) }

// Refresh reloads the keys that verify tokens now. On failure the keys
// loaded before stay in use.
func (k *Keyring) Refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.load(ctx)
}

// load reads and unseals the live keys; k.mu is held.
func (k *Keyring) load(ctx context.Context) error {
	now := k.clock()
	k.lastLoad = now
	rows, err := k.st.SigningKeys.ListLive(ctx, now)
	if err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	keys := make([]ringKey, 0, len(rows))
	for _, row := range rows {
		rk, err := k.open(row)
		if err != nil {
			return err
		}
		keys = append(keys, rk)
	}
	if len(keys) == 0 && len(k.keys()) > 0 {
		return errors.New("signing keys: the database holds no live key any more")
	}
	k.state.Store(&keys)
	return nil
}

// keys are the loaded keys, generation ascending (none before the first load).
func (k *Keyring) keys() []ringKey {
	if p := k.state.Load(); p != nil {
		return *p
	}
	return nil
}

// Start reloads the keys every KeyRefresh until ctx ends or the returned
// stop is called (which waits for the loop to end).
func (k *Keyring) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(KeyRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := k.Refresh(ctx); err != nil && ctx.Err() == nil {
					k.log.Warn("signing keys not reloaded; the keys loaded before stay in use", "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// Signer is the newest key whose activation has come (the oldest live key
// when none has, as for a replica whose clock runs behind the one that
// stored the first key).
func (k *Keyring) Signer() jwk.Key {
	keys := k.keys()
	now := k.now()
	signer := &keys[0]
	for i := range keys {
		if !keys[i].row.ActivatesAt.After(now) {
			signer = &keys[i]
		}
	}
	return signer.priv
}

// Verifier is the public key kid while it verifies tokens. An unknown kid
// reloads the keys first, at most once every 10 s.
func (k *Keyring) Verifier(ctx context.Context, kid string) (jwk.Key, bool) {
	if rk := k.find(kid); rk != nil {
		return rk.pub, rk.row.Verifies(k.now())
	}
	if !k.reloadFor(ctx, kid) {
		return nil, false
	}
	if rk := k.find(kid); rk != nil {
		return rk.pub, rk.row.Verifies(k.now())
	}
	return nil, false
}

func (k *Keyring) find(kid string) *ringKey {
	keys := k.keys()
	for i := range keys {
		if keys[i].row.ID == kid {
			return &keys[i]
		}
	}
	return nil
}

// reloadFor reloads the keys for a token naming kid, unless another request
// just did (then it reports whether that load found kid) or the last load
// is less than 10 s old.
func (k *Keyring) reloadFor(ctx context.Context, kid string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.find(kid) != nil {
		return true
	}
	if k.clock().Sub(k.lastLoad) < unknownKidReload {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	if err := k.load(ctx); err != nil {
		k.log.WarnContext(ctx, "signing keys not reloaded for an unknown kid", "err", err)
		return false
	}
	return true
}

// Public is the JWKS: every key that verifies tokens now, including a
// rotated-in key that does not sign yet (published before it is used).
func (k *Keyring) Public() jwk.Set {
	set := jwk.NewSet()
	now := k.now()
	for _, rk := range k.keys() {
		if rk.row.Verifies(now) {
			_ = set.AddKey(rk.pub)
		}
	}
	return set
}

// Signed makes key kid verify at least until exp (an API token it signed).
func (k *Keyring) Signed(ctx context.Context, tx *store.Store, kid string, exp time.Time) error {
	return tx.SigningKeys.KeepFor(ctx, kid, exp.UTC())
}

// Rotation is what Rotate did.
type Rotation struct {
	New     *store.SigningKey   // signs from New.ActivatesAt
	Retired []*store.SigningKey // verify until their ExpiresAt (or KeepUntil)
}

// Rotate stores a new key, through tx, that signs from KeyActivationDelay
// on, and retires the keys it replaces: each verifies until the longest
// session token it may still sign (until the new key has activated on
// every replica) has expired, sessionTTL later, or until the last API token
// it signed has (keep_until). Keys that verify nothing any more are deleted.
func (k *Keyring) Rotate(ctx context.Context, tx *store.Store, sessionTTL time.Duration) (*Rotation, error) {
	now := k.clock()
	gen, err := tx.SigningKeys.MaxGeneration(ctx)
	if err != nil {
		return nil, err
	}
	activates := now.Add(KeyActivationDelay)
	retired, err := tx.SigningKeys.Retire(ctx, gen+1, activates.Add(KeyRefresh+sessionTTL+ClockSkew))
	if err != nil {
		return nil, err
	}
	row, err := k.newRow(nil, now, activates)
	if err != nil {
		return nil, err
	}
	row.Generation = gen + 1
	if err := tx.SigningKeys.Create(ctx, row); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return nil, errors.New("another key rotation ran at the same time; it did what this one would have")
		}
		return nil, err
	}
	if err := tx.SigningKeys.DeleteExpired(ctx, now); err != nil {
		return nil, err
	}
	return &Rotation{New: row, Retired: retired}, nil
}
