// Package keys authenticates evaluator requests by their per-environment SDK key.
//
//   - A key whose checksum is wrong (a typo, a truncation, random text) is refused
//     without any I/O (package secret).
//   - A lookup is cached for a short time (SDK_KEY_CACHE_TTL); an invalidation of the
//     key's environment, which a revocation and a rotation cause, drops it at once, and
//     a resubscription to invalidations (after which messages may have been missed)
//     drops every cached key.
//   - Unknown keys are remembered apart from known ones, in a smaller table, so that a
//     flood of made-up keys cannot push real keys out of the cache.
//   - Failed authentications are counted per client address; past the limit, a client
//     gets 429 with Retry-After until its window ends, and costs no lookup meanwhile.
//     Requests with a key the database has confirmed never touch the limiter, so one
//     misconfigured client behind a shared address does not lock out the others.
//   - When PostgreSQL is down, keys seen before keep working (stale if error); an
//     unknown key then gets 503, never a wrong 401.
package keys

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/pkg/platform/secret"
)

// Key is what authentication needs to know about an SDK key.
type Key struct {
	ID            string
	EnvironmentID string
	Kind          string // domain.SDKKeyServer or domain.SDKKeyClient
	ExpiresAt     *time.Time
	RevokedAt     *time.Time
}

// ErrUnknownKey is the error of a Lookup that finds no key with the digest.
var ErrUnknownKey = errors.New("unknown SDK key")

// Lookup finds keys in the database. A key it does not find is ErrUnknownKey; any other
// error means it could not look.
type Lookup interface {
	LookupSDKKey(ctx context.Context, digest []byte) (Key, error)
	SDKKeyByID(ctx context.Context, id string) (Key, error)
}

// Limiter counts failed authentications per client.
type Limiter interface {
	Blocked(ctx context.Context, key string) (bool, time.Duration)
	Allow(ctx context.Context, key string) (bool, time.Duration)
}

type lookup struct {
	info  Key
	asked time.Time
}

type entry struct {
	info    Key
	fetched time.Time
}

// Authenticator maps SDK keys to environments.
type Authenticator struct {
	src      Lookup
	ttl      time.Duration
	timeout  time.Duration
	failures Limiter // nil: no limit
	now      func() time.Time

	// Concurrent lookups of one key share a single database query: a cold start
	// does not send every waiting request to the database, and none of them is left
	// without the answer another one got.
	group singleflight.Group

	mu      sync.RWMutex
	known   map[[sha256.Size]byte]*entry
	unknown map[[sha256.Size]byte]time.Time // when the lookup said so
	// confirmed holds the digests the database has ever confirmed: they skip the
	// failure limiter even after their cache entry was dropped (an invalidation, a
	// resubscription), so a neighbour's failures behind one address never hold up a
	// real key.
	confirmed map[[sha256.Size]byte]struct{}
	// byID holds the answers of Valid.
	byID map[string]*entry
}

// negativeTTL is how long an unknown key stays unknown without asking again.
const negativeTTL = 5 * time.Second

// Bounds of the two tables. Known keys come only from the database, so their table
// holds every real key of a large installation; unknown keys come from clients, so
// theirs is smaller and forgets first.
const (
	maxKnown   = 100_000
	maxUnknown = 10_000
)

// New returns an authenticator that reuses lookups for ttl, gives each lookup timeout,
// and limits failed authentications per client with failures (nil for no limit).
func New(src Lookup, ttl, timeout time.Duration, failures Limiter) *Authenticator {
	return &Authenticator{src: src, ttl: ttl, timeout: timeout, failures: failures, now: time.Now,
		known: map[[sha256.Size]byte]*entry{}, unknown: map[[sha256.Size]byte]time.Time{}, confirmed: map[[sha256.Size]byte]struct{}{},
		byID: map[string]*entry{}}
}

