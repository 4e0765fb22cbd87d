// Package ratelimit counts events per key in fixed windows. The counts live in Redis,
// so every replica of a service shares them and a client cannot multiply its allowance
// by the number of replicas; while Redis does not answer, each process counts on its
// own (the same limits, per process) and says so in its metrics.
//
// Keys are hashed before they reach Redis, so the emails and addresses they are made
// of are never stored there.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter allows at most Limit events per key in each Window.
type Limiter struct {
	name    string
	limit   int
	window  time.Duration
	rdb     redis.UniversalClient // nil: in process only
	timeout time.Duration
	now     func() time.Time
	local   *memory

	// blocked remembers the keys Redis said are over their limit, until their window
	// ends, so that a client hammering a limit costs no Redis call per request.
	blockedMu sync.Mutex
	blocked   map[string]time.Time

	redisDownUntil atomic.Int64 // unix nanos: count in process until then
	// LocalDecisions counts the decisions taken in process because Redis failed.
	LocalDecisions atomic.Int64
}

// Options configure a limiter.
type Options struct {
	Limit  int
	Window time.Duration
	// Timeout bounds each Redis call (default 100ms).
	Timeout time.Duration
}

// redisBreak is how long Redis is left alone after a failed call.
const redisBreak = time.Second

// maxLocalKeys bounds the in-process fallback; past it, new keys share one window
// (overflowKey), so filling the table buys an attacker nothing.
const maxLocalKeys = 100_000

const overflowKey = "\x00overflow"

// New returns a limiter named name (part of its Redis keys) over rdb, which may be nil
// for an in-process limiter.
func New(rdb redis.UniversalClient, name string, opt Options) *Limiter {
	if opt.Timeout <= 0 {
		opt.Timeout = 100 * time.Millisecond
	}
	l := &Limiter{name: name, limit: opt.Limit, window: opt.Window, rdb: rdb, timeout: opt.Timeout,
		now: time.Now, blocked: map[string]time.Time{}}
	l.local = newMemory(opt.Limit, opt.Window, func() time.Time { return l.now() })
	return l
}

// Limit returns the number of events allowed per window.
func (l *Limiter) Limit() int { return l.limit }

// redisKey hashes key into this limiter's namespace. The hash tag keeps nothing
// together on purpose: each key is its own slot in a Redis Cluster.
func (l *Limiter) redisKey(key string) string {
	d := sha256.Sum256([]byte(key))
	return "switchyard:rl:" + l.name + ":" + hex.EncodeToString(d[:16])
}

// addScript adds one event and returns the count in the window and the window's
// remaining milliseconds.
var addScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

func (l *Limiter) redisUsable() bool {
	return l.rdb != nil && l.now().UnixNano() >= l.redisDownUntil.Load()
}

func (l *Limiter) redisFailed() {
	l.redisDownUntil.Store(l.now().Add(redisBreak).UnixNano())
}

// Allow records an event for key and reports whether it is within the limit; when it
// is not, it says how long until the key's window ends.
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration) {
	if wait, ok := l.knownBlocked(key); ok {
		return false, wait
	}
	if l.redisUsable() {
		rctx, cancel := context.WithTimeout(ctx, l.timeout)
		res, err := addScript.Run(rctx, l.rdb, []string{l.redisKey(key)}, l.window.Milliseconds()).Int64Slice()
		cancel()
		if err == nil && len(res) == 2 {
			wait := time.Duration(res[1]) * time.Millisecond
			if res[0] > int64(l.limit) {
				l.remember(key, wait)
				return false, wait
			}
			return true, 0
		}
		l.redisFailed()
	}
	l.LocalDecisions.Add(1)
	return l.local.add(key)
}

// Blocked reports, without recording anything, whether key has used up its window,
// and for how long.
func (l *Limiter) Blocked(ctx context.Context, key string) (bool, time.Duration) {
	if wait, ok := l.knownBlocked(key); ok {
		return true, wait
	}
	if l.redisUsable() {
		rctx, cancel := context.WithTimeout(ctx, l.timeout)
		k := l.redisKey(key)
		pipe := l.rdb.Pipeline()
		get := pipe.Get(rctx, k)
		ttl := pipe.PTTL(rctx, k)
		_, err := pipe.Exec(rctx)
		cancel()
		if err == nil || err == redis.Nil {
			n, _ := get.Int64()
			if n >= int64(l.limit) {
				wait := ttl.Val()
				if wait <= 0 {
					wait = l.window
				}
				l.remember(key, wait)
				return true, wait
			}
			return false, 0
		}
		l.redisFailed()
	}
	l.LocalDecisions.Add(1)
	return l.local.blocked(key)
}

// Reset forgets key's events, as after a successful login.
func (l *Limiter) Reset(ctx context.Context, key string) {
	l.blockedMu.Lock()
	delete(l.blocked, key)
	l.blockedMu.Unlock()
	l.local.reset(key)
	if l.redisUsable() {
		rctx, cancel := context.WithTimeout(ctx, l.timeout)
		if err := l.rdb.Del(rctx, l.redisKey(key)).Err(); err != nil {
			l.redisFailed()
		}
		cancel()
	}
}

func (l *Limiter) knownBlocked(key string) (time.Duration, bool) {
	l.blockedMu.Lock()
	defer l.blockedMu.Unlock()
	until, ok := l.blocked[key]
	if !ok {
		return 0, false
	}
	if wait := until.Sub(l.now()); wait > 0 {
		return wait, true
	}
	delete(l.blocked, key)
	return 0, false
}

func (l *Limiter) remember(key string, wait time.Duration) {
	l.blockedMu.Lock()
	defer l.blockedMu.Unlock()
	now := l.now()
	if len(l.blocked) >= maxLocalKeys {
		for k, until := range l.blocked {
			if !until.After(now) {
				delete(l.blocked, k)
			}
		}
		if len(l.blocked) >= maxLocalKeys {
			return
		}
	}
	l.blocked[key] = now.Add(wait)
}

// memory is the in-process fallback: the same fixed windows, per process.
type memory struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	keys  map[string]*window
	sweep time.Time
}

type window struct {
	start time.Time
	n     int
}

func newMemory(limit int, w time.Duration, now func() time.Time) *memory {
	return &memory{limit: limit, window: w, now: now, keys: map[string]*window{}}
}

// current returns key's window, creating it when create is set; it holds m.mu.
func (m *memory) current(key string, now time.Time, create bool) *window {
	if now.Sub(m.sweep) > m.window {
		for k, w := range m.keys {
			if now.Sub(w.start) >= m.window {
				delete(m.keys, k)
			}
		}
		m.sweep = now
	}
	w := m.keys[key]
	if w != nil && now.Sub(w.start) >= m.window {
		w.start, w.n = now, 0
	}
	if w == nil && len(m.keys) >= maxLocalKeys {
		if w = m.keys[overflowKey]; w == nil {
			w = &window{start: now}
			m.keys[overflowKey] = w
		}
		if now.Sub(w.start) >= m.window {
			w.start, w.n = now, 0
		}
		return w
	}
	if w == nil && create {
		w = &window{start: now}
		m.keys[key] = w
	}
	return w
}

func (m *memory) add(key string) (bool, time.Duration) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.current(key, now, true)
	w.n++
	if w.n > m.limit {
		return false, w.start.Add(m.window).Sub(now)
	}
	return true, 0
}

func (m *memory) blocked(key string) (bool, time.Duration) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.current(key, now, false)
	if w == nil || w.n < m.limit {
		return false, 0
	}
	return true, w.start.Add(m.window).Sub(now)
}

func (m *memory) reset(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
}
