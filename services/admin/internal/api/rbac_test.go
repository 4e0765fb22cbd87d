package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/services/admin/internal/api"
)

// rank orders roles for the expectation below, written from the table rather
// than from the implementation.
func rank(r string) int {
	return map[string]int{"": 0, "viewer": 1, "developer": 2, "admin": 3}[r]
}

type caller struct {
	name     string
	role     string            // project role
	override map[string]string // per environment
}

func (c caller) in(env string) string {
	if r, ok := c.override[env]; ok && env != "" {
		return r
	}
	return c.role
}

// op is a mutating endpoint: setup prepares a fresh target (as the bootstrap admin)
// and returns the request; need says which role it requires, per the issue. perEnv
// ops are tried in a protected and an unprotected environment; the others do not
// depend on one, so they run once per caller.
type op struct {
	name   string
	status int // on success
	perEnv bool
	need   func(c caller, env string, protected bool) bool
	setup  func(h *harness, env string, n int, c caller) (method, path string, body any)
}

// nobody: only instance administrators and the bootstrap token may; no member can.
func nobody(caller, string, bool) bool { return false }

func projectRole(min string) func(caller, string, bool) bool {
	return func(c caller, _ string, _ bool) bool { return rank(c.role) >= rank(min) }
}

// configRule: developer in the environment, admin where it is protected.
func configRule(c caller, env string, protected bool) bool {
	need := "developer"
	if protected {
		need = "admin"
	}
	return rank(c.in(env)) >= rank(need)
}

// readRule: viewer in the environment.
func readRule(c caller, env string, _ bool) bool { return rank(c.in(env)) >= rank("viewer") }

// killRule: admin on every protected environment, developer on the others.
func killRule(c caller, _ string, _ bool) bool {
	return rank(c.in("prod")) >= rank("admin") && rank(c.in("dev")) >= rank("developer")
}

func envAdmin(c caller, env string, _ bool) bool { return rank(c.in(env)) >= rank("admin") }

// servingRule: a flag change that alters what environments serve needs developer in
// the project and, in every environment, what a configuration write there needs.
func servingRule(c caller, env string, protected bool) bool {
	return rank(c.role) >= rank("developer") && killRule(c, env, protected)
}

// adminEverywhere: admin in the project and in every environment; an override
// lowering an admin anywhere binds them.
func adminEverywhere(c caller, _ string, _ bool) bool {
	return rank(c.role) >= rank("admin") && rank(c.in("dev")) >= rank("admin") && rank(c.in("prod")) >= rank("admin")
}

