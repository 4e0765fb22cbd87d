// Package snapshots keeps compiled environment snapshots for the evaluator, cache-aside
// over three levels: in process, then Redis, then PostgreSQL (DESIGN.md, "Cache
// contract").
//
//   - An in-process snapshot is used while no invalidation has announced a newer
//     version (the environment's floor). Past the maximum age it is still served, and
//     revalidated in the background: Redis is asked for the version it holds (no body)
//     and, when that is the one in memory, the snapshot is trusted for another maximum
//     age; otherwise it is reloaded. No request waits for a refresh. After a
//     resubscription (messages may have been missed) snapshots are due: the next
//     request reloads before it is answered.
//   - On a miss, Redis is asked (with a short deadline); its fence refuses stale data.
//   - On a Redis miss, PostgreSQL is read, once per environment at a time
//     (singleflight), and the snapshot written back to Redis unless a newer version was
//     announced there.
//   - A load that finishes below the floor is not kept: a reader that loaded version N
//     before a write of N+1 cannot leave N in memory after the invalidation, just as
//     the fence stops it from leaving N in Redis.
//   - When Redis is down, PostgreSQL serves; when PostgreSQL is down, Redis does; when
//     both are, the last snapshot in memory is served, and counted as stale.
package snapshots

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/pgsnapshot"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
)

// Source loads snapshots from the database; minVersion is the newest version announced
// (a source reading a replica goes to the primary when the replica is behind it).
type Source interface {
	LoadSnapshot(ctx context.Context, environmentID string, minVersion int64) (domain.Snapshot, error)
}

// Options tune the cache.
type Options struct {
	MaxAge       time.Duration // in-process snapshots older than this are refreshed
	RedisTimeout time.Duration // deadline of each Redis call
	LoadTimeout  time.Duration // deadline of a load from the database
}

// Stats counts what the cache did, for metrics.
type Stats struct {
	MemoryHits, RedisHits, DatabaseLoads, StaleServed, RedisErrors, DatabaseErrors, Dropped atomic.Int64
	// RedisOlder counts Redis answers older than the snapshot in memory, which were
	// not used.
	RedisOlder atomic.Int64
	// Revalidated counts snapshots past their maximum age that Redis confirmed as
	// current without sending them again.
	Revalidated atomic.Int64
}

// entry is immutable once stored, so readers may use it without the lock.
type entry struct {
	snap    *eval.Snapshot
	loaded  time.Time
	retryAt time.Time // after a failed refresh: serve stale until then without retrying
	due     bool      // messages may have been missed since it was loaded: reload first
}

// Cache is the evaluator's snapshot cache. It is safe for concurrent use.
type Cache struct {
	log   *slog.Logger
	src   Source
	rdb   redis.UniversalClient
	opt   Options
	group singleflight.Group
	Stats Stats

	mu      sync.RWMutex
	entries map[string]*entry
	floor   map[string]int64 // highest version announced per environment

	redisDownUntil atomic.Int64 // unix nanos: skip Redis until then after a failure
	// generation counts DropAll calls: a load that began before one may lack what a
	// missed message would have told it, so it is kept only as due for a reload.
	generation atomic.Int64
	now        func() time.Time
	// refreshing holds the environments being revalidated in the background.
	refreshing map[string]bool

	defs definitions
}

// New returns a cache over src and rdb.
func New(log *slog.Logger, src Source, rdb redis.UniversalClient, opt Options) *Cache {
	return &Cache{log: log, src: src, rdb: rdb, opt: opt, entries: map[string]*entry{}, floor: map[string]int64{}, now: time.Now, refreshing: map[string]bool{},
		defs: definitions{byEnv: map[string]*Definitions{}, forced: map[string]time.Time{}, forcing: map[string]bool{}}}
}

// ErrUnavailable means neither Redis, nor PostgreSQL, nor memory could give the
// environment's snapshot.
var ErrUnavailable = errors.New("no snapshot available: redis and postgres unreachable")

