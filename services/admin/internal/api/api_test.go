package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestAuth(t *testing.T) {
	h := newHarness(t)
	r := h.Must(401, "GET", "/api/v1/projects", nil, "Authorization", "")
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Error("401 without WWW-Authenticate")
	}
	if r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("content type %q", r.Header.Get("Content-Type"))
	}
	if !strings.Contains(r.JSON(t)["detail"].(string), "missing credentials") {
		t.Errorf("detail: %s", r.Body)
	}
	r = h.Must(401, "GET", "/api/v1/projects", nil, "Authorization", "Bearer wrong")
	if !strings.Contains(r.JSON(t)["detail"].(string), "invalid") {
		t.Errorf("detail: %s", r.Body)
	}
	h.Must(401, "GET", "/api/v1/projects", nil, "Authorization", "Basic "+token)
	h.Must(200, "GET", "/api/v1/projects", nil, "Authorization", "", "X-Admin-Token", token)
	h.Must(200, "GET", "/healthz", nil, "Authorization", "")
	ready := h.Must(200, "GET", "/readyz", nil, "Authorization", "").JSON(t)
	if ready["status"] != "ready" {
		t.Errorf("readyz: %v", ready)
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	r := h.Must(200, "GET", "/api/v1/projects", nil, "X-Request-Id", "trace-123")
	if r.Header.Get("X-Request-Id") != "trace-123" {
		t.Errorf("request id not echoed: %q", r.Header.Get("X-Request-Id"))
	}
	r = h.Must(200, "GET", "/api/v1/projects", nil, "X-Request-Id", "bad id with spaces")
	if id := r.Header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Errorf("unsafe request id kept: %q", id)
	}
	r = h.Must(404, "GET", "/nowhere", nil)
	if r.Header.Get("X-Request-Id") == "" || r.JSON(t)["request_id"] == "" {
		t.Error("errors must carry the request id")
	}
}

func TestProjects(t *testing.T) {
	h := newHarness(t)
	p := h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop", "name": "Shop"})
	if p.Header.Get("Location") != "/api/v1/projects/shop" {
		t.Errorf("location %q", p.Header.Get("Location"))
	}
	envs := h.Must(200, "GET", "/api/v1/projects/shop/environments", nil).JSON(t)["items"].([]any)
	var keys []string
	for _, e := range envs {
		m := e.(map[string]any)
		keys = append(keys, m["key"].(string))
		if m["key"] == "production" && m["protected"] != true {
			t.Error("production must be protected")
		}
		if m["key"] != "production" && m["protected"] == true {
			t.Errorf("%s must not be protected", m["key"])
		}
	}
	if !slices.Equal(keys, []string{"development", "production", "staging"}) {
		t.Errorf("environments %v", keys)
	}
	h.Must(409, "POST", "/api/v1/projects", map[string]any{"key": "shop"})

	for _, k := range []string{"alpha", "beta", "gamma"} {
		h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": k})
	}
	page1 := h.Must(200, "GET", "/api/v1/projects?limit=2", nil).JSON(t)
	if len(page1["items"].([]any)) != 2 || page1["next_cursor"] == "" {
		t.Fatalf("page 1: %v", page1)
	}
	page2 := h.Must(200, "GET", "/api/v1/projects?limit=2&cursor="+page1["next_cursor"].(string), nil).JSON(t)
	var seen []string
	for _, pg := range []map[string]any{page1, page2} {
		for _, it := range pg["items"].([]any) {
			seen = append(seen, it.(map[string]any)["key"].(string))
		}
	}
	if !slices.Equal(seen, []string{"alpha", "beta", "gamma", "shop"}) || page2["next_cursor"] != "" {
		t.Errorf("pages: %v, next %v", seen, page2["next_cursor"])
	}
	h.Must(400, "GET", "/api/v1/projects?cursor=!!!", nil)

	got := h.Must(200, "PATCH", "/api/v1/projects/shop", map[string]any{"name": "The Shop", "description": "ours"}).JSON(t)
	if got["name"] != "The Shop" || got["description"] != "ours" || got["key"] != "shop" {
		t.Errorf("patch: %v", got)
	}
	if r := h.Must(400, "PATCH", "/api/v1/projects/shop", map[string]any{"key": "other"}); !slices.Equal(r.Fields(t), []string{"key"}) {
		t.Errorf("key must not be patchable: %s", r.Body)
	}
	h.Must(400, "PATCH", "/api/v1/projects/shop", map[string]any{"name": ""})
	h.Must(404, "PATCH", "/api/v1/projects/nope", map[string]any{"name": "x"})
	h.Must(200, "GET", "/api/v1/projects/shop", nil)
	h.Must(204, "DELETE", "/api/v1/projects/shop", nil)
	h.Must(404, "GET", "/api/v1/projects/shop", nil)
	h.Must(404, "DELETE", "/api/v1/projects/shop", nil)
}

