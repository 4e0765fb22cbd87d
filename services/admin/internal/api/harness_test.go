package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/api"
	"github.com/switchyard/switchyard/services/admin/internal/outbox"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

const token = "test-admin-token-0123456789abcdef0123456789"

// harness is a running admin service on a fresh database: real PostgreSQL, real
// Redis, real HTTP.
type harness struct {
	t        *testing.T
	dbURL    string
	redisURL string
	store    *postgres.Store
	rdb      *redis.Client
	worker   *outbox.Worker
	srv      *httptest.Server
	stop     func()
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
	svc := service.New(log, store, worker)
	h := api.New(log, svc, api.Options{AdminToken: token, MaxBodyBytes: 64 << 10,
		Ready: map[string]api.Checker{"postgres": store, "redis": pinger{rdb}}})
	srv := httptest.NewServer(h)
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); worker.Run(wctx) }()
	var once sync.Once
	hs := &harness{t: t, dbURL: dbURL, redisURL: redisURL, store: store, rdb: rdb, worker: worker, srv: srv}
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

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// fields returns the field names of a problem's errors.
func (r response) fields(t *testing.T) []string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Message string }
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("not a problem: %s", r.body)
	}
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field
	}
	return out
}

// do sends a request with the admin token; body is JSON-encoded unless it is a string
// or []byte. Extra headers come as name, value pairs.
func (h *harness) do(method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: raw}
}

// must sends a request and fails the test unless the status is want.
func (h *harness) must(want int, method, path string, body any, headers ...string) response {
	h.t.Helper()
	r := h.do(method, path, body, headers...)
	if r.status != want {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
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

// eventually retries cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", timeout, what)
}

// flag creates a boolean flag in project p.
func (h *harness) flag(p, key string) {
	h.t.Helper()
	h.must(201, "POST", "/api/v1/projects/"+p+"/flags", map[string]any{"key": key, "kind": "boolean"})
}

// onConfig is a valid configuration serving on, replacing version.
func onConfig(version int64) map[string]any {
	return map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off", "version": version}
}
