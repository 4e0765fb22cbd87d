package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/app"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
	"github.com/switchyard/switchyard/services/admin/internal/config"
)

const (
	token     = "test-admin-token-0123456789abcdef0123456789"
	jwtSecret = "test-jwt-secret-0123456789abcdef0123456789"
)

// harness is the admin service, dashboard included, on a fresh database: real
// PostgreSQL, real Redis, real HTTP. api sets things up through the JSON API as the
// bootstrap admin; browsers use the dashboard.
type harness struct {
	t   testing.TB
	srv *httptest.Server
	app *app.App
	api *testinfra.Client
}

func newHarness(t testing.TB, env ...string) *harness {
	t.Helper()
	ctx := context.Background()
	dbURL, redisURL := testinfra.MigratedDB(t), testinfra.RedisURL(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "ADMIN_TOKEN": token, "JWT_SECRET": jwtSecret,
		"DB_MAX_CONNS": "20", "OUTBOX_INTERVAL": "50ms", "LOGIN_ATTEMPTS_PER_ADDRESS": "1000",
		"LOGIN_ATTEMPTS_PER_ACCOUNT_ADDRESS": "5", "LOGIN_ATTEMPTS_PER_ACCOUNT": "30", "AUTH_FAILURES_PER_ADDRESS": "1000"}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	cfg, err := config.Load(func(name string) string { return vars[name] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError}))
	ns := dbURL[strings.LastIndex(dbURL, "/")+1:]
	a, err := app.New(ctx, cfg, log, app.Options{Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}, LimitScope: ns + "-"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	a.Start()
	var once sync.Once
	t.Cleanup(func() {
		once.Do(func() {
			srv.Close()
			a.Close()
		})
	})
	return &harness{t: t, srv: srv, app: a, api: &testinfra.Client{T: t, URL: srv.URL, Auth: "Bearer " + token}}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// project creates a project (development, staging, protected production).
func (h *harness) project(key string) {
	h.t.Helper()
	h.api.Must(201, "POST", "/api/v1/projects", map[string]any{"key": key, "name": strings.ToUpper(key[:1]) + key[1:]})
}

// flag creates a boolean flag.
func (h *harness) flag(project, key string) {
	h.t.Helper()
	h.api.Must(201, "POST", "/api/v1/projects/"+project+"/flags", map[string]any{"key": key, "kind": "boolean"})
}

// user creates a user whose password is "password-" + email, and returns its id.
func (h *harness) user(email string, instanceAdmin bool) string {
	h.t.Helper()
	r := h.api.Must(201, "POST", "/api/v1/users", map[string]any{"email": email, "password": "password-" + email, "instance_admin": instanceAdmin})
	return r.JSON(h.t)["id"].(string)
}

// member gives a user a role in a project, with overrides (env, role, env, role ...).
func (h *harness) member(project, userID, role string, overrides ...string) {
	h.t.Helper()
	envs := map[string]string{}
	for i := 0; i+1 < len(overrides); i += 2 {
		envs[overrides[i]] = overrides[i+1]
	}
	h.api.Must(200, "PUT", "/api/v1/projects/"+project+"/members/"+userID, map[string]any{"role": role, "environment_roles": envs})
}

// as creates a user with a role in project and signs them in.
func (h *harness) as(project, email, role string, overrides ...string) *browser {
	h.t.Helper()
	id := h.user(email, false)
	h.member(project, id, role, overrides...)
	return h.login(email)
}

// admin creates an instance administrator and signs them in.
func (h *harness) admin(email string) *browser {
	h.t.Helper()
	h.user(email, true)
	return h.login(email)
}

// browser is a dashboard client: cookies, no automatic redirects, and the CSRF token
// of the last page it read.
type browser struct {
	t      testing.TB
	h      *harness
	client *http.Client
	csrf   string
}

// page is an answer of the dashboard.
type page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: h.t, h: h, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// login signs a user in through the sign-in form.
func (h *harness) login(email string) *browser {
	h.t.Helper()
	b := h.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"email": {email}, "password": {"password-" + email}})
	if r.Status != http.StatusSeeOther {
		h.t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	return b
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(body), Location: res.Header.Get("Location")}
	if m := csrfInput.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		strict(b.t, req.URL.Path, p)
	}
	return p
}

