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
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/api"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/outbox"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

const (
	token     = "test-admin-token-0123456789abcdef0123456789"
	jwtSecret = "test-jwt-secret-0123456789abcdef0123456789"
)

// harness is a running admin service on a fresh database: real PostgreSQL, real
// Redis, real HTTP.
type harness struct {
	*testinfra.Client
	extra string // a spare user id, for tests that need one
	// extraSession is the spare user's session, callerIDs the RBAC matrix's users.
	extraSession string
	callerIDs    map[string]string
	t            *testing.T
	dbURL        string
	redisURL     string
	store        *postgres.Store
	rdb          *redis.Client
	worker       *outbox.Worker
	srv          *httptest.Server
	stop         func()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return startHarness(t, testinfra.PostgresDB(t), testinfra.RedisURL(t), true)
}

// startHarness starts the service on an existing database; migrate applies the schema.
func startHarness(t *testing.T, dbURL, redisURL string, migrate bool) *harness {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := postgres.Open(ctx, log, dbURL, postgres.Options{MaxConns: 60})
	if err != nil {
		t.Fatal(err)
	}
	if migrate {
		if err := postgres.Migrate(ctx, store.SQL(), "up", func(string) {}); err != nil {
			t.Fatal(err)
		}
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.MaxRetries = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond, -1
	rdb := redis.NewClient(opt)
	worker := outbox.New(log, store, rdb, 50*time.Millisecond, 300*time.Millisecond)
	hasher := auth.NewHasher(auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}) // cheap: tests make many users
	// Limits in the shared Redis, under names of this test's own.
	ns := dbURL[strings.LastIndex(dbURL, "/")+1:]
	perMinute := func(name string, n int) *ratelimit.Limiter {
		return ratelimit.New(rdb, ns+"-"+name, ratelimit.Options{Limit: n, Window: time.Minute})
	}
	guesses := &auth.Guesses{Address: perMinute("address", 1000), Pair: perMinute("pair", 5), Account: perMinute("account", 30)}
	authn := auth.NewAuthenticator(log, store, auth.Options{
		BootstrapToken: token, Sessions: auth.NewSessions([]byte(jwtSecret), time.Hour), Hasher: hasher,
		Guesses: guesses, Failures: perMinute("authfail", 1000),
	})
	svc := service.New(log, store, worker, hasher, guesses, auth.NewToken)
	httpMetrics := metrics.NewHTTP(metrics.NewRegistry(), "admin")
	h := api.New(log, svc, api.Options{Auth: authn, MaxBodyBytes: 64 << 10,
		Ready:   map[string]api.Checker{"postgres": store, "redis": pinger{rdb}},
		Metrics: httpMetrics.Middleware(), Panics: httpMetrics.Panics()})
	srv := httptest.NewServer(h)
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); worker.Run(wctx) }()
	var once sync.Once
	hs := &harness{Client: &testinfra.Client{T: t, URL: srv.URL, Auth: "Bearer " + token, Check: validate(t)}, t: t, dbURL: dbURL, redisURL: redisURL, store: store, rdb: rdb, worker: worker, srv: srv}
	hs.stop = func() {
		once.Do(func() {
			srv.Close()
			cancel()
			wg.Wait()
			rdb.Close()
			store.Close()
		})
	}
	t.Cleanup(hs.stop)
	return hs
}

// testWriter sends the service's warnings and errors to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type pinger struct{ rdb *redis.Client }

func (p pinger) Ping(ctx context.Context) error { return p.rdb.Ping(ctx).Err() }

// auditCount counts audit rows.
func (h *harness) auditCount() int {
	h.t.Helper()
	var n int
	if err := h.store.SQL().QueryRow(`SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// envVersion returns an environment's id and version.
func (h *harness) envVersion(project, env string) (string, int64) {
	h.t.Helper()
	var id string
	var v int64
	err := h.store.SQL().QueryRow(`SELECT e.id, e.version FROM environments e JOIN projects p ON p.id = e.project_id
		WHERE p.key = $1 AND e.key = $2`, project, env).Scan(&id, &v)
	if err != nil {
		h.t.Fatal(err)
	}
	return id, v
}

func (h *harness) outboxDepth() int64 {
	h.t.Helper()
	n, err := h.store.OutboxDepth(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// flag creates a boolean flag in project p.
func (h *harness) flag(p, key string) {
	h.t.Helper()
	h.Must(201, "POST", "/api/v1/projects/"+p+"/flags", map[string]any{"key": key, "kind": "boolean"})
}

// onConfig is a valid configuration serving on, replacing version.
func onConfig(version int64) map[string]any {
	return map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off", "version": version}
}

// user creates a user with a password and returns its id.
func (h *harness) user(email string, instanceAdmin bool) string {
	h.t.Helper()
	u := h.Must(201, "POST", "/api/v1/users", map[string]any{"email": email, "password": "password-" + email, "instance_admin": instanceAdmin}).JSON(h.t)
	return u["id"].(string)
}

// login logs a user in and returns its session token.
func (h *harness) login(email string) string {
	h.t.Helper()
	r := h.Must(200, "POST", "/api/v1/auth/login", map[string]any{"email": email, "password": "password-" + email}, "Authorization", "")
	return r.JSON(h.t)["token"].(string)
}

// as returns a client acting with another credential.
func (h *harness) as(credential string) *testinfra.Client {
	return &testinfra.Client{T: h.t, URL: h.srv.URL, Auth: "Bearer " + credential, Check: h.Check}
}

// validate checks responses against the OpenAPI document.
func validate(t *testing.T) func(*http.Request, testinfra.Response) error {
	doc, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	v, err := openapitest.NewValidator(doc)
	if err != nil {
		t.Fatal(err)
	}
	return func(req *http.Request, r testinfra.Response) error {
		return v.Validate(req, r.Status, r.Header, r.Body)
	}
}
