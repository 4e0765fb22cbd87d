package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/envconfig"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
	"github.com/switchyard/switchyard/services/evaluator/internal/api"
	"github.com/switchyard/switchyard/services/evaluator/internal/keys"
	"github.com/switchyard/switchyard/services/evaluator/internal/snapshots"
	"github.com/switchyard/switchyard/services/evaluator/internal/streams"
)

// TestBadText: invalid UTF-8 or NUL anywhere a client puts text (path, query, JSON
// body) is a 400 naming the field, in problem+json natively and in OFREP's shape on
// OFREP, and never reaches the evaluation.
func TestBadText(t *testing.T) {
	h := newHarness(t, newDB(t), testinfra.RedisURL(t), defaults())
	seed(h)
	tests := []struct {
		name, method, path, body string
		field                    string // the field named (in OFREP's errorDetails)
	}{
		{"flag key %ff", "GET", "/api/v1/evaluate/new-%ff", "", "path"},
		{"flag key %00", "GET", "/api/v1/evaluate/new%00checkout?key=u1", "", "path"},
		{"targeting key NUL", "GET", "/api/v1/evaluate/new-checkout?key=u%00", "", "key"},
		{"attribute invalid", "GET", "/api/v1/evaluate/new-checkout?key=u1&email=a%ff%40acme.com", "", "email"},
		{"list attribute", "GET", "/api/v1/evaluate/new-checkout?key=u1&plan=pro&plan=%c3", "", "plan"},
		{"parameter name", "GET", "/api/v1/evaluate/new-checkout?key=u1&%ff=x", "", "query"},
		{"context NUL", "POST", "/api/v1/evaluate", `{"context":{"key":"u1","email":"a\u0000@acme.com"}}`, "context.email"},
		{"flags invalid", "POST", "/api/v1/evaluate", "{\"context\":{\"key\":\"u1\"},\"flags\":[\"new-checkout\",\"\xff\"]}", "flags[1]"},
		{"OFREP path", "POST", "/ofrep/v1/evaluate/flags/%ff", `{"context":{"targetingKey":"u1"}}`, "path"},
		{"OFREP context NUL", "POST", "/ofrep/v1/evaluate/flags/new-checkout", `{"context":{"targetingKey":"u\u0000"}}`, "context.targetingKey"},
		{"OFREP bulk invalid", "POST", "/ofrep/v1/evaluate/flags", "{\"context\":{\"targetingKey\":\"u1\",\"email\":\"\xe2\x28\xa1\"}}", "context.email"},
		{"OFREP query", "POST", "/ofrep/v1/evaluate/flags?x=%00", `{}`, "x"},
	}
	before := counted(h)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			c := &testinfra.Client{T: t, URL: h.URL, Auth: h.Auth, Check: h.Check}
			r := c.Must(400, tt.method, tt.path, body)
			if strings.HasPrefix(tt.path, "/ofrep/") {
				m := r.JSON(t)
				if r.Header.Get("Content-Type") != "application/json" || m["errorCode"] != "PARSE_ERROR" ||
					!strings.Contains(m["errorDetails"].(string), tt.field+" ") {
					t.Errorf("OFREP answer %s, want PARSE_ERROR naming %s", r.Body, tt.field)
				}
				return
			}
			if r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("content type %q", r.Header.Get("Content-Type"))
			}
			if got := r.Fields(t); len(got) != 1 || got[0] != tt.field {
				t.Errorf("fields %v, want [%s]: %s", got, tt.field, r.Body)
			}
		})
	}
	if n := counted(h); n != before {
		t.Errorf("%d evaluations counted from refused requests", n-before)
	}
}

// counted flushes the counter and returns every evaluation it wrote so far.
func counted(h *harness) int64 {
	h.t.Helper()
	if err := h.counter.Flush(context.Background(), h.store); err != nil {
		h.t.Fatal(err)
	}
	return h.counter.Flushed.Load()
}

type fixedKeys struct{}

func (fixedKeys) Authenticate(context.Context, string, string) (keys.Key, error) {
	return keys.Key{ID: "key-1", EnvironmentID: "env-1", Kind: domain.SDKKeyServer}, nil
}

func (fixedKeys) Valid(context.Context, string, string) (keys.Key, error) {
	return keys.Key{ID: "key-1", EnvironmentID: "env-1", Kind: domain.SDKKeyServer}, nil
}

type panickingSnapshots struct{}

