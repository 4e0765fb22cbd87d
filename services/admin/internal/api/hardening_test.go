package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/testinfra"
)

// member creates a user with a grant in project p and returns a client logged in as
// them, and their id.
func (h *harness) member(p, email, role string, overrides map[string]string) (*testinfra.Client, string) {
	h.t.Helper()
	id := h.user(email, false)
	h.Must(200, "PUT", "/api/v1/projects/"+p+"/members/"+id, map[string]any{"role": role, "environment_roles": overrides})
	return h.as(h.login(email)), id
}

// stringFlag creates a string flag with variants a and b.
func (h *harness) stringFlag(p, key string) {
	h.t.Helper()
	h.Must(201, "POST", "/api/v1/projects/"+p+"/flags", map[string]any{"key": key, "kind": "string",
		"variants": []any{map[string]any{"key": "a", "value": "a"}, map[string]any{"key": "b", "value": "b"}, map[string]any{"key": "c", "value": "c"}}})
}

// TestProtectedThroughFlagEdits: a developer cannot change what production serves by
// editing the flag's definition instead of its production configuration.
func TestProtectedThroughFlagEdits(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.stringFlag("shop", "color")
	dev, _ := h.member("shop", "dev@example.com", "developer", nil)
	base := "/api/v1/projects/shop/flags/color"
	variants := func(vs ...string) map[string]any {
		var out []any
		for _, v := range vs {
			k, val, _ := strings.Cut(v, "=")
			out = append(out, map[string]any{"key": k, "value": val})
		}
		return map[string]any{"variants": out}
	}
	for _, c := range []struct {
		name string
		body map[string]any
	}{
		{"archive", map[string]any{"archived": true}},
		{"change a value", variants("a=a", "b=B!", "c=c")},
		{"delete a variant", variants("a=a", "b=b")},
		{"reorder variants", variants("b=b", "a=a", "c=c")},
	} {
		r := dev.Must(403, "PATCH", base, c.body)
		if !strings.Contains(string(r.Body), "the admin role in environment production") {
			t.Errorf("%s: %s", c.name, r.Body)
		}
	}
	// What serves nothing new stays a developer's.
	dev.Must(200, "PATCH", base, map[string]any{"name": "Color", "tags": []string{"ui"}})
	dev.Must(200, "PATCH", base, variants("a=a", "b=b", "c=c", "d=d"))
	// Nothing of the refused changes was written.
	f := h.Must(200, "GET", base, nil).JSON(t)
	if f["archived"] != false || len(f["variants"].([]any)) != 4 {
		t.Fatalf("flag after refusals: %v", f)
	}
	// An admin may.
	h.Must(200, "PATCH", base, map[string]any{"archived": true})
}

// TestOverridesBindAdmins: a project admin lowered to viewer in production cannot
// touch production by any route, nor give themselves the role back.
func TestOverridesBindAdmins(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	lowered, id := h.member("shop", "lowered@example.com", "admin", map[string]string{"production": "viewer"})
	_, other := h.member("shop", "other@example.com", "viewer", nil)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"DELETE", "/api/v1/projects/shop/environments/production", nil},
		{"PATCH", "/api/v1/projects/shop/environments/production", map[string]any{"protected": false}},
		{"DELETE", "/api/v1/projects/shop", nil},
		{"PUT", "/api/v1/projects/shop/members/" + id, map[string]any{"role": "admin"}},
		{"PUT", "/api/v1/projects/shop/members/" + other, map[string]any{"role": "admin"}},
		{"DELETE", "/api/v1/projects/shop/members/" + other, nil},
		{"DELETE", "/api/v1/projects/shop/flags/f", nil},
		{"POST", "/api/v1/projects/shop/environments/production/sdk-keys", nil},
		{"POST", "/api/v1/tokens", map[string]any{"name": "t", "project": "shop", "role": "admin"}},
	} {
		r := lowered.Do(c.method, c.path, c.body)
		if r.Status != 403 {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	// Where the override does not reach, they are still an admin.
	lowered.Must(200, "PATCH", "/api/v1/projects/shop/environments/staging", map[string]any{"description": "mine"})
	lowered.Must(201, "POST", "/api/v1/projects/shop/environments/staging/sdk-keys", nil)
	lowered.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "t", "project": "shop", "role": "admin",
		"environment_roles": map[string]string{"production": "viewer"}})
	h.Must(200, "GET", "/api/v1/projects/shop/environments/production", nil)
}

