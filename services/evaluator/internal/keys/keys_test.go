package keys

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/secret"
)

type fakeLookup struct {
	keys  map[[32]byte]Key
	down  bool
	calls int
}

func (f *fakeLookup) LookupSDKKey(_ context.Context, digest []byte) (Key, error) {
	f.calls++
	if f.down {
		return Key{}, errors.New("connection refused")
	}
	k, ok := f.keys[[32]byte(digest)]
	if !ok {
		return k, ErrUnknownKey
	}
	return k, nil
}

func (f *fakeLookup) SDKKeyByID(_ context.Context, id string) (Key, error) {
	f.calls++
	if f.down {
		return Key{}, errors.New("connection refused")
	}
	for _, k := range f.keys {
		if k.ID == id {
			return k, nil
		}
	}
	return Key{}, ErrUnknownKey
}

func TestValid(t *testing.T) {
	past := time.Now().Add(-time.Minute)
	src := &fakeLookup{keys: map[[32]byte]Key{
		{1}: {ID: "live", EnvironmentID: "prod", Kind: "client"},
		{2}: {ID: "revoked", EnvironmentID: "prod", RevokedAt: &past},
		{3}: {ID: "expired", EnvironmentID: "prod", ExpiresAt: &past},
	}}
	a := New(src, time.Minute, time.Second, nil)
	ctx := context.Background()
	if k, err := a.Valid(ctx, "live", "prod"); err != nil || k.EnvironmentID != "prod" || k.Kind != "client" {
		t.Errorf("live key: %+v %v", k, err)
	}
	for _, id := range []string{"revoked", "expired"} {
		if _, err := a.Valid(ctx, id, "prod"); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Errorf("%s key: %v", id, err)
		}
	}
	if _, err := a.Valid(ctx, "live", "staging"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("a key of another environment: %v", err)
	}
	if _, err := a.Valid(ctx, "gone", "prod"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("unknown key: %v", err)
	}
	// Answers are reused: a client opening stream after stream costs one query.
	calls := src.calls
	for range 5 {
		a.Valid(ctx, "live", "prod")
	}
	if src.calls != calls {
		t.Errorf("%d queries for answers held", src.calls-calls)
	}
	// A change of the environment (a revocation is one) drops them.
	src.keys[[32]byte{1}] = Key{ID: "live", EnvironmentID: "prod", RevokedAt: &past}
	a.DropEnvironment("prod")
	if _, err := a.Valid(ctx, "live", "prod"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("revoked, after the environment changed: %v", err)
	}
	a.DropAll()
	src.down = true
	if _, err := a.Valid(ctx, "live", "prod"); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("database down must be neither valid nor a refusal: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	good, _, _ := secret.SDKKey.New()
	unknown, _, _ := secret.SDKKey.New()
	revoked, _, _ := secret.SDKKey.New()
	expiring, _, _ := secret.SDKKey.New()
	now := time.Now()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	src := &fakeLookup{keys: map[[32]byte]Key{
		sha256.Sum256([]byte(good)):     {ID: "1", EnvironmentID: "prod"},
		sha256.Sum256([]byte(revoked)):  {ID: "2", EnvironmentID: "prod", RevokedAt: &past},
		sha256.Sum256([]byte(expiring)): {ID: "3", EnvironmentID: "prod", ExpiresAt: &future},
	}}
	a := New(src, time.Minute, time.Second, nil)
	a.now = func() time.Time { return now }
	ctx := context.Background()

	if k, err := a.Authenticate(ctx, good, "10.0.0.1"); err != nil || k.EnvironmentID != "prod" {
		t.Fatalf("good key: %v %v", k, err)
	}
	for _, k := range []string{"", "garbage", unknown, revoked, typo(good)} {
		if _, err := a.Authenticate(ctx, k, "10.0.0.1"); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Errorf("%q: %v", k, err)
		}
	}
	calls := src.calls
	a.Authenticate(ctx, good, "10.0.0.1")
	a.Authenticate(ctx, unknown, "10.0.0.1")
	if src.calls != calls {
		t.Error("cached keys, known and unknown, must not be looked up again")
	}
	if _, err := a.Authenticate(ctx, expiring, "10.0.0.1"); err != nil {
		t.Errorf("key in its grace period: %v", err)
	}
	now = now.Add(2 * time.Hour) // past the expiry, and past the cache TTL
	if _, err := a.Authenticate(ctx, expiring, "10.0.0.1"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("expired key: %v", err)
	}

	// The database goes down: keys seen before keep working, a new one gets 503.
	src.down = true
	if k, err := a.Authenticate(ctx, good, "10.0.0.1"); err != nil || k.EnvironmentID != "prod" {
		t.Errorf("known key with the database down: %v %v", k, err)
	}
	calls = src.calls
	a.Authenticate(ctx, good, "10.0.0.1")
	if src.calls != calls {
		t.Error("while the database is down, a known key is checked again at most once a second")
	}
	fresh, _, _ := secret.SDKKey.New()
	if _, err := a.Authenticate(ctx, fresh, "10.0.0.1"); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("unknown key with the database down must be 503, not 401: %v", err)
	}

	// A revocation invalidates the environment: its keys are checked again.
	src.down = false
	src.keys[sha256.Sum256([]byte(good))] = Key{ID: "1", EnvironmentID: "prod", RevokedAt: &past}
	a.DropEnvironment("prod")
	if _, err := a.Authenticate(ctx, good, "10.0.0.1"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("revoked after the drop: %v", err)
	}
}