func TestBadInput(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		body   string
		status int
		fields []string
	}{
		{"empty body", "", 400, []string{"body"}},
		{"malformed", `{"key":`, 400, []string{"body"}},
		{"not an object", `[1,2]`, 400, []string{"body"}},
		{"trailing data", `{"key":"a"} {"key":"b"}`, 400, []string{"body"}},
		{"unknown field", `{"key":"a","nmae":"x"}`, 400, []string{"nmae"}},
		{"wrong type", `{"key":42}`, 400, []string{"key"}},
		{"every problem at once", `{"key":42,"nmae":"x","extra":[1]}`, 400, []string{"extra", "key", "nmae"}},
		{"invalid key", `{"key":"Not OK!"}`, 400, []string{"key"}},
		{"too large", `{"key":"a","description":"` + strings.Repeat("x", 70<<10) + `"}`, 413, []string{"body"}},
	}
	before := h.auditCount()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.Must(tt.status, "POST", "/api/v1/projects", tt.body)
			if r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("content type %q", r.Header.Get("Content-Type"))
			}
			if got := r.Fields(t); !slices.Equal(got, tt.fields) {
				t.Errorf("fields %v, want %v: %s", got, tt.fields, r.Body)
			}
		})
	}
	// A chunked body over the limit is cut off while reading.
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/projects", strings.NewReader(`{"key":"a","name":"`+strings.Repeat("x", 70<<10)+`"}`))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("chunked oversize: %d", res.StatusCode)
	}
	if h.auditCount() != before {
		t.Error("failed requests must not write audit rows")
	}
	h.Must(405, "PUT", "/api/v1/projects", `{}`)
	h.Must(404, "GET", "/api/v1/nothing", nil)
}

func TestEnvironments(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	e := h.Must(201, "POST", "/api/v1/projects/shop/environments", map[string]any{"key": "qa-eu", "name": "QA EU", "protected": true}).JSON(t)
	if e["protected"] != true || e["version"] != float64(1) {
		t.Errorf("created: %v", e)
	}
	// Existing flags get their initial configuration in the new environment.
	cfg := h.Must(200, "GET", "/api/v1/projects/shop/flags/f/environments/qa-eu", nil).JSON(t)
	if cfg["enabled"] != false || cfg["off_variant"] != "off" {
		t.Errorf("initial config: %v", cfg)
	}
	h.Must(409, "POST", "/api/v1/projects/shop/environments", map[string]any{"key": "qa-eu"})
	h.Must(404, "POST", "/api/v1/projects/nope/environments", map[string]any{"key": "x"})
	if r := h.Must(400, "POST", "/api/v1/projects/shop/environments", map[string]any{"key": "QA", "protected": "yes"}); !slices.Contains(r.Fields(t), "protected") {
		t.Errorf("fields: %s", r.Body)
	}
	got := h.Must(200, "PATCH", "/api/v1/projects/shop/environments/qa-eu", map[string]any{"protected": false, "name": "QA"}).JSON(t)
	if got["protected"] != false || got["name"] != "QA" || got["version"] != float64(2) {
		t.Errorf("patched: %v", got)
	}
	h.Must(200, "GET", "/api/v1/projects/shop/environments/qa-eu", nil)
	h.Must(204, "DELETE", "/api/v1/projects/shop/environments/qa-eu", nil)
	h.Must(404, "GET", "/api/v1/projects/shop/environments/qa-eu", nil)
	h.Must(404, "GET", "/api/v1/projects/shop/flags/f/environments/qa-eu", nil)
	h.Must(404, "DELETE", "/api/v1/projects/shop/environments/qa-eu", nil)
}

