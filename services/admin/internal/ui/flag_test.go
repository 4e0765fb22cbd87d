package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// form builds form values from name, value pairs.
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// version reads the editor's version field.
func version(t *testing.T, p page) string {
	t.Helper()
	m := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no version field:\n%s", snippet(p.Body))
	}
	return m[1]
}

// inputs reads every named field of the page's editor form, as a browser would send
// it unedited (text inputs, checked boxes and radios, selected options, textareas).
func inputs(t *testing.T, p page, action string) url.Values {
	t.Helper()
	start := strings.Index(p.Body, `action="`+action+`"`)
	if start < 0 {
		t.Fatalf("no form posting to %s", action)
	}
	body := p.Body[start:]
	body = body[:strings.Index(body, "</form>")]
	if i := strings.Index(body, "<template"); i >= 0 {
		body = body[:i]
	}
	v := url.Values{}
	unescape := strings.NewReplacer("&#34;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'", "&#43;", "+").Replace
	attr := func(tag, name string) (string, bool) {
		m := regexp.MustCompile(`\s` + name + `="([^"]*)"`).FindStringSubmatch(tag)
		if m == nil {
			return "", false
		}
		return unescape(m[1]), true
	}
	for _, tag := range regexp.MustCompile(`<input[^>]*>`).FindAllString(body, -1) {
		name, ok := attr(tag, "name")
		if !ok {
			continue
		}
		typ, _ := attr(tag, "type")
		if (typ == "checkbox" || typ == "radio") && !strings.Contains(tag, " checked") {
			continue
		}
		val, _ := attr(tag, "value")
		v.Add(name, val)
	}
	for _, m := range regexp.MustCompile(`(?s)<textarea[^>]*name="([^"]*)"[^>]*>(.*?)</textarea>`).FindAllStringSubmatch(body, -1) {
		v.Add(unescape(m[1]), unescape(m[2]))
	}
	for _, m := range regexp.MustCompile(`(?s)<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>`).FindAllStringSubmatch(body, -1) {
		if s := regexp.MustCompile(`<option value="([^"]*)"[^>]*selected`).FindStringSubmatch(m[2]); s != nil {
			v.Set(unescape(m[1]), unescape(s[1]))
		} else if s := regexp.MustCompile(`<option value="([^"]*)"`).FindStringSubmatch(m[2]); s != nil {
			v.Set(unescape(m[1]), unescape(s[1]))
		}
	}
	return v
}

// TestFlagPage: one tab per environment (protected ones last, marked), the editor of
// the one asked for, and controls disabled with the reason where the role falls
// short.
func TestFlagPage(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	dev := h.as("shop", "dev@example.com", "developer")
	p := dev.must(200, "/projects/shop/flags/new-checkout")
	has(t, p, `<a href="/projects/shop/flags/new-checkout?env=development" aria-current="page">Development`,
		`?env=production">Production <span class="protected">`, "Development configuration", `<fieldset>`,
		`Kill switch: needs admin in production (you are developer)`, `Archive: needs admin in production (you are developer)`,
		`<a class="button" href="/projects/shop/flags/new-checkout/edit">`)
	if strings.Index(p.Body, "?env=production") < strings.Index(p.Body, "?env=staging") {
		t.Error("production is not the last tab")
	}
	p = dev.must(200, "/projects/shop/flags/new-checkout?env=production")
	has(t, p, "Production configuration (protected)", "<fieldset disabled>", "Not available: needs admin in production (you are developer).")

	viewer := h.as("shop", "viewer@example.com", "viewer")
	p = viewer.must(200, "/projects/shop/flags/new-checkout?env=staging")
	has(t, p, "<fieldset disabled>", "Not available: needs developer in staging (you are viewer).",
		`disabled aria-describedby="why-edit">Edit flag and variants</button>`)

	if p := dev.get("/projects/shop/flags/nope"); p.Status != http.StatusNotFound {
		t.Errorf("unknown flag: %d", p.Status)
	}
	if p := dev.get("/projects/shop/flags/new-checkout?env=nope"); p.Status != http.StatusNotFound {
		t.Errorf("unknown environment: %d", p.Status)
	}
	// Keys with a slash are addressed escaped.
	h.flag("shop", "checkout/v2")
	p = dev.must(200, "/projects/shop/flags/checkout%2Fv2?env=staging")
	has(t, p, `action="/projects/shop/flags/checkout%2Fv2/environments/staging"`)
	dev.mustPost(303, "/projects/shop/toggle", form("t", "staging 1 checkout/v2"))
	if !h.enabled("shop", "checkout/v2", "staging") {
		t.Error("toggle of a key with a slash")
	}
}

