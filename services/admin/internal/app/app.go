// Package app wires the admin service from its configuration: the PostgreSQL store,
// Redis, the outbox worker that delivers invalidations, the login limits, the
// authenticator, the service layer, the metrics and the HTTP handler. main (serve,
// seed, users) and the integration tests build the same service through New.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/pkg/platform/ratelimit"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/platform/redisconn"
	"github.com/switchyard/switchyard/pkg/platform/server"
	"github.com/switchyard/switchyard/services/admin/internal/api"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/config"
	"github.com/switchyard/switchyard/services/admin/internal/outbox"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
	"github.com/switchyard/switchyard/services/admin/internal/service"
	"github.com/switchyard/switchyard/services/admin/internal/ui"
)

// Options are what the environment does not configure.
type Options struct {
	// Argon2 hashes passwords; the zero value is auth.DefaultArgon2. Tests that make
	// many users use cheaper parameters.
	Argon2 auth.Argon2Params
	// LimitScope prefixes the names of the Redis counters of the login and
	// authentication limits; tests sharing one Redis give each service its own.
	LimitScope string
}

// App is a wired admin service. Its outbox worker runs between Start and Stop.
type App struct {
	// Handler serves the API; Registry holds the metrics the operations listener
	// serves.
	Handler  *server.Echo
	Registry *prometheus.Registry

	Store   *postgres.Store
	Redis   redis.UniversalClient
	Worker  *outbox.Worker
	Service *service.Service
	Auth    *auth.Authenticator

	log        *slog.Logger
	stopWorker context.CancelFunc
	workerDone chan struct{}
	closeOnce  sync.Once
}

// New wires the service from cfg. It starts nothing: Start runs the outbox worker.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	store, err := postgres.Open(ctx, log, cfg.DatabaseURL, postgres.Options{MaxConns: cfg.DBMaxConns})
	if err != nil {
		return nil, err
	}
	// Short deadlines: a dead Redis must cost milliseconds, not seconds.
	rdb, err := redisconn.Open(cfg.RedisURL, redisconn.Options{Dial: 500 * time.Millisecond, Read: 500 * time.Millisecond,
		Write: 500 * time.Millisecond, MaxRetries: 1})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	a := &App{Store: store, Redis: rdb, log: log}
	a.Worker = outbox.New(log, store, fencer{rdb}, cfg.OutboxInterval, 500*time.Millisecond)
	store.AfterCommit(a.Worker.Kick) // a committed change's invalidations go out at once

	argon := opt.Argon2
	if argon == (auth.Argon2Params{}) {
		argon = auth.DefaultArgon2
	}
	hasher := auth.NewHasher(argon)
	// The limits live in Redis, shared by every replica (per process while it is down).
	perMinute := func(name string, n int) *ratelimit.Limiter {
		return ratelimit.New(rdb, opt.LimitScope+name, ratelimit.Options{Limit: n, Window: time.Minute})
	}
	guesses := &auth.Guesses{
		Address: perMinute("login-address", cfg.LoginPerAddress),
		Pair:    perMinute("login-account-address", cfg.LoginPerAccountAddress),
		Account: perMinute("login-account", cfg.LoginPerAccount),
	}
	a.Auth = auth.NewAuthenticator(log, store, auth.Options{
		BootstrapToken: cfg.AdminToken,
		Sessions:       auth.NewSessions([]byte(cfg.JWTSecret), cfg.JWTTTL),
		Hasher:         hasher,
		Guesses:        guesses,
		Failures:       perMinute("authfail", cfg.AuthFailuresPerAddress),
	})
	a.Service = service.New(store, hasher, guesses)

	a.Registry = metrics.NewRegistry()
	a.registerMetrics()
	httpMetrics := metrics.NewHTTP(a.Registry, "admin")
	a.Handler = api.New(log, a.Service, a.Auth, api.Options{
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Ready:          map[string]server.Checker{"postgres": store, "redis": redisconn.Pinger{Client: rdb}},
		Metrics:        httpMetrics.Middleware(),
		Panics:         httpMetrics.Panics(),
		TrustedProxies: cfg.TrustedProxies,
	})
	// The dashboard, at / beside the API, over the same service and authenticator.
	ui.Mount(a.Handler.Echo, log, a.Service, ui.Options{Auth: a.Auth, Secret: []byte(cfg.JWTSecret), CookieSecure: cfg.CookieSecure})
	return a, nil
}

func (a *App) registerMetrics() {
	metrics.CounterFunc(a.Registry, "admin", "invalidations_published_total", "Invalidations delivered to Redis.",
		func() float64 { return float64(a.Worker.Published()) })
	metrics.CounterFunc(a.Registry, "admin", "invalidation_failures_total", "Invalidation deliveries that failed and wait for a retry.",
		func() float64 { return float64(a.Worker.Failed()) })
	metrics.GaugeFunc(a.Registry, "admin", "outbox_depth", "Invalidations not yet delivered.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := a.Store.OutboxDepth(ctx)
		if err != nil {
			return -1 // the database did not answer
		}
		return float64(n)
	})
}

// Log is the service's logger.
func (a *App) Log() *slog.Logger { return a.log }

// Start runs the outbox worker in the background, until Stop.
func (a *App) Start() {
	ctx, stop := context.WithCancel(context.Background())
	a.stopWorker, a.workerDone = stop, make(chan struct{})
	go func() {
		defer close(a.workerDone)
		a.Worker.Run(ctx)
	}()
}

// Stop ends the outbox worker, then delivers what the last changes enqueued, within
// ctx. Call it once the listeners have drained (server.RunOptions.Stop).
func (a *App) Stop(ctx context.Context) {
	if a.stopWorker != nil {
		a.stopWorker()
		<-a.workerDone
		a.stopWorker = nil
	}
	a.Worker.Drain(ctx)
}

// Close stops the worker if Stop has not, without delivering, and closes the
// connections. It is safe to call more than once.
func (a *App) Close() {
	a.closeOnce.Do(func() {
		if a.stopWorker != nil {
			a.stopWorker()
			<-a.workerDone
		}
		a.Redis.Close()
		a.Store.Close()
	})
}

// fencer delivers the outbox's invalidations through Redis (the outbox's Publisher):
// it fences the environment's cached snapshot and publishes the new version.
type fencer struct{ rdb redis.Scripter }

func (f fencer) Publish(ctx context.Context, inv domain.Invalidation) error {
	_, err := rediscache.Fence(ctx, f.rdb, rediscache.Invalidation{EnvironmentID: inv.EnvironmentID, Version: inv.Version})
	return err
}