func TestFlags(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	f := h.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{
		"key": "new-checkout", "name": "New checkout", "kind": "boolean", "tags": []string{"checkout", "web"}}).JSON(t)
	if len(f["variants"].([]any)) != 2 || f["salt"] == "" {
		t.Errorf("boolean flag: %v", f)
	}
	if envs := f["environments"].(map[string]any); len(envs) != 3 {
		t.Errorf("configs: %v", envs)
	}
	h.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{
		"key": "button-color", "kind": "string", "tags": []string{"web"},
		"variants": []map[string]any{{"key": "red", "value": "red"}, {"key": "blue", "value": "blue"}}})
	h.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": "checkout/v2/banner", "kind": "boolean", "description": "Slashes are fine"})
	h.Must(200, "GET", "/api/v1/projects/shop/flags/checkout%2Fv2%2Fbanner", nil)
	h.Must(409, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": "new-checkout", "kind": "boolean"})
	r := h.Must(400, "POST", "/api/v1/projects/shop/flags", map[string]any{
		"key": "bad key", "kind": "string", "variants": []map[string]any{{"key": "a", "value": 1}}})
	for _, want := range []string{"key", "variants", "variants[0].value"} {
		if !slices.Contains(r.Fields(t), want) {
			t.Errorf("missing %s in %s", want, r.Body)
		}
	}
	h.Must(404, "POST", "/api/v1/projects/nope/flags", map[string]any{"key": "x", "kind": "boolean"})

	// Listing: filters, and each environment's state.
	h.Must(200, "POST", "/api/v1/projects/shop/flags/new-checkout/environments/staging/toggle", nil)
	list := func(query string) []string {
		items := h.Must(200, "GET", "/api/v1/projects/shop/flags"+query, nil).JSON(t)["items"].([]any)
		var keys []string
		for _, it := range items {
			keys = append(keys, it.(map[string]any)["key"].(string))
		}
		return keys
	}
	if got := list(""); !slices.Equal(got, []string{"button-color", "checkout/v2/banner", "new-checkout"}) {
		t.Errorf("all: %v", got)
	}
	if got := list("?tag=checkout"); !slices.Equal(got, []string{"new-checkout"}) {
		t.Errorf("tag: %v", got)
	}
	if got := list("?q=SLASHES"); !slices.Equal(got, []string{"checkout/v2/banner"}) {
		t.Errorf("q: %v", got)
	}
	if got := list("?q=%25"); len(got) != 0 {
		t.Errorf("q=%% must match a literal percent sign: %v", got)
	}
	if got := list("?limit=1&tag=web"); !slices.Equal(got, []string{"button-color"}) {
		t.Errorf("limit: %v", got)
	}
	h.Must(400, "GET", "/api/v1/projects/shop/flags?archived=maybe&limit=x", nil)
	items := h.Must(200, "GET", "/api/v1/projects/shop/flags?tag=checkout", nil).JSON(t)["items"].([]any)
	states := items[0].(map[string]any)["environments"].(map[string]any)
	if states["staging"].(map[string]any)["enabled"] != true || states["production"].(map[string]any)["enabled"] != false {
		t.Errorf("states: %v", states)
	}

	// Updates: kind and key are fixed; variants still in use cannot go.
	h.Must(400, "PATCH", "/api/v1/projects/shop/flags/new-checkout", map[string]any{"kind": "string"})
	got := h.Must(200, "PATCH", "/api/v1/projects/shop/flags/button-color", map[string]any{
		"name": "Buy button", "tags": []string{"web", "exp"},
		"variants": []map[string]any{{"key": "red", "value": "red"}, {"key": "blue", "value": "blue"}, {"key": "green", "value": "green"}}}).JSON(t)
	if got["name"] != "Buy button" || len(got["variants"].([]any)) != 3 {
		t.Errorf("patched: %v", got)
	}
	// red is every environment's off variant.
	r = h.Must(400, "PATCH", "/api/v1/projects/shop/flags/button-color", map[string]any{
		"variants": []map[string]any{{"key": "blue", "value": "blue"}, {"key": "green", "value": "green"}}})
	if !strings.Contains(string(r.Body), `off_variant: unknown variant \"red\"`) {
		t.Errorf("removing a used variant: %s", r.Body)
	}

	// A flag other flags depend on can be neither archived nor deleted.
	prereq := onConfig(1)
	prereq["prerequisites"] = []map[string]any{{"flag": "new-checkout", "variant": "on"}}
	h.Must(200, "PUT", "/api/v1/projects/shop/flags/button-color/environments/production", map[string]any{
		"enabled": true, "default": map[string]any{"variant": "blue"}, "off_variant": "red", "version": 1,
		"prerequisites": []map[string]any{{"flag": "new-checkout", "variant": "on"}}})
	r = h.Must(409, "PATCH", "/api/v1/projects/shop/flags/new-checkout", map[string]any{"archived": true})
	if deps := r.JSON(t)["dependents"].([]any); len(deps) != 1 {
		t.Errorf("dependents: %s", r.Body)
	}
	h.Must(409, "DELETE", "/api/v1/projects/shop/flags/new-checkout", nil)
	r = h.Must(400, "PATCH", "/api/v1/projects/shop/flags/new-checkout", map[string]any{
		"variants": []map[string]any{{"key": "on", "value": true}, {"key": "off", "value": false}, {"key": "x", "value": true}}})
	if !slices.Contains(r.Fields(t), "variants") {
		t.Errorf("boolean variants: %s", r.Body)
	}

	// Archive, list archived, restore; delete.
	archived := h.Must(200, "PATCH", "/api/v1/projects/shop/flags/checkout%2Fv2%2Fbanner", map[string]any{"archived": true}).JSON(t)
	if archived["archived"] != true {
		t.Errorf("archive: %v", archived)
	}
	if got := list("?archived=true"); !slices.Equal(got, []string{"checkout/v2/banner"}) {
		t.Errorf("archived: %v", got)
	}
	h.Must(200, "PATCH", "/api/v1/projects/shop/flags/checkout%2Fv2%2Fbanner", map[string]any{"archived": false})
	h.Must(204, "DELETE", "/api/v1/projects/shop/flags/checkout%2Fv2%2Fbanner", nil)
	h.Must(404, "GET", "/api/v1/projects/shop/flags/checkout%2Fv2%2Fbanner", nil)
}

