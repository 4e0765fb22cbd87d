package postgres_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

func (c *contract) user(email string) domain.User {
	c.t.Helper()
	return must(c.s.CreateUser(ctx, c.o, domain.User{Email: email, Name: "N " + email}, "hash-of-"+email))(c.t)
}

// testUsersAndMembers: users by id and by email (case-insensitive), listed by email in
// pages, changed field by field; memberships set, replaced and removed.
func testUsersAndMembers(t *testing.T, c *contract) {
	c.project("shop")
	jane := must(c.s.CreateUser(ctx, c.o, domain.User{Email: "Jane@example.com", Name: "Jane", InstanceAdmin: true}, "hash-1"))(t)
	if jane.ID == "" || jane.Email != "Jane@example.com" || jane.Name != "Jane" || !jane.InstanceAdmin || jane.Disabled ||
		jane.CreatedAt.IsZero() || jane.Projects == nil || len(jane.Projects) != 0 {
		t.Fatalf("created %+v", jane)
	}
	_, err := c.s.CreateUser(ctx, c.o, domain.User{Email: "jane@EXAMPLE.com"}, "hash-2")
	code(t, err, domain.CodeConflict)
	cred := must(c.s.CredentialsByEmail(ctx, "JANE@example.com"))(t)
	if cred.User.ID != jane.ID || cred.PasswordHash != "hash-1" || cred.PasswordChangedAt.IsZero() {
		t.Fatalf("credentials %+v", cred)
	}
	_, err = c.s.CredentialsByEmail(ctx, "nobody@example.com")
	code(t, err, domain.CodeNotFound)
	_, err = c.s.User(ctx, "not-a-uuid")
	code(t, err, domain.CodeNotFound)
	_, err = c.s.User(ctx, "00000000-0000-0000-0000-000000000000")
	code(t, err, domain.CodeNotFound)

	for _, e := range []string{"bob@example.com", "Carl@example.com", "ann@example.com"} {
		c.user(e)
	}
	var seen []string
	page := domain.Keyset{Limit: 3}
	for {
		items, next := must2(c.s.Users(ctx, page))(t)
		for _, u := range items {
			seen = append(seen, u.Email)
		}
		if next == "" {
			break
		}
		page.After = next
	}
	if !slices.Equal(seen, []string{"ann@example.com", "bob@example.com", "Carl@example.com", "Jane@example.com"}) {
		t.Fatalf("paged through %v", seen)
	}

	// Memberships.
	g := domain.Grant{Role: domain.RoleDeveloper, EnvironmentRoles: map[string]domain.Role{"production": domain.RoleViewer}}
	must(c.s.SetMember(ctx, c.o, "shop", jane.ID, g))(t)
	got := must(c.s.User(ctx, jane.ID))(t)
	if pg := got.Projects["shop"]; pg.Role != domain.RoleDeveloper || pg.In("production") != domain.RoleViewer || len(got.Projects) != 1 {
		t.Fatalf("grants %+v", got.Projects)
	}
	must(c.s.SetMember(ctx, c.o, "shop", jane.ID, domain.Grant{Role: domain.RoleAdmin}))(t) // replaces
	cred, grants := must2(c.s.Session(ctx, jane.ID))(t)
	if cred.User.ID != jane.ID || grants["shop"].Role != domain.RoleAdmin || grants["shop"].EnvironmentRoles == nil || len(grants["shop"].EnvironmentRoles) != 0 {
		t.Fatalf("session %+v %+v", cred, grants)
	}
	_, err = c.s.SetMember(ctx, c.o, "nope", jane.ID, g)
	code(t, err, domain.CodeNotFound)
	_, err = c.s.SetMember(ctx, c.o, "shop", "00000000-0000-0000-0000-000000000000", g)
	code(t, err, domain.CodeNotFound)
	ok(t, c.s.RemoveMember(ctx, c.o, "shop", jane.ID))
	if got := must(c.s.User(ctx, jane.ID))(t); len(got.Projects) != 0 {
		t.Fatalf("grants after the removal %+v", got.Projects)
	}
	err = c.s.RemoveMember(ctx, c.o, "shop", jane.ID)
	code(t, err, domain.CodeNotFound)
	if bytes.Contains([]byte(domain.ErrorMessage(err)), []byte("Jane@")) {
		t.Errorf("the answer names the user by email: %v", err)
	}

	// Changes, field by field; what fn leaves nil stays.
	var sawHash string
	up := must(c.s.UpdateUser(ctx, c.o, jane.ID, func(u domain.User, hash string) (domain.UserChange, error) {
		sawHash = hash
		name, disabled := "Jane D.", true
		return domain.UserChange{Name: &name, Disabled: &disabled}, nil
	}))(t)
	if sawHash != "hash-1" || up.Name != "Jane D." || !up.Disabled || !up.InstanceAdmin || up.Email != jane.Email || up.UpdatedAt.Before(jane.UpdatedAt) {
		t.Fatalf("updated %+v (fn saw hash %q)", up, sawHash)
	}
	if after := must(c.s.CredentialsByEmail(ctx, jane.Email))(t); after.PasswordHash != "hash-1" || !after.PasswordChangedAt.Equal(cred.PasswordChangedAt) {
		t.Fatalf("a change without a password changed the password: %+v", after)
	}
	_, err = c.s.UpdateUser(ctx, c.o, "00000000-0000-0000-0000-000000000000", func(domain.User, string) (domain.UserChange, error) {
		return domain.UserChange{}, nil
	})
	code(t, err, domain.CodeNotFound)

	want := map[string]int{domain.ActionUserCreate: 4, domain.ActionMemberSet: 2, domain.ActionMemberRemove: 1, domain.ActionUserUpdate: 1}
	for action, n := range want {
		if got := len(c.trail(action)); got != n {
			t.Errorf("%d %s rows, want %d", got, action, n)
		}
	}
	c.invalidated("shop") // users and roles live outside the snapshots
}

