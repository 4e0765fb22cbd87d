package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/testinfra"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
)

// TestSignIn: pages need a session; the sign-in form goes through the login (its
// limits apply), keeps the session in an HttpOnly, SameSite=Lax cookie, and returns
// the user where they were going, on this site only.
func TestSignIn(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.user("jane@example.com", true)
	b := h.browser()

	p := b.get("/projects/shop/flags")
	if p.Status != http.StatusSeeOther || p.Location != "/login?next=%2Fprojects%2Fshop%2Fflags" {
		t.Fatalf("no session: %d %q", p.Status, p.Location)
	}
	p = b.must(200, "/login?next=%2Fprojects%2Fshop%2Fflags")
	has(t, p, `<label for="email">Email</label>`, `<label for="password">Password</label>`, `name="next" value="/projects/shop/flags"`)

	// Without the sign-in form's token: refused, nothing checked.
	p = b.post("/login", url.Values{"email": {"jane@example.com"}, "password": {"password-jane@example.com"}, "csrf": {"forged"}})
	if p.Status != http.StatusForbidden || b.cookie("sy_session") != "" {
		t.Fatalf("login without its token: %d", p.Status)
	}
	b.get("/login")
	p = b.post("/login", url.Values{"email": {"jane@example.com"}, "password": {"wrong-password"}})
	if p.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.Status)
	}
	has(t, p, "Wrong email or password", `value="jane@example.com"`)
	lacks(t, p, "wrong-password")
	p = b.post("/login", url.Values{"email": {""}, "password": {""}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("empty form: %d", p.Status)
	}
	has(t, p, `id="email-error">is required`)

	p = b.post("/login", url.Values{"email": {"jane@example.com"}, "password": {"password-jane@example.com"}, "next": {"/projects/shop/flags"}})
	if p.Status != http.StatusSeeOther || p.Location != "/projects/shop/flags" {
		t.Fatalf("login: %d %q", p.Status, p.Location)
	}
	set := strings.Join(p.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"sy_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie lacks %s: %s", want, set)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("a cookie over plain HTTP is Secure (browsers would drop it): %s", set)
	}
	p = b.must(200, "/projects/shop/flags")
	has(t, p, "jane@example.com", "Role: instance admin", "Sign out")
	// Signed in, the sign-in page moves on.
	if p := b.get("/login?next=/projects"); p.Status != http.StatusSeeOther || p.Location != "/projects" {
		t.Errorf("sign-in page when signed in: %d %q", p.Status, p.Location)
	}

	// next never leaves the site.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`, "/logout"} {
		c := h.browser()
		c.get("/login")
		p := c.post("/login", url.Values{"email": {"jane@example.com"}, "password": {"password-jane@example.com"}, "next": {next}})
		if p.Status != http.StatusSeeOther || p.Location != "/" {
			t.Errorf("next %q: %d %q", next, p.Status, p.Location)
		}
	}
}

// TestSecureCookie: with COOKIE_SECURE the session cookie is Secure even over HTTP
// (behind a proxy that terminates TLS).
func TestSecureCookie(t *testing.T) {
	h := newHarness(t, "COOKIE_SECURE", "true")
	h.user("jane@example.com", true)
	b := h.browser()
	b.get("/login")
	p := b.post("/login", url.Values{"email": {"jane@example.com"}, "password": {"password-jane@example.com"}})
	if set := strings.Join(p.Header.Values("Set-Cookie"), "\n"); p.Status != http.StatusSeeOther || !strings.Contains(set, "Secure") {
		t.Fatalf("login: %d, cookies %s", p.Status, set)
	}
}

// TestLoginLimits: the sign-in form is the login the API has, with its limits on
// guessing: past them, 429 with Retry-After, even with the right password.
func TestLoginLimits(t *testing.T) {
	h := newHarness(t)
	h.user("jane@example.com", false)
	b := h.browser()
	b.get("/login")
	for i := range 5 {
		if p := b.post("/login", url.Values{"email": {"jane@example.com"}, "password": {"guess-" + string(rune('a'+i))}}); p.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, p.Status)
		}
	}
	p := b.post("/login", url.Values{"email": {"jane@example.com"}, "password": {"password-jane@example.com"}})
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" || b.cookie("sy_session") != "" {
		t.Fatalf("after 5 guesses: %d, Retry-After %q", p.Status, p.Header.Get("Retry-After"))
	}
	has(t, p, "too many password attempts")
}

