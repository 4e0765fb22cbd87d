package postgres_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// testTokens: tokens stored by digest, found by it (noting their use), listed by the
// filter, revoked once.
func testTokens(t *testing.T, c *contract) {
	c.project("shop")
	c.project("other")
	owner := c.user("dev@example.com")
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	digest := bytes.Repeat([]byte{9}, 32)
	tok := must(c.s.CreateToken(ctx, c.o, domain.APIToken{Name: "ci", Prefix: "sy_adm_aaaaaa", Project: "shop", Role: domain.RoleDeveloper,
		EnvironmentRoles: map[string]domain.Role{"production": domain.RoleViewer}, OwnerID: owner.ID, ExpiresAt: &exp}, digest))(t)
	if tok.ID == "" || tok.Name != "ci" || tok.Prefix != "sy_adm_aaaaaa" || tok.Project != "shop" || tok.Role != domain.RoleDeveloper ||
		tok.EnvironmentRoles["production"] != domain.RoleViewer || tok.OwnerID != owner.ID || tok.CreatedBy != c.o.Actor.Name ||
		tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(exp) || tok.CreatedAt.IsZero() || tok.Token != "" || tok.RevokedAt != nil {
		t.Fatalf("created %+v", tok)
	}
	_, err := c.s.CreateToken(ctx, c.o, domain.APIToken{Name: "x", Prefix: "p", Project: "nope", Role: domain.RoleViewer}, bytes.Repeat([]byte{8}, 32))
	code(t, err, domain.CodeNotFound)
	if got := must(c.s.Token(ctx, tok.ID))(t); got.ID != tok.ID || got.Project != "shop" || got.LastUsedAt != nil {
		t.Fatalf("read %+v", got)
	}
	_, err = c.s.Token(ctx, "not-a-uuid")
	code(t, err, domain.CodeNotFound)

	found := must(c.s.TokenByDigest(ctx, digest))(t)
	if found.ID != tok.ID || found.Project != "shop" {
		t.Fatalf("by digest %+v", found)
	}
	if got := must(c.s.Token(ctx, tok.ID))(t); got.LastUsedAt == nil {
		t.Error("a token's use is not noted")
	}
	_, err = c.s.TokenByDigest(ctx, bytes.Repeat([]byte{7}, 32))
	code(t, err, domain.CodeNotFound)

	admins := must(c.s.CreateToken(ctx, c.o, domain.APIToken{Name: "deploy", Prefix: "sy_adm_bbbbbb", Project: "other", Role: domain.RoleAdmin,
		EnvironmentRoles: map[string]domain.Role{}}, bytes.Repeat([]byte{6}, 32)))(t)
	ids := func(f domain.TokenFilter) []string {
		t.Helper()
		var out []string
		for _, x := range must(c.s.Tokens(ctx, f))(t) {
			out = append(out, x.Name)
		}
		return out
	}
	for _, tc := range []struct {
		filter domain.TokenFilter
		want   []string
	}{
		{domain.TokenFilter{All: true}, []string{"deploy", "ci"}}, // newest first
		{domain.TokenFilter{Projects: []string{"other"}}, []string{"deploy"}},
		{domain.TokenFilter{OwnerID: owner.ID}, []string{"ci"}},
		{domain.TokenFilter{Projects: []string{"other"}, OwnerID: owner.ID}, []string{"deploy", "ci"}},
		{domain.TokenFilter{OwnerID: "not-a-uuid"}, nil},
		{domain.TokenFilter{}, nil},
	} {
		if got := ids(tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.filter, got, tc.want)
		}
	}

	ok(t, c.s.RevokeToken(ctx, c.o, admins.ID))
	ok(t, c.s.RevokeToken(ctx, c.o, admins.ID)) // twice: one change
	if got := must(c.s.Token(ctx, admins.ID))(t); got.RevokedAt == nil {
		t.Fatal("not revoked")
	}
	code(t, c.s.RevokeToken(ctx, c.o, "00000000-0000-0000-0000-000000000000"), domain.CodeNotFound)
	if n := len(c.trail(domain.ActionTokenRevoke)); n != 1 {
		t.Errorf("%d revocation rows, want 1", n)
	}
	if rows := c.trail(domain.ActionTokenCreate); len(rows) != 2 || bytes.Contains(rows[0].After, digest) {
		t.Errorf("creation rows %+v", rows)
	}
}
