package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/pkg/testinfra/fixture"
)

func TestStartupFailsNamingTheBadVariable(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "mysql://x", "REDIS_URL": "redis://127.0.0.1:1/0", "SNAPSHOT_MAX_AGE": "soon"}
	err := run(context.Background(), func(k string) string { return env[k] }, io.Discard)
	if err == nil {
		t.Fatal("run started with a bad configuration")
	}
	for _, name := range []string{"DATABASE_URL", "SNAPSHOT_MAX_AGE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

// TestGracefulShutdown stops the evaluator while a request is in flight: the request
// completes, new connections are refused, and the evaluations counted since the last
// flush reach PostgreSQL before run returns. Before that, the operations listener
// serves the metrics and profiles the public port does not; it stops too.
func TestGracefulShutdown(t *testing.T) {
	dbURL := testinfra.MigratedDB(t)
	fx := fixture.New(t, dbURL)
	fx.Flag(fixture.Bool("new-checkout", fixture.On()))
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testinfra.FreePort(t)))
	opsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testinfra.FreePort(t)))
	env := map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": testinfra.RedisURL(t), "HTTP_ADDR": addr, "OPS_ADDR": opsAddr,
		"ANALYTICS_FLUSH_INTERVAL": "20s", // the longest allowed: the shutdown flush writes
		"SHUTDOWN_TIMEOUT":         "10s",
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	logs := &testinfra.SyncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, logs) }()

	base := "http://" + addr
	testinfra.WaitReady(t, base+"/readyz")
	c := &testinfra.Client{T: t, URL: base, Auth: "Bearer " + fx.Key}
	const served = 25
	for range served {
		c.Must(http.StatusOK, http.MethodGet, "/api/v1/evaluate/new-checkout?key=u1", nil)
	}

	testinfra.CheckOperationsListener(t, base, "http://"+opsAddr, `switchyard_evaluator_http_requests_total{method="GET",route="/api/v1/evaluate/*",status="200"} 25`)

	inflight := testinfra.StartInFlight(t, addr, http.MethodPost, "/ofrep/v1/evaluate/flags/new-checkout",
		`{"context":{"targetingKey":"u2"}}`, "Authorization", "Bearer "+fx.Key)
	stop()
	testinfra.WaitRefused(t, addr)
	select {
	case err := <-done:
		t.Fatalf("run returned (%v) before the in-flight request finished", err)
	default:
	}
	if r := inflight.Finish(); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"value":true`) {
		t.Fatalf("in-flight request = %d %s", r.Status, r.Body)
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after the shutdown")
	}
	var counted int
	if err := fx.DB.QueryRow(`SELECT COALESCE(sum(count), 0) FROM flag_evaluations WHERE environment_id = $1 AND flag_key = 'new-checkout'`,
		fx.ID).Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if counted != served+1 {
		t.Fatalf("flushed %d evaluations at shutdown, want %d\nlogs:\n%s", counted, served+1, logs)
	}
	if !strings.Contains(logs.String(), `"msg":"shutting down"`) {
		t.Errorf("no shutdown log line:\n%s", logs)
	}
	testinfra.WaitRefused(t, opsAddr) // the operations listener went down too
}