// redisBreak is how long Redis is skipped after a failed call, so a dead Redis costs
// one timeout a second rather than one per request.
const redisBreak = time.Second

// Get returns the environment's snapshot.
func (c *Cache) Get(ctx context.Context, environmentID string) (*eval.Snapshot, error) {
	now := c.now()
	c.mu.RLock()
	e := c.entries[environmentID]
	floor := c.floor[environmentID]
	c.mu.RUnlock()
	switch {
	case e == nil:
	case now.Before(e.retryAt):
		// Both stores failed a moment ago: serve the fallback, even one an
		// invalidation made old, without asking them again on every request.
		c.Stats.StaleServed.Add(1)
		return e.snap, nil
	case e.snap.Version >= floor && !e.due:
		c.Stats.MemoryHits.Add(1)
		if now.Sub(e.loaded) >= c.opt.MaxAge {
			c.revalidate(environmentID, e)
		}
		return e.snap, nil
	}
	v, err, _ := c.group.Do(environmentID, func() (any, error) {
		// The shared load must not fail because the first caller gave up.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opt.LoadTimeout+c.opt.RedisTimeout)
		defer cancel()
		return c.load(lctx, environmentID, 0)
	})
	if err != nil {
		return nil, err
	}
	return v.(*eval.Snapshot), nil
}

// revalidate checks in the background that e is still the environment's current
// snapshot, once at a time per environment: when Redis holds that very version, e is
// trusted for another maximum age; otherwise the environment is reloaded.
func (c *Cache) revalidate(environmentID string, e *entry) {
	c.mu.Lock()
	if c.refreshing[environmentID] {
		c.mu.Unlock()
		return
	}
	c.refreshing[environmentID] = true
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			delete(c.refreshing, environmentID)
			c.mu.Unlock()
		}()
		// Nobody waits for this load: it reads PostgreSQL on one goroutine, leaving the
		// other cores to requests.
		ctx, cancel := context.WithTimeout(pgsnapshot.Background(context.Background()), c.opt.LoadTimeout+c.opt.RedisTimeout)
		defer cancel()
		if c.redisUsable() {
			rctx, rcancel := context.WithTimeout(ctx, c.opt.RedisTimeout)
			v, err := rediscache.Current(rctx, c.rdb, environmentID)
			rcancel()
			switch {
			case err == nil && v == e.snap.Version:
				c.Stats.Revalidated.Add(1)
				c.touch(environmentID, e)
				return
			case err != nil && !errors.Is(err, rediscache.ErrMiss):
				c.redisFailed(err)
			}
		}
		_, _, _ = c.group.Do(environmentID, func() (any, error) { return c.load(ctx, environmentID, 0) })
	}()
}

// touch trusts e for another maximum age, unless something replaced it meanwhile.
func (c *Cache) touch(environmentID string, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[environmentID] == e {
		c.entries[environmentID] = &entry{snap: e.snap, loaded: c.now()}
	}
}

func (c *Cache) redisUsable() bool {
	return c.rdb != nil && c.now().UnixNano() >= c.redisDownUntil.Load()
}

func (c *Cache) redisFailed(err error) {
	c.Stats.RedisErrors.Add(1)
	c.redisDownUntil.Store(c.now().Add(redisBreak).UnixNano())
	c.log.Debug("redis unavailable; skipping it for a second", "error", err)
}

