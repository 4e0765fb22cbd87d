package main

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/pkg/platform/rediscache"
	"github.com/switchyard/switchyard/pkg/testinfra"
)

const token = "0123456789abcdef0123456789abcdef-test"

func TestStartupFailsNamingTheBadVariable(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://x/y", "REDIS_URL": "http://x", "ADMIN_TOKEN": "short", "OUTBOX_INTERVAL": "-"}
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("serve started with a bad configuration")
	}
	for _, name := range []string{"REDIS_URL", "ADMIN_TOKEN", "JWT_SECRET", "OUTBOX_INTERVAL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("error %q names DATABASE_URL, which is valid", err)
	}
}

// TestGracefulShutdown stops the admin service while a write is in flight: the write
// completes and is persisted, new connections are refused, and the invalidations it
// enqueued are delivered to Redis before serve returns. Before that, the operations
// listener serves the metrics and profiles the public port does not; it stops too.
func TestGracefulShutdown(t *testing.T) {
	dbURL := testinfra.PostgresDB(t)
	redisURL := testinfra.RedisURL(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testinfra.FreePort(t)))
	opsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testinfra.FreePort(t)))
	env := map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "HTTP_ADDR": addr, "OPS_ADDR": opsAddr,
		"ADMIN_TOKEN": token, "JWT_SECRET": token, "SHUTDOWN_TIMEOUT": "10s", "LOG_LEVEL": "warn",
		"OUTBOX_INTERVAL": "1h", // only the shutdown drain retries
	}
	getenv := func(k string) string { return env[k] }
	if err := run(context.Background(), []string{"migrate", "up"}, getenv, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, io.Discard) }()

	base := "http://" + addr
	testinfra.WaitReady(t, base+"/readyz")
	c := &testinfra.Client{T: t, URL: base, Auth: "Bearer " + token}
	c.Must(http.StatusCreated, http.MethodPost, "/api/v1/projects", map[string]any{"key": "shop"})
	testinfra.CheckOperationsListener(t, base, "http://"+opsAddr, `switchyard_admin_http_requests_total{method="POST",route="/api/v1/projects",status="201"} 1`)

	inflight := testinfra.StartInFlight(t, addr, http.MethodPost, "/api/v1/projects/shop/flags",
		`{"key":"late-flag","kind":"boolean"}`, "Authorization", "Bearer "+token)
	stop()
	testinfra.WaitRefused(t, addr)
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) before the in-flight request finished", err)
	default:
	}
	if r := inflight.Finish(); r.Status != http.StatusCreated {
		t.Fatalf("in-flight write = %d %s", r.Status, r.Body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after the shutdown")
	}
	testinfra.WaitRefused(t, opsAddr) // the operations listener went down too

	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var flags, audited, pending int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM flags WHERE key = 'late-flag'),
		(SELECT count(*) FROM audit_log WHERE entity_key = 'late-flag'), (SELECT count(*) FROM outbox)`).
		Scan(&flags, &audited, &pending); err != nil {
		t.Fatal(err)
	}
	if flags != 1 || audited != 1 || pending != 0 {
		t.Fatalf("after shutdown: %d flags, %d audit rows, %d undelivered invalidations; want 1, 1, 0", flags, audited, pending)
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	rows, err := db.Query(`SELECT e.id::text, e.version FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.key = 'shop'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var version int64
		if err := rows.Scan(&id, &version); err != nil {
			t.Fatal(err)
		}
		fenced, err := rediscache.Fenced(context.Background(), rdb, id)
		if err != nil || fenced < version {
			t.Errorf("environment %s: Redis fenced at %d (%v), want version %d", id, fenced, err, version)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("%d environments, want 3", n)
	}
}