// slowLookup answers the first call after a delay, and fails every later one.
type slowLookup struct {
	info  Key
	calls atomic.Int64
	delay time.Duration
}

func (s *slowLookup) SDKKeyByID(context.Context, string) (Key, error) { return s.info, nil }

func (s *slowLookup) LookupSDKKey(context.Context, []byte) (Key, error) {
	if s.calls.Add(1) == 1 {
		time.Sleep(s.delay)
		return s.info, nil
	}
	return Key{}, errors.New("connection refused")
}

// TestColdStartThenOutage: requests that arrive together before a key is cached share
// one lookup, so when the database fails right after, none of them is left without the
// answer.
func TestColdStartThenOutage(t *testing.T) {
	key, _, _ := secret.SDKKey.New()
	src := &slowLookup{info: Key{ID: "1", EnvironmentID: "prod"}, delay: 50 * time.Millisecond}
	a := New(src, time.Minute, time.Second, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Authenticate(context.Background(), key, "10.0.0.1"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a request of the cold start failed: %v", err)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("%d lookups for one key, want 1", n)
	}
}

// TestRefusedWithoutLookup: keys whose checksum is wrong (typos, truncations, made-up
// keys) never reach the database.
func TestRefusedWithoutLookup(t *testing.T) {
	src := &fakeLookup{keys: map[[32]byte]Key{}}
	a := New(src, time.Minute, time.Second, nil)
	good, _, _ := secret.SDKKey.New()
	for _, k := range []string{"garbage", good[:len(good)-1], typo(good), "sy_sdk_" + good[7:len(good)-6] + "000000"} {
		if _, err := a.Authenticate(context.Background(), k, "10.0.0.1"); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Errorf("%q: %v", k, err)
		}
	}
	if src.calls != 0 {
		t.Fatalf("%d lookups for keys whose checksum is wrong", src.calls)
	}
	// A key of the format before checksums is still looked up, so it keeps working.
	legacy := good[:len(good)-6]
	src.keys[sha256.Sum256([]byte(legacy))] = Key{ID: "1", EnvironmentID: "prod"}
	if k, err := a.Authenticate(context.Background(), legacy, "10.0.0.1"); err != nil || k.EnvironmentID != "prod" {
		t.Fatalf("legacy key: %v %v", k, err)
	}
}

// TestUnknownKeysDoNotEvictKnown: a flood of well-formed unknown keys, more than the
// cache holds, leaves the known keys cached.
func TestUnknownKeysDoNotEvictKnown(t *testing.T) {
	good, _, _ := secret.SDKKey.New()
	src := &fakeLookup{keys: map[[32]byte]Key{sha256.Sum256([]byte(good)): {ID: "1", EnvironmentID: "prod"}}}
	a := New(src, time.Minute, time.Second, nil)
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, good, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	for range maxUnknown + 500 {
		k, _, _ := secret.SDKKey.New()
		a.Authenticate(ctx, k, "10.0.0.2")
	}
	known, unknown := a.Len()
	if known != 1 || unknown > maxUnknown {
		t.Fatalf("known %d, unknown %d (bound %d)", known, unknown, maxUnknown)
	}
	calls := src.calls
	if _, err := a.Authenticate(ctx, good, "10.0.0.1"); err != nil || src.calls != calls {
		t.Fatalf("the known key was evicted: %v, %d new lookups", err, src.calls-calls)
	}
}

// memLimiter is an in-process failure counter with the Limiter contract.
type memLimiter struct {
	limit int
	n     map[string]int
}