// load reads the environment's snapshot from Redis or PostgreSQL, at least at version
// want or the floor, whichever is higher, when a store has it.
func (c *Cache) load(ctx context.Context, environmentID string, want int64) (*eval.Snapshot, error) {
	gen := c.generation.Load()
	floor, held := c.versions(environmentID)
	floor = max(floor, want)
	var fallback *eval.Snapshot
	if c.redisUsable() {
		rctx, cancel := context.WithTimeout(ctx, c.opt.RedisTimeout)
		data, version, err := rediscache.LoadString(rctx, c.rdb, environmentID)
		cancel()
		switch {
		// A copy older than the one in memory (Redis kept an old snapshot after a
		// write-back failed) is no better than a miss: it must neither replace nor
		// shadow the newer one, so PostgreSQL is asked and Redis repaired.
		case err == nil && version >= floor && version >= held:
			if snap, derr := compileCached(data); derr == nil && snap.Version == version {
				c.Stats.RedisHits.Add(1)
				return c.store(environmentID, snap, gen), nil
			}
			c.log.Warn("unreadable snapshot in redis; loading from postgres", "environment", environmentID)
		case err == nil && version > held:
			// Below the version announced, but newer than memory's: not to be served
			// while PostgreSQL answers, yet the better fallback if it does not.
			if snap, derr := compileCached(data); derr == nil && snap.Version == version {
				fallback = snap
			}
		case err == nil:
			c.Stats.RedisOlder.Add(1)
		case !errors.Is(err, rediscache.ErrMiss):
			c.redisFailed(err)
		}
	}

	dctx, cancel := context.WithTimeout(ctx, c.opt.LoadTimeout)
	ds, err := c.src.LoadSnapshot(dctx, environmentID, floor)
	cancel()
	if err == nil {
		c.Stats.DatabaseLoads.Add(1)
		// The copy for Redis is encoded while the snapshot compiles: both only read ds.
		var encoded chan []byte
		if c.redisUsable() {
			encoded = make(chan []byte, 1)
			go func() { encoded <- rediscache.EncodeSnapshot(ds) }()
		}
		snap := eval.Compile(ds)
		// A few lines say what is wrong; a stored configuration with thousands of broken
		// flags must not write thousands of lines at every refresh.
		problems := snap.Problems()
		for _, p := range problems[:min(len(problems), 10)] {
			c.log.Error("flag cannot be evaluated", "environment", environmentID, "problem", p.Error())
		}
		if len(problems) > 10 {
			c.log.Error("more flags cannot be evaluated", "environment", environmentID, "not_shown", len(problems)-10)
		}
		kept := c.store(environmentID, snap, gen)
		if encoded != nil {
			c.writeBack(ctx, ds.EnvironmentID, ds.Version, <-encoded)
		}
		return kept, nil
	}
	if domain.ErrorCode(err) == domain.CodeNotFound {
		c.mu.Lock()
		delete(c.entries, environmentID)
		c.mu.Unlock()
		return nil, err
	}
	c.Stats.DatabaseErrors.Add(1)
	c.log.Warn("snapshot load failed", "environment", environmentID, "error", err)

	// Stale if error: the last snapshot in memory, even one an invalidation made old.
	// Entries are never modified (readers use them unlocked): a copy notes the retry.
	c.mu.Lock()
	e := c.entries[environmentID]
	switch {
	case fallback != nil && (e == nil || fallback.Version > e.snap.Version):
		e = &entry{snap: fallback, retryAt: c.now().Add(time.Second)}
		c.entries[environmentID] = e
	case e != nil:
		e = &entry{snap: e.snap, loaded: e.loaded, due: e.due, retryAt: c.now().Add(time.Second)}
		c.entries[environmentID] = e
	}
	c.mu.Unlock()
	if e != nil {
		c.Stats.StaleServed.Add(1)
		return e.snap, nil
	}
	return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// writeBack stores a snapshot in Redis (rediscache.EncodeSnapshot's data), unless
// Redis has a newer one or the fence forbids it.
func (c *Cache) writeBack(ctx context.Context, environmentID string, version int64, data []byte) {
	if !c.redisUsable() {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, c.opt.RedisTimeout)
	defer cancel()
	if _, err := rediscache.WriteBack(rctx, c.rdb, environmentID, version, data); err != nil {
		c.redisFailed(err)
	}
}

// versions returns the newest version announced for the environment and the version
// held in memory (0 when none).
func (c *Cache) versions(environmentID string) (floor, held int64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e := c.entries[environmentID]; e != nil {
		held = e.snap.Version
	}
	return c.floor[environmentID], held
}

// store keeps a loaded snapshot unless an invalidation has announced a newer version
// meanwhile, or a newer snapshot is already held, and returns the snapshot to serve:
// the newer one held, when there is one, never an older one.
func (c *Cache) store(environmentID string, snap *eval.Snapshot, gen int64) *eval.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.entries[environmentID]
	if cur != nil && cur.snap.Version > snap.Version {
		return cur.snap
	}
	if snap.Version < c.floor[environmentID] {
		c.Stats.Dropped.Add(1)
		return snap
	}
	// A load begun before a resubscription may lack what a missed message said: due
	// at once.
	c.entries[environmentID] = &entry{snap: snap, loaded: c.now(), due: gen != c.generation.Load()}
	return snap
}