var (
	errMissing = domain.Errorf(domain.CodeUnauthorized, "missing SDK key: send Authorization: Bearer <key> or X-API-Key")
	errInvalid = domain.Errorf(domain.CodeUnauthorized, "invalid SDK key")
	errRevoked = domain.Errorf(domain.CodeUnauthorized, "this SDK key is revoked")
	errExpired = domain.Errorf(domain.CodeUnauthorized, "this SDK key has expired")
	errGone    = domain.Errorf(domain.CodeUnauthorized, "this SDK key no longer exists in its environment")
)

// Authenticate returns what is known of key (its environment, id, kind), for a
// request from client (its address, as the HTTP layer trusts it; an IPv6 client counts
// by its /64).
func (a *Authenticator) Authenticate(ctx context.Context, key, client string) (Key, error) {
	if key == "" {
		return Key{}, errMissing
	}
	// Hashed from a stack buffer: converting the key would allocate on every request.
	var buf [128]byte
	digest := sha256.Sum256(append(buf[:0], key...))
	now := a.now()
	a.mu.RLock()
	e := a.known[digest]
	_, confirmed := a.confirmed[digest]
	a.mu.RUnlock()
	if e != nil && now.Sub(e.fetched) < a.ttl {
		if err := a.check(e.info, now); err == nil {
			return e.info, nil
		}
	}
	// A key the database has never confirmed may be a guess: a client that failed too
	// often is refused before it costs anything more. A key it has confirmed (even one
	// due for a fresh lookup) is never held up by its neighbours behind one address.
	if a.failures != nil && !confirmed {
		// Normalised here, on the path that needs it, not for every request.
		client = httpapi.ClientKey(client)
		if blocked, wait := a.failures.Blocked(ctx, client); blocked {
			return Key{}, domain.RateLimited("too many failed authentications from this address", wait)
		}
	}
	env, err := a.authenticate(ctx, key, digest, e, now)
	if domain.ErrorCode(err) == domain.CodeUnauthorized && a.failures != nil {
		if confirmed { // not normalised above
			client = httpapi.ClientKey(client)
		}
		a.failures.Allow(ctx, client)
	}
	return env, err
}

func (a *Authenticator) authenticate(ctx context.Context, key string, digest [sha256.Size]byte, e *entry, now time.Time) (Key, error) {
	if secret.SDKKey.Check(key) == secret.Invalid {
		return Key{}, errInvalid
	}
	if e == nil || now.Sub(e.fetched) >= a.ttl {
		a.mu.RLock()
		at, unknown := a.unknown[digest]
		a.mu.RUnlock()
		if unknown && now.Sub(at) < negativeTTL {
			return Key{}, errInvalid
		}
		v, err, _ := a.group.Do(string(digest[:]), func() (any, error) {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
			defer cancel()
			// The answer is as old as the moment the query started: a request that
			// joins it later must not date it to its own arrival, or a key revoked
			// while the query ran would be trusted past the TTL.
			asked := a.now()
			info, err := a.src.LookupSDKKey(lctx, digest[:])
			return lookup{info: info, asked: asked}, err
		})
		res, _ := v.(lookup)
		info := res.info
		if err != nil && e == nil {
			// Another request may have fetched the key while this one waited.
			a.mu.RLock()
			e = a.known[digest]
			a.mu.RUnlock()
		}
		switch {
		case err == nil:
			e = &entry{info: info, fetched: res.asked}
			a.putKnown(digest, e)
		case errors.Is(err, ErrUnknownKey):
			a.putUnknown(digest, now)
			return Key{}, errInvalid
		case e != nil:
			// The database is unreachable: keep trusting what we knew, and ask again in
			// a second rather than on every request.
			e = &entry{info: e.info, fetched: now.Add(time.Second - a.ttl)}
			a.putKnown(digest, e)
		default:
			return Key{}, domain.Wrap(domain.CodeUnavailable, err, "cannot check the SDK key right now; retry")
		}
	}
	if err := a.check(e.info, now); err != nil {
		return Key{}, err
	}
	return e.info, nil
}

