// Package app wires the evaluator from its configuration: the PostgreSQL store, the
// Redis clients, the snapshot cache, SDK keys and their failure limit, analytics, the
// invalidation listener, the metrics and the HTTP handler. main and the integration
// tests build the same evaluator through New.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/pkg/platform/ratelimit"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/platform/redisconn"
	"github.com/switchyard/switchyard/pkg/platform/server"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/api"
	"github.com/switchyard/switchyard/services/evaluator/internal/config"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
	"github.com/switchyard/switchyard/services/evaluator/internal/streams"
)

// App is a wired evaluator whose background work (the invalidation listener, the
// periodic analytics flush) runs from New until Shutdown or Close.
type App struct {
	// Handler serves the public API; Registry holds the metrics, which the operations
	// listener serves.
	Handler  *server.Echo
	Registry *prometheus.Registry

	Store    *postgres.Store
	Redis    redis.UniversalClient
	Cache    *snapshots.Cache
	Keys     *keys.Authenticator
	Listener *snapshots.Listener
	Counter  *analytics.Counter
	Streams  *streams.Hub

	// recheck holds environments whose stream keys are to be checked again, and
	// poll asks the version poller to look at once (after a resubscription).
	recheck pending
	poll    chan struct{}

	log       *slog.Logger
	sub       redis.UniversalClient
	stopBG    context.CancelFunc
	bg        sync.WaitGroup
	closeOnce sync.Once
}

// New wires the evaluator from cfg and starts its background work. It connects lazily:
// the evaluator starts, and serves what it can, while PostgreSQL or Redis is down.
func New(cfg config.Config, log *slog.Logger) (*App, error) {
	store, err := postgres.Open(cfg.DatabaseURL, cfg.DatabaseReadURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	// Short deadlines: a dead Redis must cost milliseconds, not seconds.
	ro := redisconn.Options{Dial: 200 * time.Millisecond, Read: cfg.RedisTimeout, Write: cfg.RedisTimeout, MaxRetries: -1, PoolSize: 64}
	rdb, err := redisconn.Open(cfg.RedisURL, ro)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// The subscription blocks on reads, so it gets its own client without read deadlines.
	ro.Read = -1
	sub, err := redisconn.Open(cfg.RedisURL, ro)
	if err != nil {
		rdb.Close()
		store.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}

	a := &App{Store: store, Redis: rdb, sub: sub, log: log}
	a.Cache = snapshots.New(log, store, rdb, snapshots.Options{MaxAge: cfg.SnapshotMaxAge, RedisTimeout: cfg.RedisTimeout, LoadTimeout: cfg.DBTimeout})
	var failures keys.Limiter // none unless configured
	if cfg.AuthFailuresPerAddress > 0 {
		failures = ratelimit.New(rdb, cfg.AuthFailureScope, ratelimit.Options{Limit: cfg.AuthFailuresPerAddress, Window: time.Minute, Timeout: cfg.RedisTimeout})
	}
	a.Keys = keys.New(store, cfg.KeyCacheTTL, cfg.DBTimeout, failures)
	a.Counter = analytics.New(log, cfg.AnalyticsMax)

	if cfg.StreamTokenSecret == nil {
		log.Warn("STREAM_TOKEN_SECRET is not set: OFREP stream URLs are signed with a random secret and work only on this replica")
	}
	a.Streams = streams.New(streams.Options{PerKey: cfg.StreamsPerKey, PerAddress: cfg.StreamsPerAddress, Max: cfg.StreamsMax})
	a.recheck = newPending()
	a.poll = make(chan struct{}, 1)

	a.Listener = snapshots.NewListener(log, sub)
	a.Listener.OnInvalidation = func(inv rediscache.Invalidation) {
		a.changed(inv.EnvironmentID, inv.Version)
	}
	a.Listener.OnResubscribe = func() {
		// Messages may have been missed: snapshots and cached keys (a revocation among
		// them) are checked again, and so are the versions streams announce.
		a.Cache.DropAll()
		a.Keys.DropAll()
		select {
		case a.poll <- struct{}{}:
		default:
		}
	}

	a.Registry = metrics.NewRegistry()
	registerMetrics(a.Registry, a.Cache, a.Listener, a.Counter, seriesLimits{max: cfg.MetricsMaxFlagSeries, ttl: cfg.MetricsFlagSeriesTTL})
	registerStreamMetrics(a.Registry, a.Streams)
	httpMetrics := metrics.NewHTTP(a.Registry, "evaluator")
	a.Handler = api.New(log,
		api.Deps{Snapshots: a.Cache, Keys: a.Keys, Counter: a.Counter, Streams: a.Streams,
			Tokens: streams.NewTokens(cfg.StreamTokenSecret, cfg.StreamTokenTTL)},
		api.Live{CORSOrigins: cfg.CORSAllowedOrigins, PublicURL: cfg.PublicURL, Heartbeat: cfg.StreamHeartbeat},
		api.Options{MaxBodyBytes: cfg.MaxBodyBytes,
			Ready:   map[string]server.Checker{"postgres": store, "redis": redisconn.Pinger{Client: rdb}},
			Metrics: httpMetrics.Middleware(), Panics: httpMetrics.Panics(), TrustedProxies: cfg.TrustedProxies})

	// Background work outlives the signal that stops the service: it ends in
	// Shutdown, once the requests in flight are done.
	bg, stop := context.WithCancel(context.Background())
	a.stopBG = stop
	a.bg.Add(4)
	go func() {
		defer a.bg.Done()
		a.Listener.Run(bg)
	}()
	go func() {
		defer a.bg.Done()
		a.Counter.Run(bg, store, cfg.AnalyticsFlush)
	}()
	go func() {
		defer a.bg.Done()
		a.pollVersions(bg, cfg.StreamPollInterval, cfg.DBTimeout)
	}()
	go func() {
		defer a.bg.Done()
		a.recheckKeys(bg, cfg.DBTimeout)
	}()
	return a, nil
}

// Drain ends the open streams and refuses new ones, when shutdown begins: the
// listener's drain must not wait for streams that would never end by themselves.
func (a *App) Drain() { a.Streams.Close() }

// Shutdown stops the background work and writes the evaluations counted since the last
// flush, within ctx. Call it once the listeners have drained (server.RunOptions.Stop).
func (a *App) Shutdown(ctx context.Context) {
	a.stopBG()
	a.bg.Wait()
	if err := a.Counter.Flush(ctx, a.Store); err != nil {
		a.log.Warn("final analytics flush failed", "error", err)
	}
}

// Close stops the background work, if Shutdown has not, without flushing, and closes
// the connections.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		a.stopBG()
		a.bg.Wait()
		a.sub.Close()
		a.Redis.Close()
		a.Store.Close()
	})
}
