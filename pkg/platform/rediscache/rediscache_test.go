package rediscache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/redisconn"
	"github.com/switchyard/switchyard/pkg/testinfra"
)

func client(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(testinfra.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func envID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestContract(t *testing.T) { contract(t, client(t)) }

// TestContractOnCluster runs the contract on a real 3-node Redis Cluster: one hash per
// environment keeps each script on one slot, and PUBLISH reaches every node.
func TestContractOnCluster(t *testing.T) {
	rdb, err := redisconn.Open(testinfra.StartRedisCluster(t), redisconn.Options{Dial: time.Second, Read: time.Second, Write: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	for i := range 5 { // several environments, so several slots and nodes
		t.Run(fmt.Sprint(i), func(t *testing.T) { contract(t, rdb) })
	}
}

// TestContractOnSentinel runs the contract through a real Sentinel, which names the
// primary the client then talks to.
func TestContractOnSentinel(t *testing.T) {
	rdb, err := redisconn.Open(testinfra.StartRedisSentinel(t), redisconn.Options{Dial: time.Second, Read: time.Second, Write: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	contract(t, rdb)
}

func contract(t *testing.T, rdb redis.UniversalClient) {
	ctx := context.Background()
	env := envID()
	sub := rdb.Subscribe(ctx, Channel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}

	mustLoad := func(want int64, wantData string) {
		t.Helper()
		data, v, err := Load(ctx, rdb, env)
		if want == 0 {
			if !errors.Is(err, ErrMiss) {
				t.Fatalf("want a miss, got version %d, %v", v, err)
			}
			return
		}
		if err != nil || v != want || string(data) != wantData {
			t.Fatalf("load: %q v%d %v; want %q v%d", data, v, err, wantData, want)
		}
	}
	writeBack := func(v int64, data string, want bool) {
		t.Helper()
		ok, err := WriteBack(ctx, rdb, env, v, []byte(data))
		if err != nil || ok != want {
			t.Fatalf("write back v%d: stored=%v %v; want stored=%v", v, ok, err, want)
		}
	}

	mustLoad(0, "")
	writeBack(1, "one", true)
	mustLoad(1, "one")
	writeBack(1, "one again", false) // the same version is not rewritten

	// A write of version 2 commits; the fence drops version 1 and announces 2.
	if _, err := Fence(ctx, rdb, Invalidation{EnvironmentID: env, Version: 2}); err != nil {
		t.Fatal(err)
	}
	mustLoad(0, "")
	// Dropped, not only hidden by Load: the fence is what removes an older snapshot.
	for _, field := range []string{"version", "snapshot", "data"} {
		if held, err := rdb.HExists(ctx, Key(env), field).Result(); err != nil || held {
			t.Fatalf("the fence left version 1's %s in place (%v)", field, err)
		}
	}
	// A reader that loaded version 1 before the write cannot put it back.
	writeBack(1, "stale", false)
	mustLoad(0, "")
	writeBack(2, "two", true)
	mustLoad(2, "two")
	// Delivered twice, or late and out of order: nothing moves backwards.
	if _, err := Fence(ctx, rdb, Invalidation{EnvironmentID: env, Version: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := Fence(ctx, rdb, Invalidation{EnvironmentID: env, Version: 1}); err != nil {
		t.Fatal(err)
	}
	mustLoad(2, "two")
	if f, err := Fenced(ctx, rdb, env); err != nil || f != 2 {
		t.Fatalf("fence %d %v, want 2", f, err)
	}
	if ttl := rdb.TTL(ctx, Key(env)).Val(); ttl <= 0 || ttl > TTL {
		t.Errorf("ttl %v", ttl)
	}

	// Every fence was published, in order. The channel is shared: other tests (and, on a
	// cluster, an earlier run's messages still crossing the bus) publish on it too, so
	// only this environment's messages count.
	want := []int64{2, 2, 1}
	for _, v := range want {
		// A lost message fails here, not at the test binary's timeout.
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var inv Invalidation
		for inv.EnvironmentID != env {
			msg, err := sub.ReceiveMessage(rctx)
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			if inv, err = ParseInvalidation(msg.Payload); err != nil {
				continue // another test's message; ParseInvalidation has its own test
			}
		}
		cancel()
		if inv.Version != v {
			t.Fatalf("got %+v, want version %d", inv, v)
		}
	}

	// Whichever script creates an environment's hash gives it the TTL, so an entry that
	// nothing writes again cannot outlive it.
	for name, create := range map[string]func(env string) error{
		"write-back": func(env string) error { _, err := WriteBack(ctx, rdb, env, 1, []byte("one")); return err },
		"fence": func(env string) error {
			_, err := Fence(ctx, rdb, Invalidation{EnvironmentID: env, Version: 1})
			return err
		},
	} {
		fresh := envID()
		if err := create(fresh); err != nil {
			t.Fatal(err)
		}
		if ttl := rdb.TTL(ctx, Key(fresh)).Val(); ttl <= 0 || ttl > TTL {
			t.Errorf("a hash created by %s has ttl %v, want (0, %v]", name, ttl, TTL)
		}
	}

	// An environment never announced has fence 0, which is no error.
	if f, err := Fenced(ctx, rdb, envID()); err != nil || f != 0 {
		t.Errorf("fence of an unknown environment: %d, %v", f, err)
	}

	// Load misses a snapshot older than the fence even when the hash still holds one
	// (left by hand, or by an older release's scripts).
	old := envID()
	if err := rdb.HSet(ctx, Key(old), "fence", 5, "version", 4, "data", "four").Err(); err != nil {
		t.Fatal(err)
	}
	rdb.Expire(ctx, Key(old), time.Minute)
	if data, v, err := Load(ctx, rdb, old); !errors.Is(err, ErrMiss) {
		t.Errorf("version 4 under fence 5 loaded: %q v%d %v", data, v, err)
	}
}

func TestParseInvalidation(t *testing.T) {
	for _, bad := range []string{"", "{}", `{"environment_id":"x","version":0}`, `{"version":3}`, `{"environment_id":"","version":3}`, "nope"} {
		if _, err := ParseInvalidation(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if inv, err := ParseInvalidation(`{"environment_id":"x","version":3}`); err != nil || inv != (Invalidation{EnvironmentID: "x", Version: 3}) {
		t.Errorf("a good invalidation: %+v, %v", inv, err)
	}
}

func TestRedisDown(t *testing.T) {
	srv := testinfra.StartRedis(t)
	opt, _ := redis.ParseURL(srv.URL())
	opt.MaxRetries = -1
	opt.DialTimeout = 200 * time.Millisecond
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	srv.Stop()
	// One deadline per call: a deadline spanning the restart would make the second
	// call's success depend on how long the restart took.
	down, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Fence(down, rdb, Invalidation{EnvironmentID: "e", Version: 1}); err == nil {
		t.Fatal("fence with Redis down must fail")
	}
	srv.Start()
	up, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if _, err := Fence(up, rdb, Invalidation{EnvironmentID: "e", Version: 1}); err != nil {
		t.Fatalf("fence after restart: %v", err)
	}
}
