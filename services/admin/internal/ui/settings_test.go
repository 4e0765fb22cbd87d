package ui_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestEnvironments: admins create, protect and delete environments; others see the
// controls disabled with the reason, and are refused when they post anyway.
func TestEnvironments(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	admin := h.as("shop", "admin@example.com", "admin")
	dev := h.as("shop", "dev@example.com", "developer")

	p := dev.must(200, "/projects/shop/settings")
	has(t, p, "Not available: needs admin in this project (you are developer).", "<fieldset disabled>",
		"needs admin in development (you are developer)")
	if p := dev.post("/projects/shop/environments", form("key", "qa")); p.Status != http.StatusForbidden {
		t.Fatalf("developer creating an environment: %d", p.Status)
	}
	p = dev.must(200, "/projects/shop/environments/staging")
	has(t, p, "SDK keys are shown to admins of staging.", `disabled aria-describedby="why-env-delete"`)

	admin.must(200, "/projects/shop/settings")
	p = admin.mustPost(400, "/projects/shop/environments", form("key", "Bad Key"))
	has(t, p, `value="Bad Key"`, "must be 1-63 lowercase letters")
	admin.mustPost(303, "/projects/shop/environments", form("key", "qa", "name", "QA "+xss, "protected", "on"))
	p = admin.must(200, "/projects/shop/settings")
	has(t, p, "Environment qa created", "QA &lt;img src=x onerror=alert(1)&gt;")
	p = admin.mustPost(409, "/projects/shop/environments", form("key", "qa"))
	has(t, p, "already exists")

	// Lifting protection asks first; setting it does not.
	admin.must(200, "/projects/shop/environments/qa")
	p = admin.mustPost(200, "/projects/shop/environments/qa", form("name", "QA"))
	has(t, p, "Remove the protection of <strong>qa</strong>?")
	admin.mustPost(303, "/projects/shop/environments/qa", form("name", "QA", "confirm", "yes"))
	env := h.api.Must(200, "GET", "/api/v1/projects/shop/environments/qa", nil).JSON(t)
	if env["protected"] != false || env["name"] != "QA" {
		t.Fatalf("after update: %v", env)
	}
	admin.mustPost(303, "/projects/shop/environments/qa", form("name", "QA", "protected", "on"))
	if h.api.Must(200, "GET", "/api/v1/projects/shop/environments/qa", nil).JSON(t)["protected"] != true {
		t.Fatal("not protected again")
	}
	if p := dev.post("/projects/shop/environments/staging", form("name", "x", "confirm", "yes")); p.Status != http.StatusForbidden {
		t.Errorf("developer updating an environment: %d", p.Status)
	}
	if p := dev.post("/projects/shop/environments/staging/delete", form("confirm", "yes")); p.Status != http.StatusForbidden {
		t.Errorf("developer deleting an environment: %d", p.Status)
	}
	has(t, admin.mustPost(200, "/projects/shop/environments/qa/delete", nil), "Delete the environment <strong>qa</strong>?")
	admin.mustPost(303, "/projects/shop/environments/qa/delete", form("confirm", "yes"))
	h.api.Must(404, "GET", "/api/v1/projects/shop/environments/qa", nil)
}

var secretInput = regexp.MustCompile(`<input id="secret" value="([^"]+)" readonly>`)

