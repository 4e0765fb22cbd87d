package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/platform/secret"
	"github.com/switchyard/switchyard/pkg/testinfra"
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

// TestSDKKeyKinds: a key is server or client, server when the body names none; any
// other kind is refused naming the field, and writes nothing. The list shows each
// key's kind, and a rotation keeps it.
func TestSDKKeyKinds(t *testing.T) {
	h := newHarness(t)
	h.Must(201, "POST", "/api/v1/projects", map[string]any{"key": "shop"})
	base := "/api/v1/projects/shop/environments/staging/sdk-keys"
	cases := []struct {
		name string
		body map[string]any
		want string // the kind created; empty: refused
	}{
		{"client", map[string]any{"name": "browser", "kind": "client"}, "client"},
		{"server", map[string]any{"name": "backend", "kind": "server"}, "server"},
		{"omitted", map[string]any{"name": "old-style"}, "server"},
		{"empty", map[string]any{"kind": ""}, "server"},
		{"unknown", map[string]any{"name": "r2", "kind": "robot"}, ""},
		{"capitalized", map[string]any{"kind": "Client"}, ""},
		{"not a string", map[string]any{"kind": 1}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := h.on(t)
			keys, audited := len(h.Must(200, "GET", base, nil).JSON(t)["items"].([]any)), h.auditCount()
			if c.want == "" {
				r := h.Must(400, "POST", base, c.body)
				if f := r.Fields(t); len(f) != 1 || f[0] != "kind" {
					t.Errorf("refused naming %v, want kind: %s", f, r.Body)
				}
				if n := len(h.Must(200, "GET", base, nil).JSON(t)["items"].([]any)); n != keys || h.auditCount() != audited {
					t.Errorf("a refused key was written: %d keys (was %d)", n, keys)
				}
				return
			}
			created := h.Must(201, "POST", base, c.body).JSON(t)
			if created["kind"] != c.want {
				t.Fatalf("created %v, want kind %s", created, c.want)
			}
			id := created["id"].(string)
			if got := listedKind(t, h, base, id); got != c.want {
				t.Errorf("listed as %v, want %s", got, c.want)
			}
			rot := h.Must(201, "POST", base+"/"+id+"/rotate", map[string]any{"grace_period": "0s"}).JSON(t)
			fresh, prev := rot["key"].(map[string]any), rot["previous"].(map[string]any)
			if fresh["kind"] != c.want || prev["kind"] != c.want {
				t.Errorf("rotation gave %v from %v, want both %s", fresh["kind"], prev["kind"], c.want)
			}
			if got := listedKind(t, h, base, fresh["id"].(string)); got != c.want {
				t.Errorf("the rotated key is listed as %v, want %s", got, c.want)
			}
		})
	}
}

// on is the harness reporting to t, a subtest's: its failures end the subtest only.
func (h *harness) on(t *testing.T) *harness {
	sub := *h
	sub.Client, sub.t = &testinfra.Client{T: t, URL: h.URL, Auth: h.Auth, Check: h.Check}, t
	return &sub
}

// listedKind is the kind the list of SDK keys at base gives key id.
func listedKind(t *testing.T, h *harness, base, id string) any {
	t.Helper()
	for _, it := range h.Must(200, "GET", base, nil).JSON(t)["items"].([]any) {
		if k := it.(map[string]any); k["id"] == id {
			return k["kind"]
		}
	}
	t.Fatalf("key %s not listed", id)
	return nil
}