// TestAllEnvironmentsChecked: checks that span environments see every one of them,
// not a page: a protected environment sorting after the 200th stops a developer's
// kill switch. The environments are inserted directly, as a project created before
// the environment limit could hold them.
func TestAllEnvironmentsChecked(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "wide"})
	h.flag("wide", "f")
	if _, err := h.store.SQL().Exec(`INSERT INTO environments (project_id, key, name, protected, version)
		SELECT p.id, 'e-' || lpad(g::text, 3, '0'), 'e', g = 250, 1 FROM projects p, generate_series(1, 250) g WHERE p.key = 'wide'`); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.SQL().Exec(`DELETE FROM environments e USING projects p WHERE p.id = e.project_id AND p.key = 'wide' AND e.key = 'production'`); err != nil {
		t.Fatal(err)
	}
	dev, _ := h.member("wide", "dev@example.com", "developer", nil)
	r := dev.Must(403, "POST", "/api/v1/projects/wide/flags/f/kill", nil)
	if !strings.Contains(string(r.Body), "environment e-250") {
		t.Errorf("kill: %s", r.Body)
	}
	lowered, _ := h.member("wide", "lowered@example.com", "developer", map[string]string{"e-240": "viewer"})
	r = lowered.Must(403, "POST", "/api/v1/tokens", map[string]any{"name": "t", "project": "wide", "role": "developer"})
	if !strings.Contains(string(r.Body), "more rights than you") {
		t.Errorf("token: %s", r.Body)
	}
	// And no project grows past the limit through the API.
	r = h.Must(422, "POST", "/api/v1/projects/wide/environments", map[string]any{"key": "one-more"})
	if !strings.Contains(string(r.Body), fmt.Sprintf("at most %d environments", domain.MaxEnvironmentsPerProject)) {
		t.Errorf("limit: %s", r.Body)
	}
}

// TestNoEmailThroughMembership: removing a non-member answers by id, so a project
// admin cannot learn who is behind a user id.
func TestNoEmailThroughMembership(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	admin, _ := h.member("shop", "admin@example.com", "admin", nil)
	secret := h.user("secret-person@example.com", false)
	r := admin.Must(404, "DELETE", "/api/v1/projects/shop/members/"+secret, nil)
	if strings.Contains(string(r.Body), "secret-person") {
		t.Fatalf("the answer reveals the email: %s", r.Body)
	}
	r2 := admin.Must(404, "DELETE", "/api/v1/projects/shop/members/00000000-0000-0000-0000-000000000001", nil)
	if strings.ReplaceAll(string(r.Body), secret, "X") == string(r.Body) || r.Status != r2.Status {
		t.Fatalf("answers differ in shape: %s / %s", r.Body, r2.Body)
	}
}

// TestAuditOfReusedKey: a project created under the key of a deleted one shows its
// members only its own history; superusers still see the whole key's.
func TestAuditOfReusedKey(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "secret-launch")
	h.Must(204, "DELETE", "/api/v1/projects/shop", nil)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	viewer, _ := h.member("shop", "new@example.com", "viewer", nil)
	for _, q := range []string{"/api/v1/audit?project=shop", "/api/v1/audit", "/api/v1/audit?flag=secret-launch"} {
		r := viewer.Must(200, "GET", q, nil)
		if strings.Contains(string(r.Body), "secret-launch") || strings.Contains(string(r.Body), "project.delete") {
			t.Errorf("%s shows the old project's history: %s", q, r.Body)
		}
	}
	if n := len(viewer.Must(200, "GET", "/api/v1/audit?project=shop", nil).JSON(t)["items"].([]any)); n != 2 {
		t.Errorf("the new project's rows: %d, want 2 (project.create, member.set)", n)
	}
	if !strings.Contains(string(h.Must(200, "GET", "/api/v1/audit?project=shop", nil).Body), "secret-launch") {
		t.Error("superusers lost the deleted project's history")
	}
}

// TestPasswordChangeRevokesTokens: changing a password (one's own, or an
// administrator's reset) revokes the user's API tokens, each with an audit row.
func TestPasswordChangeRevokesTokens(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	dev, id := h.member("shop", "dev@example.com", "developer", nil)
	tok := dev.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "project": "shop", "role": "viewer"}).JSON(t)["token"].(string)
	h.as(tok).Must(200, "GET", "/api/v1/projects/shop/flags", nil)
	dev.Must(200, "PATCH", "/api/v1/users/"+id, map[string]any{"password": "a-new-password-1", "current_password": "password-dev@example.com"})
	r := h.as(tok).Must(401, "GET", "/api/v1/projects/shop/flags", nil)
	if !strings.Contains(string(r.Body), "revoked") {
		t.Errorf("token after the password change: %s", r.Body)
	}
	rows := h.Must(200, "GET", "/api/v1/audit?action=token.revoke", nil).JSON(t)["items"].([]any)
	if len(rows) != 1 || !strings.Contains(fmt.Sprint(rows[0]), "password changed") {
		t.Errorf("revocation rows: %v", rows)
	}
}

