package api_test

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestUsersAndSessions(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	janeID := h.user("jane@example.com", false)
	h.Must(409, "POST", "/api/v1/users", map[string]any{"email": "JANE@example.com", "password": "another-password"})
	r := h.Must(400, "POST", "/api/v1/users", map[string]any{"email": "not an email", "password": "short"})
	if f := r.Fields(t); !slices.Contains(f, "email") || !slices.Contains(f, "password") {
		t.Errorf("fields: %v", f)
	}
	if strings.Contains(string(h.Must(200, "GET", "/api/v1/users", nil).Body), "argon2") {
		t.Error("password hashes must never be returned")
	}

	jane := h.as(h.login("jane@example.com"))
	me := jane.Must(200, "GET", "/api/v1/auth/me", nil).JSON(t)
	if me["actor"].(map[string]any)["name"] != "jane@example.com" || me["superuser"] != false {
		t.Errorf("me: %v", me)
	}
	// No role yet: 403, naming the role.
	r = jane.Must(403, "GET", "/api/v1/projects/shop/flags", nil)
	if !strings.Contains(r.JSON(t)["detail"].(string), "the viewer role in project shop is needed") {
		t.Errorf("403: %s", r.Body)
	}
	if items := jane.Must(200, "GET", "/api/v1/projects", nil).JSON(t)["items"].([]any); len(items) != 0 {
		t.Errorf("projects visible without a role: %v", items)
	}
	h.Must(200, "PUT", "/api/v1/projects/shop/members/"+janeID, map[string]any{"role": "developer", "environment_roles": map[string]any{"production": "viewer"}})
	h.Must(400, "PUT", "/api/v1/projects/shop/members/"+janeID, map[string]any{"role": "boss", "environment_roles": map[string]any{"nowhere": "admin"}})
	h.Must(404, "PUT", "/api/v1/projects/shop/members/00000000-0000-0000-0000-000000000000", map[string]any{"role": "viewer"})
	// Roles change at once, without logging in again.
	jane.Must(201, "POST", "/api/v1/projects/shop/flags", map[string]any{"key": "f", "kind": "boolean"})
	if items := jane.Must(200, "GET", "/api/v1/projects", nil).JSON(t)["items"].([]any); len(items) != 1 {
		t.Errorf("projects: %v", items)
	}
	// The audit trail names the real actor.
	row := h.Must(200, "GET", "/api/v1/audit?action=flag.create", nil).JSON(t)["items"].([]any)[0].(map[string]any)
	if a := row["actor"].(map[string]any); a["type"] != "user" || a["id"] != janeID || a["name"] != "jane@example.com" {
		t.Errorf("audit actor: %v", a)
	}
	// Non-superusers: no user management, no project creation, no instance-wide trail.
	jane.Must(403, "GET", "/api/v1/users", nil)
	jane.Must(403, "POST", "/api/v1/users", map[string]any{"email": "x@example.com", "password": "password-123"})
	jane.Must(403, "POST", "/api/v1/projects", map[string]any{"key": "mine"})
	jane.Must(403, "PATCH", "/api/v1/users/"+janeID, map[string]any{"instance_admin": true})
	for _, e := range jane.Must(200, "GET", "/api/v1/audit", nil).JSON(t)["items"].([]any) {
		if e.(map[string]any)["project"] != "shop" {
			t.Errorf("a member sees only their projects' trail: %v", e)
		}
	}

	// Password change needs the current password, and ends older sessions.
	jane.Must(400, "PATCH", "/api/v1/users/"+janeID, map[string]any{"password": "new-password-123", "current_password": "wrong"})
	jane.Must(200, "PATCH", "/api/v1/users/"+janeID, map[string]any{"password": "new-password-123", "current_password": "password-jane@example.com"})
	r = jane.Must(401, "GET", "/api/v1/auth/me", nil)
	if !strings.Contains(string(r.Body), "password changed") {
		t.Errorf("old session: %s", r.Body)
	}
	h.Must(401, "POST", "/api/v1/auth/login", map[string]any{"email": "jane@example.com", "password": "password-jane@example.com"}, "Authorization", "")
	fresh := h.Must(200, "POST", "/api/v1/auth/login", map[string]any{"email": "jane@example.com", "password": "new-password-123"}, "Authorization", "").JSON(t)
	jane = h.as(fresh["token"].(string))
	jane.Must(200, "GET", "/api/v1/auth/me", nil)

	// Disabling ends sessions and logins.
	h.Must(200, "PATCH", "/api/v1/users/"+janeID, map[string]any{"disabled": true})
	jane.Must(401, "GET", "/api/v1/auth/me", nil)
	h.Must(401, "POST", "/api/v1/auth/login", map[string]any{"email": "jane@example.com", "password": "new-password-123"}, "Authorization", "")

	// An instance administrator is a superuser.
	h.user("root@example.com", true)
	root := h.as(h.login("root@example.com"))
	root.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "rooted"})
	root.Must(200, "GET", "/api/v1/users", nil)
}

