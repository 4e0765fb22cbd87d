package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/platform/secret"
)

func TestSDKKeys(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	base := "/api/v1/projects/shop/environments/production/sdk-keys"
	r := h.Must(201, "POST", base, map[string]any{"name": "web"})
	created := r.JSON(t)
	key := created["key"].(string)
	if secret.SDKKey.Check(key) != secret.Valid || !strings.HasPrefix(key, created["prefix"].(string)) || created["environment"] != "production" {
		t.Fatalf("created: %v", created)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Error("the secret must not be cached")
	}
	id := created["id"].(string)
	h.Must(201, "POST", base, nil) // a name is optional
	items := h.Must(200, "GET", base, nil).JSON(t)["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("list: %v", items)
	}
	for _, it := range items {
		if _, shown := it.(map[string]any)["key"]; shown {
			t.Error("listing shows a secret")
		}
	}

	// Rotation: a new secret; the old key expires after the grace period.
	_, before := h.envVersion("shop", "production")
	rot := h.Must(201, "POST", base+"/"+id+"/rotate", map[string]any{"grace_period": "1h"}).JSON(t)
	// A rotation invalidates the environment, as a revocation does: evaluators drop
	// the old key's cached lookup, which knew no expiry, so a grace of 0s is prompt.
	if _, after := h.envVersion("shop", "production"); after <= before {
		t.Error("rotation must invalidate the environment")
	}
	fresh, prev := rot["key"].(map[string]any), rot["previous"].(map[string]any)
	if secret.SDKKey.Check(fresh["key"].(string)) != secret.Valid || fresh["key"] == key || prev["id"] != id {
		t.Fatalf("rotation: %v", rot)
	}
	exp, err := time.Parse(time.RFC3339, prev["expires_at"].(string))
	if err != nil || exp.Before(time.Now().Add(59*time.Minute)) || exp.After(time.Now().Add(61*time.Minute)) {
		t.Errorf("old key expires %v (%v)", prev["expires_at"], err)
	}
	h.Must(400, "POST", base+"/"+id+"/rotate", map[string]any{"grace_period": "forever"})
	h.Must(404, "POST", base+"/not-a-key/rotate", nil)

	// Revocation, audited; revoking twice is fine.
	_, v := h.envVersion("shop", "production")
	h.Must(204, "DELETE", base+"/"+id, nil)
	h.Must(204, "DELETE", base+"/"+id, nil)
	if _, now := h.envVersion("shop", "production"); now <= v {
		t.Error("revocation must invalidate the environment")
	}
	h.Must(409, "POST", base+"/"+id+"/rotate", nil)
	h.Must(404, "DELETE", "/api/v1/projects/shop/environments/staging/sdk-keys/"+id, nil)
	h.Must(404, "GET", "/api/v1/projects/shop/environments/nowhere/sdk-keys", nil)
	h.Must(400, "POST", base, map[string]any{"expires_at": "2001-01-01T00:00:00Z"})

	// No secret in the audit trail.
	trail := h.Must(200, "GET", "/api/v1/audit?limit=200", nil)
	if strings.Contains(string(trail.Body), key) {
		t.Error("the audit trail holds a secret")
	}
	for _, action := range []string{"sdk_key.create", "sdk_key.rotate", "sdk_key.revoke"} {
		if n := len(h.Must(200, "GET", "/api/v1/audit?action="+action, nil).JSON(t)["items"].([]any)); n == 0 {
			t.Errorf("no %s row", action)
		}
	}
	if strings.Contains(string(trail.Body), fresh["key"].(string)) {
		t.Error("the audit trail holds the rotated secret")
	}
}
