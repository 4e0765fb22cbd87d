package postgres_test

import (
	"slices"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// testProjects: create, read, list by key in pages, update, delete; each change
// audited, the deletion invalidating the project's environments.
func testProjects(t *testing.T, c *contract) {
	p := must(c.s.CreateProject(ctx, c.o, domain.Project{Key: "shop", Name: "Shop", Description: "ours"}, domain.DefaultEnvironments))(t)
	if p.ID == "" || p.Key != "shop" || p.Name != "Shop" || p.Description != "ours" || p.CreatedAt.IsZero() {
		t.Fatalf("created %+v", p)
	}
	if got := must(c.s.Project(ctx, "shop"))(t); got != p {
		t.Fatalf("read %+v, created %+v", got, p)
	}
	envs := must(c.s.AllEnvironments(ctx, "shop"))(t)
	if !slices.Equal(keys(envs), []string{"development", "production", "staging"}) {
		t.Fatalf("environments %v", keys(envs))
	}
	for _, e := range envs {
		if e.Protected != (e.Key == "production") || e.Version != 1 || e.ID == "" {
			t.Errorf("environment %+v", e)
		}
	}
	_, err := c.s.CreateProject(ctx, c.o, domain.Project{Key: "shop", Name: "again"}, nil)
	code(t, err, domain.CodeConflict)
	c.invalidated("shop") // creating invalidates nothing: no evaluator knows the project yet

	for _, k := range []string{"alpha", "beta", "gamma"} {
		c.project(k)
	}
	var seen []string
	page := domain.Keyset{Limit: 2}
	for range 5 {
		items, next := must2(c.s.Projects(ctx, nil, true, page))(t)
		for _, it := range items {
			seen = append(seen, it.Key)
		}
		if next == "" {
			break
		}
		if next != items[len(items)-1].Key {
			t.Fatalf("next %q is not the page's last key", next)
		}
		page.After = next
	}
	if !slices.Equal(seen, []string{"alpha", "beta", "gamma", "shop"}) {
		t.Fatalf("paged through %v", seen)
	}
	only, next := must2(c.s.Projects(ctx, []string{"gamma", "alpha", "nope"}, false, domain.Keyset{Limit: 10}))(t)
	if len(only) != 2 || only[0].Key != "alpha" || only[1].Key != "gamma" || next != "" {
		t.Fatalf("named projects %v %q", only, next)
	}
	if none, _ := must2(c.s.Projects(ctx, nil, false, domain.Keyset{Limit: 10}))(t); len(none) != 0 {
		t.Fatalf("no project named, got %v", none)
	}

	up := must(c.s.UpdateProject(ctx, c.o, "shop", func(p *domain.Project) error {
		p.Name, p.Description = "The Shop", "still ours"
		return nil
	}))(t)
	if up.Name != "The Shop" || up.Description != "still ours" || up.ID != p.ID || up.UpdatedAt.Before(p.UpdatedAt) {
		t.Fatalf("updated %+v", up)
	}
	if got := must(c.s.Project(ctx, "shop"))(t); got != up {
		t.Fatalf("read %+v after the update answered %+v", got, up)
	}
	_, err = c.s.UpdateProject(ctx, c.o, "nope", func(*domain.Project) error { return nil })
	code(t, err, domain.CodeNotFound)
	c.invalidated("shop")

	ids := c.envs("shop")
	var guarded []string
	ok(t, c.s.DeleteProject(ctx, c.o, "shop", func(envs []domain.Environment) error {
		guarded = keys(envs)
		return nil
	}))
	if !slices.Equal(guarded, []string{"development", "production", "staging"}) {
		t.Fatalf("the guard saw %v", guarded)
	}
	_, err = c.s.Project(ctx, "shop")
	code(t, err, domain.CodeNotFound)
	code(t, c.s.DeleteProject(ctx, c.o, "shop", nil), domain.CodeNotFound)
	// Evaluators drop the deleted environments: each is invalidated past its version.
	got := c.pending()
	if len(got) != 3 {
		t.Fatalf("invalidations %v", got)
	}
	for _, e := range ids {
		if got[e.ID] != e.Version+1 {
			t.Errorf("%s invalidated at %d, want %d", e.Key, got[e.ID], e.Version+1)
		}
	}

	rows := c.trail("")
	var actions []string
	for _, r := range rows {
		if r.ProjectKey == "shop" {
			actions = append(actions, r.Action)
		}
	}
	if !slices.Equal(actions, []string{domain.ActionProjectDelete, domain.ActionProjectUpdate, domain.ActionProjectCreate}) {
		t.Fatalf("shop's trail %v", actions)
	}
}