// TestCurrentPasswordGuesses: the current password a password change asks for is
// limited like a login: five wrong guesses from one address, then 429.
func TestCurrentPasswordGuesses(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	dev, id := h.member("shop", "dev@example.com", "viewer", nil)
	for range 5 {
		dev.Must(400, "PATCH", "/api/v1/users/"+id, map[string]any{"password": "a-new-password-1", "current_password": "guess-guess"})
	}
	r := dev.Must(429, "PATCH", "/api/v1/users/"+id, map[string]any{"password": "a-new-password-1", "current_password": "password-dev@example.com"})
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// TestWriteLimits: flags per project and an environment's snapshot size are checked
// when a change is written, with a 422 naming the limit; nothing is written.
func TestWriteLimits(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "big"})
	h.flag("big", "f")
	db := h.store.SQL()
	// Flags inserted directly, up to the limit.
	if _, err := db.Exec(`INSERT INTO flags (project_id, key, name, kind, variants, tags, salt)
		SELECT p.id, 'bulk-' || g, 'b', 'boolean', '[{"key":"on","value":true},{"key":"off","value":false}]', '[]', 's'
		FROM projects p, generate_series(2, $1) g WHERE p.key = 'big'`, domain.MaxFlagsPerProject); err != nil {
		t.Fatal(err)
	}
	before := h.auditCount()
	r := h.Must(422, "POST", "/api/v1/projects/big/flags", map[string]any{"key": "one-too-many", "kind": "boolean"})
	if !strings.Contains(string(r.Body), fmt.Sprintf("at most %d flags per project", domain.MaxFlagsPerProject)) {
		t.Errorf("flags limit: %s", r.Body)
	}
	if h.auditCount() != before {
		t.Error("a refused change wrote an audit row")
	}

	// The production snapshot filled to about 30 KiB below its limit (configurations
	// written directly), then a configuration that grows ~60 KiB is refused.
	filler := (domain.MaxSnapshotBytes-30<<10)/(domain.MaxFlagsPerProject-1) - 340
	if _, err := db.Exec(`INSERT INTO flag_configs (flag_id, environment_id, enabled, rules, default_serve, off_variant, prerequisites, version)
		SELECT f.id, e.id, false, jsonb_build_array(repeat('x', $1)), '{"variant":"off"}', 'off', '[]', 1
		FROM flags f JOIN projects p ON p.id = f.project_id JOIN environments e ON e.project_id = p.id
		WHERE p.key = 'big' AND e.key = 'production' AND f.key LIKE 'bulk-%'`, filler); err != nil {
		t.Fatal(err)
	}
	values := make([]string, 2000)
	for i := range values {
		values[i] = fmt.Sprintf("customer-%06d@example.com", i)
	}
	big := onConfig(1)
	big["rules"] = []any{map[string]any{"id": "many", "serve": map[string]any{"variant": "on"},
		"conditions": []any{map[string]any{"attribute": "email", "operator": "in", "values": values}}}}
	r = h.Must(422, "PUT", "/api/v1/projects/big/flags/f/environments/production", big)
	if !strings.Contains(string(r.Body), "snapshot of environment production") {
		t.Errorf("snapshot limit: %s", r.Body)
	}
	// The same configuration fits where the environment has room.
	h.Must(200, "PUT", "/api/v1/projects/big/flags/f/environments/staging", big)
}

// TestPatternLimit: the distinct matches patterns of one environment are limited
// together, since each costs every evaluator compile time and memory.
func TestPatternLimit(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "re"})
	h.flag("re", "f")
	n, _, err := domain.RegexInstructions("a{900}b0")
	if err != nil {
		t.Fatal(err)
	}
	count := domain.MaxSnapshotRegexInstructions/n + 1
	if _, err := h.store.SQL().Exec(`INSERT INTO flags (project_id, key, name, kind, variants, tags, salt)
		SELECT p.id, 'p-' || g, 'p', 'boolean', '[{"key":"on","value":true},{"key":"off","value":false}]', '[]', 's'
		FROM projects p, generate_series(1, $1) g WHERE p.key = 're'`, count); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.SQL().Exec(`INSERT INTO flag_configs (flag_id, environment_id, enabled, rules, default_serve, off_variant, prerequisites, version)
		SELECT f.id, e.id, true, jsonb_build_array(jsonb_build_object('id', 'r', 'serve', jsonb_build_object('variant', 'on'),
			'conditions', jsonb_build_array(jsonb_build_object('attribute', 'email', 'operator', 'matches',
				'values', jsonb_build_array('a{900}b' || substr(f.key, 3)))))), '{"variant":"off"}', 'off', '[]', 1
		FROM flags f JOIN projects p ON p.id = f.project_id JOIN environments e ON e.project_id = p.id
		WHERE p.key = 're' AND f.key LIKE 'p-%'`); err != nil {
		t.Fatal(err)
	}
	cfg := onConfig(1)
	cfg["rules"] = []any{map[string]any{"id": "m", "serve": map[string]any{"variant": "on"},
		"conditions": []any{map[string]any{"attribute": "email", "operator": "matches", "values": []any{"@example\\.com$"}}}}}
	r := h.Must(422, "PUT", "/api/v1/projects/re/flags/f/environments/production", cfg)
	if !strings.Contains(string(r.Body), "matches patterns of environment production") {
		t.Errorf("pattern totals: %s", r.Body)
	}
}