// testPasswordChange: a new password moves the password's change time (ending earlier
// sessions) and revokes the user's live tokens, each with an audit row, in the same
// transaction.
func testPasswordChange(t *testing.T, c *contract) {
	c.project("shop")
	u := c.user("dev@example.com")
	owned := must(c.s.CreateToken(ctx, c.o, domain.APIToken{Name: "ci", Prefix: "sy_adm_aaaaaa", Project: "shop", Role: domain.RoleViewer,
		OwnerID: u.ID, EnvironmentRoles: map[string]domain.Role{}}, bytes.Repeat([]byte{1}, 32)))(t)
	revoked := must(c.s.CreateToken(ctx, c.o, domain.APIToken{Name: "old", Prefix: "sy_adm_bbbbbb", Project: "shop", Role: domain.RoleViewer,
		OwnerID: u.ID, EnvironmentRoles: map[string]domain.Role{}}, bytes.Repeat([]byte{2}, 32)))(t)
	ok(t, c.s.RevokeToken(ctx, c.o, revoked.ID))
	theirs := must(c.s.CreateToken(ctx, c.o, domain.APIToken{Name: "deploy", Prefix: "sy_adm_cccccc", Project: "shop", Role: domain.RoleAdmin,
		EnvironmentRoles: map[string]domain.Role{}}, bytes.Repeat([]byte{3}, 32)))(t)
	before := must(c.s.CredentialsByEmail(ctx, u.Email))(t)
	time.Sleep(2 * time.Millisecond)

	// A refused change revokes nothing.
	_, err := c.s.UpdateUser(ctx, c.o, u.ID, func(domain.User, string) (domain.UserChange, error) {
		return domain.UserChange{}, errRefused
	})
	if err == nil {
		t.Fatal("a refused change succeeded")
	}
	if tok := must(c.s.Token(ctx, owned.ID))(t); tok.RevokedAt != nil {
		t.Fatal("a refused change revoked a token")
	}

	hash := "new-hash"
	must(c.s.UpdateUser(ctx, c.o, u.ID, func(domain.User, string) (domain.UserChange, error) {
		return domain.UserChange{PasswordHash: &hash}, nil
	}))(t)
	after := must(c.s.CredentialsByEmail(ctx, u.Email))(t)
	if after.PasswordHash != "new-hash" || !after.PasswordChangedAt.After(before.PasswordChangedAt) {
		t.Fatalf("credentials after the change: %+v, before %+v", after, before)
	}
	if tok := must(c.s.Token(ctx, owned.ID))(t); tok.RevokedAt == nil {
		t.Error("the owner's live token survived the password change")
	}
	if tok := must(c.s.Token(ctx, theirs.ID))(t); tok.RevokedAt != nil {
		t.Error("a token of nobody was revoked")
	}
	rows := c.trail(domain.ActionTokenRevoke)
	if len(rows) != 2 || rows[0].EntityID != owned.ID || !bytes.Contains(rows[0].After, []byte("password changed")) {
		t.Fatalf("revocation rows %+v", rows)
	}
	upd := c.trail(domain.ActionUserUpdate)
	var recorded struct {
		PasswordChanged bool `json:"password_changed"`
	}
	if len(upd) != 1 || json.Unmarshal(upd[0].After, &recorded) != nil || !recorded.PasswordChanged || bytes.Contains(upd[0].After, []byte("new-hash")) {
		t.Fatalf("the change's audit row %+v", upd)
	}
}