func (panickingSnapshots) Get(context.Context, string) (*eval.Snapshot, error) {
	panic("snapshot index out of range")
}

func (panickingSnapshots) AtLeast(context.Context, string, int64) (*eval.Snapshot, error) {
	panic("snapshot index out of range")
}

func (panickingSnapshots) Definitions(context.Context, string, int64) (*snapshots.Definitions, error) {
	panic("snapshot index out of range")
}

type nopCounter struct{}

func (nopCounter) Add(string, ...eval.Result)          {}
func (nopCounter) AddCounts(string, []analytics.Count) {}

type panicCount struct {
	mu sync.Mutex
	n  int
}

func (p *panicCount) Inc() { p.mu.Lock(); p.n++; p.mu.Unlock() }

// TestPanicAnswers500: a panic in a dependency is answered, not a dropped connection:
// a problem+json 500 natively, OFREP's error shape on OFREP, each counted and logged
// with its request id but without the credential.
func TestPanicAnswers500(t *testing.T) {
	var logs testinfra.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	var panics panicCount
	deps := api.Deps{Snapshots: panickingSnapshots{}, Keys: fixedKeys{}, Counter: nopCounter{},
		Streams: streams.New(streams.Options{PerKey: 1, Max: 1}), Tokens: streams.NewTokens(nil, time.Minute)}
	srv := httptest.NewServer(api.New(log, deps, api.Live{Heartbeat: time.Second}, api.Options{MaxBodyBytes: 1 << 16, Panics: &panics}))
	defer srv.Close()
	c := &testinfra.Client{T: t, URL: srv.URL, Auth: "Bearer sy_sdk_secret-key-material", Check: validate(t)}

	native := c.Must(500, "POST", "/api/v1/evaluate", `{"context":{"key":"u1"}}`, "X-Request-Id", "trace-native")
	if native.Header.Get("Content-Type") != "application/problem+json" || native.JSON(t)["request_id"] != "trace-native" {
		t.Errorf("native answer: %s %s", native.Header.Get("Content-Type"), native.Body)
	}
	c.Must(500, "GET", "/api/v1/evaluate/new-checkout?key=u1", nil)
	ofrep := c.Must(500, "POST", "/ofrep/v1/evaluate/flags/new-checkout", `{"context":{"targetingKey":"u1"}}`, "X-Request-Id", "trace-ofrep")
	if m := ofrep.JSON(t); m["errorCode"] != "GENERAL" || m["key"] != "new-checkout" || ofrep.Header.Get("Content-Type") != "application/json" {
		t.Errorf("OFREP answer: %s", ofrep.Body)
	}
	if panics.n != 3 {
		t.Errorf("%d panics counted, want 3", panics.n)
	}
	out := logs.String()
	for _, id := range []string{"trace-native", "trace-ofrep"} {
		if !strings.Contains(out, `"msg":"panic","request_id":"`+id+`"`) {
			t.Errorf("no panic line with request id %s:\n%s", id, out)
		}
	}
	if strings.Contains(out, "secret-key-material") {
		t.Errorf("the SDK key was logged:\n%s", out)
	}
}

// TestClientAddress: c.RealIP, which failed authentications are counted by, believes
// X-Forwarded-For only from TRUSTED_PROXIES; a spoofed header from anyone else is
// ignored.
func TestClientAddress(t *testing.T) {
	trusted, err := envconfig.ParseCIDRs("10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted bool
		peer    string
		want    string
	}{
		{"no trusted proxies", false, "10.1.0.4:4000", "10.1.0.4"},
		{"spoofed from an untrusted peer", true, "203.0.113.5:4000", "203.0.113.5"},
		{"from the trusted proxy", true, "10.1.0.4:4000", "198.51.100.23"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := api.Options{MaxBodyBytes: 1 << 16}
			if tt.trusted {
				opt.TrustedProxies = trusted
			}
			e := api.New(slog.New(slog.DiscardHandler), api.Deps{Keys: fixedKeys{}, Counter: nopCounter{}}, api.Live{}, opt)
			req := httptest.NewRequest(http.MethodPost, "/api/v1/evaluate", nil)
			req.RemoteAddr = tt.peer
			req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.23")
			if got := e.NewContext(req, httptest.NewRecorder()).RealIP(); got != tt.want {
				t.Errorf("client %q, want %q", got, tt.want)
			}
		})
	}
}