// TestSignOut: signing out ends the session on the server: the cookie, copied
// before, no longer opens a page, nor (as a bearer token) the API.
func TestSignOut(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	b := h.admin("jane@example.com")
	b.must(200, "/projects/shop/flags")
	stolen := b.cookie("sy_session")

	// Sign-out is a form like any other: without the token, refused.
	if p := b.post("/logout", url.Values{"csrf": {"nope"}}); p.Status != http.StatusForbidden {
		t.Fatalf("sign-out without a token: %d", p.Status)
	}
	b.must(200, "/projects/shop/flags")
	p := b.post("/logout", nil)
	if p.Status != http.StatusSeeOther || p.Location != "/login?reason=signed-out" || b.cookie("sy_session") != "" {
		t.Fatalf("sign-out: %d %q, cookie %q", p.Status, p.Location, b.cookie("sy_session"))
	}
	has(t, b.must(200, "/login?reason=signed-out"), "You have signed out.")

	thief := h.browser()
	u, _ := url.Parse(h.srv.URL)
	thief.client.Jar.SetCookies(u, []*http.Cookie{{Name: "sy_session", Value: stolen, Path: "/"}})
	if p := thief.get("/projects/shop/flags"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?") ||
		!strings.Contains(p.Location, "reason=expired") {
		t.Fatalf("stolen cookie after sign-out: %d %q", p.Status, p.Location)
	}
	api := &testinfra.Client{T: t, URL: h.srv.URL, Auth: "Bearer " + stolen}
	api.Must(401, "GET", "/api/v1/auth/me", nil)
	// Signing in again starts a new session.
	h.login("jane@example.com").must(200, "/projects/shop/flags")
}

// TestSessionExpiry: an expired session sends the user to the sign-in page, which
// says why; so does one ended by a password reset.
func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	id := h.user("jane@example.com", true)
	var changed time.Time
	if err := h.app.Store.SQL().QueryRow(`SELECT password_changed_at FROM users WHERE id = $1`, id).Scan(&changed); err != nil {
		t.Fatal(err)
	}
	expired, _, err := auth.NewSessions([]byte(jwtSecret), -time.Minute).Issue(id, changed.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	b := h.browser()
	u, _ := url.Parse(h.srv.URL)
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "sy_session", Value: expired, Path: "/"}})
	p := b.get("/projects/shop/flags")
	if p.Status != http.StatusSeeOther || p.Location != "/login?next=%2Fprojects%2Fshop%2Fflags&reason=expired" {
		t.Fatalf("expired session: %d %q", p.Status, p.Location)
	}
	if b.cookie("sy_session") != "" {
		t.Error("the expired session's cookie is kept")
	}
	has(t, b.must(200, p.Location), "Your session has ended")
	// A form posted with an expired session is not applied, and the page says so.
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "sy_session", Value: expired, Path: "/"}})
	if p := b.post("/projects/shop/environments", url.Values{"key": {"qa"}}); p.Status != http.StatusSeeOther || p.Location != "/login?reason=expired" {
		t.Fatalf("post with an expired session: %d %q", p.Status, p.Location)
	}

	// A password reset ends the sessions that came before it.
	c := h.login("jane@example.com")
	c.must(200, "/projects/shop/flags")
	h.api.Must(200, "PATCH", "/api/v1/users/"+id, map[string]any{"password": "a-new-password-1"})
	if p := c.get("/projects/shop/flags"); p.Status != http.StatusSeeOther || !strings.Contains(p.Location, "reason=expired") {
		t.Fatalf("after a password reset: %d %q", p.Status, p.Location)
	}
}

// TestNotASession: the cookie takes login sessions only: the bootstrap token or an
// API token put there opens nothing.
func TestNotASession(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	tok := h.api.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "project": "shop", "role": "admin"}).JSON(t)["token"].(string)
	for _, cred := range []string{token, tok, "garbage"} {
		b := h.browser()
		u, _ := url.Parse(h.srv.URL)
		b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "sy_session", Value: cred, Path: "/"}})
		if p := b.get("/projects/shop/flags"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
			t.Errorf("%.12s… as a session: %d %q", cred, p.Status, p.Location)
		}
	}
}
