package api_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/eval"
)

// TestPlayground: the playground evaluates the stored configuration for a context as
// an evaluator would, with the flag's own salt, and says why, flag by flag; viewers may
// use it, outsiders may not, and it writes nothing.
func TestPlayground(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	for _, f := range []string{"checkout", "new-ui", "dark", "killed", "retired"} {
		h.flag("shop", f)
	}
	h.Must(200, "PUT", "/api/v1/projects/shop/flags/new-ui/environments/production",
		map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off", "version": 1})
	h.Must(200, "PUT", "/api/v1/projects/shop/flags/checkout/environments/production", map[string]any{
		"enabled": true,
		"rules": []any{
			map[string]any{"id": "staff", "conditions": []any{map[string]any{"attribute": "email", "operator": "ends_with", "values": []any{"@acme.com"}}},
				"serve": map[string]any{"variant": "on"}},
			map[string]any{"id": "premium", "conditions": []any{map[string]any{"attribute": "plan", "operator": "in", "values": []any{"premium", "enterprise"}}},
				"serve": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 50, "off": 50}, "bucket_by": "company.id"}}},
		},
		"default":       map[string]any{"variant": "off"},
		"off_variant":   "off",
		"prerequisites": []any{map[string]any{"flag": "new-ui", "variant": "on"}},
		"version":       1,
	})
	h.Must(200, "PUT", "/api/v1/projects/shop/flags/killed/environments/production",
		map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off", "version": 1})
	h.Must(200, "POST", "/api/v1/projects/shop/flags/killed/kill", nil)
	h.Must(200, "PATCH", "/api/v1/projects/shop/flags/retired", map[string]any{"archived": true})
	salt := h.Must(200, "GET", "/api/v1/projects/shop/flags/checkout", nil).JSON(t)["salt"].(string)

	viewer := h.user("viewer@example.com", false)
	h.Must(200, "PUT", "/api/v1/projects/shop/members/"+viewer, map[string]any{"role": "viewer"})
	asViewer := h.as(h.login("viewer@example.com"))
	h.user("outsider@example.com", false)
	asOutsider := h.as(h.login("outsider@example.com"))

	_, versionBefore := h.envVersion("shop", "production")
	audit := h.auditCount()
	const path = "/api/v1/projects/shop/environments/production/evaluate"
	explain := func(ctx map[string]any, flags ...string) map[string]map[string]any {
		t.Helper()
		body := map[string]any{"context": ctx}
		if flags != nil {
			body["flags"] = flags
		}
		got := asViewer.Must(200, "POST", path, body).JSON(t)
		if got["environment"] != "production" || got["version"] != float64(versionBefore) {
			t.Fatalf("explained %v at %v, want production at %d", got["environment"], got["version"], versionBefore)
		}
		out := map[string]map[string]any{}
		for k, v := range got["flags"].(map[string]any) {
			out[k] = v.(map[string]any)
		}
		return out
	}

	// Every flag, for a member of staff.
	all := explain(map[string]any{"key": "user-1", "email": "jane@acme.com"})
	if len(all) != 4 {
		t.Errorf("flags %v: want the four live ones", all)
	}
	c := all["checkout"]
	if c["reason"] != "TARGETING_MATCH" || c["rule_id"] != "staff" || c["value"] != true || c["variant"] != "on" {
		t.Fatalf("checkout: %v", c)
	}
	trace := c["trace"].([]any)
	cond := trace[0].(map[string]any)["conditions"].([]any)[0].(map[string]any)
	if len(trace) != 1 || trace[0].(map[string]any)["matched"] != true || cond["attribute"] != "email" || cond["operator"] != "ends_with" ||
		cond["actual"] != "jane@acme.com" || cond["held"] != true || cond["why"] != `email ends with "@acme.com"` ||
		cond["values"].([]any)[0] != "@acme.com" {
		t.Errorf("checkout trace %v", trace)
	}
	if p := c["prerequisites"].([]any); len(p) != 1 || p[0].(map[string]any)["flag"] != "new-ui" || p[0].(map[string]any)["met"] != true {
		t.Errorf("prerequisites %v", p)
	}
	if all["killed"]["reason"] != "DISABLED" || !strings.Contains(all["killed"]["why"].(string), "kill switch") {
		t.Errorf("killed: %v", all["killed"])
	}
	if all["dark"]["reason"] != "DISABLED" || all["dark"]["why"] != "the flag is disabled in this environment" {
		t.Errorf("dark: %v", all["dark"])
	}

	// A subset, for a premium customer: the rollout buckets by company.id with the
	// flag's stored salt, as an evaluator does.
	some := explain(map[string]any{"targetingKey": "user-2", "plan": "premium", "company": map[string]any{"id": "c-42"}}, "checkout", "retired", "ghost")
	if len(some) != 3 {
		t.Fatalf("subset: %v", some)
	}
	c = some["checkout"]
	ro := c["rollout"].(map[string]any)
	bucket := eval.Bucket(salt, "c-42")
	want := "off"
	if bucket < 50_000 {
		want = "on"
	}
	if c["rule_id"] != "premium" || c["variant"] != want || ro["bucket_by"] != "company.id" || ro["bucket"] != float64(bucket) {
		t.Errorf("premium: %v (bucket %d)", c, bucket)
	}
	first := c["trace"].([]any)[0].(map[string]any)
	if first["matched"] != false || first["conditions"].([]any)[0].(map[string]any)["why"] != "attribute absent" {
		t.Errorf("the staff rule, for someone without an email: %v", first)
	}
	if some["retired"]["error_code"] != "FLAG_NOT_FOUND" || some["retired"]["why"] != "the flag is archived" ||
		some["ghost"]["error_code"] != "FLAG_NOT_FOUND" || some["ghost"]["why"] != "no flag has this key in the environment" {
		t.Errorf("not found: %v, %v", some["retired"], some["ghost"])
	}

	// It wrote nothing: no audit row, no new version (so no invalidation either).
	if _, v := h.envVersion("shop", "production"); v != versionBefore || h.auditCount() != audit {
		t.Errorf("the playground wrote: version %d (was %d), audit %d (was %d)", v, versionBefore, h.auditCount(), audit)
	}

	// The prerequisite off: the flag says which one failed.
	h.Must(200, "POST", "/api/v1/projects/shop/flags/new-ui/environments/production/toggle", map[string]any{"enabled": false})
	_, versionBefore = h.envVersion("shop", "production")
	audit = h.auditCount()
	c = explain(map[string]any{"key": "user-1", "email": "jane@acme.com"}, "checkout")["checkout"]
	if c["reason"] != "PREREQUISITE_FAILED" || c["why"] != `prerequisite "new-ui" served no variant (DISABLED), not "on"` {
		t.Errorf("prerequisite off: %v", c)
	}

	// Refusals.
	asOutsider.Must(403, "POST", path, map[string]any{"context": map[string]any{}})
	if f := asViewer.Must(400, "POST", path, map[string]any{"context": map[string]any{"key": 42}}).Fields(t); len(f) != 1 || f[0] != "context.key" {
		t.Errorf("a numeric key: %v", f)
	}
	asViewer.Must(400, "POST", path, map[string]any{"context": "x"})
	asViewer.Must(400, "POST", path, map[string]any{"context": map[string]any{}, "flags": "checkout"})
	asViewer.Must(404, "POST", "/api/v1/projects/shop/environments/nowhere/evaluate", map[string]any{"context": map[string]any{}})
	h.Must(404, "POST", "/api/v1/projects/ghost/environments/production/evaluate", map[string]any{"context": map[string]any{}})
	// No context at all is an empty one.
	if got := asViewer.Must(200, "POST", path, map[string]any{"flags": []string{"checkout"}}).JSON(t)["flags"].(map[string]any); len(got) != 1 {
		t.Errorf("without a context: %v", got)
	}
	if _, v := h.envVersion("shop", "production"); v != versionBefore || h.auditCount() != audit {
		t.Errorf("the playground or its refusals wrote: version %d (was %d), audit %d (was %d)", v, versionBefore, h.auditCount(), audit)
	}
}
