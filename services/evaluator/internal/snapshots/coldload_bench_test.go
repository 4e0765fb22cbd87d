package snapshots_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
)

// bigFlags is the size of the environment of the memory and cold-load targets.
const bigFlags = 10_000

// benchFlag is a flag of the shape tools/cmd/bench seeds (flagConfig): an email suffix,
// a plan and a country set, an app version, then a 25/75 rollout.
func benchFlag(i int) domain.FlagConfig {
	cond := func(attr string, op domain.Operator, values ...any) domain.Condition {
		return domain.Condition{Attribute: attr, Operator: op, Values: values}
	}
	return fixture.Bool(fmt.Sprintf("flag-%05d", i), domain.Config{Enabled: true, OffVariant: "off",
		Rules: []domain.Rule{
			{ID: "staff", Conditions: []domain.Condition{cond("email", domain.OpEndsWith, "@example.com")}, Serve: domain.Serve{Variant: "on"}},
			{ID: "eu-pro", Conditions: []domain.Condition{cond("plan", domain.OpIn, "pro", "enterprise"), cond("country", domain.OpIn, "DE", "FR", "NL", "SE")},
				Serve: domain.Serve{Variant: "on"}},
			{ID: "old-app", Conditions: []domain.Condition{cond("app_version", domain.OpSemverLt, "2.0.0")}, Serve: domain.Serve{Variant: "off"}},
		},
		Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 25, "off": 75}}}})
}

// bigEnv seeds an environment of bigFlags flags of the bench shape.
func bigEnv(b *testing.B) (*fixture.Env, *postgres.Store, *redis.Client) {
	b.Helper()
	env, store, rdb := setup(b)
	fcs := make([]domain.FlagConfig, bigFlags)
	for i := range fcs {
		fcs[i] = benchFlag(i)
	}
	env.Flags(fcs...)
	return env, store, rdb
}

func bigOptions() snapshots.Options {
	return snapshots.Options{MaxAge: time.Hour, RedisTimeout: 5 * time.Second, LoadTimeout: 10 * time.Second}
}

// BenchmarkColdLoad10k measures the first lookup of an environment of 10,000 flags of
// the bench shape by a process that holds nothing: from PostgreSQL with Redis empty
// (read, compile, write back), and from Redis (read, decode, compile). Each op is one
// cold load, in a new cache.
func BenchmarkColdLoad10k(b *testing.B) {
	env, store, rdb := bigEnv(b)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	b.Run("postgres", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		defer func() { reportCPU(b, cpu) }()
		for b.Loop() {
			b.StopTimer()
			if err := rdb.Del(ctx, rediscache.Key(env.ID)).Err(); err != nil {
				b.Fatal(err)
			}
			c := snapshots.New(log, store, rdb, bigOptions())
			b.StartTimer()
			s, err := c.Get(ctx, env.ID)
			if err != nil {
				b.Fatal(err)
			}
			if s.Len() != bigFlags || c.Stats.DatabaseLoads.Load() != 1 {
				b.Fatalf("%d flags, %d database loads", s.Len(), c.Stats.DatabaseLoads.Load())
			}
		}
	})
	b.Run("redis", func(b *testing.B) {
		// Fill Redis as a first evaluator would.
		if _, err := snapshots.New(log, store, rdb, bigOptions()).Get(ctx, env.ID); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := cpuTime()
		defer func() { reportCPU(b, cpu) }()
		for b.Loop() {
			c := snapshots.New(log, store, rdb, bigOptions())
			s, err := c.Get(ctx, env.ID)
			if err != nil {
				b.Fatal(err)
			}
			if s.Len() != bigFlags || c.Stats.RedisHits.Load() != 1 {
				b.Fatalf("%d flags, %d redis hits", s.Len(), c.Stats.RedisHits.Load())
			}
		}
	})
}

// cpuTime returns the CPU time the process has used, in user and system mode.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per op since start (cpu-ms/op): on a shared
// machine, what a load costs this process, whatever the wait for a core. PostgreSQL's
// and Redis's own time is not in it.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// heapInuse returns the heap in use after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// BenchmarkSnapshotMemory10k reports what a cache holding one environment of 10,000
// flags of the bench shape keeps on the heap, per flag (B/flag: the growth of
// HeapInuse after a collection, divided by the flags), as loaded from PostgreSQL and
// from Redis. It also reports the bytes allocated by the load, per flag (alloc-B/flag),
// which set the peak the process reaches while loading.
func BenchmarkSnapshotMemory10k(b *testing.B) {
	env, store, rdb := bigEnv(b)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	// Fill Redis, for the redis case.
	if _, err := snapshots.New(log, store, rdb, bigOptions()).Get(ctx, env.ID); err != nil {
		b.Fatal(err)
	}
	for _, from := range []string{"postgres", "redis"} {
		b.Run(from, func(b *testing.B) {
			var held, allocated float64
			for b.Loop() {
				var c *snapshots.Cache
				if from == "postgres" {
					c = snapshots.New(log, store, nil, bigOptions())
				} else {
					c = snapshots.New(log, store, rdb, bigOptions())
				}
				before := heapInuse()
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				s, err := c.Get(ctx, env.ID)
				if err != nil {
					b.Fatal(err)
				}
				runtime.ReadMemStats(&ms1)
				after := heapInuse()
				if s.Len() != bigFlags || (from == "redis") != (c.Stats.RedisHits.Load() == 1) {
					b.Fatalf("%d flags, %d redis hits", s.Len(), c.Stats.RedisHits.Load())
				}
				held = float64(int64(after)-int64(before)) / bigFlags
				allocated = float64(ms1.TotalAlloc-ms0.TotalAlloc) / bigFlags
				runtime.KeepAlive(c)
			}
			b.ReportMetric(held, "B/flag")
			b.ReportMetric(allocated, "alloc-B/flag")
		})
	}
}

// BenchmarkEvaluateAll10k measures one bulk evaluation of the 10,000 flags, as the
// first OFREP bulk request after a cold load makes it (without the HTTP encoding).
func BenchmarkEvaluateAll10k(b *testing.B) {
	env, store, rdb := bigEnv(b)
	s, err := snapshots.New(slog.New(slog.DiscardHandler), store, rdb, bigOptions()).Get(context.Background(), env.ID)
	if err != nil {
		b.Fatal(err)
	}
	ctx, err := eval.ContextOf(map[string]any{"key": "user-42", "email": "a@b.com", "plan": "pro", "country": "US", "app_version": "2.1.0"}, "key")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if rs := s.EvaluateAll(&ctx); len(rs) != bigFlags {
			b.Fatal(len(rs))
		}
	}
}