// TestRulesEditor: the editor saves rules, rollouts, the off variant and
// prerequisites through the service; rows are added, moved and removed without
// JavaScript; problems show next to the fields they name, with the edit kept.
func TestRulesEditor(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	h.flag("shop", "new-ui")
	dev := h.as("shop", "dev@example.com", "developer")
	action := "/projects/shop/flags/new-checkout/environments/staging"
	p := dev.must(200, "/projects/shop/flags/new-checkout?env=staging")
	v := inputs(t, p, action)
	if v.Get("version") != "1" || v.Get("default.variant") != "off" || v.Get("off_variant") != "off" {
		t.Fatalf("initial form: %v", v)
	}

	// Without JavaScript, "Add rule" and "Add condition" come back as the same form with
	// a new row.
	v.Set("op", "add:rules")
	p = dev.mustPost(200, action, v)
	has(t, p, `name="rules[0].conditions[0].attribute"`, `name="rules[0].serve.mode" value="variant" checked`, "<details class=\"rule\" data-item data-path=\"rules[0]\" open>")
	v = inputs(t, p, action)
	v.Set("op", "add:rules[0].conditions")
	p = dev.mustPost(200, action, v)
	has(t, p, `name="rules[0].conditions[1].attribute"`)

	// Fill it in and save: a rule, a rollout by default, a prerequisite.
	v = inputs(t, p, action)
	v.Set("rules[0].id", "staff")
	v.Set("rules[0].conditions[0].attribute", "email")
	v.Set("rules[0].conditions[0].operator", "ends_with")
	v.Set("rules[0].conditions[0].values", "@acme.com, @acme.org")
	v.Set("rules[0].conditions[1].attribute", "plan")
	v.Set("rules[0].conditions[1].operator", "in")
	v.Set("rules[0].conditions[1].values", "pro\n\"Acme, Inc.\"")
	v.Set("rules[0].serve.variant", "on")
	v.Set("default.mode", "rollout")
	v.Set("default.rollout.weights.on", "12.5")
	v.Set("default.rollout.weights.off", "87.5")
	v.Set("default.rollout.bucket_by", "company.id")
	v.Set("enabled", "on")
	v.Set("prerequisites[0].flag", "new-ui")
	v.Set("prerequisites[0].variant", "off")
	v.Set("op", "save")
	p = dev.mustPost(303, action, v)
	if p.Location != "/projects/shop/flags/new-checkout?env=staging" {
		t.Fatalf("saved to %q", p.Location)
	}
	c := h.config("shop", "new-checkout", "staging")
	got := fmt.Sprint(c["enabled"], c["rules"], c["default"], c["prerequisites"], c["version"])
	want := "true [map[conditions:[map[attribute:email operator:ends_with values:[@acme.com @acme.org]] map[attribute:plan operator:in values:[pro Acme, Inc.]]] id:staff serve:map[variant:on]]] map[rollout:map[bucket_by:company.id weights:map[off:87.5 on:12.5]]] [map[flag:new-ui variant:off]] 2"
	if got != want {
		t.Fatalf("stored:\n%s\nwant\n%s", got, want)
	}
	p = dev.must(200, "/projects/shop/flags/new-checkout?env=staging")
	has(t, p, "Saved: new-checkout in staging is now at version 2.",
		`If <strong>email</strong> ends with <strong>@acme.com, @acme.org</strong> and <strong>plan</strong> is one of <strong>pro, Acme, Inc.</strong> → serve <strong>on</strong>`,
		`data-weight="on"`, `value="12.5"`, `<rect class="v0" x="0" y="0" width="12.5" height="8" data-variant="on">`)

	// Saved unedited, the configuration is the same.
	v = inputs(t, p, action)
	v.Set("op", "save")
	dev.mustPost(303, action, v)
	c2 := h.config("shop", "new-checkout", "staging")
	if fmt.Sprint(c2["rules"], c2["default"], c2["prerequisites"]) != fmt.Sprint(c["rules"], c["default"], c["prerequisites"]) {
		t.Errorf("an unedited save changed the configuration:\n%v\n%v", c2, c)
	}

	// Problems show next to their fields, and the edit is kept.
	p = dev.must(200, "/projects/shop/flags/new-checkout?env=staging")
	v = inputs(t, p, action)
	v.Set("rules[0].conditions[0].operator", "gt")
	v.Set("rules[0].conditions[0].values", "lots")
	v.Set("default.rollout.weights.on", "30")
	v.Set("default.rollout.weights.off", "60")
	v.Set("op", "save")
	p = dev.mustPost(400, action, v)
	has(t, p, "problems to fix", `value="30"`, `value="60"`, ">lots</textarea>")
	valuesBox := strings.Index(p.Body, `name="rules[0].conditions[0].values"`)
	valuesErr := strings.Index(p.Body, `<span class="field-error">must be a number</span>`)
	if valuesBox < 0 || valuesErr < valuesBox || valuesErr > strings.Index(p.Body, `name="rules[0].conditions[1].attribute"`) {
		t.Errorf("the values error is not next to the values box (%d, %d)", valuesBox, valuesErr)
	}
	sumErr := strings.Index(p.Body, "must sum to 100 (they sum to 90)</span>")
	if sumErr < strings.Index(p.Body, `name="default.rollout.weights.off"`) || sumErr > strings.Index(p.Body, `name="default.rollout.bucket_by"`) {
		t.Errorf("the sum's error is not next to the weights")
	}
	has(t, p, `<output class="sum bad" data-sum role="status" aria-live="polite">Sum: 90%</output>`)
	if h.config("shop", "new-checkout", "staging")["version"] != float64(3) {
		t.Error("a refused save changed the version")
	}

	// Rows move and go without JavaScript.
	v = inputs(t, dev.must(200, "/projects/shop/flags/new-checkout?env=staging"), action)
	v.Set("op", "add:rules")
	v = inputs(t, dev.mustPost(200, action, v), action)
	v.Set("rules[1].id", "second")
	v.Set("op", "up:rules[1]")
	p = dev.mustPost(200, action, v)
	if strings.Index(p.Body, `value="second"`) > strings.Index(p.Body, `value="staff"`) {
		t.Error("up did not move the rule up")
	}
	v = inputs(t, p, action)
	v.Set("op", "remove:rules[0]")
	p = dev.mustPost(200, action, v)
	lacks(t, p, `value="second"`)
	has(t, p, `value="staff"`)

	// A flag's own keys and values are text on the page, however they look.
	h.api.Must(200, "PUT", "/api/v1/projects/shop/flags/new-checkout/environments/development", map[string]any{
		"enabled": true, "version": 1, "off_variant": "off", "default": map[string]any{"variant": "off"},
		"rules": []map[string]any{{"id": "x", "description": xss, "conditions": []map[string]any{{"attribute": "email", "operator": "in", "values": []string{xss, `"><script>alert(1)</script>`}}}, "serve": map[string]any{"variant": "on"}}}})
	p = dev.must(200, "/projects/shop/flags/new-checkout?env=development")
	lacks(t, p, xss, "<script>alert")
	has(t, p, "&lt;img src=x onerror=alert(1)&gt;")
}

