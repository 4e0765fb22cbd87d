package postgres_test

import (
	"slices"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// testFlags: create (its initial configuration in every environment, each
// environment invalidated), read, list with filters and in pages, update on the state
// read in the transaction, delete; duplicates conflict.
func testFlags(t *testing.T, c *contract) {
	c.project("shop")
	c.pending()
	before := c.envs("shop")
	f := must(c.s.CreateFlag(ctx, c.o, "shop", domain.Flag{Key: "checkout/v2", Name: "Checkout", Description: "the new one",
		Kind: domain.KindBoolean, Variants: domain.BooleanVariants(), Tags: []string{"web"}, Salt: "s1"}))(t)
	if f.ID == "" || f.Key != "checkout/v2" || f.Salt != "s1" || f.Killed || f.Archived || f.CreatedAt.IsZero() ||
		!slices.Equal(f.Tags, []string{"web"}) || len(f.Variants) != 2 {
		t.Fatalf("created %+v", f.Flag)
	}
	if !slices.Equal(sortedKeys(f.Environments), []string{"development", "production", "staging"}) {
		t.Fatalf("configurations in %v", sortedKeys(f.Environments))
	}
	for env, cfg := range f.Environments {
		if cfg.Enabled || cfg.Version != 1 || cfg.OffVariant != domain.VariantOff || cfg.UpdatedAt.IsZero() {
			t.Errorf("initial configuration in %s: %+v", env, cfg)
		}
	}
	after := c.envs("shop")
	for k, e := range before {
		if after[k].Version != e.Version+1 {
			t.Errorf("%s at version %d after the creation, want %d", k, after[k].Version, e.Version+1)
		}
	}
	c.invalidated("shop", "development", "production", "staging")
	read := must(c.s.Flag(ctx, "shop", "checkout/v2"))(t)
	if read.ID != f.ID || read.Name != f.Name || !read.CreatedAt.Equal(f.CreatedAt) || len(read.Environments) != 3 {
		t.Fatalf("read %+v, created %+v", read, f)
	}
	for env, cfg := range read.Environments {
		if !cfg.UpdatedAt.Equal(f.Environments[env].UpdatedAt) || cfg.Version != f.Environments[env].Version {
			t.Errorf("%s: read %+v, created %+v", env, cfg, f.Environments[env])
		}
	}
	_, err := c.s.CreateFlag(ctx, c.o, "shop", domain.Flag{Key: "checkout/v2", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()})
	code(t, err, domain.CodeConflict)
	_, err = c.s.Flag(ctx, "shop", "nope")
	code(t, err, domain.CodeNotFound)
	_, err = c.s.CreateFlag(ctx, c.o, "nope", domain.Flag{Key: "x", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()})
	code(t, err, domain.CodeNotFound)

	// Listing: filters, pages, and each environment's state.
	c.flag("shop", "alpha", "web", "beta")
	c.flag("shop", "zeta")
	list := func(filter domain.FlagFilter, limit int) []string {
		t.Helper()
		var out []string
		page := domain.Keyset{Limit: limit}
		for {
			items, next := must2(c.s.Flags(ctx, "shop", filter, page))(t)
			for _, it := range items {
				out = append(out, it.Key)
				if len(it.Environments) != 3 || it.Environments["production"].Version != 1 {
					t.Errorf("%s: states %+v", it.Key, it.Environments)
				}
			}
			if next == "" {
				return out
			}
			page.After = next
		}
	}
	if got := list(domain.FlagFilter{}, 2); !slices.Equal(got, []string{"alpha", "checkout/v2", "zeta"}) {
		t.Errorf("all flags, two a page: %v", got)
	}
	if got := list(domain.FlagFilter{Tag: "web"}, 10); !slices.Equal(got, []string{"alpha", "checkout/v2"}) {
		t.Errorf("tag web: %v", got)
	}
	if got := list(domain.FlagFilter{Query: "NEW ONE"}, 10); !slices.Equal(got, []string{"checkout/v2"}) {
		t.Errorf("query: %v", got)
	}
	if got := list(domain.FlagFilter{Query: "%"}, 10); len(got) != 0 {
		t.Errorf("a percent sign matches itself only: %v", got)
	}
	if got := list(domain.FlagFilter{Archived: true}, 10); len(got) != 0 {
		t.Errorf("archived: %v", got)
	}
	c.pending()

	// An update sees the flag's state as the transaction read it.
	var saw domain.FlagState
	up := must(c.s.UpdateFlag(ctx, c.o, domain.ActionFlagArchive, "shop", "zeta", nil, func(cur domain.FlagState) (*domain.Flag, error) {
		saw = cur
		f := cur.Flag
		f.Name, f.Archived, f.Tags = "Zeta", true, []string{"old"}
		return &f, nil
	}))(t)
	if saw.Flag.Key != "zeta" || saw.Flag.Archived || !slices.Equal(keys(saw.Environments), []string{"development", "production", "staging"}) ||
		len(saw.Configs) != 3 || len(saw.Dependents) != 0 {
		t.Fatalf("fn saw %+v", saw)
	}
	if up.Name != "Zeta" || !up.Archived || !slices.Equal(up.Tags, []string{"old"}) || len(up.Environments) != 3 || up.UpdatedAt.IsZero() {
		t.Fatalf("updated %+v", up)
	}
	if got := must(c.s.Flag(ctx, "shop", "zeta"))(t); got.Name != up.Name || !got.Archived || !got.UpdatedAt.Equal(up.UpdatedAt) {
		t.Fatalf("read %+v after the update answered %+v", got.Flag, up.Flag)
	}
	c.invalidated("shop", "development", "production", "staging")
	if got := list(domain.FlagFilter{Archived: true}, 10); !slices.Equal(got, []string{"zeta"}) {
		t.Errorf("archived: %v", got)
	}
	row := c.trail(domain.ActionFlagArchive)
	if len(row) != 1 || row[0].FlagKey != "zeta" || row[0].Before == nil || row[0].After == nil {
		t.Fatalf("the update's audit row: %+v", row)
	}

	// A flag other flags depend on: the dependents come with the state.
	must(c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "alpha", "production", nil,
		func(cur domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
			cfg := cur.Config
			cfg.Prerequisites = []domain.Prerequisite{{Flag: "checkout/v2", Variant: "on"}}
			return cfg, nil
		}))(t)
	var checked domain.FlagState
	code(t, c.s.DeleteFlag(ctx, c.o, "shop", "checkout/v2", nil, func(cur domain.FlagState) error {
		checked = cur
		return domain.Errorf(domain.CodeConflict, "depended on")
	}), domain.CodeConflict)
	if want := []domain.Dependent{{Flag: "alpha", Environment: "production", Variant: "on"}}; !slices.Equal(checked.Dependents, want) {
		t.Fatalf("dependents %+v, want %+v", checked.Dependents, want)
	}
	must(c.s.Flag(ctx, "shop", "checkout/v2"))(t)

	c.pending()
	var guarded []string
	ok(t, c.s.DeleteFlag(ctx, c.o, "shop", "zeta", func(envs []domain.Environment) error {
		guarded = keys(envs)
		return nil
	}, func(domain.FlagState) error { return nil }))
	if !slices.Equal(guarded, []string{"development", "production", "staging"}) {
		t.Fatalf("the guard saw %v", guarded)
	}
	_, err = c.s.Flag(ctx, "shop", "zeta")
	code(t, err, domain.CodeNotFound)
	c.invalidated("shop", "development", "production", "staging")
	code(t, c.s.DeleteFlag(ctx, c.o, "shop", "zeta", nil, func(domain.FlagState) error { return nil }), domain.CodeNotFound)
	if rows := c.trail(domain.ActionFlagDelete); len(rows) != 1 || rows[0].FlagKey != "zeta" || rows[0].After != nil && string(rows[0].After) != "null" {
		t.Fatalf("the deletion's audit row: %+v", rows)
	}
}

