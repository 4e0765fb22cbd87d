package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/envconfig"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/pkg/platform/openapi"
)

type check struct{ err error }

func (c check) Ping(context.Context) error { return c.err }

var down = check{errors.New("connection refused")}

func get(t *testing.T, h http.Handler, path string) (int, map[string]any, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body, rec.Header()
}

// TestReadiness: with AllReady one failing check makes the service not ready; with
// AnyReady it is degraded while one check passes, and not ready when none does.
func TestReadiness(t *testing.T) {
	tests := []struct {
		name   string
		policy Readiness
		ready  map[string]Checker
		status int
		state  string
	}{
		{"no checks", AllReady, nil, 200, "ready"},
		{"all up", AllReady, map[string]Checker{"postgres": check{}, "redis": check{}}, 200, "ready"},
		{"all: one down", AllReady, map[string]Checker{"postgres": check{}, "redis": down}, 503, "not ready"},
		{"any: all up", AnyReady, map[string]Checker{"postgres": check{}, "redis": check{}}, 200, "ready"},
		{"any: one down", AnyReady, map[string]Checker{"postgres": down, "redis": check{}}, 200, "degraded"},
		{"any: all down", AnyReady, map[string]Checker{"postgres": down, "redis": down}, 503, "not ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(slog.New(slog.DiscardHandler), Options{MaxBodyBytes: 1 << 10, Ready: tt.ready, Readiness: tt.policy})
			status, body, _ := get(t, e, "/readyz")
			if status != tt.status || body["status"] != tt.state {
				t.Fatalf("/readyz = %d %v, want %d %q", status, body, tt.status, tt.state)
			}
			checks, _ := body["checks"].(map[string]any)
			if len(checks) != len(tt.ready) {
				t.Fatalf("checks %v", checks)
			}
			for name, c := range tt.ready {
				want := "ok"
				if c.Ping(context.Background()) != nil {
					want = "unavailable"
				}
				if checks[name] != want {
					t.Errorf("check %s = %v, want %s", name, checks[name], want)
				}
			}
		})
	}
	e := New(slog.New(slog.DiscardHandler), Options{MaxBodyBytes: 1 << 10})
	if status, body, _ := get(t, e, "/healthz"); status != 200 || body["status"] != "ok" {
		t.Errorf("/healthz = %d %v", status, body)
	}
}

type panics struct{ n int }

func (p *panics) Inc() { p.n++ }

// TestMiddleware: every route gets a request id, its access log line at the chosen
// level, the metrics middleware, panics answered as 500 and counted, bad text and
// large bodies refused, problem+json errors (or the wrapper's shape), client addresses
// from trusted proxies only, and the OpenAPI document.
func TestMiddleware(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	trusted, err := envconfig.ParseCIDRs("10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi.Load([]byte("openapi: 3.0.3\ninfo: {title: Demo, version: \"1\"}\npaths: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var p panics
	measured := 0
	e := New(log, Options{
		MaxBodyBytes:   16,
		TrustedProxies: trusted,
		Metrics: func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error { measured++; return next(c) }
		},
		Panics:         &p,
		AccessLogLevel: slog.LevelDebug,
		WrapErrors: func(problem echo.HTTPErrorHandler) echo.HTTPErrorHandler {
			return func(err error, c echo.Context) {
				if strings.HasPrefix(c.Path(), "/other") {
					_ = c.JSON(httpapi.Status(err), map[string]string{"shape": "other"})
					return
				}
				problem(err, c)
			}
		},
		Document: doc,
	})
	e.GET("/panic", func(echo.Context) error { panic("boom") })
	e.POST("/echo", func(c echo.Context) error {
		var v map[string]any
		if err := httpapi.Decode(c, &v); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	})
	e.GET("/other", func(echo.Context) error { return domain.Errorf(domain.CodeNotFound, "gone") })
	e.GET("/ip", func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) })

	do := func(method, path, body string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		for i := 0; i < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if r := do("GET", "/healthz", "", "X-Request-Id", "trace-1"); r.Header().Get(httpapi.HeaderRequestID) != "trace-1" {
		t.Errorf("request id not echoed: %v", r.Header())
	}
	if !strings.Contains(logs.String(), `"level":"DEBUG","msg":"http"`) || !strings.Contains(logs.String(), `"request_id":"trace-1"`) {
		t.Errorf("no debug access log line:\n%s", logs.String())
	}
	if r := do("GET", "/panic", ""); r.Code != 500 || r.Header().Get("Content-Type") != "application/problem+json" || p.n != 1 {
		t.Errorf("panic: %d %s, %d counted", r.Code, r.Header().Get("Content-Type"), p.n)
	}
	if r := do("POST", "/echo", `{"a":"0123456789abcdef"}`); r.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("large body: %d %s", r.Code, r.Body)
	}
	if r := do("GET", "/healthz?q=%00", ""); r.Code != http.StatusBadRequest {
		t.Errorf("bad text: %d %s", r.Code, r.Body)
	}
	if r := do("GET", "/other", ""); r.Code != 404 || !strings.Contains(r.Body.String(), `"shape":"other"`) {
		t.Errorf("wrapped error handler: %d %s", r.Code, r.Body)
	}
	if r := do("GET", "/nowhere", ""); r.Code != 404 || r.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("problem+json: %d %s", r.Code, r.Header())
	}
	if r := do("GET", "/ip", "", "X-Forwarded-For", "6.6.6.6"); r.Body.String() != "192.0.2.1" {
		t.Errorf("an untrusted peer's X-Forwarded-For was believed: %s", r.Body)
	}
	if r := do("GET", "/openapi.json", ""); r.Code != 200 || !strings.Contains(r.Body.String(), `"title":"Demo"`) {
		t.Errorf("/openapi.json: %d %s", r.Code, r.Body)
	}
	if measured != 8 {
		t.Errorf("the metrics middleware saw %d requests, want 8", measured)
	}
}

