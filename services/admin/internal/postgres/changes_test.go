package postgres_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// change is one write of the store, with what it must leave behind: its audit row's
// action, and the environments ("project/env") it invalidates.
type change struct {
	name        string
	action      string
	invalidates []string
	run         func() error
}

// everyChange lists every write of the store, each of every action, in an order that
// lets each build on the ones before. Project shop exists before the first.
func everyChange(c *contract) []change {
	all := []string{"shop/development", "shop/production", "shop/qa", "shop/staging"}
	var key domain.SDKKey
	var tok domain.APIToken
	var user domain.User
	setConfig := func(action, env string) func() error {
		return func() error {
			_, err := c.s.UpdateConfig(ctx, c.o, action, "shop", "g", env, nil,
				func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
					cfg := st.Config
					cfg.Enabled = !cfg.Enabled
					return cfg, nil
				})
			return err
		}
	}
	updateFlag := func(action string, change func(*domain.Flag)) func() error {
		return func() error {
			_, err := c.s.UpdateFlag(ctx, c.o, action, "shop", "g", nil, func(cur domain.FlagState) (*domain.Flag, error) {
				f := cur.Flag
				change(&f)
				return &f, nil
			})
			return err
		}
	}
	return []change{
		{"create a project", domain.ActionProjectCreate, nil, func() error {
			_, err := c.s.CreateProject(ctx, c.o, domain.Project{Key: "gone", Name: "Gone"}, domain.DefaultEnvironments)
			return err
		}},
		{"update a project", domain.ActionProjectUpdate, nil, func() error {
			_, err := c.s.UpdateProject(ctx, c.o, "shop", func(p *domain.Project) error { p.Name = "Shop!"; return nil })
			return err
		}},
		{"create an environment", domain.ActionEnvironmentCreate, nil, func() error {
			_, err := c.s.CreateEnvironment(ctx, c.o, "shop", domain.Environment{Key: "qa", Name: "QA"})
			return err
		}},
		{"update an environment", domain.ActionEnvironmentUpdate, []string{"shop/qa"}, func() error {
			_, err := c.s.UpdateEnvironment(ctx, c.o, "shop", "qa", func(e *domain.Environment) error { e.Protected = true; return nil })
			return err
		}},
		{"create a flag", domain.ActionFlagCreate, all, func() error {
			_, err := c.s.CreateFlag(ctx, c.o, "shop", domain.Flag{Key: "g", Name: "g", Kind: domain.KindBoolean, Variants: domain.BooleanVariants(), Tags: []string{}})
			return err
		}},
		{"update a flag", domain.ActionFlagUpdate, all, updateFlag(domain.ActionFlagUpdate, func(f *domain.Flag) { f.Name = "G" })},
		{"archive a flag", domain.ActionFlagArchive, all, updateFlag(domain.ActionFlagArchive, func(f *domain.Flag) { f.Archived = true })},
		{"restore a flag", domain.ActionFlagUnarchive, all, updateFlag(domain.ActionFlagUnarchive, func(f *domain.Flag) { f.Archived = false })},
		{"kill a flag", domain.ActionFlagKill, all, updateFlag(domain.ActionFlagKill, func(f *domain.Flag) { f.Killed = true })},
		{"lift a kill", domain.ActionFlagUnkill, all, updateFlag(domain.ActionFlagUnkill, func(f *domain.Flag) { f.Killed = false })},
		{"write a configuration", domain.ActionConfigUpdate, []string{"shop/production"}, setConfig(domain.ActionConfigUpdate, "production")},
		{"toggle a configuration", domain.ActionConfigToggle, []string{"shop/staging"}, setConfig(domain.ActionConfigToggle, "staging")},
		{"revert a configuration", domain.ActionConfigRevert, []string{"shop/staging"}, func() error {
			// The store records what the service decided to revert; it does not judge it.
			_, err := c.s.RevertConfig(ctx, c.o, 1, "shop", "g", "staging", nil,
				func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
					cfg := st.Config
					cfg.Enabled = !cfg.Enabled
					return cfg, nil
				})
			return err
		}},
		{"create an SDK key", domain.ActionSDKKeyCreate, nil, func() (err error) {
			key, err = c.s.CreateSDKKey(ctx, c.o, "shop", "production", domain.SDKKey{Name: "k", Prefix: "sy_sdk_aaaaaa"}, bytes.Repeat([]byte{1}, 32))
			return err
		}},
		{"rotate an SDK key", domain.ActionSDKKeyRotate, []string{"shop/production"}, func() (err error) {
			key, _, err = c.s.RotateSDKKey(ctx, c.o, "shop", "production", key.ID, time.Hour, "sy_sdk_bbbbbb", bytes.Repeat([]byte{2}, 32))
			return err
		}},
		{"revoke an SDK key", domain.ActionSDKKeyRevoke, []string{"shop/production"}, func() error {
			return c.s.RevokeSDKKey(ctx, c.o, "shop", "production", key.ID)
		}},
		{"create a user", domain.ActionUserCreate, nil, func() (err error) {
			user, err = c.s.CreateUser(ctx, c.o, domain.User{Email: "u@example.com"}, "hash")
			return err
		}},
		{"grant a role", domain.ActionMemberSet, nil, func() error {
			_, err := c.s.SetMember(ctx, c.o, "shop", user.ID, domain.Grant{Role: domain.RoleViewer})
			return err
		}},
		{"create a token", domain.ActionTokenCreate, nil, func() (err error) {
			tok, err = c.s.CreateToken(ctx, c.o, domain.APIToken{Name: "t", Prefix: "sy_adm_aaaaaa", Project: "shop", Role: domain.RoleViewer,
				EnvironmentRoles: map[string]domain.Role{}}, bytes.Repeat([]byte{3}, 32))
			return err
		}},
		{"revoke a token", domain.ActionTokenRevoke, nil, func() error { return c.s.RevokeToken(ctx, c.o, tok.ID) }},
		{"update a user", domain.ActionUserUpdate, nil, func() error {
			_, err := c.s.UpdateUser(ctx, c.o, user.ID, func(domain.User, string) (domain.UserChange, error) {
				name := "U"
				return domain.UserChange{Name: &name}, nil
			})
			return err
		}},
		{"take a role away", domain.ActionMemberRemove, nil, func() error { return c.s.RemoveMember(ctx, c.o, "shop", user.ID) }},
		{"delete a flag", domain.ActionFlagDelete, all, func() error {
			return c.s.DeleteFlag(ctx, c.o, "shop", "g", nil, func(domain.FlagState) error { return nil })
		}},
		{"delete an environment", domain.ActionEnvironmentDelete, []string{"shop/qa"}, func() error {
			return c.s.DeleteEnvironment(ctx, c.o, "shop", "qa")
		}},
		{"delete a project", domain.ActionProjectDelete, []string{"gone/development", "gone/production", "gone/staging"}, func() error {
			return c.s.DeleteProject(ctx, c.o, "gone", nil)
		}},
	}
}