// testKill: a guard sees every environment as locked before the flag is read, and
// refuses the change with nothing written; an update that returns no flag writes,
// audits and invalidates nothing.
func testKill(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "f")
	kill := func(guard domain.Guard) (domain.FlagDetail, error) {
		return c.s.UpdateFlag(ctx, c.o, domain.ActionFlagKill, "shop", "f", guard, func(cur domain.FlagState) (*domain.Flag, error) {
			if cur.Flag.Killed {
				return nil, nil
			}
			f := cur.Flag
			f.Killed = true
			return &f, nil
		})
	}
	refuse := func(envs []domain.Environment) error {
		for _, e := range envs {
			if e.Protected {
				return domain.Errorf(domain.CodeForbidden, "protected %s", e.Key)
			}
		}
		return nil
	}
	c.pending()
	versions := c.envs("shop")
	_, err := kill(refuse)
	code(t, err, domain.CodeForbidden)
	// The guard runs before the flag is read: a missing flag is still refused.
	_, err = c.s.UpdateFlag(ctx, c.o, domain.ActionFlagKill, "shop", "ghost", refuse, func(domain.FlagState) (*domain.Flag, error) {
		t.Fatal("fn called for a refused change")
		return nil, nil
	})
	code(t, err, domain.CodeForbidden)
	if f := must(c.s.Flag(ctx, "shop", "f"))(t); f.Killed {
		t.Fatal("a refused kill was written")
	}
	c.invalidated("shop")

	killed := must(kill(nil))(t)
	if !killed.Killed {
		t.Fatal("not killed")
	}
	c.invalidated("shop", "development", "production", "staging")
	trail := len(c.trail(""))
	again := must(kill(nil))(t)
	if !again.Killed || !again.UpdatedAt.Equal(killed.UpdatedAt) || len(again.Environments) != 3 {
		t.Fatalf("killing a killed flag answered %+v", again.Flag)
	}
	if n := len(c.trail("")); n != trail {
		t.Errorf("killing a killed flag wrote %d audit rows", n-trail)
	}
	c.invalidated("shop")
	for k, e := range c.envs("shop") {
		if e.Version != versions[k].Version+1 {
			t.Errorf("%s at version %d, want %d: one kill", k, e.Version, versions[k].Version+1)
		}
	}
}
