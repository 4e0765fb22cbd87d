package postgres_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// testSDKKeys: a key is stored by its digest, with its kind (server when none is
// given), listed without a secret, rotated (the old one expires after the grace
// period, the new one takes its name and kind) and revoked; rotations and revocations
// invalidate the key's environment.
func testSDKKeys(t *testing.T, c *contract) {
	c.project("shop")
	c.pending()
	soon := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	k := must(c.s.CreateSDKKey(ctx, c.o, "shop", "production", domain.SDKKey{Name: "web", Kind: domain.SDKKeyClient, Prefix: "sy_sdk_aaaaaa", ExpiresAt: &soon}, bytes.Repeat([]byte{1}, 32)))(t)
	if k.ID == "" || k.Name != "web" || k.Kind != domain.SDKKeyClient || k.Prefix != "sy_sdk_aaaaaa" || k.Environment != "production" || k.Key != "" ||
		k.ExpiresAt == nil || !k.ExpiresAt.Equal(soon) || k.CreatedAt.IsZero() || k.RevokedAt != nil {
		t.Fatalf("created %+v", k)
	}
	c.invalidated("shop") // a new key changes nothing evaluators hold
	other := must(c.s.CreateSDKKey(ctx, c.o, "shop", "production", domain.SDKKey{Prefix: "sy_sdk_bbbbbb"}, bytes.Repeat([]byte{2}, 32)))(t)
	if other.Kind != domain.SDKKeyServer {
		t.Fatalf("a key created without a kind is %q, want server", other.Kind)
	}
	_, err := c.s.CreateSDKKey(ctx, c.o, "shop", "nowhere", domain.SDKKey{Prefix: "sy_sdk_cccccc"}, bytes.Repeat([]byte{3}, 32))
	code(t, err, domain.CodeNotFound)
	list := must(c.s.SDKKeys(ctx, "shop", "production"))(t)
	if len(list) != 2 || list[0].ID != other.ID || list[1].ID != k.ID || list[1].Key != "" ||
		list[0].Kind != domain.SDKKeyServer || list[1].Kind != domain.SDKKeyClient {
		t.Fatalf("listed %+v, want the newest first", list)
	}
	if n := len(must(c.s.SDKKeys(ctx, "shop", "staging"))(t)); n != 0 {
		t.Fatalf("staging lists %d keys", n)
	}

	fresh, old := must2(c.s.RotateSDKKey(ctx, c.o, "shop", "production", k.ID, time.Hour,
		"sy_sdk_dddddd", bytes.Repeat([]byte{4}, 32)))(t)
	if old.ID != k.ID || old.Kind != domain.SDKKeyClient || old.ExpiresAt == nil || old.ExpiresAt.Before(time.Now().Add(59*time.Minute)) || old.ExpiresAt.After(time.Now().Add(61*time.Minute)) {
		t.Fatalf("the old key after the rotation: %+v", old)
	}
	if fresh.ID == "" || fresh.ID == k.ID || fresh.Name != "web" || fresh.Kind != domain.SDKKeyClient || fresh.Prefix != "sy_sdk_dddddd" || fresh.ExpiresAt != nil || fresh.Key != "" {
		t.Fatalf("the new key: %+v", fresh)
	}
	c.invalidated("shop", "production")
	// A grace period past the key's own expiry leaves that expiry.
	_, old2 := must2(c.s.RotateSDKKey(ctx, c.o, "shop", "production", k.ID, 30*24*time.Hour,
		"sy_sdk_eeeeee", bytes.Repeat([]byte{5}, 32)))(t)
	if !old2.ExpiresAt.Equal(*old.ExpiresAt) {
		t.Fatalf("expiry moved from %v to %v", old.ExpiresAt, old2.ExpiresAt)
	}
	_, _, err = c.s.RotateSDKKey(ctx, c.o, "shop", "staging", k.ID, 0, "sy_sdk_ffffff", bytes.Repeat([]byte{6}, 32))
	code(t, err, domain.CodeNotFound)
	_, _, err = c.s.RotateSDKKey(ctx, c.o, "shop", "production", "not-a-key", 0, "sy_sdk_ffffff", bytes.Repeat([]byte{6}, 32))
	code(t, err, domain.CodeNotFound)
	c.pending()

	ok(t, c.s.RevokeSDKKey(ctx, c.o, "shop", "production", other.ID))
	c.invalidated("shop", "production")
	ok(t, c.s.RevokeSDKKey(ctx, c.o, "shop", "production", other.ID)) // twice: fine
	code(t, c.s.RevokeSDKKey(ctx, c.o, "shop", "staging", other.ID), domain.CodeNotFound)
	_, _, err = c.s.RotateSDKKey(ctx, c.o, "shop", "production", other.ID, 0, "sy_sdk_gggggg", bytes.Repeat([]byte{7}, 32))
	code(t, err, domain.CodeConflict)
	i := slices.IndexFunc(must(c.s.SDKKeys(ctx, "shop", "production"))(t), func(x domain.SDKKey) bool { return x.ID == other.ID })
	if revoked := must(c.s.SDKKeys(ctx, "shop", "production"))(t)[i]; revoked.RevokedAt == nil {
		t.Fatalf("revoked key listed as %+v", revoked)
	}

	for action, want := range map[string]int{domain.ActionSDKKeyCreate: 2, domain.ActionSDKKeyRotate: 2, domain.ActionSDKKeyRevoke: 1} {
		if n := len(c.trail(action)); n != want {
			t.Errorf("%d %s rows, want %d", n, action, want)
		}
	}
	// The trail says which kind of key was made or rotated.
	kinds := map[string]string{}
	for _, e := range c.trail(domain.ActionSDKKeyCreate) {
		var after domain.SDKKey
		ok(t, json.Unmarshal(e.After, &after))
		kinds[e.EntityID] = after.Kind
	}
	if kinds[k.ID] != domain.SDKKeyClient || kinds[other.ID] != domain.SDKKeyServer {
		t.Errorf("kinds in the create rows: %v", kinds)
	}
	for _, e := range c.trail(domain.ActionSDKKeyRotate) {
		var after struct{ Old, New domain.SDKKey }
		ok(t, json.Unmarshal(e.After, &after))
		if after.Old.Kind != domain.SDKKeyClient || after.New.Kind != domain.SDKKeyClient {
			t.Errorf("a rotation row of a client key: %s", e.After)
		}
	}
}
