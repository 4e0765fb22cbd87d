package rediscache

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/domain"
)

// The scripts of the release before the binary format, as an older admin service and
// an older evaluator still run them during a rolling deploy.
var (
	olderFence = redis.NewScript(`
local v = tonumber(ARGV[1])
local fence = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if v > fence then
  redis.call('HSET', KEYS[1], 'fence', ARGV[1])
end
local have = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if have < v then
  redis.call('HDEL', KEYS[1], 'version', 'data')
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 0
`)
	olderWriteBack = redis.NewScript(`
local v = tonumber(ARGV[1])
local fence = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
local have = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v < fence or v <= have then
  return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'data', ARGV[2])
redis.call('EXPIRE', KEYS[1], 60)
return 1
`)
)

// TestRollingDeploy: evaluators and admin services of this release and of the one
// before the binary format share a Redis. Whatever order their writes come in, each
// reads the version the hash announces, never an older snapshot under a newer
// version; and an older evaluator, which serves the data field to SDKs as it is,
// never finds the binary format there.
func TestRollingDeploy(t *testing.T) {
	rdb := client(t)
	ctx := context.Background()
	env := envID()
	snap := func(v int64) domain.Snapshot {
		return domain.Snapshot{EnvironmentID: env, Version: v, Flags: []domain.FlagConfig{{Flag: domain.Flag{Key: "f"}}}}
	}
	asJSON := func(v int64) string {
		b, _ := json.Marshal(snap(v))
		return string(b)
	}
	// load checks what a reader of this release gets.
	load := func(want int64) {
		t.Helper()
		data, v, err := Load(ctx, rdb, env)
		if err != nil || v != want {
			t.Fatalf("load: v%d %v, want v%d", v, err, want)
		}
		s, err := DecodeSnapshot(data)
		if err != nil || s.Version != want {
			t.Fatalf("loaded a snapshot of v%d (%v) as v%d", s.Version, err, want)
		}
	}
	// olderReader checks what a reader of the release before gets: JSON of the
	// hash's version, or a miss.
	olderReader := func() {
		t.Helper()
		vals, err := rdb.HMGet(ctx, Key(env), "version", "data").Result()
		if err != nil {
			t.Fatal(err)
		}
		vs, _ := vals[0].(string)
		data, _ := vals[1].(string)
		if data == "" {
			return
		}
		var s domain.Snapshot
		if err := json.Unmarshal([]byte(data), &s); err != nil || vs == "" || fmtInt(s.Version) != vs {
			t.Fatalf("an older evaluator would serve %.20q (%v) as version %q", data, err, vs)
		}
	}

	// This release writes version 1.
	if ok, err := WriteBack(ctx, rdb, env, 1, EncodeSnapshot(snap(1))); err != nil || !ok {
		t.Fatal(ok, err)
	}
	load(1)
	olderReader()
	// An older admin fences version 2 (leaving the binary snapshot), an older
	// evaluator writes version 2 back as JSON.
	if err := olderFence.Run(ctx, rdb, []string{Key(env)}, 2, 60).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(ctx, rdb, env); err == nil {
		t.Fatal("fenced by an older admin, version 1 still loads")
	}
	if err := olderWriteBack.Run(ctx, rdb, []string{Key(env)}, 2, asJSON(2)).Err(); err != nil {
		t.Fatal(err)
	}
	load(2) // from data: the binary snapshot left is version 1's
	olderReader()
	// This release's admin fences version 3; this release writes it back.
	if _, err := Fence(ctx, rdb, Invalidation{EnvironmentID: env, Version: 3}); err != nil {
		t.Fatal(err)
	}
	if ok, err := WriteBack(ctx, rdb, env, 3, EncodeSnapshot(snap(3))); err != nil || !ok {
		t.Fatal(ok, err)
	}
	load(3)
	olderReader() // data, version 2's JSON, was dropped
	// An older admin fences 4, an older evaluator writes 4, this release's admin
	// fences 5 and an older evaluator writes 5: always the hash's version.
	for _, v := range []int64{4, 5} {
		var err error
		if v == 4 {
			err = olderFence.Run(ctx, rdb, []string{Key(env)}, v, 60).Err()
		} else {
			_, err = Fence(ctx, rdb, Invalidation{EnvironmentID: env, Version: v})
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := olderWriteBack.Run(ctx, rdb, []string{Key(env)}, v, asJSON(v)).Err(); err != nil {
			t.Fatal(err)
		}
		load(v)
		olderReader()
	}
	// An older evaluator writes 6; this release loads 7 (committed, not yet fenced)
	// and writes it back: version 6's JSON must not stay beside version 7.
	if err := olderWriteBack.Run(ctx, rdb, []string{Key(env)}, 6, asJSON(6)).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, err := WriteBack(ctx, rdb, env, 7, EncodeSnapshot(snap(7))); err != nil || !ok {
		t.Fatal(ok, err)
	}
	load(7)
	olderReader()
	rdb.Expire(ctx, Key(env), time.Minute)
}

func fmtInt(v int64) string { b, _ := json.Marshal(v); return string(b) }
