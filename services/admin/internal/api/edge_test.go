package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/platform/envconfig"
	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/api"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
)

// TestBadText: text PostgreSQL refuses (NUL, invalid UTF-8: error 22021, a 500) is a
// 400 naming the field, whether it comes in the path, the query, a cursor or a JSON
// body, on routes that would have sent it to the database; and nothing is written.
func TestBadText(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "dark-mode")
	tests := []struct {
		name, method, path, body string
		fields                   []string
	}{
		{"projects cursor AA", "GET", "/api/v1/projects?cursor=AA", "", []string{"cursor"}},
		{"flags cursor AA", "GET", "/api/v1/projects/shop/flags?cursor=AA&limit=5", "", []string{"cursor"}},
		{"environments cursor 0xff", "GET", "/api/v1/projects/shop/environments?cursor=_w", "", []string{"cursor"}},
		{"users cursor AA", "GET", "/api/v1/users?cursor=AA", "", []string{"cursor"}},
		{"flag key %ff", "GET", "/api/v1/projects/shop/flags/%ff", "", []string{"flag"}},
		{"flag key %2F then %ff", "DELETE", "/api/v1/projects/shop/flags/a%2F%ff", "", []string{"flag"}},
		{"project key %00", "GET", "/api/v1/projects/%00", "", []string{"project"}},
		{"project key %00 on a write", "PATCH", "/api/v1/projects/%00", `{"name":"x"}`, []string{"project"}},
		{"environment key %ff", "PUT", "/api/v1/projects/shop/flags/dark-mode/environments/%ff", `{}`, []string{"env"}},
		{"text search NUL", "GET", "/api/v1/projects/shop/flags?q=a%00", "", []string{"q"}},
		{"tag invalid", "GET", "/api/v1/projects/shop/flags?tag=%c3%28", "", []string{"tag"}},
		{"audit filter NUL", "GET", "/api/v1/audit?actor=%00&flag=ok", "", []string{"actor"}},
		{"analytics environment", "GET", "/api/v1/projects/shop/flags/dark-mode/evaluations?environment=%ff", "", []string{"environment"}},
		{"body NUL", "POST", "/api/v1/projects", `{"key":"ok","name":"a\u0000b"}`, []string{"name"}},
		{"body NUL in a patch", "PATCH", "/api/v1/projects/shop", `{"description":"\u0000"}`, []string{"description"}},
		// Latin-1 é: encoding/json would store U+FFFD in its place, silently.
		{"body invalid UTF-8", "POST", "/api/v1/projects/shop/flags", "{\"key\":\"x\",\"kind\":\"boolean\",\"description\":\"caf\xe9\"}", []string{"description"}},
		{"rule value NUL", "PUT", "/api/v1/projects/shop/flags/dark-mode/environments/production",
			`{"enabled":true,"rules":[{"id":"r","conditions":[{"attribute":"email","operator":"eq","values":["a\u0000"]}],"serve":{"variant":"on"}}],"default":{"variant":"off"},"off_variant":"off","version":1}`,
			[]string{"rules[0].conditions[0].values[0]"}},
		{"login email NUL", "POST", "/api/v1/auth/login", `{"email":"a\u0000@example.com","password":"x"}`, []string{"email"}},
	}
	before := h.auditCount()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &testinfra.Client{T: t, URL: h.URL, Auth: h.Auth, Check: h.Check}
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := c.Must(400, tt.method, tt.path, body)
			if r.Header.Get("Content-Type") != "application/problem+json" || r.JSON(t)["code"] != "invalid" {
				t.Errorf("not an invalid problem: %s %s", r.Header.Get("Content-Type"), r.Body)
			}
			if got := r.Fields(t); !slices.Equal(got, tt.fields) {
				t.Errorf("fields %v, want %v: %s", got, tt.fields, r.Body)
			}
		})
	}
	if h.auditCount() != before {
		t.Error("refused requests wrote audit rows")
	}
	// A cursor the API made still works.
	h.flag("shop", "zebra")
	next := h.Must(200, "GET", "/api/v1/projects/shop/flags?limit=1", nil).JSON(t)["next_cursor"].(string)
	if items := h.Must(200, "GET", "/api/v1/projects/shop/flags?limit=1&cursor="+next, nil).JSON(t)["items"].([]any); len(items) != 1 {
		t.Errorf("second page: %v", items)
	}
}