var ops = []op{
	{"replace config", 200, true, configRule, func(h *harness, env string, n int, c caller) (string, string, any) {
		body := onConfig(0)
		delete(body, "version") // If-Match: * below
		return "PUT", "/api/v1/projects/shop/flags/f/environments/" + env, body
	}},
	{"toggle", 200, true, configRule, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/projects/shop/flags/f/environments/" + env + "/toggle", nil
	}},
	// A revert is a configuration write: the same rule as replacing the configuration.
	{"revert config", 200, true, configRule, func(h *harness, env string, n int, c caller) (string, string, any) {
		cfg := h.Must(200, "POST", "/api/v1/projects/shop/flags/f/environments/"+env+"/toggle", nil).JSON(h.t)
		entries := h.Must(200, "GET", "/api/v1/audit?project=shop&flag=f&environment="+env+"&action=config.toggle&limit=1", nil).JSON(h.t)["items"].([]any)
		return "POST", "/api/v1/projects/shop/flags/f/environments/" + env + "/revert",
			map[string]any{"audit_id": entries[0].(map[string]any)["id"], "version": cfg["version"]}
	}},
	// The playground reads: any member who can read the environment, which every
	// caller here can (overrides lower to viewer at most).
	{"explain", 200, true, readRule, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/projects/shop/environments/" + env + "/evaluate", map[string]any{"context": map[string]any{"key": fmt.Sprint("user-", n)}}
	}},
	{"kill", 200, false, killRule, func(h *harness, env string, n int, c caller) (string, string, any) {
		h.Must(200, "DELETE", "/api/v1/projects/shop/flags/f/kill", nil)
		return "POST", "/api/v1/projects/shop/flags/f/kill", nil
	}},
	{"lift kill", 200, false, killRule, func(h *harness, env string, n int, c caller) (string, string, any) {
		h.Must(200, "POST", "/api/v1/projects/shop/flags/f/kill", nil)
		return "DELETE", "/api/v1/projects/shop/flags/f/kill", nil
	}},
	{"create flag", 201, false, projectRole("developer"), func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/projects/shop/flags", map[string]any{"key": fmt.Sprintf("new-%d", n), "kind": "boolean"}
	}},
	{"update flag", 200, false, projectRole("developer"), func(h *harness, env string, n int, c caller) (string, string, any) {
		return "PATCH", "/api/v1/projects/shop/flags/f", map[string]any{"description": fmt.Sprint(n)}
	}},
	{"archive flag", 200, false, servingRule, func(h *harness, env string, n int, c caller) (string, string, any) {
		key := fmt.Sprintf("arch-%d", n)
		h.flag("shop", key)
		return "PATCH", "/api/v1/projects/shop/flags/" + key, map[string]any{"archived": true}
	}},
	{"delete flag", 204, false, adminEverywhere, func(h *harness, env string, n int, c caller) (string, string, any) {
		key := fmt.Sprintf("del-%d", n)
		h.flag("shop", key)
		return "DELETE", "/api/v1/projects/shop/flags/" + key, nil
	}},
	{"create environment", 201, false, projectRole("admin"), func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/projects/shop/environments", map[string]any{"key": fmt.Sprintf("env-%d", n)}
	}},
	{"update environment", 200, true, envAdmin, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "PATCH", "/api/v1/projects/shop/environments/" + env, map[string]any{"description": fmt.Sprint(n)}
	}},
	{"delete environment", 204, false, projectRole("admin"), func(h *harness, env string, n int, c caller) (string, string, any) {
		key := fmt.Sprintf("gone-%d", n)
		h.Must(201, "POST", "/api/v1/projects/shop/environments", map[string]any{"key": key})
		return "DELETE", "/api/v1/projects/shop/environments/" + key, nil
	}},
	{"create SDK key", 201, true, envAdmin, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/projects/shop/environments/" + env + "/sdk-keys", map[string]any{"name": "k"}
	}},
	{"rotate SDK key", 201, true, envAdmin, func(h *harness, env string, n int, c caller) (string, string, any) {
		id := h.Must(201, "POST", "/api/v1/projects/shop/environments/"+env+"/sdk-keys", nil).JSON(h.t)["id"].(string)
		return "POST", "/api/v1/projects/shop/environments/" + env + "/sdk-keys/" + id + "/rotate", nil
	}},
	{"revoke SDK key", 204, true, envAdmin, func(h *harness, env string, n int, c caller) (string, string, any) {
		id := h.Must(201, "POST", "/api/v1/projects/shop/environments/"+env+"/sdk-keys", nil).JSON(h.t)["id"].(string)
		return "DELETE", "/api/v1/projects/shop/environments/" + env + "/sdk-keys/" + id, nil
	}},
	{"set member", 200, false, adminEverywhere, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "PUT", "/api/v1/projects/shop/members/" + h.extra, map[string]any{"role": "viewer"}
	}},
	{"remove member", 204, false, adminEverywhere, func(h *harness, env string, n int, c caller) (string, string, any) {
		h.Must(200, "PUT", "/api/v1/projects/shop/members/"+h.extra, map[string]any{"role": "viewer"})
		return "DELETE", "/api/v1/projects/shop/members/" + h.extra, nil
	}},
	{"token for oneself", 201, false, projectRole("viewer"), func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/tokens", map[string]any{"name": "mine", "project": "shop", "role": "viewer"}
	}},
	// Above one's own role only for admins: an admin token needs admin in the project
	// and in every environment.
	{"admin token", 201, false, adminEverywhere, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/tokens", map[string]any{"name": "strong", "project": "shop", "role": "admin"}
	}},
	{"change a served variant value", 200, false, servingRule, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "PATCH", "/api/v1/projects/shop/flags/s", map[string]any{"variants": []any{
			map[string]any{"key": "a", "value": fmt.Sprint("a", n)}, map[string]any{"key": "b", "value": "b"}}}
	}},
	{"add a variant", 200, false, projectRole("developer"), func(h *harness, env string, n int, c caller) (string, string, any) {
		h.Must(200, "PATCH", "/api/v1/projects/shop/flags/t", map[string]any{"variants": []any{
			map[string]any{"key": "a", "value": "a"}, map[string]any{"key": "b", "value": "b"}}})
		return "PATCH", "/api/v1/projects/shop/flags/t", map[string]any{"variants": []any{
			map[string]any{"key": "a", "value": "a"}, map[string]any{"key": "b", "value": "b"}, map[string]any{"key": "c", "value": "c"}}}
	}},
	{"revoke another member's token", 204, false, adminEverywhere, func(h *harness, env string, n int, c caller) (string, string, any) {
		id := h.as(h.extraSession).Must(201, "POST", "/api/v1/tokens", map[string]any{"name": fmt.Sprint("theirs-", n), "project": "shop", "role": "viewer"}).JSON(h.t)["id"].(string)
		return "DELETE", "/api/v1/tokens/" + id, nil
	}},
	{"delete project", 204, false, adminEverywhere, func(h *harness, env string, n int, c caller) (string, string, any) {
		// A project of its own, shaped like shop, where the caller has the same grant.
		key := fmt.Sprintf("gone-%d", n)
		h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": key})
		h.Must(201, "POST", "/api/v1/projects/"+key+"/environments", map[string]any{"key": "dev"})
		h.Must(201, "POST", "/api/v1/projects/"+key+"/environments", map[string]any{"key": "prod", "protected": true})
		for _, e := range []string{"development", "staging", "production"} {
			h.Must(204, "DELETE", "/api/v1/projects/"+key+"/environments/"+e, nil)
		}
		h.Must(200, "PUT", "/api/v1/projects/"+key+"/members/"+h.callerIDs[c.name], map[string]any{"role": c.role, "environment_roles": c.override})
		return "DELETE", "/api/v1/projects/" + key, nil
	}},
	{"create project", 201, false, nobody, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/projects", map[string]any{"key": fmt.Sprintf("new-project-%d", n)}
	}},
	{"create user", 201, false, nobody, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "POST", "/api/v1/users", map[string]any{"email": fmt.Sprintf("made-%d@example.com", n), "password": "a-long-password"}
	}},
	{"change another user", 200, false, nobody, func(h *harness, env string, n int, c caller) (string, string, any) {
		return "PATCH", "/api/v1/users/" + h.extra, map[string]any{"name": fmt.Sprint(n)}
	}},
	{"update project", 200, false, projectRole("admin"), func(h *harness, env string, n int, c caller) (string, string, any) {
		return "PATCH", "/api/v1/projects/shop", map[string]any{"description": fmt.Sprint(n)}
	}},
}

