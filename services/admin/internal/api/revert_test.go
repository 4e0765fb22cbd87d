package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// lastEntry returns the id of the newest audit entry of an action on a flag in an
// environment.
func (h *harness) lastEntry(flag, env, action string) float64 {
	h.t.Helper()
	items := h.Must(200, "GET", "/api/v1/audit?project=shop&flag="+flag+"&environment="+env+"&action="+action+"&limit=1", nil).JSON(h.t)["items"].([]any)
	if len(items) == 0 {
		h.t.Fatalf("no %s of %s in %s", action, flag, env)
	}
	return items[0].(map[string]any)["id"].(float64)
}

// TestRevert: a revert restores the configuration as it was before an audited
// configuration change, as a new change of its own (audited, version-checked,
// invalidating), and refuses entries it cannot revert and configurations that no
// longer fit.
func TestRevert(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	h.flag("shop", "other")
	const path = "/api/v1/projects/shop/flags/f/environments/production"
	staff := map[string]any{"id": "staff", "conditions": []any{map[string]any{"attribute": "email", "operator": "ends_with", "values": []any{"@acme.com"}}},
		"serve": map[string]any{"variant": "on"}}
	h.Must(200, "PUT", path, map[string]any{"enabled": true, "rules": []any{staff}, "default": map[string]any{"variant": "off"}, "off_variant": "off", "version": 1})
	update := h.lastEntry("f", "production", "config.update")
	h.Must(200, "POST", path+"/toggle", nil) // version 3, disabled
	toggle := h.lastEntry("f", "production", "config.toggle")

	// Revert the update: back to the configuration before it (the initial one).
	envID, envVersion := h.envVersion("shop", "production")
	audits := h.auditCount()
	got := h.Must(200, "POST", path+"/revert", map[string]any{"audit_id": update, "version": 3})
	cfg := got.JSON(t)
	if cfg["enabled"] != false || len(cfg["rules"].([]any)) != 0 || cfg["version"] != 4.0 || got.Header.Get("ETag") != `"4"` {
		t.Fatalf("reverted to %v", cfg)
	}
	if _, v := h.envVersion("shop", "production"); v != envVersion+1 || h.auditCount() != audits+1 {
		t.Errorf("environment %s at %d (was %d), %d audit rows", envID, v, envVersion, h.auditCount()-audits)
	}
	row := h.Must(200, "GET", "/api/v1/audit?project=shop&action=config.revert", nil).JSON(t)["items"].([]any)[0].(map[string]any)
	var before, after map[string]any
	b, _ := json.Marshal(row["before"])
	_ = json.Unmarshal(b, &before)
	a, _ := json.Marshal(row["after"])
	_ = json.Unmarshal(a, &after)
	if row["reverts"] != update || row["flag"] != "f" || row["environment"] != "production" ||
		before["version"] != 3.0 || len(before["rules"].([]any)) != 1 || after["version"] != 4.0 || len(after["rules"].([]any)) != 0 {
		t.Errorf("revert row %v", row)
	}
	revert := row["id"].(float64)

	// A revert of the revert restores what it replaced; the id may be a string.
	cfg = h.Must(200, "POST", path+"/revert", map[string]any{"audit_id": fmt.Sprint(int64(revert)), "version": 4}).JSON(t)
	if cfg["enabled"] != false || len(cfg["rules"].([]any)) != 1 || cfg["version"] != 5.0 {
		t.Errorf("reverted the revert to %v", cfg)
	}
	// Version checks as for a PUT; then a toggle's entry: back on, with the rules
	// as they were before it.
	r := h.Must(409, "POST", path+"/revert", map[string]any{"audit_id": toggle, "version": 4})
	if r.JSON(t)["current_version"] != 5.0 {
		t.Errorf("conflict: %s", r.Body)
	}
	h.Must(428, "POST", path+"/revert", map[string]any{"audit_id": toggle})
	cfg = h.Must(200, "POST", path+"/revert", map[string]any{"audit_id": toggle}, "If-Match", `"5"`).JSON(t)
	if cfg["enabled"] != true || len(cfg["rules"].([]any)) != 1 || cfg["version"] != 6.0 {
		t.Errorf("reverted a toggle to %v", cfg)
	}

	// Entries that are not a configuration change of this flag here: 422 naming
	// audit_id, nothing written.
	created := h.lastEntry("f", "", "flag.create")
	otherFlag := func() float64 {
		h.Must(200, "POST", "/api/v1/projects/shop/flags/other/environments/production/toggle", nil)
		return h.lastEntry("other", "production", "config.toggle")
	}()
	h.Must(200, "POST", "/api/v1/projects/shop/flags/f/environments/staging/toggle", nil)
	otherEnv := h.lastEntry("f", "staging", "config.toggle")
	audits = h.auditCount()
	for name, id := range map[string]any{"a flag's creation": created, "another flag's change": otherFlag,
		"another environment's change": otherEnv, "no entry": 999999} {
		r := h.Must(422, "POST", path+"/revert", map[string]any{"audit_id": id, "version": 6})
		if f := r.Fields(t); len(f) != 1 || f[0] != "audit_id" || r.JSON(t)["code"] != "unprocessable" {
			t.Errorf("%s: %s", name, r.Body)
		}
	}
	for _, bad := range []any{"abc", 0, -3, 1.5, nil} {
		if f := h.Must(400, "POST", path+"/revert", map[string]any{"audit_id": bad, "version": 6}).Fields(t); len(f) != 1 || f[0] != "audit_id" {
			t.Errorf("audit_id %v: fields %v", bad, f)
		}
	}
	if n := h.auditCount(); n != audits {
		t.Errorf("refused reverts wrote %d audit rows", n-audits)
	}
	h.Must(404, "POST", "/api/v1/projects/shop/flags/ghost/environments/production/revert", map[string]any{"audit_id": toggle, "version": 1})
}

