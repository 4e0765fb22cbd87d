package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/openapi/openapitest"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/api"
	"github.com/switchyard/switchyard/services/admin/internal/app"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/config"
	"github.com/switchyard/switchyard/services/admin/internal/outbox"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
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
	t            testing.TB
	dbURL        string
	redisURL     string
	store        *postgres.Store
	rdb          redis.UniversalClient
	worker       *outbox.Worker
	srv          *httptest.Server
	stop         func()
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return startHarness(t, testinfra.PostgresDB(t), testinfra.RedisURL(t), true)
}

// startHarness starts the service on an existing database; migrate applies the schema.
func startHarness(t testing.TB, dbURL, redisURL string, migrate bool) *harness {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if migrate {
		store, err := postgres.Open(ctx, log, dbURL, postgres.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		err = postgres.Migrate(ctx, store.SQL(), "up", func(string) {})
		store.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(func(name string) string {
		return map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "ADMIN_TOKEN": token, "JWT_SECRET": jwtSecret,
			"DB_MAX_CONNS": "60", "OUTBOX_INTERVAL": "50ms", "MAX_BODY_BYTES": "65536",
			"LOGIN_ATTEMPTS_PER_ADDRESS": "1000", "LOGIN_ATTEMPTS_PER_ACCOUNT_ADDRESS": "5", "LOGIN_ATTEMPTS_PER_ACCOUNT": "30",
			"AUTH_FAILURES_PER_ADDRESS": "1000"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	// Limits in the shared Redis, under names of this test's own; cheap hashing, since
	// tests make many users.
	ns := dbURL[strings.LastIndex(dbURL, "/")+1:]
	a, err := app.New(ctx, cfg, log, app.Options{Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}, LimitScope: ns + "-"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	a.Start()
	var once sync.Once
	hs := &harness{Client: &testinfra.Client{T: t, URL: srv.URL, Auth: "Bearer " + token, Check: validate(t)}, t: t, dbURL: dbURL, redisURL: redisURL, store: a.Store, rdb: a.Redis, worker: a.Worker, srv: srv}
	hs.stop = func() {
		once.Do(func() {
			srv.Close()
			a.Close()
		})
	}
	t.Cleanup(hs.stop)
	return hs
}

// testWriter sends the service's warnings and errors to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

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
func validate(t testing.TB) func(*http.Request, testinfra.Response) error {
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
