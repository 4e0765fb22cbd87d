package snapshots_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
)

// pausing wraps a source: the first load it serves stops after reading, until the test
// lets it go on.
type pausing struct {
	src     snapshots.Source
	once    sync.Once
	loaded  chan int64
	proceed chan struct{}
}

func (p *pausing) LoadSnapshot(ctx context.Context, env string, minVersion int64) (domain.Snapshot, error) {
	s, err := p.src.LoadSnapshot(ctx, env, minVersion)
	p.once.Do(func() {
		p.loaded <- s.Version
		<-p.proceed
	})
	return s, err
}

func setup(t testing.TB) (*fixture.Env, *postgres.Store, *redis.Client) {
	t.Helper()
	url := testinfra.MigratedDB(t)
	env := fixture.New(t, url)
	store, err := postgres.Open(url, "", 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opt, _ := redis.ParseURL(testinfra.RedisURL(t))
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return env, store, rdb
}

// TestStaleRefillRace proves the race closed: a reader that loaded version N from
// PostgreSQL before a write of N+1 committed cannot leave N in Redis or in memory once
// the invalidation of N+1 has arrived.
func TestStaleRefillRace(t *testing.T) {
	env, store, rdb := setup(t)
	env.Flag(fixture.Bool("f", fixture.On()))
	src := &pausing{src: store, loaded: make(chan int64), proceed: make(chan struct{})}
	cache := snapshots.New(slog.New(slog.DiscardHandler), src, rdb, snapshots.Options{MaxAge: time.Hour, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
	ctx := context.Background()

	type got struct {
		version int64
		err     error
	}
	reader := make(chan got, 1)
	go func() {
		s, err := cache.Get(ctx, env.ID)
		if err != nil {
			reader <- got{err: err}
			return
		}
		reader <- got{version: s.Version}
	}()
	n := <-src.loaded // the reader holds version N, not yet stored anywhere

	// A write of N+1 commits, and the admin's outbox fences Redis and publishes it.
	next := env.SetConfig("f", fixture.Off())
	if next != n+1 {
		t.Fatalf("versions %d then %d", n, next)
	}
	if err := env.Publish(rdb, next); err != nil {
		t.Fatal(err)
	}
	cache.Invalidate(env.ID, next) // as the listener does on the message

	close(src.proceed) // the stale reader finishes
	r := <-reader
	if r.err != nil || r.version != n {
		t.Fatalf("the reader got %d %v; it may answer its own request with %d", r.version, r.err, n)
	}
	if held := cache.Held(env.ID); held == n {
		t.Fatalf("version %d left in memory after the invalidation of %d", n, next)
	}
	if _, v, err := rediscache.Load(ctx, rdb, env.ID); err == nil && v == n {
		t.Fatalf("version %d left in redis after the fence of %d", n, next)
	} else if err != nil && !errors.Is(err, rediscache.ErrMiss) {
		t.Fatal(err)
	}
	// The next reader gets the new version, and refills both levels with it.
	s, err := cache.Get(ctx, env.ID)
	if err != nil || s.Version != next {
		t.Fatalf("next read: %v %v", s, err)
	}
	if _, v, err := rediscache.Load(ctx, rdb, env.ID); err != nil || v != next {
		t.Errorf("redis holds %d %v, want %d", v, err, next)
	}
	if cache.Stats.Dropped.Load() != 1 {
		t.Errorf("dropped %d stale loads, want 1", cache.Stats.Dropped.Load())
	}
}

// TestLevels walks the levels: a cold load from PostgreSQL writes Redis back; a second
// cache (another replica) is served by Redis; memory serves after that.
func TestLevels(t *testing.T) {
	env, store, rdb := setup(t)
	env.Flag(fixture.Bool("f", fixture.On()))
	opt := snapshots.Options{MaxAge: time.Hour, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second}
	ctx := context.Background()
	a := snapshots.New(slog.New(slog.DiscardHandler), store, rdb, opt)
	if _, err := a.Get(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if a.Stats.DatabaseLoads.Load() != 1 {
		t.Fatalf("database loads %d", a.Stats.DatabaseLoads.Load())
	}
	b := snapshots.New(slog.New(slog.DiscardHandler), store, rdb, opt)
	for range 3 {
		if _, err := b.Get(ctx, env.ID); err != nil {
			t.Fatal(err)
		}
	}
	if b.Stats.RedisHits.Load() != 1 || b.Stats.MemoryHits.Load() != 2 || b.Stats.DatabaseLoads.Load() != 0 {
		t.Errorf("redis %d memory %d db %d", b.Stats.RedisHits.Load(), b.Stats.MemoryHits.Load(), b.Stats.DatabaseLoads.Load())
	}
	// Concurrent misses load once.
	c := snapshots.New(slog.New(slog.DiscardHandler), store, nil, opt)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = c.Get(ctx, env.ID) }()
	}
	wg.Wait()
	if n := c.Stats.DatabaseLoads.Load(); n != 1 {
		t.Errorf("50 concurrent misses made %d loads", n)
	}
	if _, err := a.Get(ctx, "00000000-0000-0000-0000-000000000000"); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("unknown environment: %v", err)
	}
}

// TestMaxAge checks that a snapshot is reloaded after its maximum age even when its
// invalidation message is missed (Redis was fenced, but this process did not hear it).
func TestMaxAge(t *testing.T) {
	env, store, rdb := setup(t)
	env.Flag(fixture.Bool("f", fixture.On()))
	cache := snapshots.New(slog.New(slog.DiscardHandler), store, rdb,
		snapshots.Options{MaxAge: time.Second, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
	ctx := context.Background()
	first, _ := cache.Get(ctx, env.ID)
	loaded := time.Now()
	next := env.SetConfig("f", fixture.Off())
	if err := env.Publish(rdb, next); err != nil { // fenced, but cache.Invalidate is never called
		t.Fatal(err)
	}
	if s, _ := cache.Get(ctx, env.ID); s.Version != first.Version {
		t.Fatal("without the message, memory serves until the maximum age")
	}
	var s *eval.Snapshot
	testinfra.Eventually(t, 10*time.Second, "the reload after the maximum age", func() bool {
		s, _ = cache.Get(ctx, env.ID)
		return s != nil && s.Version == next
	})
	if age := time.Since(loaded); age < time.Second || first.Version == next {
		t.Fatalf("reloaded after %v, before the maximum age of 1s", age)
	}
}

// TestOlderRedisCopyNeverShadowsMemory: when Redis still holds an older snapshot than
// memory (a write-back failed after a newer load), a refresh must neither serve nor
// keep the older copy; it asks PostgreSQL and repairs Redis.
func TestOlderRedisCopyNeverShadowsMemory(t *testing.T) {
	env, store, rdb := setup(t)
	env.Flag(fixture.Bool("f", fixture.On()))
	// Every Get refreshes: the test is about what a refresh does.
	cache := snapshots.New(slog.New(slog.DiscardHandler), store, rdb, snapshots.Options{MaxAge: time.Nanosecond, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
	ctx := context.Background()
	first, err := cache.Get(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	oldData, oldVersion, err := rediscache.Load(ctx, rdb, env.ID)
	if err != nil || oldVersion != first.Version {
		t.Fatalf("written back: %d %v", oldVersion, err)
	}
	// A newer version reaches memory from PostgreSQL (in the background: the request
	// that finds the snapshot past its age is answered from memory)...
	next := env.SetConfig("f", fixture.Off())
	if err := rdb.Del(ctx, rediscache.Key(env.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	testinfra.Eventually(t, 5*time.Second, "the newer version in memory", func() bool {
		s, err := cache.Get(ctx, env.ID)
		return err == nil && s.Version == next
	})
	// ...while Redis is left with the older copy, as after a failed write-back.
	testinfra.Eventually(t, 5*time.Second, "the write-back", func() bool {
		_, v, err := rediscache.Load(ctx, rdb, env.ID)
		return err == nil && v == next
	})
	if err := rdb.HSet(ctx, rediscache.Key(env.ID), "version", oldVersion, "data", oldData).Err(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s, err := cache.Get(ctx, env.ID)
		if err != nil || s.Version != next {
			t.Fatalf("served version %v (%v); memory held %d", s.Version, err, next)
		}
	}
	testinfra.Eventually(t, 5*time.Second, "Redis repaired by the revalidation", func() bool {
		_, v, err := rediscache.Load(ctx, rdb, env.ID)
		return err == nil && v == next
	})
	if got := cache.Held(env.ID); got != next {
		t.Fatalf("memory holds %d, want %d", got, next)
	}
	if cache.Stats.RedisOlder.Load() == 0 {
		t.Fatal("the older Redis answer was not counted")
	}
}

// TestRevalidateInBackground: a request that finds its snapshot past the maximum age
// is answered from memory at once, however long the reload takes; when Redis holds
// that very version, the snapshot is trusted again without being sent or compiled.
func TestRevalidateInBackground(t *testing.T) {
	env, store, rdb := setup(t)
	env.Flag(fixture.Bool("f", fixture.On()))
	src := &pausing{src: store, loaded: make(chan int64, 1), proceed: make(chan struct{})}
	src.once.Do(func() {}) // the first load does not pause
	cache := snapshots.New(slog.New(slog.DiscardHandler), src, rdb,
		snapshots.Options{MaxAge: 50 * time.Millisecond, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
	ctx := context.Background()
	first, err := cache.Get(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Redis holds the version in memory: past the age, it is confirmed, not reloaded.
	loads := cache.Stats.DatabaseLoads.Load() + cache.Stats.RedisHits.Load()
	time.Sleep(60 * time.Millisecond)
	if s, _ := cache.Get(ctx, env.ID); s != first {
		t.Fatal("not answered from memory")
	}
	testinfra.Eventually(t, 5*time.Second, "the confirmation", func() bool { return cache.Stats.Revalidated.Load() > 0 })
	if n := cache.Stats.DatabaseLoads.Load() + cache.Stats.RedisHits.Load(); n != loads {
		t.Errorf("%d loads to confirm a current snapshot", n-loads)
	}

	// A change whose message this process missed, and a reload that hangs: requests
	// are still answered at once, from memory.
	next := env.SetConfig("f", fixture.Off())
	if err := rdb.Del(ctx, rediscache.Key(env.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	src.once = sync.Once{} // the next load pauses
	time.Sleep(60 * time.Millisecond)
	began := time.Now()
	for range 100 {
		if s, err := cache.Get(ctx, env.ID); err != nil || s.Version != first.Version {
			t.Fatalf("during the reload: %v %v", s, err)
		}
	}
	if took := time.Since(began); took > time.Second {
		t.Fatalf("100 lookups took %v while a reload hung", took)
	}
	<-src.loaded // the reload is under way, and held
	close(src.proceed)
	testinfra.Eventually(t, 5*time.Second, "the reloaded snapshot", func() bool {
		s, _ := cache.Get(ctx, env.ID)
		return s.Version == next
	})
}

// failing is a source that can be made to fail, as PostgreSQL does when it is down.
type failing struct {
	snapshots.Source
	down atomic.Bool
}

func (f *failing) LoadSnapshot(ctx context.Context, env string, minVersion int64) (domain.Snapshot, error) {
	if f.down.Load() {
		return domain.Snapshot{}, errors.New("connection refused")
	}
	return f.Source.LoadSnapshot(ctx, env, minVersion)
}

// withFailingSource seeds one flag and returns a cache over a source that can be made
// to fail, with the flag's first snapshot already loaded.
func withFailingSource(t *testing.T) (*fixture.Env, *postgres.Store, *redis.Client, *failing, *snapshots.Cache, *eval.Snapshot) {
	t.Helper()
	env, store, rdb := setup(t)
	env.Flag(fixture.Bool("f", fixture.On()))
	src := &failing{Source: store}
	cache := snapshots.New(slog.New(slog.DiscardHandler), src, rdb, snapshots.Options{MaxAge: time.Hour, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
	first, err := cache.Get(context.Background(), env.ID)
	if err != nil {
		t.Fatal(err)
	}
	return env, store, rdb, src, cache, first
}

// TestInvalidatedSnapshotIsTheFallback: an invalidation (or a resubscription) that
// arrives just before PostgreSQL goes down must not leave the environment with nothing
// to serve: the older snapshot is served, stale and counted, until a store answers.
func TestInvalidatedSnapshotIsTheFallback(t *testing.T) {
	for _, how := range []string{"invalidation", "resubscription"} {
		t.Run(how, func(t *testing.T) {
			env, _, rdb, src, cache, first := withFailingSource(t)
			ctx := context.Background()
			next := env.SetConfig("f", fixture.Off())
			if err := env.Publish(rdb, next); err != nil { // the fence drops Redis's copy
				t.Fatal(err)
			}
			if how == "invalidation" {
				cache.Invalidate(env.ID, next)
			} else {
				cache.DropAll()
			}
			src.down.Store(true)
			s, err := cache.Get(ctx, env.ID)
			if err != nil || s.Version != first.Version {
				t.Fatalf("with PostgreSQL down after the %s: %v %v, want the older snapshot", how, s, err)
			}
			if cache.Stats.StaleServed.Load() == 0 {
				t.Error("the stale answer was not counted")
			}
			src.down.Store(false)
			testinfra.Eventually(t, 5*time.Second, "the newer version once PostgreSQL answers", func() bool {
				s, err := cache.Get(ctx, env.ID)
				return err == nil && s.Version == next
			})
		})
	}
}

// TestNewerRedisCopyIsTheBetterFallback: memory holds N, Redis N+1, N+2 was announced
// and PostgreSQL is down: Redis's N+1, though not servable while PostgreSQL answers, is
// a better fallback than memory's N.
func TestNewerRedisCopyIsTheBetterFallback(t *testing.T) {
	env, store, rdb, src, cache, first := withFailingSource(t)
	ctx := context.Background()
	second := env.SetConfig("f", fixture.Off())
	ds, err := store.LoadSnapshot(ctx, env.ID, second)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(ds)
	if ok, err := rediscache.WriteBack(ctx, rdb, env.ID, second, data); err != nil || !ok {
		t.Fatalf("write back %d: %v %v", second, ok, err)
	}
	cache.Invalidate(env.ID, second+1) // announced; Redis not fenced yet
	src.down.Store(true)
	s, err := cache.Get(ctx, env.ID)
	if err != nil || s.Version != second || first.Version == second {
		t.Fatalf("fallback %v %v: want Redis's version %d over memory's %d", s, err, second, first.Version)
	}
}

// TestLoadAcrossResubscriptionIsDue: a load that began before a resubscription (after
// which messages may have been missed) and finished after it is not trusted for the
// maximum age: the next request reloads.
func TestLoadAcrossResubscriptionIsDue(t *testing.T) {
	env, store, rdb := setup(t)
	env.Flag(fixture.Bool("f", fixture.On()))
	src := &pausing{src: store, loaded: make(chan int64), proceed: make(chan struct{})}
	cache := snapshots.New(slog.New(slog.DiscardHandler), src, rdb, snapshots.Options{MaxAge: time.Hour, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := cache.Get(ctx, env.ID)
		done <- err
	}()
	<-src.loaded // read from PostgreSQL, not yet stored
	cache.DropAll()
	close(src.proceed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Get(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if n := cache.Stats.MemoryHits.Load(); n != 0 {
		t.Fatalf("%d memory hits: a load begun before the resubscription was trusted as fresh", n)
	}
}

// TestDefinitionsStaleIfError: when neither store answers, the last definitions
// encoded are served, as the last snapshot is for evaluations; with none, the error.
func TestDefinitionsStaleIfError(t *testing.T) {
	env, _, rdb, src, cache, first := withFailingSource(t)
	ctx := context.Background()
	d, err := cache.Definitions(ctx, env.ID, first.Version)
	if err != nil || d.Version != first.Version {
		t.Fatalf("definitions: %v %v", d, err)
	}
	next := env.SetConfig("f", fixture.Off())
	if err := rdb.Del(ctx, rediscache.Key(env.ID)).Err(); err != nil {
		t.Fatal(err)
	}
	src.down.Store(true)
	stale := cache.Stats.StaleServed.Load()
	if d, err := cache.Definitions(ctx, env.ID, next); err != nil || d.Version != first.Version {
		t.Fatalf("with both stores down: %v %v, want the last definitions (version %d)", d, err, first.Version)
	}
	if cache.Stats.StaleServed.Load() != stale+1 {
		t.Error("the stale definitions were not counted")
	}
	if _, err := cache.Definitions(ctx, "00000000-0000-0000-0000-000000000001", 1); err == nil {
		t.Error("definitions never loaded, with the stores down: no error")
	}
	src.down.Store(false)
	if d, err := cache.Definitions(ctx, env.ID, next); err != nil || d.Version != next {
		t.Fatalf("after PostgreSQL returned: %v %v", d, err)
	}
}