func TestConfigs(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "a")
	h.flag("shop", "b")
	base := "/api/v1/projects/shop/flags/a/environments/production"

	r := h.Must(200, "GET", base, nil)
	if r.Header.Get("ETag") != `"1"` {
		t.Errorf("etag %q", r.Header.Get("ETag"))
	}
	h.Must(428, "PUT", base, map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off"})
	h.Must(400, "PUT", base, onConfig(1), "If-Match", `"2"`) // body and header disagree
	h.Must(400, "PUT", base, onConfig(1), "If-Match", `soon`)

	// A GET's body can be sent back as it is.
	doc := h.Must(200, "GET", base, nil).JSON(t)
	doc["enabled"] = true
	put := h.Must(200, "PUT", base, doc).JSON(t)
	if put["version"] != float64(2) || put["enabled"] != true {
		t.Errorf("round trip: %v", put)
	}

	// Stale version: 409 with the current version.
	r = h.Must(409, "PUT", base, onConfig(1))
	if r.JSON(t)["current_version"] != float64(2) || !slices.Equal(r.Fields(t), []string{"version"}) {
		t.Errorf("conflict: %s", r.Body)
	}
	noVersion := onConfig(0)
	delete(noVersion, "version")
	h.Must(200, "PUT", base, noVersion, "If-Match", `"2"`)
	h.Must(200, "PUT", base, noVersion, "If-Match", `*`)

	// Rules get ids; the design example round-trips.
	cfg := h.Must(200, "PUT", base, map[string]any{
		"enabled": true, "version": 4, "off_variant": "off",
		"rules": []map[string]any{
			{"conditions": []map[string]any{{"attribute": "email", "operator": "ends_with", "values": []string{"@acme.com"}}}, "serve": map[string]any{"variant": "on"}},
			{"id": "premium", "conditions": []map[string]any{{"attribute": "plan", "operator": "in", "values": []string{"premium"}}},
				"serve": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 50, "off": 50}, "bucket_by": "company.id"}}},
		},
		"default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 12.5, "off": 87.5}}},
	}).JSON(t)
	rules := cfg["rules"].([]any)
	if rules[0].(map[string]any)["id"] != "rule-1" || rules[1].(map[string]any)["id"] != "premium" {
		t.Errorf("rule ids: %v", rules)
	}

	// Every problem at once, with its path; nothing stored.
	r = h.Must(400, "PUT", base, map[string]any{
		"enabled": true, "version": 5, "off_variant": "gone",
		"rules": []map[string]any{{"id": "x", "conditions": []map[string]any{{"attribute": "age", "operator": "older", "values": []any{1}}},
			"serve": map[string]any{"variant": "on"}}},
		"default": map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 50, "off": 40}}},
	})
	want := []string{"off_variant", "default.rollout.weights", "rules[0].conditions[0].operator"}
	for _, f := range want {
		if !slices.Contains(r.Fields(t), f) {
			t.Errorf("missing %s: %s", f, r.Body)
		}
	}
	if h.Must(200, "GET", base, nil).JSON(t)["version"] != float64(5) {
		t.Error("a rejected write changed the configuration")
	}
	h.Must(400, "PUT", base, map[string]any{"enabled": true, "version": 5, "off_variant": "off"}) // no default

	// Prerequisite cycles through other flags are refused.
	bBase := "/api/v1/projects/shop/flags/b/environments/production"
	withPrereq := func(on string, version int64) map[string]any {
		c := onConfig(version)
		c["prerequisites"] = []map[string]any{{"flag": on, "variant": "on"}}
		return c
	}
	h.Must(200, "PUT", bBase, withPrereq("a", 1))
	r = h.Must(400, "PUT", base, withPrereq("b", 5))
	if !strings.Contains(string(r.Body), "a → b → a") {
		t.Errorf("cycle: %s", r.Body)
	}
	h.Must(400, "PUT", base, withPrereq("ghost", 5))

	// Toggle flips, or sets.
	if h.Must(200, "POST", base+"/toggle", nil).JSON(t)["enabled"] != false {
		t.Error("toggle did not flip")
	}
	if h.Must(200, "POST", base+"/toggle", map[string]any{"enabled": false}).JSON(t)["enabled"] != false {
		t.Error("toggle did not set")
	}
	h.Must(400, "POST", base+"/toggle", map[string]any{"enabled": "yes"})
	h.Must(404, "POST", "/api/v1/projects/shop/flags/zzz/environments/production/toggle", nil)
	h.Must(404, "GET", "/api/v1/projects/shop/flags/a/environments/nowhere", nil)
}

