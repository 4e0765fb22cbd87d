package postgres_test

import (
	"slices"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// testEnvironments: create (existing flags get their initial configuration there),
// read, list in pages, update (a new version, invalidated), delete (invalidated past
// its version, its configurations gone).
func testEnvironments(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "f")
	c.pending()
	qa := must(c.s.CreateEnvironment(ctx, c.o, "shop", domain.Environment{Key: "qa", Name: "QA", Description: "tests", Protected: true}))(t)
	if qa.ID == "" || qa.Key != "qa" || qa.Name != "QA" || qa.Description != "tests" || !qa.Protected || qa.Version != 1 || qa.CreatedAt.IsZero() {
		t.Fatalf("created %+v", qa)
	}
	if got := c.env("shop", "qa"); got != qa {
		t.Fatalf("read %+v, created %+v", got, qa)
	}
	st := must(c.s.Config(ctx, "shop", "f", "qa"))(t)
	if st.Config.Enabled || st.Config.OffVariant != domain.VariantOff || st.Config.Default.Variant != domain.VariantOff ||
		st.Config.Version != 1 || st.Environment.ID != qa.ID || st.Flag.Key != "f" {
		t.Fatalf("the flag's initial configuration in the new environment: %+v", st)
	}
	_, err := c.s.CreateEnvironment(ctx, c.o, "shop", domain.Environment{Key: "qa", Name: "again"})
	code(t, err, domain.CodeConflict)
	_, err = c.s.CreateEnvironment(ctx, c.o, "nope", domain.Environment{Key: "x", Name: "x"})
	code(t, err, domain.CodeNotFound)
	c.invalidated("shop")

	var seen []string
	page := domain.Keyset{Limit: 3}
	for {
		items, next := must2(c.s.Environments(ctx, "shop", page))(t)
		seen = append(seen, keys(items)...)
		if next == "" {
			break
		}
		page.After = next
	}
	if !slices.Equal(seen, []string{"development", "production", "qa", "staging"}) {
		t.Fatalf("paged through %v", seen)
	}
	if all := keys(must(c.s.AllEnvironments(ctx, "shop"))(t)); !slices.Equal(all, seen) {
		t.Fatalf("all environments %v", all)
	}
	_, err = c.s.Environment(ctx, "shop", "nowhere")
	code(t, err, domain.CodeNotFound)

	var saw domain.Environment
	up := must(c.s.UpdateEnvironment(ctx, c.o, "shop", "qa", func(e *domain.Environment) error {
		saw = *e
		e.Name, e.Description, e.Protected = "Quality", "", false
		return nil
	}))(t)
	if saw != qa {
		t.Fatalf("fn saw %+v, want %+v", saw, qa)
	}
	if up.Name != "Quality" || up.Description != "" || up.Protected || up.Version != 2 || up.ID != qa.ID {
		t.Fatalf("updated %+v", up)
	}
	if got := c.env("shop", "qa"); got != up {
		t.Fatalf("read %+v after the update answered %+v", got, up)
	}
	c.invalidated("shop", "qa")

	ok(t, c.s.DeleteEnvironment(ctx, c.o, "shop", "qa"))
	_, err = c.s.Environment(ctx, "shop", "qa")
	code(t, err, domain.CodeNotFound)
	_, err = c.s.Config(ctx, "shop", "f", "qa")
	code(t, err, domain.CodeNotFound)
	if got := c.pending(); len(got) != 1 || got[qa.ID] != up.Version+1 {
		t.Fatalf("invalidations after the delete %v, want %s at %d", got, qa.ID, up.Version+1)
	}
	code(t, c.s.DeleteEnvironment(ctx, c.o, "shop", "qa"), domain.CodeNotFound)
	if f := must(c.s.Flag(ctx, "shop", "f"))(t); !slices.Equal(sortedKeys(f.Environments), []string{"development", "production", "staging"}) {
		t.Fatalf("the flag's configurations %v", sortedKeys(f.Environments))
	}

	var actions []string
	for _, r := range c.trail("") {
		if r.EnvironmentKey == "qa" {
			actions = append(actions, r.Action)
		}
	}
	if !slices.Equal(actions, []string{domain.ActionEnvironmentDelete, domain.ActionEnvironmentUpdate, domain.ActionEnvironmentCreate}) {
		t.Fatalf("qa's trail %v", actions)
	}
}