// TestAccessLogLevel: by default, successful requests are logged at Info.
func TestAccessLogLevel(t *testing.T) {
	var logs bytes.Buffer
	e := New(slog.New(slog.NewJSONHandler(&logs, nil)), Options{MaxBodyBytes: 1 << 10})
	get(t, e, "/healthz")
	if !strings.Contains(logs.String(), `"level":"INFO","msg":"http"`) {
		t.Errorf("no info access log line:\n%s", logs.String())
	}
}

// TestComposedLikeEcho: the composed chain runs as echo runs its own: Pre before
// routing (unrouted paths too), Use around matched routes, 404 and 405 through both,
// a route's chained middleware innermost; middleware added after the first request
// is refused.
func TestComposedLikeEcho(t *testing.T) {
	build := func(e interface {
		Pre(...echo.MiddlewareFunc)
		Use(...echo.MiddlewareFunc)
		GET(string, echo.HandlerFunc, ...echo.MiddlewareFunc) *echo.Route
	}) {
		mark := func(name string) echo.MiddlewareFunc {
			return func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					c.Response().Header().Add("X-Trace", name+":"+c.Path())
					return next(c)
				}
			}
		}
		e.Pre(mark("pre"))
		e.Use(mark("use1"), mark("use2"))
		e.GET("/a/:id", Chain(func(c echo.Context) error { return c.String(http.StatusOK, "a "+c.Param("id")) }, mark("route")))
	}
	plain := echo.New()
	build(plain)
	composed := &Echo{Echo: echo.New()}
	build(composed)
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/a/1"}, {http.MethodGet, "/missing"}, {http.MethodPost, "/a/1"}, {http.MethodGet, "/a/"},
	} {
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		plain.ServeHTTP(want, httptest.NewRequest(req.method, req.path, nil))
		composed.ServeHTTP(got, httptest.NewRequest(req.method, req.path, nil))
		if got.Code != want.Code || got.Body.String() != want.Body.String() ||
			strings.Join(got.Header()["X-Trace"], ",") != strings.Join(want.Header()["X-Trace"], ",") {
			t.Errorf("%s %s: composed %d %q %v; echo %d %q %v", req.method, req.path, got.Code, got.Body, got.Header()["X-Trace"],
				want.Code, want.Body, want.Header()["X-Trace"])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Use after the first request must panic")
		}
	}()
	composed.Use(func(next echo.HandlerFunc) echo.HandlerFunc { return next })
}