// versions returns every environment's version, by "project/env", with its id.
func (c *contract) versions() map[string]domain.Environment {
	c.t.Helper()
	out := map[string]domain.Environment{}
	projects, _ := must2(c.s.Projects(ctx, nil, true, domain.Keyset{Limit: 200}))(c.t)
	for _, p := range projects {
		for k, e := range c.envs(p.Key) {
			out[p.Key+"/"+k] = e
		}
	}
	return out
}

// testAuditWithEveryChange: every write appends exactly one audit row, of its action,
// naming the actor and the request.
func testAuditWithEveryChange(t *testing.T, c *contract) {
	c.project("shop")
	seen := map[string]bool{}
	for _, ch := range everyChange(c) {
		before := c.trail("")
		if err := ch.run(); err != nil {
			t.Fatalf("%s: %v", ch.name, err)
		}
		after := c.trail("")
		if len(after) != len(before)+1 {
			t.Fatalf("%s: %d audit rows, want one", ch.name, len(after)-len(before))
		}
		row := after[0]
		if row.Action != ch.action || row.Actor != c.o.Actor || row.RequestID != c.o.RequestID || row.At.IsZero() {
			t.Errorf("%s: audit row %+v, want action %s", ch.name, row, ch.action)
		}
		seen[ch.action] = true
	}
	// Every action of the trail has its change in the list.
	for _, a := range []string{domain.ActionProjectCreate, domain.ActionProjectUpdate, domain.ActionProjectDelete,
		domain.ActionEnvironmentCreate, domain.ActionEnvironmentUpdate, domain.ActionEnvironmentDelete,
		domain.ActionFlagCreate, domain.ActionFlagUpdate, domain.ActionFlagArchive, domain.ActionFlagUnarchive,
		domain.ActionFlagDelete, domain.ActionFlagKill, domain.ActionFlagUnkill, domain.ActionConfigUpdate, domain.ActionConfigToggle,
		domain.ActionConfigRevert,
		domain.ActionSDKKeyCreate, domain.ActionSDKKeyRotate, domain.ActionSDKKeyRevoke,
		domain.ActionUserCreate, domain.ActionUserUpdate, domain.ActionMemberSet, domain.ActionMemberRemove,
		domain.ActionTokenCreate, domain.ActionTokenRevoke} {
		if !seen[a] {
			t.Errorf("no change of action %s", a)
		}
	}
}