// TestRBACMatrix runs every mutating endpoint as every role, in a protected and an
// unprotected environment, without and with overrides (raising and lowering), and
// asserts the exact status.
func TestRBACMatrix(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.Must(201, "POST", "/api/v1/projects/shop/environments", map[string]any{"key": "dev"})
	h.Must(201, "POST", "/api/v1/projects/shop/environments", map[string]any{"key": "prod", "protected": true})
	for _, e := range []string{"development", "staging", "production"} { // just dev and prod
		h.Must(204, "DELETE", "/api/v1/projects/shop/environments/"+e, nil)
	}
	h.flag("shop", "f")
	for _, k := range []string{"s", "t"} {
		h.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": k, "kind": "string",
			"variants": []any{map[string]any{"key": "a", "value": "a"}, map[string]any{"key": "b", "value": "b"}}})
	}
	h.extra = h.user("someone@example.com", false)
	h.Must(200, "PUT", "/api/v1/projects/shop/members/"+h.extra, map[string]any{"role": "viewer"})
	h.extraSession = h.login("someone@example.com")

	var callers []caller
	for _, role := range []string{"viewer", "developer", "admin"} {
		callers = append(callers, caller{name: role, role: role})
		for _, env := range []string{"dev", "prod"} {
			callers = append(callers,
				caller{name: role + " raised to admin in " + env, role: role, override: map[string]string{env: "admin"}},
				caller{name: role + " lowered to viewer in " + env, role: role, override: map[string]string{env: "viewer"}})
		}
	}
	sessions := map[string]string{}
	h.callerIDs = map[string]string{}
	for i, c := range callers {
		email := fmt.Sprintf("caller-%d@example.com", i)
		id := h.user(email, false)
		h.Must(200, "PUT", "/api/v1/projects/shop/members/"+id, map[string]any{"role": c.role, "environment_roles": c.override})
		sessions[c.name] = h.login(email)
		h.callerIDs[c.name] = id
	}
	n, seen := 0, map[string]bool{}
	for _, o := range ops {
		if seen[o.name] {
			t.Fatalf("op %q listed twice", o.name)
		}
		seen[o.name] = true
		envs := []string{"prod"}
		if o.perEnv {
			envs = []string{"dev", "prod"}
		}
		for _, env := range envs {
			for _, c := range callers {
				n++
				allowed := o.need(c, env, env == "prod")
				want := 403
				if allowed {
					want = o.status
				}
				method, path, body := o.setup(h, env, n, c)
				r := h.as(sessions[c.name]).Do(method, path, body, "If-Match", "*")
				if r.Status != want {
					t.Errorf("%s in %s as %s: status %d, want %d: %s", o.name, env, c.name, r.Status, want, r.Body)
				}
				if want == 403 && !containsRole(string(r.Body)) {
					t.Errorf("%s in %s as %s: the 403 must name the role needed: %s", o.name, env, c.name, r.Body)
				}
			}
		}
	}
	// 8 ops that depend on the environment, twice, and 20 that do not, once, each for
	// 15 callers: a changed list must change this number on purpose.
	if n != (8*2+20)*15 {
		t.Fatalf("%d cases run, want %d", n, (8*2+20)*15)
	}
	// Every mutating route of the API is in the list.
	var tried []string
	for _, o := range ops {
		method, path, _ := o.setup(h, "prod", 100_000+len(tried), callers[0])
		tried = append(tried, method+" "+path)
	}
	doc, err := api.Document()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range doc.Operations() {
		if op.Method == "GET" || op.Path == "/api/v1/auth/login" || op.Path == "/api/v1/auth/logout" {
			continue
		}
		if !slices.ContainsFunc(tried, func(r string) bool { return routeMatches(op.Method+" "+op.Path, r) }) {
			t.Errorf("route %s %s is not covered by the matrix", op.Method, op.Path)
		}
	}
}

// routeMatches reports whether a request ("PUT /api/v1/projects/shop") is one of a
// documented route ("PUT /api/v1/projects/{project}").
func routeMatches(route, request string) bool {
	rs, qs := strings.Split(route, "/"), strings.Split(request, "/")
	if len(rs) != len(qs) {
		return false
	}
	for i := range rs {
		if rs[i] != qs[i] && !strings.HasPrefix(rs[i], "{") {
			return false
		}
	}
	return true
}

func containsRole(body string) bool {
	for _, r := range []string{"the viewer role", "the developer role", "the admin role", "more rights than you", "only instance administrators"} {
		if strings.Contains(body, r) {
			return true
		}
	}
	return false
}
