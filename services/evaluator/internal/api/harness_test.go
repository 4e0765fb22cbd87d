package api_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/openapi/openapitest"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/api"
	"github.com/switchyard/switchyard/services/evaluator/internal/app"
	"github.com/switchyard/switchyard/services/evaluator/internal/config"
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
	app      *app.App
	handler  http.Handler
	srv      *httptest.Server
}

type options struct {
	maxAge time.Duration
	keyTTL time.Duration
	// authFailures limits failed authentications per address (in Redis); 0: no limit.
	authFailures int
	// Live updates: the streams' heartbeat, their limits, the CORS origins.
	heartbeat      time.Duration
	perKey, max    int
	corsOrigins    []string
	streamTokenTTL time.Duration
	pollInterval   time.Duration // of versions while Redis is down; default 200ms
}

func defaults() options {
	return options{maxAge: time.Minute, keyTTL: time.Minute, heartbeat: time.Second, perKey: 100, max: 1000}
}

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
	cfg, err := config.Load(func(k string) string { return map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL}[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.SnapshotMaxAge, cfg.KeyCacheTTL = opt.maxAge, opt.keyTTL
	cfg.DBTimeout = time.Second
	cfg.AnalyticsMax = 10_000
	cfg.AnalyticsFlush = time.Hour // the tests flush by hand
	cfg.MaxBodyBytes = 64 << 10
	// The environment's own scope: tests share one Redis, and all come from 127.0.0.1.
	cfg.AuthFailuresPerAddress, cfg.AuthFailureScope = opt.authFailures, "authfail-"+env.ID
	if opt.heartbeat == 0 || opt.perKey == 0 || opt.max == 0 {
		d := defaults()
		opt.heartbeat, opt.perKey, opt.max = d.heartbeat, d.perKey, d.max
	}
	cfg.StreamHeartbeat, cfg.StreamsPerKey, cfg.StreamsMax, cfg.CORSAllowedOrigins = opt.heartbeat, opt.perKey, opt.max, opt.corsOrigins
	cfg.StreamPollInterval = 200 * time.Millisecond
	if opt.pollInterval > 0 {
		cfg.StreamPollInterval = opt.pollInterval
	}
	if opt.streamTokenTTL > 0 {
		cfg.StreamTokenTTL = opt.streamTokenTTL
	}
	a, err := app.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		a.Drain() // streams end, or srv.Close would wait for them
		srv.Close()
		a.Close()
	})
	hs := &harness{Client: &testinfra.Client{T: t, URL: srv.URL, Auth: "Bearer " + env.Key, Check: validate(t)}, t: t, env: env,
		store: a.Store, rdb: a.Redis, cache: a.Cache, listener: a.Listener, counter: a.Counter, app: a, handler: a.Handler, srv: srv}
	testinfra.Eventually(t, 5*time.Second, "the invalidation subscription", a.Listener.Connected)
	return hs
}

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