// TestSDKKeys: a key is shown once, with a copy button, and never again; rotation and
// revocation ask first.
func TestSDKKeys(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	admin := h.as("shop", "admin@example.com", "admin", "production", "developer")
	path := "/projects/shop/environments/staging"
	has(t, admin.must(200, path), "No SDK keys yet")
	p := admin.mustPost(200, path+"/sdk-keys", form("name", "checkout "+xss))
	m := secretInput.FindStringSubmatch(p.Body)
	if m == nil || !strings.HasPrefix(m[1], "sy_sdk_") {
		t.Fatalf("no key shown:\n%s", snippet(p.Body))
	}
	key := m[1]
	has(t, p, "shown only this once", `data-copy="#secret"`)
	if !strings.Contains(p.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("a page with a secret may be cached: %q", p.Header.Get("Cache-Control"))
	}
	p = admin.must(200, path)
	lacks(t, p, key)
	has(t, p, key[:13]+"…", "checkout &lt;img src=x onerror=alert(1)&gt;")
	id := regexp.MustCompile(`/sdk-keys/([0-9a-f-]+)/rotate`).FindStringSubmatch(p.Body)[1]

	p = admin.mustPost(200, path+"/sdk-keys/"+id+"/rotate", form("grace_period", "1h"))
	has(t, p, "Rotate this SDK key of <strong>staging</strong>? A new key works at once; the old one stops after <strong>1h</strong>.")
	p = admin.mustPost(200, path+"/sdk-keys/"+id+"/rotate", form("grace_period", "1h", "confirm", "yes"))
	if m := secretInput.FindStringSubmatch(p.Body); m == nil || m[1] == key {
		t.Fatal("rotation shows no new key")
	}
	p = admin.must(200, path)
	ids := regexp.MustCompile(`/sdk-keys/([0-9a-f-]+)/revoke`).FindAllStringSubmatch(p.Body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d keys revocable after rotation, want 2", len(ids))
	}
	admin.mustPost(303, path+"/sdk-keys/"+ids[0][1]+"/revoke", form("confirm", "yes"))
	has(t, admin.must(200, path), "SDK key revoked.", `<span class="badge">revoked`)

	// The admin lowered to developer in production may not manage its keys.
	p = admin.must(200, "/projects/shop/environments/production")
	has(t, p, "Not available: needs admin in production (you are developer).")
	if p := admin.post("/projects/shop/environments/production/sdk-keys", form("name", "x")); p.Status != http.StatusForbidden {
		t.Errorf("creating a production key as developer there: %d", p.Status)
	}
	p = admin.mustPost(400, path+"/sdk-keys", form("expires_at", "2001-01-01T00:00"))
	has(t, p, "must be in the future")
}

// TestSDKKeyKinds: the create form offers server (chosen) and client; the list shows
// each key's kind; a kind the service refuses is named, with the name kept.
func TestSDKKeyKinds(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	admin := h.as("shop", "admin@example.com", "admin")
	path := "/projects/shop/environments/staging"
	has(t, admin.must(200, path), `<select id="key-kind" name="kind">`,
		`<option value="server" selected>Server (evaluates in your backend, may download definitions)</option>`,
		`<option value="client">Client (browsers and mobile apps; evaluates only)</option>`)
	cases := []struct {
		name, kind, want string
	}{
		{"web-app", "client", "client"},
		{"checkout", "server", "server"},
		{"no-choice", "", "server"},
	}
	for _, c := range cases {
		v := form("name", c.name)
		if c.kind != "" {
			v.Set("kind", c.kind)
		}
		admin.mustPost(200, path+"/sdk-keys", v)
	}
	rows := regexp.MustCompile(`<tr><td>([^<]*)</td><td>([^<]*)</td>`).FindAllStringSubmatch(admin.must(200, path).Body, -1)
	listed := map[string]string{}
	for _, r := range rows {
		listed[r[1]] = r[2]
	}
	for _, c := range cases {
		if listed[c.name] != c.want {
			t.Errorf("%s listed as %q, want %q (rows %q)", c.name, listed[c.name], c.want, rows)
		}
	}
	p := admin.mustPost(400, path+"/sdk-keys", form("name", "r2", "kind", "robot"))
	has(t, p, "must be server or client", `id="key-name" name="name" value="r2"`)
	if n := len(h.api.Must(200, "GET", "/api/v1/projects/shop/environments/staging/sdk-keys", nil).JSON(t)["items"].([]any)); n != len(cases) {
		t.Errorf("%d keys after a refused one, want %d", n, len(cases))
	}
	// A refused client key is offered again as client.
	p = admin.mustPost(400, path+"/sdk-keys", form("kind", "client", "expires_at", "2001-01-01T00:00"))
	has(t, p, `<option value="client" selected>`)
}

