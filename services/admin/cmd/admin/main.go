// Command admin is the write path of Switchyard: projects, environments, flags and
// their configurations in PostgreSQL, audited, with Redis invalidated after each commit.
//
//	admin [serve]                 serve the admin API (the default)
//	admin migrate up|down|status  apply, revert or list the schema migrations
//	admin seed                    create the demo project, unless it exists
//	admin healthcheck             ask the running service's /healthz (for containers)
//	admin check-config            validate the configuration and exit
//	admin users create -email E [-name N] [-instance-admin]
//	                              create a user; the password comes from
//	                              ADMIN_USER_PASSWORD or standard input
//
// Configuration comes from the environment; see the README's table.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	"github.com/switchyard/switchyard/pkg/platform/redisconn"
	"github.com/switchyard/switchyard/services/admin/internal/api"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/config"
	"github.com/switchyard/switchyard/services/admin/internal/outbox"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

const usage = "usage: admin [serve | migrate up|down|status | seed | users create -email E [-name N] [-instance-admin] | healthcheck | check-config]"

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		cfg, err := config.Load(getenv)
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		return serve(ctx, cfg)
	case "migrate":
		if len(args) != 2 {
			return errors.New("usage: admin migrate up|down|status")
		}
		return migrate(ctx, getenv("DATABASE_URL"), args[1], stdout)
	case "seed":
		cfg, err := config.Load(getenv)
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		return seedCommand(ctx, cfg, stdout)
	case "users":
		cfg, err := config.Load(getenv)
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		return usersCommand(ctx, cfg, args[1:], getenv, os.Stdin, stdout)
	case "check-config":
		if _, err := config.Load(getenv); err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		fmt.Fprintln(stdout, "configuration is valid")
		return nil
	case "healthcheck":
		return healthcheck.Run(ctx, or(getenv("HTTP_ADDR"), "127.0.0.1:8080"))
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q; %s", cmd, usage)
}

func migrate(ctx context.Context, databaseURL, command string, stdout io.Writer) error {
	if databaseURL == "" {
		return errors.New("DATABASE_URL: required")
	}
	store, err := postgres.Open(ctx, slog.New(slog.DiscardHandler), databaseURL, postgres.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer store.Close()
	return postgres.Migrate(ctx, store.SQL(), command, func(s string) { fmt.Fprintln(stdout, s) })
}

// redisClient connects with short deadlines, so a dead Redis costs milliseconds.
func redisClient(url string) (redis.UniversalClient, error) {
	return redisconn.Open(url, redisconn.Options{Dial: 500 * time.Millisecond, Read: 500 * time.Millisecond,
		Write: 500 * time.Millisecond, MaxRetries: 1})
}

type redisPinger struct{ rdb redis.UniversalClient }

func (p redisPinger) Ping(ctx context.Context) error { return p.rdb.Ping(ctx).Err() }

// app is the service's parts, wired.
type app struct {
	log    *slog.Logger
	store  *postgres.Store
	rdb    redis.UniversalClient
	worker *outbox.Worker
	svc    *service.Service
	auth   *auth.Authenticator
}

func newApp(ctx context.Context, cfg config.Config) (*app, error) {
	log := logging.New(os.Stderr, "admin", cfg.LogLevel, cfg.LogFormat)
	store, err := postgres.Open(ctx, log, cfg.DatabaseURL, postgres.Options{MaxConns: cfg.DBMaxConns})
	if err != nil {
		return nil, err
	}
	rdb, err := redisClient(cfg.RedisURL)
	if err != nil {
		store.Close()
		return nil, err
	}
	worker := outbox.New(log, store, rdb, cfg.OutboxInterval, 500*time.Millisecond)
	hasher := auth.NewHasher(auth.DefaultArgon2)
	// The limits live in Redis, shared by every replica (per process while it is down).
	perMinute := func(name string, n int) *ratelimit.Limiter {
		return ratelimit.New(rdb, name, ratelimit.Options{Limit: n, Window: time.Minute})
	}
	guesses := &auth.Guesses{
		Address: perMinute("login-address", cfg.LoginPerAddress),
		Pair:    perMinute("login-account-address", cfg.LoginPerAccountAddress),
		Account: perMinute("login-account", cfg.LoginPerAccount),
	}
	authn := auth.NewAuthenticator(log, store, auth.Options{
		BootstrapToken: cfg.AdminToken,
		Sessions:       auth.NewSessions([]byte(cfg.JWTSecret), cfg.JWTTTL),
		Hasher:         hasher,
		Guesses:        guesses,
		Failures:       perMinute("authfail", cfg.AuthFailuresPerAddress),
	})
	svc := service.New(log, store, worker, hasher, guesses, auth.NewToken)
	return &app{log: log, store: store, rdb: rdb, worker: worker, svc: svc, auth: authn}, nil
}

func (a *app) close() {
	a.rdb.Close()
	a.store.Close()
}

func serve(ctx context.Context, cfg config.Config) error {
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()

	reg := metrics.NewRegistry()
	metrics.CounterFunc(reg, "admin", "invalidations_published_total", "Invalidations delivered to Redis.", func() float64 { return float64(a.worker.Published()) })
	metrics.CounterFunc(reg, "admin", "invalidation_failures_total", "Invalidation deliveries that failed and wait for a retry.", func() float64 { return float64(a.worker.Failed()) })
	metrics.GaugeFunc(reg, "admin", "outbox_depth", "Invalidations not yet delivered.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := a.store.OutboxDepth(ctx)
		if err != nil {
			return -1 // the database did not answer
		}
		return float64(n)
	})
	httpMetrics := metrics.NewHTTP(reg, "admin")
	handler := api.New(a.log, a.svc, api.Options{
		Auth:           a.auth,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Ready:          map[string]api.Checker{"postgres": a.store, "redis": redisPinger{a.rdb}},
		Metrics:        httpMetrics.Middleware(),
		Panics:         httpMetrics.Panics(),
		TrustedProxies: cfg.TrustedProxies,
	})
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	servers := metrics.Servers(srv, cfg.OpsAddr, reg)
	serveErr, err := httpapi.Start(servers...)
	if err != nil {
		return err
	}
	workerCtx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		a.worker.Run(workerCtx)
	}()
	a.log.Info("admin listening", "addr", cfg.HTTPAddr, "ops_addr", cfg.OpsAddr)

	var failed error // a listener that stopped by itself ends the service like a signal
	select {
	case failed = <-serveErr:
		a.log.Error("listener failed", "error", failed)
	case <-ctx.Done():
	}

	// Shut down in reverse order: stop taking requests and drain those in flight, then
	// deliver what they enqueued, then close the connections.
	a.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	httpapi.Shutdown(shutdownCtx, a.log, servers...)
	stopWorker()
	<-workerDone
	a.worker.Drain(shutdownCtx)
	return failed
}
