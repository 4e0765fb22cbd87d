package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/pkg/platform/openapi/openapitest"
	"github.com/switchyard/switchyard/pkg/platform/ratelimit"
	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/platform/redisconn"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/api"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
	"github.com/switchyard/switchyard/services/evaluator/internal/postgres"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
)

// harness is a running evaluator: real PostgreSQL, real Redis, real HTTP.
type harness struct {
	*testinfra.Client
	t        testing.TB
	env      *fixture.Env
	store    *postgres.Store
	rdb      redis.UniversalClient
	cache    *snapshots.Cache
	listener *snapshots.Listener
	counter  *analytics.Counter
	handler  http.Handler
	srv      *httptest.Server
}

type options struct {
	maxAge time.Duration
	keyTTL time.Duration
	// authFailures limits failed authentications per address (in Redis); 0: no limit.
	authFailures int
}

func defaults() options { return options{maxAge: time.Minute, keyTTL: time.Minute} }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newHarness seeds a fresh database and starts an evaluator on it.
func newHarness(t testing.TB, dbURL, redisURL string, opt options) *harness {
	t.Helper()
	env := fixture.New(t, dbURL)
	return startEvaluator(t, env, dbURL, redisURL, opt)
}

func startEvaluator(t testing.TB, env *fixture.Env, dbURL, redisURL string, opt options) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	store, err := postgres.Open(dbURL, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	ro := redisconn.Options{Dial: 100 * time.Millisecond, Read: 100 * time.Millisecond, Write: 100 * time.Millisecond, MaxRetries: -1}
	rdb, err := redisconn.Open(redisURL, ro)
	if err != nil {
		t.Fatal(err)
	}
	ro.Read = -1
	sub, err := redisconn.Open(redisURL, ro)
	if err != nil {
		t.Fatal(err)
	}
	cache := snapshots.New(log, store, rdb, snapshots.Options{MaxAge: opt.maxAge, RedisTimeout: 100 * time.Millisecond, LoadTimeout: time.Second})
	var failures keys.Limiter
	if opt.authFailures > 0 {
		failures = ratelimit.New(rdb, "authfail-"+env.ID, ratelimit.Options{Limit: opt.authFailures, Window: time.Minute})
	}
	auth := keys.New(store, opt.keyTTL, time.Second, failures)
	counter := analytics.New(log, 10_000)
	l := snapshots.NewListener(log, sub)
	l.OnInvalidation = func(inv rediscache.Invalidation) {
		cache.Invalidate(inv.EnvironmentID, inv.Version)
		auth.DropEnvironment(inv.EnvironmentID)
	}
	l.OnResubscribe = func() {
		cache.DropAll()
		auth.DropAll()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.Run(ctx) }()
	httpMetrics := metrics.NewHTTP(metrics.NewRegistry(), "evaluator")
	h := api.New(log, cache, auth, counter, api.Options{MaxBodyBytes: 64 << 10,
		Ready:   map[string]api.Checker{"postgres": store, "redis": pinger{rdb}},
		Metrics: httpMetrics.Middleware(), Panics: httpMetrics.Panics()})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		wg.Wait()
		sub.Close()
		rdb.Close()
		store.Close()
	})
	hs := &harness{Client: &testinfra.Client{T: t, URL: srv.URL, Auth: "Bearer " + env.Key, Check: validate(t)}, t: t, env: env, store: store, rdb: rdb, cache: cache, listener: l, counter: counter, handler: h, srv: srv}
	testinfra.Eventually(t, 5*time.Second, "the invalidation subscription", l.Connected)
	return hs
}

type pinger struct{ rdb redis.UniversalClient }

func (p pinger) Ping(ctx context.Context) error { return p.rdb.Ping(ctx).Err() }

// ofrep evaluates one flag through OFREP and returns its value.
func (h *harness) ofrep(flag string, ctx map[string]any) (int, any) {
	h.t.Helper()
	r := h.Do("POST", "/ofrep/v1/evaluate/flags/"+flag, map[string]any{"context": ctx})
	if r.Status != 200 {
		return r.Status, nil
	}
	return r.Status, r.JSON(h.t)["value"]
}

// newDB returns a fresh database on the shared test server.
func newDB(t testing.TB) string { return testinfra.MigratedDB(t) }

// validate checks responses against the OpenAPI document.
func validate(t testing.TB) func(*http.Request, testinfra.Response) error {
	doc, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	v, err := openapitest.NewValidator(doc, api.Wildcards...)
	if err != nil {
		t.Fatal(err)
	}
	return func(req *http.Request, r testinfra.Response) error {
		return v.Validate(req, r.Status, r.Header, r.Body)
	}
}