// TestMembers: project admins give and take roles (by user id; instance
// administrators also by email); others see the form disabled with the reason and are
// refused.
func TestMembers(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	admin := h.as("shop", "admin@example.com", "admin")
	lowered := h.as("shop", "lowered@example.com", "admin", "production", "viewer")
	dev := h.as("shop", "dev@example.com", "developer")
	newcomer := h.user("new@example.com", false)

	p := admin.must(200, "/projects/shop/members")
	has(t, p, "admin@example.com", "lowered@example.com", "viewer in production", `<fieldset>`)
	admin.mustPost(303, "/projects/shop/members", form("user", newcomer, "role", "developer", "role_production", "viewer"))
	p = admin.must(200, "/projects/shop/members")
	has(t, p, "Role saved.", "new@example.com", newcomer)
	got := h.api.Must(200, "GET", "/api/v1/users/"+newcomer, nil).JSON(t)["projects"]
	if fmt.Sprint(got) != "map[shop:map[environment_roles:map[production:viewer] role:developer]]" {
		t.Fatalf("membership stored: %v", got)
	}
	has(t, admin.must(200, "/projects/shop/members?user="+newcomer), `id="m-user" name="user" value="`+newcomer+`"`,
		`<option value="developer" selected>`)
	p = admin.mustPost(400, "/projects/shop/members", form("user", "new@example.com", "role", "viewer"))
	has(t, p, "only instance administrators may look users up by email")
	p = admin.mustPost(400, "/projects/shop/members", form("user", newcomer, "role", "boss"))
	has(t, p, "must be viewer, developer or admin")

	root := h.admin("root@example.com")
	root.must(200, "/projects/shop/members")
	root.mustPost(303, "/projects/shop/members", form("user", "NEW@example.com", "role", "admin"))
	if r := h.api.Must(200, "GET", "/api/v1/users/"+newcomer, nil).JSON(t)["projects"]; !strings.Contains(fmt.Sprint(r), "role:admin") {
		t.Fatalf("set by email: %v", r)
	}

	for name, b := range map[string]*browser{"developer": dev, "admin lowered in production": lowered} {
		p := b.must(200, "/projects/shop/members")
		has(t, p, "<fieldset disabled>")
		if p := b.post("/projects/shop/members", form("user", newcomer, "role", "viewer")); p.Status != http.StatusForbidden {
			t.Errorf("%s setting a role: %d", name, p.Status)
		}
	}
	has(t, lowered.must(200, "/projects/shop/members"), "needs admin in production (you are viewer)")

	has(t, admin.mustPost(200, "/projects/shop/members/"+newcomer+"/remove", form("email", "new@example.com")),
		"Remove <strong>new@example.com</strong> from <strong>shop</strong>?")
	admin.mustPost(303, "/projects/shop/members/"+newcomer+"/remove", form("confirm", "yes"))
	p = admin.must(200, "/projects/shop/members")
	lacks(t, p, "new@example.com")
}

