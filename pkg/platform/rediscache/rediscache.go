// Package rediscache is the Redis side of the cache contract of DESIGN.md, shared by the
// admin service (which fences and publishes after every commit) and the evaluator
// (which reads, writes back and listens).
//
// Each environment has one hash, switchyard:env:{<environment id>}, whose hash tag keeps
// it on one Redis Cluster slot:
//
//	fence     the highest version the admin service has announced
//	version   the version of the snapshot held in snapshot or data
//	snapshot  the snapshot, in the binary format of snapshot.go
//	data      the snapshot as JSON, as evaluators that predate the binary format
//	          write it (and read it: they serve it to SDKs as it is, so the binary
//	          format must never be put there)
//
// A write-back stores snapshot and drops data; an older evaluator's write-back stores
// data and leaves snapshot, which then holds an older version than the hash: Load
// reads the version a binary snapshot carries and, when it is not the hash's, uses
// data. So evaluators of both kinds, and admin services of both kinds (an older one
// fences without dropping snapshot), can share a Redis during a rolling deploy.
//
// Fence raises the fence and drops a snapshot older than it, atomically, then publishes
// an Invalidation on Channel. WriteBack stores a snapshot only when its version is at
// least the fence and newer than the one held, so an evaluator that loaded version N
// before a write of N+1 can never put N back after the fence. Both are Lua scripts, so
// each is one atomic step.
package rediscache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Channel carries invalidations.
const Channel = "switchyard:invalidations"

// TTL bounds how long an environment's entry stays in Redis without a write. It also
// bounds staleness in the one case no fence can: an admin service that commits a change
// and never comes back to deliver its invalidation.
const TTL = time.Hour

// Key returns the hash of an environment.
func Key(environmentID string) string { return "switchyard:env:{" + environmentID + "}" }

// Invalidation announces that an environment changed to Version.
type Invalidation struct {
	EnvironmentID string `json:"environment_id"`
	Version       int64  `json:"version"`
}

// ParseInvalidation decodes a message of Channel.
func ParseInvalidation(payload string) (Invalidation, error) {
	var inv Invalidation
	if err := json.Unmarshal([]byte(payload), &inv); err != nil {
		return inv, fmt.Errorf("invalidation %q: %w", payload, err)
	}
	if inv.EnvironmentID == "" || inv.Version < 1 {
		return inv, fmt.Errorf("invalidation %q: missing environment or version", payload)
	}
	return inv, nil
}

var fenceScript = redis.NewScript(`
local v = tonumber(ARGV[1])
local fence = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if v > fence then
  redis.call('HSET', KEYS[1], 'fence', ARGV[1])
end
local have = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if have < v then
  redis.call('HDEL', KEYS[1], 'version', 'data')
  redis.call('HDEL', KEYS[1], 'snapshot')
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('PUBLISH', ARGV[3], ARGV[4])
`)

// Fence raises the environment's fence to version, drops an older snapshot and
// publishes the invalidation. It returns the number of subscribers that received it.
func Fence(ctx context.Context, rdb redis.Scripter, inv Invalidation) (int64, error) {
	msg, _ := json.Marshal(inv)
	n, err := fenceScript.Run(ctx, rdb, []string{Key(inv.EnvironmentID)},
		inv.Version, int(TTL.Seconds()), Channel, string(msg)).Int64()
	if err != nil {
		return 0, fmt.Errorf("fence environment %s at version %d: %w", inv.EnvironmentID, inv.Version, err)
	}
	return n, nil
}

var writeBackScript = redis.NewScript(`
local v = tonumber(ARGV[1])
local fence = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
local have = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v < fence or v <= have then
  return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'snapshot', ARGV[2])
redis.call('HDEL', KEYS[1], 'data')
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`)

// WriteBack stores a snapshot of the environment at version, unless the fence is
// newer or Redis already holds that version or a newer one. It reports whether it
// stored.
func WriteBack(ctx context.Context, rdb redis.Scripter, environmentID string, version int64, data []byte) (bool, error) {
	n, err := writeBackScript.Run(ctx, rdb, []string{Key(environmentID)}, version, data, int(TTL.Seconds())).Int64()
	if err != nil {
		return false, fmt.Errorf("write back environment %s version %d: %w", environmentID, version, err)
	}
	return n == 1, nil
}

// ErrMiss means Redis holds no current snapshot of the environment.
var ErrMiss = errors.New("no current snapshot in redis")

// Load returns the snapshot Redis holds for the environment and its version, or
// ErrMiss when there is none or it is older than the fence. The snapshot is in either
// format DecodeSnapshot reads.
func Load(ctx context.Context, rdb redis.Cmdable, environmentID string) ([]byte, int64, error) {
	data, version, err := LoadString(ctx, rdb, environmentID)
	if err != nil {
		return nil, 0, err
	}
	return []byte(data), version, nil
}

// LoadString is Load giving the snapshot as the string Redis's reply holds, without
// copying it (ReadSnapshot reads it).
func LoadString(ctx context.Context, rdb redis.Cmdable, environmentID string) (string, int64, error) {
	vals, err := rdb.HMGet(ctx, Key(environmentID), "version", "snapshot", "data", "fence").Result()
	if err != nil {
		return "", 0, fmt.Errorf("load environment %s: %w", environmentID, err)
	}
	vs, _ := vals[0].(string)
	bin, _ := vals[1].(string)
	data, _ := vals[2].(string)
	fs, _ := vals[3].(string)
	// snapshot, unless an older evaluator wrote data since (over a newer version).
	if v, ok := binaryVersion(bin); bin != "" && (!ok || strconv.FormatInt(v, 10) == vs) {
		data = bin
	}
	if vs == "" || data == "" {
		return "", 0, ErrMiss
	}
	version, err := current(vs, fs)
	switch {
	case errors.Is(err, ErrMiss):
		return "", 0, err
	case err != nil:
		return "", 0, fmt.Errorf("load environment %s: %w", environmentID, err)
	}
	return data, version, nil
}

// Current returns the version of the snapshot Redis holds for the environment without
// its body, or ErrMiss when there is none or it is older than the fence: a cheap
// check that a snapshot in memory is still the current one.
func Current(ctx context.Context, rdb redis.Cmdable, environmentID string) (int64, error) {
	vals, err := rdb.HMGet(ctx, Key(environmentID), "version", "fence").Result()
	if err != nil {
		return 0, fmt.Errorf("version of environment %s: %w", environmentID, err)
	}
	vs, _ := vals[0].(string)
	fs, _ := vals[1].(string)
	if vs == "" {
		return 0, ErrMiss
	}
	version, err := current(vs, fs)
	if err != nil && !errors.Is(err, ErrMiss) {
		return 0, ErrMiss // unreadable: a reload repairs it
	}
	return version, err
}

// current reads a hash's version and fence: the version, ErrMiss when it is older
// than the fence, or an error when it is unreadable.
func current(vs, fs string) (int64, error) {
	version, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad version %q", vs)
	}
	if fence, _ := strconv.ParseInt(fs, 10, 64); version < fence {
		return 0, ErrMiss
	}
	return version, nil
}

// Fenced returns the fence of the environment: the newest version announced.
func Fenced(ctx context.Context, rdb redis.Cmdable, environmentID string) (int64, error) {
	s, err := rdb.HGet(ctx, Key(environmentID), "fence").Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fence of environment %s: %w", environmentID, err)
	}
	return strconv.ParseInt(s, 10, 64)
}
