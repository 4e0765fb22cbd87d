package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestHTTPMetrics(t *testing.T) {
	reg := NewRegistry()
	e := echo.New()
	e.Use(NewHTTP(reg, "test").Middleware())
	e.GET("/flags/*", func(c echo.Context) error { return c.String(200, "ok") })
	e.GET("/metrics", echo.WrapHandler(Handler(reg)))
	for _, p := range []string{"/flags/a", "/flags/b/c", "/nowhere"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`switchyard_test_http_requests_total{method="GET",route="/flags/*",status="200"} 2`,
		`switchyard_test_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`switchyard_test_http_request_duration_seconds_bucket{method="GET",route="/flags/*"`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(string(body), `route="/flags/a"`) {
		t.Error("metrics must be labelled by route pattern, not by path")
	}
}

// TestOpsHandler: the operations listener answers the metrics and the profiles, the
// panic counter among the metrics.
func TestOpsHandler(t *testing.T) {
	reg := NewRegistry()
	NewHTTP(reg, "test").Panics().Inc()
	srv := httptest.NewServer(OpsHandler(reg))
	defer srv.Close()
	for path, want := range map[string]string{
		"/metrics":                  "switchyard_test_http_panics_total 1",
		"/debug/pprof/":             "goroutine",
		"/debug/pprof/cmdline":      "",
		"/debug/pprof/heap?debug=1": "heap profile",
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, want 200 with %q", path, res.StatusCode, want)
		}
	}
}