// TestTokens: anyone may create a token for themselves, never above their role; it
// is shown once; its owner revokes it.
func TestTokens(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	dev := h.as("shop", "dev@example.com", "developer")
	dev.must(200, "/projects/shop/tokens")
	p := dev.mustPost(200, "/projects/shop/tokens", form("name", "ci "+xss, "role", "developer", "role_production", "viewer"))
	m := secretInput.FindStringSubmatch(p.Body)
	if m == nil || !strings.HasPrefix(m[1], "sy_adm_") {
		t.Fatalf("no token shown:\n%s", snippet(p.Body))
	}
	(&testingClient{h: h, token: m[1]}).mustGet(t, 200, "/api/v1/projects/shop/flags")
	p = dev.must(200, "/projects/shop/tokens")
	lacks(t, p, m[1])
	has(t, p, "ci &lt;img src=x onerror=alert(1)&gt;", "viewer in production")
	if p := dev.post("/projects/shop/tokens", form("name", "too much", "role", "admin")); p.Status != http.StatusForbidden {
		t.Fatalf("a token above one's role: %d", p.Status)
	}
	has(t, dev.mustPost(400, "/projects/shop/tokens", form("name", "", "role", "viewer")), "is required")
	id := regexp.MustCompile(`/tokens/([0-9a-f-]+)/revoke`).FindStringSubmatch(dev.must(200, "/projects/shop/tokens").Body)[1]
	dev.mustPost(303, "/projects/shop/tokens/"+id+"/revoke", form("confirm", "yes"))
	(&testingClient{h: h, token: m[1]}).mustGet(t, 401, "/api/v1/projects/shop/flags")
}

type testingClient struct {
	h     *harness
	token string
}

func (c *testingClient) mustGet(t *testing.T, want int, path string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.h.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("GET %s with the token: %d, want %d", path, res.StatusCode, want)
	}
}

// TestUsers: instance administrators create, disable and reset users; everyone else
// is refused.
func TestUsers(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	root := h.admin("root@example.com")
	dev := h.as("shop", "dev@example.com", "developer")

	p := dev.get("/users")
	if p.Status != http.StatusForbidden {
		t.Fatalf("developer opening users: %d", p.Status)
	}
	has(t, p, "only instance administrators list users")
	lacks(t, dev.must(200, "/projects/shop/flags"), `href="/users"`)
	if p := dev.post("/users", form("email", "x@example.com", "password", "long-enough-pw")); p.Status != http.StatusForbidden {
		t.Fatalf("developer creating a user: %d", p.Status)
	}

	has(t, root.must(200, "/projects/shop/flags"), `href="/users"`)
	p = root.must(200, "/users")
	has(t, p, "dev@example.com", "root@example.com")
	p = root.mustPost(400, "/users", form("email", "not-an-email", "password", "short"))
	has(t, p, "must be an email address", "must be at least 10 characters", `value="not-an-email"`)
	p = root.mustPost(303, "/users", form("email", "sam@example.com", "name", "Sam", "password", "password-sam@example.com"))
	userPage := p.Location
	has(t, root.must(200, userPage), "User sam@example.com created")
	has(t, root.mustPost(409, "/users", form("email", "sam@example.com", "password", "password-long")), "exists")

	sam := h.login("sam@example.com")
	sam.must(200, "/projects")
	has(t, root.mustPost(200, userPage, form("action", "disable")), "Disable this user?")
	root.mustPost(303, userPage, form("action", "disable", "confirm", "yes"))
	has(t, root.must(200, userPage), "sam@example.com is disabled", `<span class="badge">disabled</span>`)
	if p := sam.get("/projects"); p.Status != http.StatusSeeOther {
		t.Fatalf("a disabled user's session: %d", p.Status)
	}
	root.mustPost(303, userPage, form("action", "enable"))
	root.mustPost(303, userPage, form("action", "password", "password", "brand-new-password"))
	has(t, root.must(200, userPage), "Password of sam@example.com reset")
	b := h.browser()
	b.get("/login")
	if p := b.post("/login", form("email", "sam@example.com", "password", "brand-new-password")); p.Status != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d", p.Status)
	}
	has(t, root.mustPost(400, userPage, form("action", "password", "password", "short")), "must be at least 10 characters")

	// An administrator does not lock themselves out here.
	self := strings.TrimPrefix(regexp.MustCompile(`href="/users/([0-9a-f-]+)">root@example.com`).FindStringSubmatch(root.must(200, "/users").Body)[1], "")
	has(t, root.must(200, "/users/"+self), `disabled aria-describedby="why-disable"`)
	has(t, root.mustPost(400, "/users/"+self, form("action", "disable", "confirm", "yes")), "you cannot disable yourself")
}