// testOutboxWithEveryChange: a write that changes what evaluators hold enqueues, in
// its transaction, the invalidation of each environment it affects at the version it
// gave it (past the last one, for an environment it deleted); the others enqueue
// nothing.
func testOutboxWithEveryChange(t *testing.T, c *contract) {
	c.project("shop")
	c.pending()
	for _, ch := range everyChange(c) {
		before := c.versions()
		if err := ch.run(); err != nil {
			t.Fatalf("%s: %v", ch.name, err)
		}
		after := c.versions()
		got := c.pending()
		if len(got) != len(ch.invalidates) {
			t.Errorf("%s: %d environments invalidated (%v), want %v", ch.name, len(got), got, ch.invalidates)
			continue
		}
		for _, k := range ch.invalidates {
			e, ok := before[k]
			if !ok {
				e = after[k] // created by this change
			}
			if got[e.ID] != e.Version+1 {
				t.Errorf("%s: %s invalidated at %d, want %d", ch.name, k, got[e.ID], e.Version+1)
			}
			if a, ok := after[k]; ok && a.Version != e.Version+1 {
				t.Errorf("%s: %s at version %d, want %d", ch.name, k, a.Version, e.Version+1)
			}
		}
	}
}

// testRefusedChangeWritesNothing: a change its caller refuses (a guard, a check or the
// closure returning an error) returns that error and writes nothing: no row, no audit
// row, no invalidation, no version.
func testRefusedChangeWritesNothing(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "f")
	u := c.user("u@example.com")
	c.pending()
	refuse := func([]domain.Environment) error { return errRefused }
	for _, r := range []struct {
		name string
		run  func() error
	}{
		{"update a project", func() error {
			_, err := c.s.UpdateProject(ctx, c.o, "shop", func(p *domain.Project) error { p.Name = "x"; return errRefused })
			return err
		}},
		{"delete a project", func() error { return c.s.DeleteProject(ctx, c.o, "shop", refuse) }},
		{"update an environment", func() error {
			_, err := c.s.UpdateEnvironment(ctx, c.o, "shop", "staging", func(e *domain.Environment) error { e.Name = "x"; return errRefused })
			return err
		}},
		{"update a flag", func() error {
			_, err := c.s.UpdateFlag(ctx, c.o, domain.ActionFlagUpdate, "shop", "f", nil, func(cur domain.FlagState) (*domain.Flag, error) {
				return &cur.Flag, errRefused
			})
			return err
		}},
		{"a guarded flag update", func() error {
			_, err := c.s.UpdateFlag(ctx, c.o, domain.ActionFlagKill, "shop", "f", refuse, func(cur domain.FlagState) (*domain.Flag, error) {
				f := cur.Flag
				f.Killed = true
				return &f, nil
			})
			return err
		}},
		{"delete a flag, refused by the check", func() error {
			return c.s.DeleteFlag(ctx, c.o, "shop", "f", nil, func(domain.FlagState) error { return errRefused })
		}},
		{"delete a flag, refused by the guard", func() error {
			return c.s.DeleteFlag(ctx, c.o, "shop", "f", refuse, func(domain.FlagState) error { return nil })
		}},
		{"write a configuration", func() error {
			_, err := c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "f", "production", []string{"f"},
				func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
					cfg := st.Config
					cfg.Enabled = true
					return cfg, errRefused
				})
			return err
		}},
		{"revert a configuration", func() error {
			_, err := c.s.RevertConfig(ctx, c.o, 1, "shop", "f", "production", []string{"f"},
				func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
					cfg := st.Config
					cfg.Enabled = true
					return cfg, errRefused
				})
			return err
		}},
		{"update a user", func() error {
			_, err := c.s.UpdateUser(ctx, c.o, u.ID, func(domain.User, string) (domain.UserChange, error) {
				name := "x"
				return domain.UserChange{Name: &name}, errRefused
			})
			return err
		}},
	} {
		before, trail, flag, user := c.versions(), len(c.trail("")), must(c.s.Flag(ctx, "shop", "f"))(t), must(c.s.User(ctx, u.ID))(t)
		if err := r.run(); !errors.Is(err, errRefused) {
			t.Fatalf("%s: %v, want the caller's error", r.name, err)
		}
		if n := len(c.trail("")); n != trail {
			t.Errorf("%s: %d audit rows written", r.name, n-trail)
		}
		if got := c.pending(); len(got) != 0 {
			t.Errorf("%s: invalidations %v", r.name, got)
		}
		for k, e := range c.versions() {
			if e != before[k] {
				t.Errorf("%s: %s changed: %+v, was %+v", r.name, k, e, before[k])
			}
		}
		if len(c.versions()) != len(before) {
			t.Errorf("%s: environments %d, were %d", r.name, len(c.versions()), len(before))
		}
		now := must(c.s.Flag(ctx, "shop", "f"))(t)
		if now.Name != flag.Name || now.Killed != flag.Killed || !now.UpdatedAt.Equal(flag.UpdatedAt) ||
			now.Environments["production"].Version != flag.Environments["production"].Version {
			t.Errorf("%s: the flag changed: %+v", r.name, now)
		}
		if got := must(c.s.User(ctx, u.ID))(t); got.Name != user.Name || !got.UpdatedAt.Equal(user.UpdatedAt) {
			t.Errorf("%s: the user changed: %+v", r.name, got)
		}
	}
	if p := must(c.s.Project(ctx, "shop"))(t); p.Name != "shop" {
		t.Errorf("the project changed: %+v", p)
	}
}
