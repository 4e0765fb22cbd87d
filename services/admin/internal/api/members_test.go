package api_test

import (
	"testing"
)

// TestListMembers: any member reads who else is one, with roles and overrides, by email;
// an outsider may not; a removed member is gone; a project re-created with the same
// key starts with no members.
func TestListMembers(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "other"})
	viewer, _ := h.member("shop", "vera@example.com", "viewer", nil)
	_, devID := h.member("shop", "Dev@example.com", "developer", map[string]string{"production": "viewer"})
	outsider, _ := h.member("other", "olga@example.com", "admin", nil)

	items := viewer.Must(200, "GET", "/api/v1/projects/shop/members", nil).JSON(t)["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("%d members, want 2: %v", len(items), items)
	}
	first, second := items[0].(map[string]any), items[1].(map[string]any)
	if first["email"] != "Dev@example.com" || first["role"] != "developer" || second["email"] != "vera@example.com" || second["role"] != "viewer" {
		t.Errorf("members by email: %v", items)
	}
	if o := first["environment_roles"].(map[string]any); o["production"] != "viewer" || len(o) != 1 {
		t.Errorf("overrides %v", o)
	}
	if first["user_id"] != devID {
		t.Errorf("user_id %v, want %s", first["user_id"], devID)
	}

	outsider.Must(403, "GET", "/api/v1/projects/shop/members", nil)
	h.Must(404, "GET", "/api/v1/projects/nope/members", nil)

	h.Must(204, "DELETE", "/api/v1/projects/shop/members/"+devID, nil)
	if items := h.Must(200, "GET", "/api/v1/projects/shop/members", nil).JSON(t)["items"].([]any); len(items) != 1 {
		t.Errorf("after removal: %v", items)
	}

	h.Must(204, "DELETE", "/api/v1/projects/shop", nil)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	if items := h.Must(200, "GET", "/api/v1/projects/shop/members", nil).JSON(t)["items"].([]any); len(items) != 0 {
		t.Errorf("a re-created project has members: %v", items)
	}
}