// Invalidate records that the environment changed to version: older copies are no
// longer served while a store can give the newer one, and loads that finish with an
// older version are not kept. The older copy stays in memory as the fallback of stale
// if error: an invalidation that arrives just before PostgreSQL goes down must not
// leave the environment with nothing to serve.
func (c *Cache) Invalidate(environmentID string, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version <= c.floor[environmentID] {
		return
	}
	c.floor[environmentID] = version
	// A load already under way may return the older version: requests from now on
	// start their own rather than share it.
	c.group.Forget(environmentID)
	// A newer version announced means the stores are likely back: stop serving the
	// fallback without asking them.
	if e := c.entries[environmentID]; e != nil && !e.retryAt.IsZero() {
		c.entries[environmentID] = &entry{snap: e.snap, loaded: e.loaded, due: e.due}
	}
}

// DropAll makes every snapshot reload on its next use, after messages may have been
// missed (a Redis reconnect). Floors stay, and so do the snapshots, as the fallback of
// stale if error.
func (c *Cache) DropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation.Add(1)
	for id, e := range c.entries {
		// Entries are read unlocked: a copy marks this one as due.
		c.entries[id] = &entry{snap: e.snap, loaded: e.loaded, due: true}
	}
}

// Held returns the version the cache would serve for the environment without asking a
// store (one no invalidation has made old), or 0.
func (c *Cache) Held(environmentID string) int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e := c.entries[environmentID]; e != nil && e.snap.Version >= c.floor[environmentID] {
		return e.snap.Version
	}
	return 0
}

// Len returns the number of snapshots held.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// batchFlags is how many flags a batch of a snapshot read from Redis holds.
const batchFlags = 256

// compileCached compiles a snapshot LoadString returned: in the binary format, flags are
// compiled as they are decoded, on another goroutine, through a few batches reused in
// turn, so that neither waits for the other to finish and the decoded snapshot is
// never held whole. A snapshot whose flags are not sorted by key (none the evaluator
// writes) is decoded whole and compiled by eval.Compile, whose result may then differ.
func compileCached(data string) (*eval.Snapshot, error) {
	r, ok := rediscache.ReadSnapshot(data)
	if !ok {
		ds, err := rediscache.DecodeSnapshot([]byte(data))
		if err != nil {
			return nil, err
		}
		return eval.Compile(ds), nil
	}
	h := r.Header()
	b := eval.NewBuilder(h.ProjectKey, h.EnvironmentID, h.EnvironmentKey, h.Version, eval.Sizes{Flags: r.Len()})
	const batches = 3
	full := make(chan *rediscache.FlagBatch, batches)
	free := make(chan *rediscache.FlagBatch, batches)
	for range batches {
		free <- new(rediscache.FlagBatch)
	}
	go func() {
		defer close(full)
		for fb := range free {
			if !r.Read(fb, batchFlags) {
				return
			}
			full <- fb
		}
	}()
	for fb := range full {
		for i := range fb.Flags {
			b.Add(&fb.Flags[i])
		}
		free <- fb
	}
	close(free)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if !b.Sorted() {
		ds, err := rediscache.DecodeSnapshot([]byte(data))
		if err != nil {
			return nil, err
		}
		return eval.Compile(ds), nil
	}
	return b.Snapshot(), nil
}
