package ui_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// evaluated records evaluations of a flag in an environment, as the evaluators do.
func (h *harness) evaluated(project, env, flag string, at time.Time, variant, reason string, n int) {
	h.t.Helper()
	db := h.app.Store.SQL()
	if _, err := db.Exec(`INSERT INTO flag_evaluations (environment_id, flag_key, minute, variant, reason, count)
		SELECT e.id, $3, date_trunc('minute', $4::timestamptz), $5, $6, $7 FROM environments e JOIN projects p ON p.id = e.project_id
		WHERE p.key = $1 AND e.key = $2`, project, env, flag, at, variant, reason, n); err != nil {
		h.t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO flag_last_evaluated (environment_id, flag_key, at)
		SELECT e.id, $3, $4 FROM environments e JOIN projects p ON p.id = e.project_id WHERE p.key = $1 AND e.key = $2
		ON CONFLICT (environment_id, flag_key) DO UPDATE SET at = greatest(flag_last_evaluated.at, EXCLUDED.at)`,
		project, env, flag, at); err != nil {
		h.t.Fatal(err)
	}
}

// TestStale: the list marks flags nobody evaluated for the project's stale_after_days
// in words, filters them, and the days are a project setting.
func TestStale(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	for _, f := range []string{"forgotten", "old-but-used", "unused-for-long", "brand-new"} {
		h.flag("shop", f)
	}
	if _, err := h.app.Store.SQL().Exec(`UPDATE flags SET created_at = now() - interval '90 days' WHERE key <> 'brand-new'`); err != nil {
		t.Fatal(err)
	}
	h.evaluated("shop", "production", "old-but-used", time.Now().Add(-time.Hour), "on", "DEFAULT", 5)
	h.evaluated("shop", "staging", "unused-for-long", time.Now().Add(-41*24*time.Hour), "on", "DEFAULT", 5)
	viewer := h.as("shop", "viewer@example.com", "viewer")
	p := viewer.must(200, "/projects/shop/flags")
	has(t, p, "stale after 30 days", "stale — never evaluated", "stale — not evaluated for 41 days")
	if n := strings.Count(p.Body, `<div class="stale">`); n != 2 {
		t.Errorf("%d stale flags, want 2 (forgotten, unused-for-long)", n)
	}
	p = viewer.must(200, "/projects/shop/flags?stale=true")
	has(t, p, "/flags/forgotten\"", "/flags/unused-for-long\"", `name="stale" value="true" checked`)
	lacks(t, p, "/flags/old-but-used\"", "/flags/brand-new\"")

	admin := h.as("shop", "admin@example.com", "admin")
	has(t, admin.must(200, "/projects/shop/settings"), `name="stale_after_days" type="number" min="1" max="3650" value="30"`)
	has(t, admin.mustPost(400, "/projects/shop/settings", form("name", "Shop", "stale_after_days", "0")), "must be a whole number of days from 1 to")
	admin.mustPost(303, "/projects/shop/settings", form("name", "Shop", "stale_after_days", "60"))
	p = admin.must(200, "/projects/shop/flags")
	has(t, p, "stale after 60 days", "stale — never evaluated")
	lacks(t, p, "not evaluated for 41 days")
	if p := viewer.post("/projects/shop/settings", form("name", "x", "stale_after_days", "5")); p.Status != http.StatusForbidden {
		t.Errorf("viewer changing the project: %d", p.Status)
	}
}

// TestRevert: a history entry of a configuration change reverts it, as a new audited,
// version-checked change; where the user may not change the environment, the button is
// disabled with the reason and the server refuses.
func TestRevert(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	dev := h.as("shop", "dev@example.com", "developer")
	h.api.Must(200, "PUT", "/api/v1/projects/shop/flags/new-checkout/environments/staging", map[string]any{
		"enabled": true, "version": 1, "off_variant": "off", "default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 10, "off": 90}}}})
	h.api.Must(200, "PUT", "/api/v1/projects/shop/flags/new-checkout/environments/production", map[string]any{
		"enabled": true, "version": 1, "off_variant": "off", "default": map[string]any{"variant": "on"}})

	p := dev.must(200, "/projects/shop/flags/new-checkout/history")
	forms := regexp.MustCompile(`action="([^"]+/revert)" class="inline">.*?name="audit_id" value="(\d+)"><input type="hidden" name="version" value="(\d+)">`).FindAllStringSubmatch(p.Body, -1)
	if len(forms) != 2 {
		t.Fatalf("%d revert forms, want 2 (staging, production):\n%s", len(forms), snippet(p.Body))
	}
	has(t, p, "needs admin in production (you are developer)")
	var staging, production []string
	for _, f := range forms {
		if strings.Contains(f[1], "/staging/") {
			staging = f
		} else {
			production = f
		}
	}
	if p := dev.post(production[1], form("audit_id", production[2], "version", production[3], "confirm", "yes")); p.Status != http.StatusForbidden {
		t.Fatalf("developer reverting production: %d", p.Status)
	}
	has(t, dev.mustPost(200, staging[1], form("audit_id", staging[2], "version", staging[3])), "Restore the configuration of <strong>new-checkout</strong> in <strong>staging</strong>")
	p = dev.mustPost(303, staging[1], form("audit_id", staging[2], "version", staging[3], "confirm", "yes"))
	if c := h.config("shop", "new-checkout", "staging"); c["enabled"] != false || fmt.Sprint(c["default"]) != "map[variant:off]" || c["version"] != float64(3) {
		t.Fatalf("after revert: %v", c)
	}
	has(t, dev.must(200, p.Location), "Reverted: new-checkout in staging is back as it was before change")
	has(t, dev.must(200, "/projects/shop/flags/new-checkout/history"), "reverted the configuration of <strong>new-checkout</strong> in <strong>staging</strong>")
	// The same form again: the version moved on, nothing is reverted twice.
	p = dev.post(staging[1], form("audit_id", staging[2], "version", staging[3], "confirm", "yes"))
	if p.Status != http.StatusConflict {
		t.Fatalf("stale revert: %d", p.Status)
	}
	has(t, p, "changed after this page was loaded", "nothing was reverted")
}

