package api_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/evaluator/internal/api"
)

// TestOpenAPIRoutes: every registered route is documented and every documented
// operation is served.
func TestOpenAPIRoutes(t *testing.T) {
	doc, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	httpMetrics := metrics.NewHTTP(metrics.NewRegistry(), "evaluator")
	e := api.New(slog.New(slog.DiscardHandler), api.Deps{}, api.Live{}, api.Options{MaxBodyBytes: 1 << 20,
		Metrics: httpMetrics.Middleware(), Panics: httpMetrics.Panics()})
	if diff := doc.CheckRoutes(e.Routes()); len(diff) > 0 {
		t.Errorf("the document and the routes differ:\n%s", strings.Join(diff, "\n"))
	}
}

func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	if !strings.Contains(string(h.Must(200, "GET", "/openapi.json", nil, "Authorization", "").Body), `"OFREP single flag evaluation"`) {
		t.Error("openapi.json lacks OFREP")
	}
	if !strings.Contains(string(h.Must(200, "GET", "/docs", nil, "Authorization", "").Body), "/ofrep/v1/evaluate/flags/{key}") {
		t.Error("/docs lacks OFREP")
	}
	// Metrics and profiles are on the operations listener only (cmd/evaluator tests it).
	h.Must(404, "GET", "/metrics", nil, "Authorization", "")
	h.Must(404, "GET", "/debug/pprof/", nil, "Authorization", "")
}
