package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/testinfra"
)

// clock is a settable time for the in-process windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func name() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

func client(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = -1
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// allowN calls Allow n times and returns how many were allowed.
func allowN(l *Limiter, key string, n int) int {
	ok := 0
	for range n {
		if allowed, _ := l.Allow(context.Background(), key); allowed {
			ok++
		}
	}
	return ok
}

func TestInProcess(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	l := New(nil, name(), Options{Limit: 3, Window: time.Minute})
	l.now = c.now
	ctx := context.Background()
	if got := allowN(l, "a", 5); got != 3 {
		t.Fatalf("allowed %d of 5 with a limit of 3", got)
	}
	if blocked, wait := l.Blocked(ctx, "a"); !blocked || wait <= 0 || wait > time.Minute {
		t.Fatalf("Blocked(a) = %v, %v", blocked, wait)
	}
	if blocked, _ := l.Blocked(ctx, "b"); blocked {
		t.Fatal("another key is blocked")
	}
	c.add(61 * time.Second)
	if ok, _ := l.Allow(ctx, "a"); !ok {
		t.Fatal("the next window still refuses")
	}
	allowN(l, "a", 5)
	l.Reset(ctx, "a")
	if blocked, _ := l.Blocked(ctx, "a"); blocked {
		t.Fatal("Reset kept the key blocked")
	}
}

// TestSharedAcrossReplicas: two limiters over one Redis (two replicas of a service)
// share the count, so a client cannot double its allowance by alternating.
func TestSharedAcrossReplicas(t *testing.T) {
	rdb := client(t, testinfra.RedisURL(t))
	n := name()
	a := New(rdb, n, Options{Limit: 4, Window: time.Minute})
	b := New(rdb, n, Options{Limit: 4, Window: time.Minute})
	ctx := context.Background()
	got := 0
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if ok, _ := l.Allow(ctx, "10.0.0.1"); ok {
			got++
		}
	}
	if got != 4 {
		t.Fatalf("two replicas allowed %d events with a shared limit of 4", got)
	}
	if blocked, wait := b.Blocked(ctx, "10.0.0.1"); !blocked || wait <= 0 || wait > time.Minute {
		t.Fatalf("Blocked = %v, %v", blocked, wait)
	}
	if a.LocalDecisions.Load()+b.LocalDecisions.Load() != 0 {
		t.Fatal("decisions were taken in process while Redis answered")
	}
	// Keys are hashed: neither the address nor an email reaches Redis.
	keys, err := rdb.Keys(ctx, "switchyard:rl:"+n+":*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, k := range keys {
		if len(k) != len("switchyard:rl:"+n+":")+32 {
			t.Fatalf("key %q is not a hash", k)
		}
	}
	// The window ends in Redis too.
	short := New(rdb, name(), Options{Limit: 1, Window: 300 * time.Millisecond})
	short.Allow(ctx, "k")
	if ok, _ := short.Allow(ctx, "k"); ok {
		t.Fatal("second event allowed with a limit of 1")
	}
	testinfra.Eventually(t, 5*time.Second, "the window to end", func() bool {
		blocked, _ := short.Blocked(ctx, "k")
		return !blocked
	})
}

// TestRedisDown: with Redis stopped, each process keeps limiting on its own, and
// counts that it does.
func TestRedisDown(t *testing.T) {
	srv := testinfra.StartRedis(t)
	rdb := client(t, srv.URL())
	l := New(rdb, name(), Options{Limit: 2, Window: time.Minute, Timeout: 200 * time.Millisecond})
	ctx := context.Background()
	if got := allowN(l, "x", 1); got != 1 {
		t.Fatal("first event refused")
	}
	srv.Stop()
	if err := rdb.Ping(ctx).Err(); err == nil {
		t.Fatal("Redis still answers after Stop")
	}
	if got := allowN(l, "y", 5); got != 2 {
		t.Fatalf("allowed %d of 5 in process with a limit of 2", got)
	}
	if l.LocalDecisions.Load() == 0 {
		t.Fatal("no local decision counted while Redis was down")
	}
	if blocked, _ := l.Blocked(ctx, "y"); !blocked {
		t.Fatal("not blocked in process")
	}
}

// TestInProcessFull: once the in-process table is full, new keys share one window,
// so filling it with made-up keys does not buy unlimited attempts.
func TestInProcessFull(t *testing.T) {
	l := New(nil, name(), Options{Limit: 2, Window: time.Minute})
	ctx := context.Background()
	for i := range maxLocalKeys {
		l.Allow(ctx, "filler-"+strconv.Itoa(i))
	}
	if got := allowN(l, "victim@example.com", 10); got > 2 {
		t.Fatalf("a new key past the table's bound was allowed %d of 10 attempts", got)
	}
}
