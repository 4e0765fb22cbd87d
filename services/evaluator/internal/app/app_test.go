package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/services/evaluator/internal/config"
)

// TestNewWithDependenciesDown: the evaluator wires and starts while PostgreSQL and Redis
// are unreachable (it serves what it can once they answer), reports itself not ready,
// and Shutdown and Close end its background work promptly, Close more than once.
func TestNewWithDependenciesDown(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://switchyard@127.0.0.1:1/switchyard?connect_timeout=1", "REDIS_URL": "redis://127.0.0.1:1/0"}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"not ready"`) {
		t.Errorf("/readyz with both down: %d %s", rec.Code, rec.Body)
	}
	if a.Listener.Connected() {
		t.Error("subscribed to a Redis that is not there")
	}
	done := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		a.Shutdown(ctx)
		a.Close()
		a.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown and Close did not return")
	}
}
