package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const xss = `<img src=x onerror=alert(1)>`

// config reads a flag's configuration in an environment through the API.
func (h *harness) config(project, flag, env string) map[string]any {
	h.t.Helper()
	return h.api.Must(200, "GET", "/api/v1/projects/"+project+"/flags/"+url.PathEscape(flag)+"/environments/"+env, nil).JSON(h.t)
}

func (h *harness) enabled(project, flag, env string) bool {
	h.t.Helper()
	return h.config(project, flag, env)["enabled"] == true
}

func (h *harness) auditCount() int {
	h.t.Helper()
	var n int
	if err := h.app.Store.SQL().QueryRow(`SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// TestFlagList: the list shows each flag with a switch per environment; what the
// user may not switch is disabled with the reason, per role; search, tag and archived
// filters work as plain GET forms; untrusted text is escaped.
func TestFlagList(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.api.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": "alpha", "kind": "boolean", "tags": []string{"web"}})
	h.api.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": "beta", "kind": "boolean", "name": xss,
		"description": "findable " + xss})
	h.flag("shop", "gamma")
	h.api.Must(200, "PATCH", "/api/v1/projects/shop/flags/gamma", map[string]any{"archived": true})
	h.api.Must(200, "POST", "/api/v1/projects/shop/flags/alpha/environments/staging/toggle", map[string]any{"enabled": true})
	h.api.Must(200, "POST", "/api/v1/projects/shop/flags/alpha/kill", nil)

	cases := []struct {
		role      string
		overrides []string
		disabled  map[string]string // environment → reason shown
		canCreate bool
	}{
		{"viewer", nil, map[string]string{"development": "needs developer in development (you are viewer)",
			"staging": "needs developer in staging (you are viewer)", "production": "needs admin in production (you are viewer)"}, false},
		{"developer", nil, map[string]string{"production": "needs admin in production (you are developer)"}, true},
		{"admin", nil, map[string]string{}, true},
		{"admin", []string{"production", "viewer"}, map[string]string{"production": "needs admin in production (you are viewer)"}, true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(c.role, c.overrides), func(t *testing.T) {
			b := h.as("shop", fmt.Sprintf("u%d@example.com", i), c.role, c.overrides...)
			p := b.must(200, "/projects/shop/flags")
			has(t, p, `<a class="key" href="/projects/shop/flags/alpha" id="f0">alpha</a>`, "KILLED", `class="chip" href="?tag=web"`,
				"&lt;img src=x onerror=alert(1)&gt;")
			lacks(t, p, xss, "gamma")
			for i, env := range []string{"development", "staging", "production"} {
				reason, off := c.disabled[env]
				has(t, p, fmt.Sprintf(`<span id="e%d">%s</span>`, i, strings.ToUpper(env[:1])+env[1:]))
				n := strings.Count(p.Body, fmt.Sprintf(`disabled aria-describedby="w%d"`, i))
				switch {
				case off && (n != 2 || !strings.Contains(p.Body, fmt.Sprintf(`id="w%d">%s`, i, reason))):
					t.Errorf("%s: %d disabled switches, want 2 with %q", env, n, reason)
				case !off && n != 0:
					t.Errorf("%s: %d disabled switches, want none", env, n)
				}
			}
			has(t, p, `value="staging 0 alpha" aria-pressed="true" aria-labelledby="f0 e1"`)
			if c.canCreate {
				has(t, p, `href="/projects/shop/new-flag">New flag</a>`)
			} else {
				has(t, p, `disabled aria-describedby="why-create">New flag</button>`, "needs developer in this project (you are viewer)")
			}
		})
	}

	b := h.as("shop", "dev@example.com", "developer")
	// A served rollout shows its share beside the switch: a boolean's share of on,
	// another kind's every variant.
	h.api.Must(200, "PUT", "/api/v1/projects/shop/flags/beta/environments/development", map[string]any{"version": 1,
		"enabled": true, "off_variant": "off", "default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 25, "off": 75}}}})
	p := b.must(200, "/projects/shop/flags")
	if n := strings.Count(p.Body, `<div class="rollout" title="served when no rule matches">25% on</div>`); n != 1 {
		t.Errorf("%d rollout notes of 25%% on, want 1 (beta in development)", n)
	}
	p = b.must(200, "/projects/shop/flags?q=FINDABLE")
	has(t, p, "beta")
	lacks(t, p, "/flags/alpha\"")
	p = b.must(200, "/projects/shop/flags?tag=web")
	has(t, p, "/flags/alpha\"")
	lacks(t, p, "/flags/beta\"")
	p = b.must(200, "/projects/shop/flags?archived=true")
	has(t, p, "/flags/gamma\"", `name="archived" value="true" checked`)
	lacks(t, p, "/flags/alpha\"")
	has(t, b.must(200, "/projects/shop/flags?q=nothing-like-this"), "No flags match “nothing-like-this”")
	has(t, b.must(200, "/projects/shop/flags?q="+url.QueryEscape("<script>x</script>")), "No flags match “&lt;script&gt;x&lt;/script&gt;”")
	if p := b.get("/projects/shop/flags?cursor=%00"); p.Status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", p.Status)
	}

	h.project("empty")
	a := h.admin("root@example.com")
	has(t, a.must(200, "/projects/empty/flags"), "No flags yet", "/api/v1/projects/empty/flags")
	// A project the user is not a member of: refused, with the reason.
	p = b.get("/projects/empty/flags")
	if p.Status != http.StatusForbidden {
		t.Fatalf("another project: %d", p.Status)
	}
	has(t, p, "Not allowed", "the viewer role in project empty is needed; you have no role there")
	if p := b.get("/projects/nope/flags"); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Errorf("unknown project: %d", p.Status)
	}
}

// TestFlagListPages: the list pages by cursor, 50 flags a page.
func TestFlagListPages(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	for i := range 60 {
		h.flag("shop", fmt.Sprintf("flag-%02d", i))
	}
	b := h.admin("root@example.com")
	p := b.must(200, "/projects/shop/flags")
	if n := strings.Count(p.Body, `<a class="key"`); n != 50 {
		t.Fatalf("first page: %d rows", n)
	}
	i := strings.Index(p.Body, `rel="next" href="`)
	if i < 0 {
		t.Fatal("no next page link")
	}
	next := p.Body[i+len(`rel="next" href="`):]
	next = strings.ReplaceAll(next[:strings.Index(next, `"`)], "&amp;", "&")
	p = b.must(200, "/projects/shop/flags"+next)
	if n := strings.Count(p.Body, `<a class="key"`); n != 10 || !strings.Contains(p.Body, "flag-59") || strings.Contains(p.Body, `rel="next"`) {
		t.Fatalf("second page: %d rows", n)
	}
	has(t, p, "← First page")
}

// TestToggle: the list's switches toggle through the service: developers where they
// may, refused (403 page) where they may not; a protected environment asks first.
func TestToggle(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	dev := h.as("shop", "dev@example.com", "developer")
	viewer := h.as("shop", "viewer@example.com", "viewer")
	admin := h.as("shop", "admin@example.com", "admin")
	toggle := "/projects/shop/toggle"
	sw := func(env, on string) string { return env + " " + on + " new-checkout" }
	back := "/projects/shop/flags?q=new"

	dev.must(200, "/projects/shop/flags")
	p := dev.mustPost(303, toggle, url.Values{"t": {sw("development", "1")}, "back": {back}})
	if p.Location != back || !h.enabled("shop", "new-checkout", "development") {
		t.Fatalf("toggle: %q, enabled %v", p.Location, h.enabled("shop", "new-checkout", "development"))
	}
	has(t, dev.must(200, back), "new-checkout is on in development.")
	// The switch says the state wanted: sent twice, it stays on.
	dev.mustPost(303, toggle, url.Values{"t": {sw("development", "1")}})
	if !h.enabled("shop", "new-checkout", "development") {
		t.Error("a repeated switch flipped it back")
	}
	for _, bad := range []string{"", "development", "development 2 new-checkout", "development 1 "} {
		if p := dev.post(toggle, url.Values{"t": {bad}}); p.Status != http.StatusBadRequest {
			t.Errorf("t=%q: %d", bad, p.Status)
		}
	}

	before := h.auditCount()
	p = dev.post(toggle, url.Values{"t": {sw("production", "1")}, "confirm": {"yes"}})
	if p.Status != http.StatusForbidden || h.enabled("shop", "new-checkout", "production") {
		t.Fatalf("developer in production: %d", p.Status)
	}
	has(t, p, "Not allowed", "the admin role in environment production of project shop is needed; you have developer")
	viewer.must(200, "/projects/shop/flags")
	if p := viewer.post(toggle, url.Values{"t": {sw("staging", "1")}}); p.Status != http.StatusForbidden || h.enabled("shop", "new-checkout", "staging") {
		t.Fatalf("viewer: %d", p.Status)
	}
	if h.auditCount() != before {
		t.Error("a refused toggle wrote to the audit trail")
	}

	admin.must(200, "/projects/shop/flags")
	p = admin.mustPost(200, toggle, url.Values{"t": {sw("production", "1")}, "back": {back}})
	has(t, p, "Turn <strong>new-checkout</strong> on in <strong>production</strong>?", `name="confirm" value="yes"`,
		`name="back" value="/projects/shop/flags?q=new"`, `name="t" value="production 1 new-checkout"`)
	if h.enabled("shop", "new-checkout", "production") {
		t.Fatal("toggled before the confirmation")
	}
	admin.mustPost(303, toggle, url.Values{"t": {sw("production", "1")}, "confirm": {"yes"}})
	if !h.enabled("shop", "new-checkout", "production") {
		t.Fatal("not toggled after the confirmation")
	}
	// The protected column tells the dialog what its switches ask.
	has(t, admin.must(200, "/projects/shop/flags"), `data-confirm-off="Turn {flag} off in production for every user?"`,
		`value="production 0 new-checkout" aria-pressed="true" aria-labelledby="f0 e2" data-p>on</button>`)
}

// TestCSRF: a state-changing request without this session's token, or sent from
// another site, is refused with a page that says so, and changes nothing.
func TestCSRF(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	dev := h.as("shop", "dev@example.com", "developer")
	other := h.login("dev@example.com")
	dev.must(200, "/projects/shop/flags")
	other.must(200, "/projects/shop/flags")
	if dev.csrf == "" || dev.csrf == other.csrf {
		t.Fatalf("tokens %q and %q: each session needs its own", dev.csrf, other.csrf)
	}
	path := "/projects/shop/toggle"
	on, off := "development 1 new-checkout", "development 0 new-checkout"
	before := h.auditCount()
	for name, req := range map[string]struct {
		form    url.Values
		headers []string
	}{
		"no token":            {url.Values{"t": {on}, "csrf": {""}}, nil},
		"forged token":        {url.Values{"t": {on}, "csrf": {"AAAA"}}, nil},
		"another session's":   {url.Values{"t": {on}, "csrf": {other.csrf}}, nil},
		"cross-site":          {url.Values{"t": {on}}, []string{"Sec-Fetch-Site", "cross-site"}},
		"from another origin": {url.Values{"t": {on}}, []string{"Origin", "http://evil.example"}},
	} {
		p := dev.post(path, req.form, req.headers...)
		if p.Status != http.StatusForbidden {
			t.Errorf("%s: %d", name, p.Status)
			continue
		}
		has(t, p, "This form could not be verified", "Nothing was changed")
	}
	if h.auditCount() != before || h.enabled("shop", "new-checkout", "development") {
		t.Fatal("a refused request changed something")
	}
	dev.mustPost(303, path, url.Values{"t": {on}})
	// The header form of the token works too (for scripts of the page).
	dev.must(200, "/projects/shop/flags")
	if p := dev.post(path, url.Values{"t": {off}, "csrf": {""}}, "X-CSRF-Token", dev.csrf); p.Status != http.StatusSeeOther {
		t.Errorf("token in the header: %d", p.Status)
	}
}