// inline finds what the Content-Security-Policy would block: inline scripts, style
// elements and attributes, event handler attributes, javascript: URLs.
var (
	tags       = regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	quoted     = regexp.MustCompile(`"[^"]*"`)
	inline     = regexp.MustCompile(`(?i)\s(on[a-z]+|style)\s*=|^<style|(href|src|action|formaction)="javascript:`)
	scriptTags = regexp.MustCompile(`(?i)<script[^>]*>`)
	controls   = regexp.MustCompile(`<(input|select|textarea)\s[^>]*>`)
)

// strict checks what every page must be: served under the policy, with nothing the
// policy would block, and nothing loaded from another origin.
func strict(t testing.TB, path string, p page) {
	t.Helper()
	csp := p.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
		"base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: Content-Security-Policy %q lacks %s", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("%s: Content-Security-Policy %q allows unsafe sources", path, csp)
	}
	if p.Header.Get("X-Content-Type-Options") != "nosniff" || p.Header.Get("Referrer-Policy") == "" {
		t.Errorf("%s: headers %v", path, p.Header)
	}
	// Templates escape > in attribute values, so a tag ends at the first >; attribute
	// values are dropped before looking for attribute names.
	for _, tag := range tags.FindAllString(p.Body, -1) {
		if inline.MatchString(tag) && inline.MatchString(quoted.ReplaceAllString(tag, `""`)) || strings.Contains(tag, `="javascript:`) {
			t.Errorf("%s: the page holds %q, which the policy blocks", path, tag)
		}
	}
	for _, tag := range scriptTags.FindAllString(p.Body, -1) {
		if !strings.Contains(tag, ` src="/static/`) {
			t.Errorf("%s: an inline script: %q", path, tag)
		}
	}
	// Every control has a name people can hear: a label, or an aria-label(ledby).
	for _, tag := range controls.FindAllString(p.Body, -1) {
		if strings.Contains(tag, `type="hidden"`) || strings.Contains(tag, "aria-label") {
			continue
		}
		id := regexp.MustCompile(`\sid="([^"]+)"`).FindStringSubmatch(tag)
		if id == nil || !strings.Contains(p.Body, `for="`+id[1]+`"`) {
			t.Errorf("%s: a control without a label: %s", path, tag)
		}
	}
	if m := regexp.MustCompile(`(?i)(src|href|action)="(https?:)?//`).FindString(p.Body); m != "" {
		t.Errorf("%s: the page loads from another origin: %q", path, m)
	}
}

// get reads a page.
func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.h.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// post sends a form with the CSRF token of the last page read (unless the form sets
// its own), as a browser does, from this site.
func (b *browser) post(path string, form url.Values, headers ...string) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.h.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// must reads a page, failing unless its status is want.
func (b *browser) must(want int, path string) page {
	b.t.Helper()
	p := b.get(path)
	if p.Status != want {
		b.t.Fatalf("GET %s: %d, want %d: %s", path, p.Status, want, snippet(p.Body))
	}
	return p
}

// mustPost sends a form, failing unless the status is want.
func (b *browser) mustPost(want int, path string, form url.Values) page {
	b.t.Helper()
	p := b.post(path, form)
	if p.Status != want {
		b.t.Fatalf("POST %s: %d, want %d: %s", path, p.Status, want, snippet(p.Body))
	}
	return p
}

// cookie returns the value of one of the browser's cookies.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.h.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// snippet shortens a page for a failure message: its main element.
func snippet(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return body
}

// has fails unless the page holds every string.
func has(t testing.TB, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.Body, w) {
			t.Errorf("page lacks %q:\n%s", w, snippet(p.Body))
		}
	}
}

// lacks fails if the page holds any of the strings.
func lacks(t testing.TB, p page, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(p.Body, w) {
			t.Errorf("page holds %q:\n%s", w, snippet(p.Body))
		}
	}
}