// TestConflict: a save over a version someone else replaced meanwhile shows what they
// changed, keeps the edit, and saves it once sent again.
func TestConflict(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	dev := h.as("shop", "dev@example.com", "developer")
	action := "/projects/shop/flags/new-checkout/environments/staging"
	v := inputs(t, dev.must(200, "/projects/shop/flags/new-checkout?env=staging"), action)

	// Someone else turns it on meanwhile.
	h.api.Must(200, "POST", "/api/v1/projects/shop/flags/new-checkout/environments/staging/toggle", map[string]any{"enabled": true})

	v.Set("op", "add:rules")
	v = inputs(t, dev.mustPost(200, action, v), action)
	v.Set("rules[0].conditions[0].attribute", "country")
	v.Set("rules[0].conditions[0].values", "NL")
	v.Set("rules[0].serve.variant", "on")
	v.Set("op", "save")
	p := dev.mustPost(409, action, v)
	has(t, p, "Someone changed this configuration while you edited it", "It is now at version 2",
		`<li class="del"><span class="mark" aria-hidden="true">−</span><span class="visually-hidden">removed: </span>Enabled: off</li>`,
		`<li class="add"><span class="mark" aria-hidden="true">+</span><span class="visually-hidden">added: </span>Enabled: on</li>`,
		"<strong>bootstrap admin token</strong> — config.toggle", `value="country"`, ">NL</textarea>",
		"discard your edit and load the current configuration")
	if version(t, p) != "2" {
		t.Fatalf("the kept edit replaces version %s, want 2", version(t, p))
	}
	v = inputs(t, p, action)
	v.Set("op", "save")
	dev.mustPost(303, action, v)
	c := h.config("shop", "new-checkout", "staging")
	if c["version"] != float64(3) || !strings.Contains(fmt.Sprint(c["rules"]), "country") {
		t.Fatalf("after the second save: %v", c)
	}
}

