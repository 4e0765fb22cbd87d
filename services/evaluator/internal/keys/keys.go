// Package keys authenticates evaluator requests by their per-environment SDK key. A
// lookup is cached for a short time; an invalidation of the key's environment (which a
// revocation causes) drops it at once. When PostgreSQL is down, keys seen before keep
// working (stale if error); an unknown key then gets 503, never a wrong 401.
package keys

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/sdkkey"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
)

// Lookup finds keys in the database.
type Lookup interface {
	LookupSDKKey(ctx context.Context, digest []byte) (postgres.KeyInfo, error)
}

type entry struct {
	info    postgres.KeyInfo
	unknown bool
	fetched time.Time
}

// Authenticator maps SDK keys to environments.
type Authenticator struct {
	src     Lookup
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	// Concurrent lookups of one key share a single database query: a cold start
	// does not send every waiting request to the database, and none of them is left
	// without the answer another one got.
	group singleflight.Group

	mu      sync.RWMutex
	entries map[[sha256.Size]byte]*entry
}

// negativeTTL is how long an unknown key stays unknown without asking again.
const negativeTTL = 5 * time.Second

// maxEntries bounds the cache; past it, the oldest half is forgotten.
const maxEntries = 100_000

// New returns an authenticator that reuses lookups for ttl and gives each lookup
// timeout.
func New(src Lookup, ttl, timeout time.Duration) *Authenticator {
	return &Authenticator{src: src, ttl: ttl, timeout: timeout, now: time.Now, entries: map[[sha256.Size]byte]*entry{}}
}

var (
	errMissing = domain.Errorf(domain.CodeUnauthorized, "missing SDK key: send Authorization: Bearer <key> or X-API-Key")
	errInvalid = domain.Errorf(domain.CodeUnauthorized, "invalid SDK key")
	errRevoked = domain.Errorf(domain.CodeUnauthorized, "this SDK key is revoked")
	errExpired = domain.Errorf(domain.CodeUnauthorized, "this SDK key has expired")
)

// Authenticate returns the environment of key.
func (a *Authenticator) Authenticate(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", errMissing
	}
	if !sdkkey.WellFormed(key) {
		return "", errInvalid
	}
	digest := sha256.Sum256([]byte(key))
	now := a.now()
	a.mu.RLock()
	e := a.entries[digest]
	a.mu.RUnlock()
	fresh := e != nil && (now.Sub(e.fetched) < a.ttl || (e.unknown && now.Sub(e.fetched) < negativeTTL))
	if !fresh {
		v, err, _ := a.group.Do(string(digest[:]), func() (any, error) {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
			defer cancel()
			return a.src.LookupSDKKey(lctx, digest[:])
		})
		info, _ := v.(postgres.KeyInfo)
		if err != nil && e == nil {
			// Another request may have fetched the key while this one waited.
			a.mu.RLock()
			e = a.entries[digest]
			a.mu.RUnlock()
		}
		switch {
		case err == nil:
			e = &entry{info: info, fetched: now}
		case errors.Is(err, postgres.ErrUnknownKey):
			e = &entry{unknown: true, fetched: now}
		case e != nil && !e.unknown:
			// The database is unreachable: keep trusting what we knew, and ask again in
			// a second rather than on every request.
			e = &entry{info: e.info, fetched: now.Add(time.Second - a.ttl)}
		default:
			return "", domain.Wrap(domain.CodeUnavailable, err, "cannot check the SDK key right now; retry")
		}
		a.put(digest, e)
	}
	switch {
	case e.unknown:
		return "", errInvalid
	case e.info.RevokedAt != nil:
		return "", errRevoked
	case e.info.ExpiresAt != nil && !now.Before(*e.info.ExpiresAt):
		return "", errExpired
	}
	return e.info.EnvironmentID, nil
}

func (a *Authenticator) put(digest [sha256.Size]byte, e *entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.entries) >= maxEntries {
		for k, old := range a.entries {
			if a.now().Sub(old.fetched) > a.ttl || len(a.entries) > maxEntries/2 {
				delete(a.entries, k)
			}
		}
	}
	a.entries[digest] = e
}

// DropEnvironment forgets the keys of an environment, so the next request checks them
// again (a revocation invalidates the environment).
func (a *Authenticator) DropEnvironment(environmentID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, e := range a.entries {
		if e.info.EnvironmentID == environmentID || e.unknown {
			delete(a.entries, k)
		}
	}
}
