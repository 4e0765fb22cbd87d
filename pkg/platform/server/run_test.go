package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/pkg/testinfra"
)

func logTo(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func freeAddr(t *testing.T) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(testinfra.FreePort(t)))
}

// TestRun: Run serves the public and the operations listeners, calls Started once they
// are bound, and at the signal lets a request in flight finish, refuses new
// connections, runs Stop within the shutdown timeout, stops the operations listener
// and returns nil.
func TestRun(t *testing.T) {
	addr, opsAddr := freeAddr(t), freeAddr(t)
	var logs testinfra.SyncBuffer
	log := logTo(&logs)
	reg := metrics.NewRegistry()
	httpMetrics := metrics.NewHTTP(reg, "demo")
	e := New(log, Options{MaxBodyBytes: 1 << 10, Metrics: httpMetrics.Middleware(), Panics: httpMetrics.Panics()})
	// The handler reads the body, which StartInFlight holds back until Finish.
	e.POST("/slow", func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, "done "+string(body))
	})

	var mu sync.Mutex
	var events []string
	note := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	var stopDeadline time.Time
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, log, RunOptions{
			Name: "demo", Addr: addr, Handler: e, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
			OpsAddr: opsAddr, Registry: reg, ShutdownTimeout: 10 * time.Second,
			Started: func() { note("started") },
			Stop: func(ctx context.Context) {
				stopDeadline, _ = ctx.Deadline()
				// The public listener has drained by now.
				if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
					c.Close()
					note("stop while public listening")
				}
				note("stop")
			},
		})
	}()
	testinfra.WaitReady(t, "http://"+addr+"/readyz")
	testinfra.CheckOperationsListener(t, "http://"+addr, "http://"+opsAddr, `switchyard_demo_http_requests_total{method="GET",route="/readyz",status="200"}`)

	inflight := testinfra.StartInFlight(t, addr, http.MethodPost, "/slow", `{}`)
	cancel()
	testinfra.WaitRefused(t, addr)
	if r := inflight.Finish(); r.Status != http.StatusOK || string(r.Body) != "done {}" {
		t.Fatalf("in-flight request = %d %s", r.Status, r.Body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after the signal")
	}
	testinfra.WaitRefused(t, opsAddr)
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(events, ",") != "started,stop" {
		t.Errorf("events %v, want started, stop", events)
	}
	if time.Until(stopDeadline) <= 0 || time.Until(stopDeadline) > 10*time.Second {
		t.Errorf("Stop's deadline %v is not within the shutdown timeout", stopDeadline)
	}
	for _, want := range []string{`"msg":"demo listening"`, `"addr":"` + addr + `"`, `"ops_addr":"` + opsAddr + `"`, `"msg":"shutting down"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in the log:\n%s", want, logs.String())
		}
	}
}

// TestRunAddressTaken: when a listener cannot bind, Run fails at once, naming the
// address, and neither Started nor Stop runs.
func TestRunAddressTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	called := false
	var logs bytes.Buffer
	err = Run(context.Background(), logTo(&logs), RunOptions{
		Name: "demo", Addr: freeAddr(t), Handler: http.NotFoundHandler(), OpsAddr: taken.Addr().String(),
		Registry: metrics.NewRegistry(), ShutdownTimeout: time.Second,
		Started: func() { called = true }, Stop: func(context.Context) { called = true },
	})
	if err == nil || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("Run = %v, want an error naming %s", err, taken.Addr())
	}
	if called {
		t.Error("Started or Stop ran for a service that never started")
	}
}