// TestProtectedSave: a save to a protected environment shows the change first, and
// only the confirmation saves it; developers are refused there however they post.
func TestProtectedSave(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	admin := h.as("shop", "admin@example.com", "admin")
	action := "/projects/shop/flags/new-checkout/environments/production"
	v := inputs(t, admin.must(200, "/projects/shop/flags/new-checkout?env=production"), action)
	v.Set("enabled", "on")
	v.Set("default.variant", "on")
	v.Set("op", "save")
	p := admin.mustPost(200, action, v)
	has(t, p, "Review the change to production before it goes live", `<li class="add">`, "Otherwise serve on",
		`name="op" value="confirm" class="danger">Confirm and save to production`)
	if h.config("shop", "new-checkout", "production")["version"] != float64(1) {
		t.Fatal("saved before the confirmation")
	}
	// The confirmation saves the change that was reviewed, not one edited after it:
	// that one is shown again.
	w := inputs(t, p, action)
	w.Set("op", "confirm")
	w.Set("off_variant", "on")
	if q := admin.post(action, w); q.Status != http.StatusOK || !strings.Contains(q.Body, "Review the change to production") {
		t.Errorf("a confirmation of an edited change: %d, want the review again", q.Status)
	}
	if h.config("shop", "new-checkout", "production")["version"] != float64(1) {
		t.Fatal("a change edited after its review was saved")
	}
	v = inputs(t, p, action)
	v.Set("op", "confirm")
	admin.mustPost(303, action, v)
	if c := h.config("shop", "new-checkout", "production"); c["enabled"] != true || c["version"] != float64(2) {
		t.Fatalf("after the confirmation: %v", c)
	}

	dev := h.as("shop", "dev@example.com", "developer")
	dev.must(200, "/projects/shop/flags/new-checkout?env=staging")
	v.Set("version", "2")
	v.Set("csrf", dev.csrf)
	p = dev.post(action, v)
	if p.Status != http.StatusForbidden || h.config("shop", "new-checkout", "production")["version"] != float64(2) {
		t.Fatalf("a developer's crafted save to production: %d", p.Status)
	}
}