// TestEvaluationsChart: the flag page draws the evaluations of the last 24 hours by
// the hour, or of 7 days by the day, as an SVG the server renders, with the counts as
// text beside it.
func TestEvaluationsChart(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	now := time.Now().UTC()
	h.evaluated("shop", "staging", "new-checkout", now.Add(-2*time.Hour), "on", "TARGETING_MATCH", 1200)
	h.evaluated("shop", "staging", "new-checkout", now.Add(-3*time.Hour), "off", "DEFAULT", 300)
	h.evaluated("shop", "staging", "new-checkout", now.Add(-3*24*time.Hour), "off", "DEFAULT", 7)
	viewer := h.as("shop", "viewer@example.com", "viewer")
	p := viewer.must(200, "/projects/shop/flags/new-checkout?env=staging")
	has(t, p, `<svg class="chart"`, "Evaluations per hour", "1,500 in all, at most 1,200 in one hour",
		`<td class="mono">on</td><td>TARGETING_MATCH</td><td>1,200</td>`, `<span class="swatch v0" aria-hidden="true"></span> on`)
	if n := strings.Count(p.Body, "<g><title>"); n < 24 || n > 25 {
		t.Errorf("%d hourly bars", n)
	}
	p = viewer.must(200, "/projects/shop/flags/new-checkout?env=staging&range=7d")
	has(t, p, "Evaluations per day", "1,507 in all")
	if n := strings.Count(p.Body, "<g><title>"); n < 7 || n > 8 {
		t.Errorf("%d daily bars", n)
	}
}

// TestPlayground: the playground explains how the stored configuration evaluates for a
// context typed as rows or JSON: value, variant, reason, the rule and each condition.
func TestPlayground(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	h.flag("shop", "dark-mode")
	h.api.Must(200, "PUT", "/api/v1/projects/shop/flags/new-checkout/environments/staging", map[string]any{
		"enabled": true, "version": 1, "off_variant": "off", "default": map[string]any{"variant": "off"},
		"rules": []map[string]any{{"id": "staff", "conditions": []map[string]any{
			{"attribute": "email", "operator": "ends_with", "values": []string{"@acme.com"}},
			{"attribute": "company.plan", "operator": "in", "values": []string{"pro", xss}}}, "serve": map[string]any{"variant": "on"}}}})
	viewer := h.as("shop", "viewer@example.com", "viewer")
	p := viewer.must(200, "/projects/shop/playground")
	has(t, p, `<option value="development" selected>`, `name="ctx[0].key" value="key"`, "Type a context and press Evaluate")

	p = viewer.mustPost(200, "/projects/shop/playground", form("env", "staging", "flags", "new-checkout", "mode", "rows",
		"ctx[0].key", "key", "ctx[0].value", "user-42", "ctx[1].key", "email", "ctx[1].value", "jane@acme.com",
		"ctx[2].key", "company.plan", "ctx[2].value", "pro", "op", "run"))
	has(t, p, `<a class="key" href="/projects/shop/flags/new-checkout?env=staging">new-checkout</a></td><td class="mono">true</td><td class="mono">on</td>`,
		"TARGETING_MATCH", "(rule staff)", "✓ matched", "✓ held</span> <span class=\"mono\">email</span> ends_with",
		`&#34;plan&#34;: &#34;pro&#34;`, "Copy as curl", "/api/v1/projects/shop/environments/staging/evaluate")
	lacks(t, p, "dark-mode")

	// JSON, every flag; the context's own text stays text.
	p = viewer.mustPost(200, "/projects/shop/playground", form("env", "staging", "mode", "json",
		"json", `{"key": "user-7", "email": "`+xss+`", "company": {"plan": "free"}}`, "op", "run"))
	has(t, p, "dark-mode", "new-checkout", "DEFAULT", "✗ did not match", "✗ failed", `name="ctx[1].value" value="&lt;img src=x onerror=alert(1)&gt;"`)
	lacks(t, p, xss)

	p = viewer.mustPost(400, "/projects/shop/playground", form("env", "staging", "mode", "json", "json", `[1,2]`, "op", "run"))
	has(t, p, "must be a JSON object")
	p = viewer.mustPost(400, "/projects/shop/playground", form("env", "staging", "mode", "rows", "ctx[0].key", "a.", "ctx[0].value", "x", "op", "run"))
	has(t, p, "has an empty segment")
	// Rows are added without JavaScript.
	has(t, viewer.mustPost(200, "/projects/shop/playground", form("env", "staging", "ctx[0].key", "key", "op", "add:ctx")), `name="ctx[1].key"`)

	h.project("private")
	if p := viewer.post("/projects/private/playground", form("env", "staging", "op", "run")); p.Status != http.StatusForbidden {
		t.Errorf("another project's playground: %d", p.Status)
	}
}