func TestKillSwitch(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	versions := map[string]int64{}
	for _, e := range []string{"development", "staging", "production"} {
		_, versions[e] = h.envVersion("shop", e)
	}
	before := h.auditCount()
	if h.Must(200, "POST", "/api/v1/projects/shop/flags/f/kill", nil).JSON(t)["killed"] != true {
		t.Fatal("not killed")
	}
	// Every environment changed at once.
	for e, v := range versions {
		if _, now := h.envVersion("shop", e); now != v+1 {
			t.Errorf("%s version %d, want %d", e, now, v+1)
		}
	}
	h.Must(200, "POST", "/api/v1/projects/shop/flags/f/kill", nil) // already killed: no change
	if got := h.auditCount(); got != before+1 {
		t.Errorf("audit rows %d, want %d", got, before+1)
	}
	if h.Must(200, "DELETE", "/api/v1/projects/shop/flags/f/kill", nil).JSON(t)["killed"] != false {
		t.Fatal("kill not lifted")
	}
	h.Must(404, "POST", "/api/v1/projects/shop/flags/none/kill", nil)
}

func TestAudit(t *testing.T) {
	h := newHarness(t)
	steps := []struct {
		method, path string
		body         any
		status       int
		action       string
	}{
		{"POST", "/api/v1/projects", map[string]any{"key": "shop"}, 201, "project.create"},
		{"PATCH", "/api/v1/projects/shop", map[string]any{"name": "Shop"}, 200, "project.update"},
		{"POST", "/api/v1/projects/shop/environments", map[string]any{"key": "qa"}, 201, "environment.create"},
		{"PATCH", "/api/v1/projects/shop/environments/qa", map[string]any{"protected": true}, 200, "environment.update"},
		{"POST", "/api/v1/projects/shop/flags", map[string]any{"key": "f", "kind": "boolean"}, 201, "flag.create"},
		{"PATCH", "/api/v1/projects/shop/flags/f", map[string]any{"name": "F"}, 200, "flag.update"},
		{"PUT", "/api/v1/projects/shop/flags/f/environments/production", onConfig(1), 200, "config.update"},
		{"PUT", "/api/v1/projects/shop/flags/f/environments/production", onConfig(1), 409, ""},
		{"POST", "/api/v1/projects/shop/flags/f/environments/qa/toggle", nil, 200, "config.toggle"},
		{"POST", "/api/v1/projects/shop/flags/f/kill", nil, 200, "flag.kill"},
		{"DELETE", "/api/v1/projects/shop/flags/f/kill", nil, 200, "flag.unkill"},
		{"PATCH", "/api/v1/projects/shop/flags/f", map[string]any{"archived": true}, 200, "flag.archive"},
		{"PATCH", "/api/v1/projects/shop/flags/f", map[string]any{"archived": false}, 200, "flag.unarchive"},
		{"DELETE", "/api/v1/projects/shop/flags/f", nil, 204, "flag.delete"},
		{"DELETE", "/api/v1/projects/shop/environments/qa", nil, 204, "environment.delete"},
		{"DELETE", "/api/v1/projects/shop", nil, 204, "project.delete"},
	}
	var actions []string
	for i, s := range steps {
		h.Must(s.status, s.method, s.path, s.body, "X-Request-Id", fmt.Sprintf("req-%d", i))
		if s.action != "" {
			actions = append(actions, s.action)
		}
	}
	// Exactly one row per successful mutation, newest first.
	items := h.Must(200, "GET", "/api/v1/audit?limit=200", nil).JSON(t)["items"].([]any)
	if len(items) != len(actions) {
		t.Fatalf("%d audit rows for %d mutations", len(items), len(actions))
	}
	for i, it := range items {
		e := it.(map[string]any)
		if want := actions[len(actions)-1-i]; e["action"] != want {
			t.Errorf("row %d: action %v, want %s", i, e["action"], want)
		}
		actor := e["actor"].(map[string]any)
		if actor["type"] != "bootstrap" || actor["id"] != "bootstrap" {
			t.Errorf("actor %v", actor)
		}
		if !strings.HasPrefix(e["request_id"].(string), "req-") {
			t.Errorf("request id %v", e["request_id"])
		}
	}
	// Before and after of the configuration change.
	cfg := h.Must(200, "GET", "/api/v1/audit?action=config.update", nil).JSON(t)["items"].([]any)
	if len(cfg) != 1 {
		t.Fatalf("config rows: %d", len(cfg))
	}
	e := cfg[0].(map[string]any)
	b, a := e["before"].(map[string]any), e["after"].(map[string]any)
	if b["enabled"] != false || b["version"] != float64(1) || a["enabled"] != true || a["version"] != float64(2) {
		t.Errorf("before %v after %v", b, a)
	}
	if e["project"] != "shop" || e["flag"] != "f" || e["environment"] != "production" || e["entity_key"] != "f/production" {
		t.Errorf("config row keys: %v", e)
	}
	// Creation has no before, deletion no after.
	created := h.Must(200, "GET", "/api/v1/audit?action=project.create", nil).JSON(t)["items"].([]any)[0].(map[string]any)
	deleted := h.Must(200, "GET", "/api/v1/audit?action=project.delete", nil).JSON(t)["items"].([]any)[0].(map[string]any)
	if created["before"] != nil || created["after"] == nil || deleted["before"] == nil || deleted["after"] != nil {
		t.Errorf("create %v / delete %v", created, deleted)
	}

	// Filters and pages.
	count := func(q string) int {
		return len(h.Must(200, "GET", "/api/v1/audit?limit=200&"+q, nil).JSON(t)["items"].([]any))
	}
	checks := map[string]int{
		"project=shop": len(actions), "project=other": 0, "flag=f": 9, "environment=qa": 4,
		"environment=production": 1, "actor=bootstrap": len(actions), "actor=someone": 0,
		"action=flag.kill": 1, "since=2000-01-01T00:00:00Z": len(actions), "until=2000-01-01T00:00:00Z": 0,
	}
	for q, want := range checks {
		if got := count(q); got != want {
			t.Errorf("%s: %d rows, want %d", q, got, want)
		}
	}
	var paged []any
	cursor := ""
	for {
		page := h.Must(200, "GET", "/api/v1/audit?limit=4&cursor="+cursor, nil).JSON(t)
		paged = append(paged, page["items"].([]any)...)
		cursor = page["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if len(paged) != len(actions) {
		t.Errorf("paged through %d rows, want %d", len(paged), len(actions))
	}
	r := h.Must(400, "GET", "/api/v1/audit?since=yesterday&limit=0", nil)
	if got := r.Fields(t); !slices.Contains(got, "since") || !slices.Contains(got, "limit") {
		t.Errorf("every bad parameter must be named: %v", got)
	}
}

func TestAuditIsAppendOnly(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	for _, stmt := range []string{
		`UPDATE audit_log SET actor_name = 'forged'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		if _, err := h.store.SQL().Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", stmt, err)
		}
	}
	if h.auditCount() != 1 {
		t.Error("the audit row changed")
	}
}
