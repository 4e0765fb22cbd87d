package api_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/platform/metrics"
	"github.com/switchyard/switchyard/services/admin/internal/api"
)

// TestOpenAPIRoutes: every registered route is documented and every documented
// operation is served.
func TestOpenAPIRoutes(t *testing.T) {
	doc, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	httpMetrics := metrics.NewHTTP(metrics.NewRegistry(), "admin")
	e := api.New(slog.New(slog.DiscardHandler), nil, nil, api.Options{MaxBodyBytes: 1 << 20,
		Metrics: httpMetrics.Middleware(), Panics: httpMetrics.Panics()})
	if diff := doc.CheckRoutes(e.Routes()); len(diff) > 0 {
		t.Errorf("the document and the routes differ:\n%s", strings.Join(diff, "\n"))
	}
}

func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t)
	var doc map[string]any
	if err := json.Unmarshal(h.Must(200, "GET", "/openapi.json", nil, "Authorization", "").Body, &doc); err != nil || doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi.json: %v", err)
	}
	// Metrics and profiles are on the operations listener only (cmd/admin tests it).
	h.Must(404, "GET", "/metrics", nil, "Authorization", "")
	h.Must(404, "GET", "/debug/pprof/", nil, "Authorization", "")
	page := string(h.Must(200, "GET", "/docs", nil, "Authorization", "").Body)
	for _, want := range []string{"Switchyard admin API", "/api/v1/projects/{project}/flags/{flag}/environments/{env}", "ConfigInput"} {
		if !strings.Contains(page, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
}
