package snapshots_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
)

// benchEnv seeds an environment of 100 flags with a rule each.
func benchEnv(b *testing.B) (*fixture.Env, *postgres.Store, *redis.Client) {
	b.Helper()
	env, store, rdb := setup(b)
	for i := range 100 {
		env.Flag(fixture.Bool(fmt.Sprintf("flag-%03d", i), fixture.On(domain.Rule{ID: "r",
			Conditions: []domain.Condition{{Attribute: "plan", Operator: domain.OpIn, Values: []any{"pro", "enterprise"}}},
			Serve:      domain.Serve{Variant: "off"}})))
	}
	return env, store, rdb
}

// BenchmarkGet measures one snapshot lookup at each level of the cache, for an
// environment of 100 flags.
func BenchmarkGet(b *testing.B) {
	env, store, rdb := benchEnv(b)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	b.Run("memory", func(b *testing.B) {
		c := snapshots.New(log, store, rdb, snapshots.Options{MaxAge: time.Hour, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
		if _, err := c.Get(ctx, env.ID); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Get(ctx, env.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("redis", func(b *testing.B) {
		// DropAll makes every snapshot due, which sends the next lookup past memory;
		// Redis holds the snapshot.
		c := snapshots.New(log, store, rdb, snapshots.Options{MaxAge: time.Hour, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
		if _, err := c.Get(ctx, env.ID); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			c.DropAll()
			if _, err := c.Get(ctx, env.ID); err != nil {
				b.Fatal(err)
			}
		}
		if c.Stats.RedisHits.Load() == 0 {
			b.Fatal("no redis hits")
		}
	})
	b.Run("postgres", func(b *testing.B) {
		c := snapshots.New(log, store, nil, snapshots.Options{MaxAge: time.Hour, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
		b.ReportAllocs()
		for b.Loop() {
			c.DropAll()
			if _, err := c.Get(ctx, env.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMaxAgeBoundary: lookups of an environment of 10,000 flags (3 rules and a
// rollout each) while its snapshot keeps passing its maximum age (50 ms), for one
// second per case: never (a maximum age of an hour), confirmed by Redis each time, and
// reloaded each time (a change whose message was missed: Redis has no copy, so
// PostgreSQL is read and 10,000 flags compiled). No lookup may wait for a refresh:
// the slowest lookup and the tail stay those of memory hits. Reports p99, p99.9 and
// the slowest lookup in microseconds, and the refreshes made: confirmations and reloads.
func BenchmarkMaxAgeBoundary(b *testing.B) {
	env, store, rdb := setup(b)
	fcs := make([]domain.FlagConfig, 10_000)
	for i := range fcs {
		fcs[i] = fixture.Bool(fmt.Sprintf("flag-%05d", i), domain.Config{Enabled: true, OffVariant: "off",
			Rules: []domain.Rule{
				{ID: "plan", Conditions: []domain.Condition{{Attribute: "plan", Operator: domain.OpIn, Values: []any{"pro", "enterprise"}}}, Serve: domain.Serve{Variant: "on"}},
				{ID: "mail", Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@acme.com"}}}, Serve: domain.Serve{Variant: "on"}},
				{ID: "app", Conditions: []domain.Condition{{Attribute: "app", Operator: domain.OpSemverGt, Values: []any{"2.0.0"}}}, Serve: domain.Serve{Variant: "off"}},
			},
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 25, "off": 75}}}})
	}
	env.Flags(fcs...)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	cases := []struct {
		name   string
		maxAge time.Duration
		missed bool // each boundary finds a change this process did not hear of
	}{
		{"never", time.Hour, false},
		{"confirmed", 50 * time.Millisecond, false},
		{"reloaded", 50 * time.Millisecond, true},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			c := snapshots.New(log, store, rdb, snapshots.Options{MaxAge: tc.maxAge, RedisTimeout: time.Second, LoadTimeout: 10 * time.Second})
			if _, err := c.Get(ctx, env.ID); err != nil {
				b.Fatal(err)
			}
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				lat = lat[:0]
				end := time.Now().Add(time.Second)
				lastDrop := time.Now()
				for time.Now().Before(end) {
					if tc.missed && time.Since(lastDrop) > tc.maxAge {
						// A change this process missed: Redis lost its copy, so the
						// refresh must read PostgreSQL and compile.
						_ = rdb.Del(ctx, rediscache.Key(env.ID)).Err()
						lastDrop = time.Now()
					}
					t0 := time.Now()
					if _, err := c.Get(ctx, env.ID); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			q := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) / 1e3
			}
			b.ReportMetric(q(0.99), "p99-µs")
			b.ReportMetric(q(0.999), "p99.9-µs")
			b.ReportMetric(q(1), "max-µs")
			// What the refreshes were: confirmations of the version held (no body
			// fetched), and loads of a body after the first.
			b.ReportMetric(float64(c.Stats.Revalidated.Load()), "confirmations")
			b.ReportMetric(float64(c.Stats.DatabaseLoads.Load()+c.Stats.RedisHits.Load()-1), "reloads")
		})
	}
}
