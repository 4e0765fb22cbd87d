package snapshots_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/domain"
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
		// A zero maximum age sends every lookup past memory; Redis holds the snapshot.
		c := snapshots.New(log, store, rdb, snapshots.Options{MaxAge: 0, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
		if _, err := c.Get(ctx, env.ID); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Get(ctx, env.ID); err != nil {
				b.Fatal(err)
			}
		}
		if c.Stats.RedisHits.Load() == 0 {
			b.Fatal("no redis hits")
		}
	})
	b.Run("postgres", func(b *testing.B) {
		c := snapshots.New(log, store, nil, snapshots.Options{MaxAge: 0, RedisTimeout: time.Second, LoadTimeout: 5 * time.Second})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Get(ctx, env.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