// TestRevertRefusesWhatNoLongerFits: the configuration a revert restores is checked
// against the flag as it is now: a variant removed since, a prerequisite on a flag
// deleted since, is 422 naming the field.
func TestRevertRefusesWhatNoLongerFits(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	variants := func(keys ...string) []any {
		var out []any
		for _, k := range keys {
			out = append(out, map[string]any{"key": k, "value": k})
		}
		return out
	}
	h.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": "color", "kind": "string", "variants": variants("red", "blue", "green")})
	const color = "/api/v1/projects/shop/flags/color/environments/production"
	h.Must(200, "PUT", color, map[string]any{"enabled": true, "default": map[string]any{"variant": "green"}, "off_variant": "red", "version": 1})
	h.Must(200, "PUT", color, map[string]any{"enabled": true, "default": map[string]any{"variant": "blue"}, "off_variant": "red", "version": 2})
	second := h.lastEntry("color", "production", "config.update")
	h.Must(200, "PATCH", "/api/v1/projects/shop/flags/color", map[string]any{"variants": variants("red", "blue")})
	r := h.Must(422, "POST", color+"/revert", map[string]any{"audit_id": second, "version": 3})
	if f := r.Fields(t); len(f) != 1 || !strings.HasPrefix(f[0], "default") {
		t.Errorf("a removed variant: %s", r.Body)
	}

	h.flag("shop", "g")
	h.flag("shop", "h")
	const g = "/api/v1/projects/shop/flags/g/environments/production"
	h.Must(200, "PUT", g, map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off",
		"prerequisites": []any{map[string]any{"flag": "h", "variant": "on"}}, "version": 1})
	h.Must(200, "PUT", g, map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off", "version": 2})
	dropped := h.lastEntry("g", "production", "config.update")
	h.Must(204, "DELETE", "/api/v1/projects/shop/flags/h", nil)
	r = h.Must(422, "POST", g+"/revert", map[string]any{"audit_id": dropped, "version": 3})
	if f := r.Fields(t); len(f) != 1 || !strings.HasPrefix(f[0], "prerequisites[0]") {
		t.Errorf("a deleted prerequisite: %s", r.Body)
	}

	// An entry of an earlier flag under the same key is not this flag's history.
	h.flag("shop", "x")
	const x = "/api/v1/projects/shop/flags/x/environments/production"
	h.Must(200, "POST", x+"/toggle", nil)
	old := h.lastEntry("x", "production", "config.toggle")
	h.Must(204, "DELETE", "/api/v1/projects/shop/flags/x", nil)
	h.flag("shop", "x")
	r = h.Must(422, "POST", x+"/revert", map[string]any{"audit_id": old, "version": 1})
	if f := r.Fields(t); len(f) != 1 || f[0] != "audit_id" || !strings.Contains(string(r.Body), "earlier flag") {
		t.Errorf("an earlier flag's entry: %s", r.Body)
	}
}