func (a *Authenticator) check(k Key, now time.Time) error {
	switch {
	case k.RevokedAt != nil:
		return errRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return errExpired
	}
	return nil
}

// Valid asks the database whether the key with this id still works in the
// environment: the keys behind open streams are checked again after every change to
// their environment (a revocation is one), and a stream token is checked before its
// stream opens. It returns the key, or a 401 when the key is revoked, expired, gone or
// of another environment, or a 503 when the database cannot say.
//
// Answers are reused for the cache TTL, like lookups by key, and dropped with them
// when the key's environment changes: a client cannot make each stream it opens cost
// a query, and a revocation is seen at once.
func (a *Authenticator) Valid(ctx context.Context, id, environmentID string) (Key, error) {
	now := a.now()
	a.mu.RLock()
	e := a.byID[id]
	a.mu.RUnlock()
	if e == nil || now.Sub(e.fetched) >= a.ttl {
		v, err, _ := a.group.Do("id:"+id, func() (any, error) {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
			defer cancel()
			asked := a.now()
			k, err := a.src.SDKKeyByID(lctx, id)
			return lookup{info: k, asked: asked}, err
		})
		switch {
		case errors.Is(err, ErrUnknownKey):
			return Key{}, errGone
		case err != nil:
			return Key{}, domain.Wrap(domain.CodeUnavailable, err, "cannot check the SDK key right now; retry")
		}
		res := v.(lookup)
		e = &entry{info: res.info, fetched: res.asked}
		a.mu.Lock()
		if len(a.byID) >= maxKnown {
			clear(a.byID)
		}
		a.byID[id] = e
		a.mu.Unlock()
	}
	if e.info.EnvironmentID != environmentID {
		return Key{}, errGone
	}
	return e.info, a.check(e.info, now)
}

func (a *Authenticator) putKnown(digest [sha256.Size]byte, e *entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.unknown, digest)
	if len(a.confirmed) < maxKnown {
		a.confirmed[digest] = struct{}{}
	}
	if _, ok := a.known[digest]; !ok && len(a.known) >= maxKnown {
		now := a.now()
		for k, old := range a.known {
			if now.Sub(old.fetched) > a.ttl || len(a.known) > maxKnown/2 {
				delete(a.known, k)
			}
		}
	}
	a.known[digest] = e
}

func (a *Authenticator) putUnknown(digest [sha256.Size]byte, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.unknown) >= maxUnknown {
		for k, t := range a.unknown {
			if at.Sub(t) >= negativeTTL || len(a.unknown) > maxUnknown/2 {
				delete(a.unknown, k)
			}
		}
	}
	a.unknown[digest] = at
}

// DropEnvironment forgets the keys of an environment, so the next request checks them
// again (a revocation or a rotation invalidates the environment), and every unknown
// key (one may just have been created there).
//
// Keys are marked due rather than forgotten: what the database said last stays the
// fallback when it cannot be asked, or a change just before PostgreSQL goes down
// would turn every request with a key seen a moment ago into a 503.
func (a *Authenticator) DropEnvironment(environmentID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.known {
		if e.info.EnvironmentID == environmentID {
			a.known[k] = &entry{info: e.info} // entries are read unlocked: a copy
		}
	}
	for id, e := range a.byID {
		if e.info.EnvironmentID == environmentID {
			delete(a.byID, id)
		}
	}
	clear(a.unknown)
}

// DropAll makes every cached key due, after invalidations may have been missed (a
// resubscription): a revocation among them must not wait for the cache TTL. As in
// DropEnvironment, what the database said last stays the fallback.
func (a *Authenticator) DropAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.known {
		a.known[k] = &entry{info: e.info}
	}
	clear(a.unknown)
	clear(a.byID)
}

// Len returns the number of known and unknown keys held.
func (a *Authenticator) Len() (known, unknown int) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.known), len(a.unknown)
}
