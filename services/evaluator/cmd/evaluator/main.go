// Command evaluator is the read path of Switchyard: it evaluates flags for SDKs, from
// snapshots cached in process, in Redis and in PostgreSQL, and speaks OFREP.
//
// Configuration comes from the environment; see the README's table. "evaluator
// healthcheck" asks a running evaluator's /healthz, for container health checks;
// "evaluator check-config" validates the configuration and exits.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/healthcheck"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/pkg/platform/logging"
	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/pkg/platform/ratelimit"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/platform/redisconn"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/api"
	"github.com/switchyard/switchyard/services/evaluator/internal/config"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "healthcheck":
		addr := os.Getenv("HTTP_ADDR")
		if addr == "" {
			addr = "127.0.0.1:8081"
		}
		err = healthcheck.Run(ctx, addr)
	case len(os.Args) > 1 && os.Args[1] == "check-config":
		if _, err = config.Load(os.Getenv); err != nil {
			err = fmt.Errorf("configuration:\n%w", err)
		} else {
			fmt.Println("configuration is valid")
		}
	default:
		err = run(ctx, os.Getenv, os.Stderr)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "evaluator:", err)
		os.Exit(1)
	}
}

type redisPinger struct{ rdb redis.UniversalClient }

func (p redisPinger) Ping(ctx context.Context) error { return p.rdb.Ping(ctx).Err() }

func run(ctx context.Context, getenv func(string) string, logOut io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := logging.New(logOut, "evaluator", cfg.LogLevel, cfg.LogFormat)

	store, err := postgres.Open(cfg.DatabaseURL, cfg.DatabaseReadURL, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer store.Close()
	// Short deadlines: a dead Redis must cost milliseconds, not seconds.
	ro := redisconn.Options{Dial: 200 * time.Millisecond, Read: cfg.RedisTimeout, Write: cfg.RedisTimeout, MaxRetries: -1, PoolSize: 64}
	rdb, err := redisconn.Open(cfg.RedisURL, ro)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	defer rdb.Close()
	// The subscription blocks on reads, so it gets its own client without read deadlines.
	ro.Read = -1
	subRDB, err := redisconn.Open(cfg.RedisURL, ro)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	defer subRDB.Close()

	cache := snapshots.New(log, store, rdb, snapshots.Options{MaxAge: cfg.SnapshotMaxAge, RedisTimeout: cfg.RedisTimeout, LoadTimeout: cfg.DBTimeout})
	failures := ratelimit.New(rdb, "sdk-authfail", ratelimit.Options{Limit: cfg.AuthFailuresPerAddress, Window: time.Minute, Timeout: cfg.RedisTimeout})
	auth := keys.New(store, cfg.KeyCacheTTL, cfg.DBTimeout, failures)
	counter := analytics.New(log, cfg.AnalyticsMax)

	listener := snapshots.NewListener(log, subRDB)
	listener.OnInvalidation = func(inv rediscache.Invalidation) {
		cache.Invalidate(inv.EnvironmentID, inv.Version)
		auth.DropEnvironment(inv.EnvironmentID)
	}
	listener.OnResubscribe = func() {
		// Messages may have been missed: snapshots and cached keys (a revocation among
		// them) are checked again.
		cache.DropAll()
		auth.DropAll()
	}

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	go listener.Run(bg)
	analyticsDone := make(chan struct{})
	go func() {
		defer close(analyticsDone)
		counter.Run(bg, store, cfg.AnalyticsFlush)
	}()

	reg := metrics.NewRegistry()
	registerMetrics(reg, cache, listener, counter, seriesLimits{max: cfg.MetricsMaxFlagSeries, ttl: cfg.MetricsFlagSeriesTTL})
	httpMetrics := metrics.NewHTTP(reg, "evaluator")
	handler := api.New(log, cache, auth, counter, api.Options{MaxBodyBytes: cfg.MaxBodyBytes,
		Ready:   map[string]api.Checker{"postgres": store, "redis": redisPinger{rdb}},
		Metrics: httpMetrics.Middleware(), Panics: httpMetrics.Panics(), TrustedProxies: cfg.TrustedProxies})
	srv := &http.Server{Addr: cfg.HTTPAddr, Handler: handler, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	servers := metrics.Servers(srv, cfg.OpsAddr, reg)
	serveErr, err := httpapi.Start(servers...)
	if err != nil {
		return err
	}
	log.Info("evaluator listening", "addr", cfg.HTTPAddr, "ops_addr", cfg.OpsAddr)

	var failed error // a listener that stopped by itself ends the service like a signal
	select {
	case failed = <-serveErr:
		log.Error("listener failed", "error", failed)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	httpapi.Shutdown(shutdownCtx, log, servers...)
	stopBG()
	<-analyticsDone
	if err := counter.Flush(shutdownCtx, store); err != nil {
		log.Warn("final analytics flush failed", "error", err)
	}
	return failed
}
