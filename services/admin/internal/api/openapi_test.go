package api_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/metrics"
	"github.com/switchyard/switchyard/services/admin/internal/api"
)

// TestOpenAPIRoutes: every registered route is documented and every documented
// operation is served.
func TestOpenAPIRoutes(t *testing.T) {
	doc, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	e := api.New(slog.New(slog.DiscardHandler), nil, api.Options{MaxBodyBytes: 1 << 20,
		Metrics: metrics.NewHTTP(reg, "admin").Middleware(), MetricsHandler: metrics.Handler(reg)})
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
	if m := string(h.Must(200, "GET", "/metrics", nil, "Authorization", "").Body); !strings.Contains(m, "switchyard_admin_http_requests_total") {
		t.Error("/metrics lacks the request counter")
	}
	page := string(h.Must(200, "GET", "/docs", nil, "Authorization", "").Body)
	for _, want := range []string{"Switchyard admin API", "/api/v1/projects/{project}/flags/{flag}/environments/{env}", "ConfigInput"} {
		if !strings.Contains(page, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
}
