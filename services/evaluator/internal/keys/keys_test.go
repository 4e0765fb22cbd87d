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
	"github.com/switchyard/switchyard/pkg/sdkkey"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
)

type fakeLookup struct {
	keys  map[[32]byte]postgres.KeyInfo
	down  bool
	calls int
}

func (f *fakeLookup) LookupSDKKey(_ context.Context, digest []byte) (postgres.KeyInfo, error) {
	f.calls++
	if f.down {
		return postgres.KeyInfo{}, errors.New("connection refused")
	}
	k, ok := f.keys[[32]byte(digest)]
	if !ok {
		return k, postgres.ErrUnknownKey
	}
	return k, nil
}

func TestAuthenticate(t *testing.T) {
	good, _, _ := sdkkey.New()
	unknown, _, _ := sdkkey.New()
	revoked, _, _ := sdkkey.New()
	expiring, _, _ := sdkkey.New()
	now := time.Now()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	src := &fakeLookup{keys: map[[32]byte]postgres.KeyInfo{
		sha256.Sum256([]byte(good)):     {ID: "1", EnvironmentID: "prod"},
		sha256.Sum256([]byte(revoked)):  {ID: "2", EnvironmentID: "prod", RevokedAt: &past},
		sha256.Sum256([]byte(expiring)): {ID: "3", EnvironmentID: "prod", ExpiresAt: &future},
	}}
	a := New(src, time.Minute, time.Second)
	a.now = func() time.Time { return now }
	ctx := context.Background()

	if env, err := a.Authenticate(ctx, good); err != nil || env != "prod" {
		t.Fatalf("good key: %v %v", env, err)
	}
	for _, k := range []string{"", "garbage", unknown, revoked} {
		if _, err := a.Authenticate(ctx, k); domain.ErrorCode(err) != domain.CodeUnauthorized {
			t.Errorf("%q: %v", k, err)
		}
	}
	calls := src.calls
	a.Authenticate(ctx, good)
	a.Authenticate(ctx, unknown)
	if src.calls != calls {
		t.Error("cached keys, known and unknown, must not be looked up again")
	}
	if _, err := a.Authenticate(ctx, expiring); err != nil {
		t.Errorf("key in its grace period: %v", err)
	}
	now = now.Add(2 * time.Hour) // past the expiry, and past the cache TTL
	if _, err := a.Authenticate(ctx, expiring); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("expired key: %v", err)
	}

	// The database goes down: keys seen before keep working, a new one gets 503.
	src.down = true
	if env, err := a.Authenticate(ctx, good); err != nil || env != "prod" {
		t.Errorf("known key with the database down: %v %v", env, err)
	}
	calls = src.calls
	a.Authenticate(ctx, good)
	if src.calls != calls {
		t.Error("while the database is down, a known key is checked again at most once a second")
	}
	fresh, _, _ := sdkkey.New()
	if _, err := a.Authenticate(ctx, fresh); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("unknown key with the database down must be 503, not 401: %v", err)
	}

	// A revocation invalidates the environment: its keys are checked again.
	src.down = false
	src.keys[sha256.Sum256([]byte(good))] = postgres.KeyInfo{ID: "1", EnvironmentID: "prod", RevokedAt: &past}
	a.DropEnvironment("prod")
	if _, err := a.Authenticate(ctx, good); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Errorf("revoked after the drop: %v", err)
	}
}

// slowLookup answers the first call after a delay, and fails every later one.
type slowLookup struct {
	info  postgres.KeyInfo
	calls atomic.Int64
	delay time.Duration
}

func (s *slowLookup) LookupSDKKey(context.Context, []byte) (postgres.KeyInfo, error) {
	if s.calls.Add(1) == 1 {
		time.Sleep(s.delay)
		return s.info, nil
	}
	return postgres.KeyInfo{}, errors.New("connection refused")
}

// TestColdStartThenOutage: requests that arrive together before a key is cached share
// one lookup, so when the database fails right after, none of them is left without the
// answer.
func TestColdStartThenOutage(t *testing.T) {
	key, _, _ := sdkkey.New()
	src := &slowLookup{info: postgres.KeyInfo{ID: "1", EnvironmentID: "prod"}, delay: 50 * time.Millisecond}
	a := New(src, time.Minute, time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.Authenticate(context.Background(), key); err != nil {
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