// TestKillArchiveDelete: the kill switch, archiving and deletion ask first, and are
// refused to those who may not.
func TestKillArchiveDelete(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	dev := h.as("shop", "dev@example.com", "developer")
	admin := h.as("shop", "admin@example.com", "admin")
	base := "/projects/shop/flags/new-checkout"

	dev.must(200, base)
	for path, f := range map[string]url.Values{"/kill": form("on", "true", "confirm", "yes"), "/archive": form("archived", "true", "confirm", "yes"),
		"/delete": form("confirm", "yes")} {
		if p := dev.post(base+path, f); p.Status != http.StatusForbidden {
			t.Errorf("developer %s: %d", path, p.Status)
		}
	}
	admin.must(200, base)
	p := admin.mustPost(200, base+"/kill", form("on", "true"))
	has(t, p, "Kill <strong>new-checkout</strong>? It will serve its off variant in <strong>every environment</strong>")
	admin.mustPost(303, base+"/kill", form("on", "true", "confirm", "yes"))
	has(t, admin.must(200, base), "new-checkout is KILLED", `<strong class="killed">KILLED</strong>`, "Lift kill switch")
	has(t, admin.must(200, "/projects/shop/flags"), `<strong class="killed">KILLED</strong>`)
	admin.mustPost(303, base+"/kill", form("on", "false", "confirm", "yes"))
	has(t, admin.must(200, base), "The kill switch of new-checkout is lifted.")

	admin.mustPost(200, base+"/archive", form("archived", "true"))
	admin.mustPost(303, base+"/archive", form("archived", "true", "confirm", "yes"))
	has(t, admin.must(200, base), `<span class="badge amber">archived</span>`, ">Restore</button>")
	admin.mustPost(303, base+"/archive", form("archived", "false", "confirm", "yes"))

	has(t, admin.mustPost(200, base+"/delete", nil), "Delete <strong>new-checkout</strong> for good?")
	p = admin.mustPost(303, base+"/delete", form("confirm", "yes"))
	if p.Location != "/projects/shop/flags" {
		t.Fatalf("after delete: %q", p.Location)
	}
	h.api.Must(404, "GET", "/api/v1/projects/shop/flags/new-checkout", nil)
}

// TestFlagForms: creating a flag (variants included) and editing its definition, with
// problems next to their fields; a developer's edit that would change what production
// serves is refused by the service, while a rename is not.
func TestFlagForms(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	dev := h.as("shop", "dev@example.com", "developer")
	p := dev.must(200, "/projects/shop/new-flag")
	has(t, p, `<label for="key">Key</label>`, `id="kind-boolean" name="kind" value="boolean" checked`)

	f := form("key", "button-color", "kind", "string", "name", "Button "+xss, "tags", "web, checkout",
		"variants[0].key", "red", "variants[0].value", "#f00", "variants[1].key", "blue", "variants[1].value", "#00f", "op", "save")
	p = dev.mustPost(303, "/projects/shop/flags", f)
	if p.Location != "/projects/shop/flags/button-color" {
		t.Fatalf("created: %q", p.Location)
	}
	got := h.api.Must(200, "GET", "/api/v1/projects/shop/flags/button-color", nil).JSON(t)
	if fmt.Sprint(got["name"], " ", got["tags"], " ", got["variants"]) != "Button "+xss+" [web checkout] [map[key:red value:#f00] map[key:blue value:#00f]]" {
		t.Fatalf("created %v", got)
	}
	dev.must(200, "/projects/shop/new-flag")
	p = dev.mustPost(409, "/projects/shop/flags", f)
	has(t, p, `already exists`, `value="button-color"`)
	p = dev.mustPost(400, "/projects/shop/flags", form("key", "bad key!", "kind", "number", "variants[0].key", "a", "variants[0].value", "ten", "op", "save"))
	has(t, p, "must be a number", `value="bad key!"`)

	// Edit: a rename is a developer's; a value change reaches production.
	p = dev.must(200, "/projects/shop/flags/button-color/edit")
	has(t, p, "needs admin in production (you are developer)")
	v := inputs(t, p, "/projects/shop/flags/button-color/edit")
	v.Set("name", "Button colour")
	v.Set("op", "save")
	dev.mustPost(303, "/projects/shop/flags/button-color/edit", v)
	v.Set("variants[0].value", "#e00")
	p = dev.post("/projects/shop/flags/button-color/edit", v)
	if p.Status != http.StatusForbidden {
		t.Fatalf("developer changing a served value: %d", p.Status)
	}
	got = h.api.Must(200, "GET", "/api/v1/projects/shop/flags/button-color", nil).JSON(t)
	if got["name"] != "Button colour" || !strings.Contains(fmt.Sprint(got["variants"]), "#f00") {
		t.Fatalf("after edits: %v", got)
	}
	viewer := h.as("shop", "viewer@example.com", "viewer")
	viewer.must(200, "/projects/shop/flags")
	if p := viewer.post("/projects/shop/flags", form("key", "x", "kind", "boolean", "op", "save")); p.Status != http.StatusForbidden {
		t.Errorf("viewer creating a flag: %d", p.Status)
	}
}
