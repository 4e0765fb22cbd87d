package ui_test

import (
	"strings"
	"testing"
)

// TestUntrustedText: text users type (project, environment and flag names,
// descriptions, tags' neighbours, variant names, rule descriptions and values, key and
// token names, and the audit trail's before and after) is text on every page: a flag
// named <img src=x onerror=alert(1)> shows as those characters, and nothing the
// Content-Security-Policy would block appears (strict checks every page).
func TestUntrustedText(t *testing.T) {
	h := newHarness(t)
	const script = `"><script>alert(1)</script>`
	h.api.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop", "name": xss, "description": script})
	h.api.Must(201, "POST", "/api/v1/projects/shop/environments", map[string]any{"key": "qa", "name": xss, "description": script})
	h.api.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": "button", "kind": "string", "name": xss, "description": script,
		"variants": []map[string]any{{"key": "red", "name": xss, "value": xss}, {"key": "blue", "value": script}}})
	h.api.Must(200, "PUT", "/api/v1/projects/shop/flags/button/environments/staging", map[string]any{
		"enabled": true, "version": 1, "off_variant": "red", "default": map[string]any{"variant": "blue"},
		"rules": []map[string]any{{"id": "x", "description": xss, "conditions": []map[string]any{
			{"attribute": "email", "operator": "in", "values": []string{xss, script}}}, "serve": map[string]any{"variant": "red"}}}})
	h.api.Must(201, "POST", "/api/v1/projects/shop/environments/staging/sdk-keys", map[string]any{"name": xss})
	h.api.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": xss, "project": "shop", "role": "viewer"})
	admin := h.admin("root@example.com")
	for _, path := range []string{"/projects", "/projects/shop/flags", "/projects/shop/flags?q=" + strings.ReplaceAll(xss, " ", "+"),
		"/projects/shop/flags/button", "/projects/shop/flags/button?env=staging", "/projects/shop/flags/button?env=qa",
		"/projects/shop/flags/button/edit", "/projects/shop/flags/button/history", "/projects/shop/history", "/projects/shop/settings",
		"/projects/shop/environments/qa", "/projects/shop/environments/staging", "/projects/shop/tokens", "/projects/shop/members", "/users"} {
		p := admin.must(200, path)
		lacks(t, p, xss, "<script>alert", `<img src=x`)
	}
	p := admin.must(200, "/projects/shop/flags/button?env=staging")
	has(t, p, "&lt;img src=x onerror=alert(1)&gt;", "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
	p = admin.must(200, "/projects/shop/history")
	has(t, p, `Rule 1 (x): If email is one of &lt;img src=x onerror=alert(1)&gt;`)
}