func (m *memLimiter) Blocked(_ context.Context, k string) (bool, time.Duration) {
	return m.n[k] >= m.limit, time.Minute
}
func (m *memLimiter) Allow(_ context.Context, k string) (bool, time.Duration) {
	m.n[k]++
	return m.n[k] <= m.limit, time.Minute
}

// TestFailureLimit: an address that keeps failing is refused with 429 before any
// lookup; other addresses, and keys the database confirmed, are not held up.
func TestFailureLimit(t *testing.T) {
	good, _, _ := secret.SDKKey.New()
	revoked, _, _ := secret.SDKKey.New()
	past := time.Now().Add(-time.Hour)
	src := &fakeLookup{keys: map[[32]byte]Key{
		sha256.Sum256([]byte(good)):    {ID: "1", EnvironmentID: "prod"},
		sha256.Sum256([]byte(revoked)): {ID: "2", EnvironmentID: "prod", RevokedAt: &past},
	}}
	lim := &memLimiter{limit: 3, n: map[string]int{}}
	a := New(src, time.Minute, time.Second, lim)
	ctx := context.Background()
	for i, k := range []string{"junk", revoked, "sy_sdk_nope"} {
		if _, err := a.Authenticate(ctx, k, "10.6.6.6"); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	calls := src.calls
	guess, _, _ := secret.SDKKey.New()
	_, err := a.Authenticate(ctx, guess, "10.6.6.6")
	if domain.ErrorCode(err) != domain.CodeRateLimited || domain.RetryAfter(err) != 60 {
		t.Fatalf("after 3 failures: %v (retry after %d)", err, domain.RetryAfter(err))
	}
	if src.calls != calls {
		t.Fatal("a blocked client still cost a lookup")
	}
	if _, err := a.Authenticate(ctx, guess, "10.7.7.7"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Fatalf("another address: %v", err)
	}
	// The good key, confirmed before, works from the blocked address; a missing key
	// is not a failure.
	if _, err := a.Authenticate(ctx, good, "10.7.7.7"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, good, "10.6.6.6"); err != nil {
		t.Fatalf("a confirmed key from a blocked address: %v", err)
	}
	// Still so after its cache entry was dropped (any change to its environment).
	a.DropEnvironment("prod")
	if _, err := a.Authenticate(ctx, good, "10.6.6.6"); err != nil {
		t.Fatalf("a confirmed key from a blocked address, after a drop: %v", err)
	}
	before := lim.n["10.7.7.7"]
	a.Authenticate(ctx, "", "10.7.7.7")
	if lim.n["10.7.7.7"] != before {
		t.Fatal("a request without a key counted as a failure")
	}
}

// TestDropAll: after a resubscription every cached key is checked again, so a
// revocation whose message was missed takes effect at once.
func TestDropAll(t *testing.T) {
	good, _, _ := secret.SDKKey.New()
	src := &fakeLookup{keys: map[[32]byte]Key{sha256.Sum256([]byte(good)): {ID: "1", EnvironmentID: "prod"}}}
	a := New(src, time.Hour, time.Second, nil)
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, good, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Second)
	src.keys[sha256.Sum256([]byte(good))] = Key{ID: "1", EnvironmentID: "prod", RevokedAt: &past}
	if _, err := a.Authenticate(ctx, good, "10.0.0.1"); err != nil {
		t.Fatal("the cached answer should still hold before the drop")
	}
	a.DropAll()
	if _, err := a.Authenticate(ctx, good, "10.0.0.1"); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Fatalf("revoked key after DropAll: %v", err)
	}
}

// typo changes a key's last character.
func typo(key string) string {
	if key[len(key)-1] == 'x' {
		return key[:len(key)-1] + "y"
	}
	return key[:len(key)-1] + "x"
}

// TestDropKeepsFallback: a change to the environment (or a resubscription) right
// before PostgreSQL goes down leaves the keys seen before working, stale if error,
// rather than turning every request into a 503 until the database returns.
func TestDropKeepsFallback(t *testing.T) {
	good, _, _ := secret.SDKKey.New()
	src := &fakeLookup{keys: map[[32]byte]Key{sha256.Sum256([]byte(good)): {ID: "1", EnvironmentID: "prod"}}}
	a := New(src, time.Hour, time.Second, nil)
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, good, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	for name, drop := range map[string]func(){"DropEnvironment": func() { a.DropEnvironment("prod") }, "DropAll": a.DropAll} {
		drop()
		src.down = true
		if k, err := a.Authenticate(ctx, good, "10.0.0.1"); err != nil || k.EnvironmentID != "prod" {
			t.Errorf("after %s with the database down: %v %v", name, k, err)
		}
		src.down = false
	}
}
