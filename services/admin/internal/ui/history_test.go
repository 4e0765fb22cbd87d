package ui_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestHistory: a project's and a flag's audit trail, newest first: who, when, what,
// and the change in words (rules as sentences), with the raw JSON one click away;
// viewers may read it, other projects' members may not.
func TestHistory(t *testing.T) {
	h := newHarness(t)
	h.project("shop")
	h.flag("shop", "new-checkout")
	h.flag("shop", "other")
	dev := h.as("shop", "dev@example.com", "developer")
	action := "/projects/shop/flags/new-checkout/environments/staging"
	v := inputs(t, dev.must(200, "/projects/shop/flags/new-checkout?env=staging"), action)
	v.Set("op", "add:rules")
	v = inputs(t, dev.mustPost(200, action, v), action)
	v.Set("rules[0].id", "staff")
	v.Set("rules[0].conditions[0].attribute", "email")
	v.Set("rules[0].conditions[0].operator", "ends_with")
	v.Set("rules[0].conditions[0].values", "@acme.com")
	v.Set("rules[0].serve.variant", "on")
	v.Set("op", "save")
	dev.mustPost(303, action, v)

	viewer := h.as("shop", "viewer@example.com", "viewer")
	p := viewer.must(200, "/projects/shop/flags/new-checkout/history")
	has(t, p, "History of new-checkout", "<strong>dev@example.com</strong> changed the configuration of <strong>new-checkout</strong> in <strong>staging</strong>",
		`<li class="add"><span class="mark" aria-hidden="true">+</span><span class="visually-hidden">added: </span>Rule 1 (staff): If email ends with @acme.com → serve on</li>`,
		`<li class="del"><span class="mark" aria-hidden="true">−</span><span class="visually-hidden">removed: </span>No rules</li>`,
		"<summary>Raw JSON</summary>", "created flag")
	lacks(t, p, "<strong>other</strong>")
	if strings.Index(p.Body, "changed the configuration") > strings.Index(p.Body, "created flag") {
		t.Error("history is not newest first")
	}
	p = viewer.must(200, "/projects/shop/history")
	has(t, p, "<strong>other</strong>", "<strong>new-checkout</strong>", "created the project")

	h.project("private")
	if p := viewer.get("/projects/private/history"); p.Status != http.StatusForbidden {
		t.Errorf("another project's history: %d", p.Status)
	}
}