func TestLoginLimits(t *testing.T) {
	h := newHarness(t)
	h.user("kim@example.com", false)
	for range 5 {
		h.Must(401, "POST", "/api/v1/auth/login", map[string]any{"email": "kim@example.com", "password": "guess-guess"}, "Authorization", "")
	}
	r := h.Must(429, "POST", "/api/v1/auth/login", map[string]any{"email": "kim@example.com", "password": "password-kim@example.com"}, "Authorization", "")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	h.Must(400, "POST", "/api/v1/auth/login", map[string]any{"email": 1}, "Authorization", "")
}

func TestAPITokens(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.flag("shop", "f")
	devID := h.user("dev@example.com", false)
	h.Must(200, "PUT", "/api/v1/projects/shop/members/"+devID, map[string]any{"role": "developer"})
	dev := h.as(h.login("dev@example.com"))

	// A user's own token, within their role; never above it.
	created := dev.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "project": "shop", "role": "developer"}).JSON(t)
	secret := created["token"].(string)
	if !strings.HasPrefix(secret, "sy_adm_") || created["owner_id"] != devID {
		t.Fatalf("token: %v", created)
	}
	r := dev.Must(403, "POST", "/api/v1/tokens", map[string]any{"name": "root", "project": "shop", "role": "admin"})
	if !strings.Contains(string(r.Body), "more rights than you") {
		t.Errorf("above own role: %s", r.Body)
	}
	dev.Must(400, "POST", "/api/v1/tokens", map[string]any{"project": "shop", "role": "wizard", "expires_at": "2001-01-01T00:00:00Z"})
	ci := h.as(secret)
	ci.Must(200, "PATCH", "/api/v1/projects/shop/flags/f", map[string]any{"description": "by ci"})
	ci.Must(403, "DELETE", "/api/v1/projects/shop/flags/f", nil)
	row := h.Must(200, "GET", "/api/v1/audit?action=flag.update", nil).JSON(t)["items"].([]any)[0].(map[string]any)
	if a := row["actor"].(map[string]any); a["type"] != "token" || a["name"] != "ci" {
		t.Errorf("audit actor of a token: %v", a)
	}
	list := dev.Must(200, "GET", "/api/v1/tokens", nil)
	for _, it := range list.JSON(t)["items"].([]any) {
		if m := it.(map[string]any); m["name"] == "ci" && m["last_used_at"] == nil {
			t.Error("a token's last use must be recorded")
		}
	}
	if strings.Contains(string(list.Body), secret) || !strings.Contains(string(list.Body), created["prefix"].(string)) {
		t.Error("listings show prefixes, never secrets")
	}
	if strings.Contains(string(h.Must(200, "GET", "/api/v1/audit?limit=200", nil).Body), secret) {
		t.Error("the audit trail holds a token secret")
	}

	// The token never outranks its owner: demote the owner, the token follows.
	h.Must(200, "PUT", "/api/v1/projects/shop/members/"+devID, map[string]any{"role": "viewer"})
	ci.Must(403, "PATCH", "/api/v1/projects/shop/flags/f", map[string]any{"description": "again"})
	h.Must(200, "PUT", "/api/v1/projects/shop/members/"+devID, map[string]any{"role": "developer"})
	ci.Must(200, "PATCH", "/api/v1/projects/shop/flags/f", map[string]any{"description": "again"})

	// Expiry and revocation.
	// The expiry is moved into the past in the database rather than waited for: the
	// check is about the token's stored expiry, not about the machine's speed.
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	short := h.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "short", "project": "shop", "role": "viewer", "expires_at": soon}).JSON(t)
	h.as(short["token"].(string)).Must(200, "GET", "/api/v1/projects/shop/flags", nil)
	if _, err := h.store.SQL().Exec(`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, short["id"]); err != nil {
		t.Fatal(err)
	}
	r = h.as(short["token"].(string)).Must(401, "GET", "/api/v1/projects/shop/flags", nil)
	if !strings.Contains(string(r.Body), "expired") {
		t.Errorf("expired: %s", r.Body)
	}
	h.as(h.login("dev@example.com")).Must(204, "DELETE", "/api/v1/tokens/"+created["id"].(string), nil)
	r = ci.Must(401, "GET", "/api/v1/projects/shop/flags", nil)
	if !strings.Contains(string(r.Body), "revoked") {
		t.Errorf("revoked: %s", r.Body)
	}
	// An admin-made token has no owner to cap it; a disabled owner's tokens stop.
	adminTok := h.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "deploy", "project": "shop", "role": "admin"}).JSON(t)
	h.as(adminTok["token"].(string)).Must(204, "DELETE", "/api/v1/projects/shop/flags/f", nil)
	again := h.as(h.login("dev@example.com")).Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "ci2", "project": "shop", "role": "viewer"}).JSON(t)
	h.Must(200, "PATCH", "/api/v1/users/"+devID, map[string]any{"disabled": true})
	h.as(again["token"].(string)).Must(401, "GET", "/api/v1/projects/shop/flags", nil)
	h.Must(404, "DELETE", "/api/v1/tokens/00000000-0000-0000-0000-000000000000", nil)
}

func TestCredentialBoundaries(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	sdk := h.Must(201, "POST", "/api/v1/projects/shop/environments/production/sdk-keys", nil).JSON(t)["key"].(string)
	r := h.as(sdk).Must(401, "GET", "/api/v1/projects", nil)
	if !strings.Contains(string(r.Body), "SDK key") {
		t.Errorf("an SDK key never opens the admin API: %s", r.Body)
	}
	h.user("sam@example.com", false)
	session := h.login("sam@example.com")
	parts := strings.Split(session, ".")
	h.as(parts[0]+"."+parts[1]+".forged").Must(401, "GET", "/api/v1/auth/me", nil)
	h.as(session+"x").Must(401, "GET", "/api/v1/auth/me", nil)
	h.as("sy_adm_nope").Must(401, "GET", "/api/v1/auth/me", nil)
}

// TestLogout: POST /auth/logout ends the login session it carries, at once and for
// good; another session of the same user goes on; credentials that are not sessions
// are refused with a 400 that says how to end them.
func TestLogout(t *testing.T) {
	h := newHarness(t)
	h.user("lou@example.com", false)
	first, second := h.as(h.login("lou@example.com")), h.as(h.login("lou@example.com"))
	first.Must(200, "GET", "/api/v1/auth/me", nil)
	first.Must(204, "POST", "/api/v1/auth/logout", nil)
	first.Must(401, "GET", "/api/v1/auth/me", nil)
	first.Must(401, "POST", "/api/v1/auth/logout", nil)
	second.Must(200, "GET", "/api/v1/auth/me", nil)

	r := h.Must(400, "POST", "/api/v1/auth/logout", nil) // the bootstrap token
	if f := r.Fields(t); len(f) != 1 || f[0] != "Authorization" {
		t.Errorf("fields %v, want Authorization", f)
	}
	h.Must(401, "POST", "/api/v1/auth/logout", nil, "Authorization", "")
}