// panickingAuth panics on every request that needs credentials, and records the
// client address of every login.
type panickingAuth struct {
	mu        sync.Mutex
	addresses []string
}

func (*panickingAuth) Authenticate(context.Context, string, string) (*auth.Principal, error) {
	panic("token cache corrupted")
}

func (a *panickingAuth) Login(_ context.Context, _, _, address string) (string, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addresses = append(a.addresses, address)
	return "session", time.Now().Add(time.Hour), nil
}

func (*panickingAuth) Logout(context.Context, string) error { return nil }

type panicCount struct {
	mu sync.Mutex
	n  int
}

func (p *panicCount) Inc() { p.mu.Lock(); p.n++; p.mu.Unlock() }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPanicAnswers500: a panic in a dependency is a problem+json 500 with the request
// id, not a dropped connection; it is counted and logged with the request id, never
// with the credential.
func TestPanicAnswers500(t *testing.T) {
	var logs lockedBuffer
	var panics panicCount
	srv := httptest.NewServer(api.New(slog.New(slog.NewJSONHandler(&logs, nil)), nil, &panickingAuth{},
		api.Options{MaxBodyBytes: 1 << 16, Panics: &panics}))
	defer srv.Close()
	c := &testinfra.Client{T: t, URL: srv.URL, Auth: "Bearer sy_adm_secret-token-material", Check: validate(t)}
	r := c.Must(500, "GET", "/api/v1/projects", nil, "X-Request-Id", "trace-admin")
	if r.Header.Get("Content-Type") != "application/problem+json" || r.JSON(t)["request_id"] != "trace-admin" || r.JSON(t)["detail"] != "internal error" {
		t.Errorf("answer: %s", r.Body)
	}
	c.Must(500, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	if panics.n != 2 {
		t.Errorf("%d panics counted, want 2", panics.n)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"panic","request_id":"trace-admin"`) || !strings.Contains(out, "token cache corrupted") {
		t.Errorf("no panic line with the request id:\n%s", out)
	}
	if strings.Contains(out, "secret-token-material") {
		t.Errorf("the credential was logged:\n%s", out)
	}
}

// TestLoginAddress: the login limits count the address c.RealIP gives; a spoofed
// X-Forwarded-For from a peer outside TRUSTED_PROXIES is ignored, and the one a
// trusted proxy sends is honoured (its right-most untrusted entry).
func TestLoginAddress(t *testing.T) {
	trusted, err := envconfig.ParseCIDRs("10.20.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		proxies bool
		peer    string
		want    string
	}{
		{"no trusted proxies", false, "10.20.0.9:5000", "10.20.0.9"},
		{"spoofed from an untrusted peer", true, "203.0.113.50:5000", "203.0.113.50"},
		{"through the trusted proxy", true, "10.20.0.9:5000", "198.51.100.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authn := &panickingAuth{}
			opt := api.Options{MaxBodyBytes: 1 << 16}
			if tt.proxies {
				opt.TrustedProxies = trusted
			}
			e := api.New(slog.New(slog.DiscardHandler), nil, authn, opt)
			body, _ := json.Marshal(map[string]string{"email": "a@example.com", "password": "pw"})
			req := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", bytes.NewReader(body))
			req.RemoteAddr = tt.peer
			req.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.4")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !slices.Equal(authn.addresses, []string{tt.want}) {
				t.Errorf("%d %s: login saw %v, want %s", rec.Code, rec.Body, authn.addresses, tt.want)
			}
		})
	}
}
