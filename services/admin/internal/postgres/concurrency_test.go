package postgres_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// race runs n functions at once, released together, and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// outcomes counts errors by code ("" for success).
func outcomes(errs []error) map[domain.Code]int {
	out := map[domain.Code]int{}
	for _, err := range errs {
		out[domain.ErrorCode(err)]++
	}
	return out
}

// testConcurrentConfigWrites: 50 writes replacing the same version at once (the check
// the service makes, in the closure): exactly one wins, the others conflict, the
// version moves by one, and the trail and the outbox record exactly the winner.
func testConcurrentConfigWrites(t *testing.T, c *contract) {
	c.project("shop")
	c.flag("shop", "f")
	c.pending()
	prod := c.env("shop", "production")
	const writers = 50
	errs := race(writers, func(i int) error {
		_, err := c.s.UpdateConfig(ctx, c.o, domain.ActionConfigUpdate, "shop", "f", "production", nil,
			func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
				if st.Config.Version != 1 {
					return st.Config, domain.Errorf(domain.CodeConflict, "version 1 is not the current version %d", st.Config.Version)
				}
				cfg := st.Config
				cfg.Enabled = true
				cfg.Rules = []domain.Rule{{ID: fmt.Sprintf("writer-%d", i), Conditions: []domain.Condition{}, Serve: domain.Serve{Variant: "on"}}}
				return cfg, nil
			})
		return err
	})
	if got := outcomes(errs); got[""] != 1 || got[domain.CodeConflict] != writers-1 {
		t.Fatalf("outcomes %v: want one success and %d conflicts", got, writers-1)
	}
	if n := len(c.trail(domain.ActionConfigUpdate)); n != 1 {
		t.Errorf("%d audit rows for one successful write", n)
	}
	if v := must(c.s.Config(ctx, "shop", "f", "production"))(t).Config.Version; v != 2 {
		t.Errorf("version %d, want 2", v)
	}
	if got := c.pending(); len(got) != 1 || got[prod.ID] != prod.Version+1 {
		t.Errorf("invalidations %v, want production once, at %d", got, prod.Version+1)
	}
}

// testConcurrentCreates: creations of one key at once: one succeeds, the others
// conflict, and one audit row records it.
func testConcurrentCreates(t *testing.T, c *contract) {
	c.project("shop")
	const n = 20
	for _, tc := range []struct {
		name, action string
		create       func() error
	}{
		{"project", domain.ActionProjectCreate, func() error {
			_, err := c.s.CreateProject(ctx, c.o, domain.Project{Key: "twin", Name: "Twin"}, domain.DefaultEnvironments)
			return err
		}},
		{"environment", domain.ActionEnvironmentCreate, func() error {
			_, err := c.s.CreateEnvironment(ctx, c.o, "shop", domain.Environment{Key: "twin", Name: "Twin"})
			return err
		}},
		{"flag", domain.ActionFlagCreate, func() error {
			_, err := c.s.CreateFlag(ctx, c.o, "shop", domain.Flag{Key: "twin", Name: "Twin", Kind: domain.KindBoolean,
				Variants: domain.BooleanVariants(), Tags: []string{}})
			return err
		}},
		{"user", domain.ActionUserCreate, func() error {
			_, err := c.s.CreateUser(ctx, c.o, domain.User{Email: "twin@example.com"}, "hash")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := race(n, func(int) error { return tc.create() })
			if got := outcomes(errs); got[""] != 1 || got[domain.CodeConflict] != n-1 {
				t.Fatalf("outcomes %v: want one success and %d conflicts", got, n-1)
			}
			want := 1
			if tc.action == domain.ActionProjectCreate {
				want = 2 // shop's, and the winner's
			}
			if rows := len(c.trail(tc.action)); rows != want {
				t.Errorf("%d %s rows, want %d", rows, tc.action, want)
			}
		})
	}
	if envs := c.envs("twin"); len(envs) != len(domain.DefaultEnvironments) {
		t.Errorf("the project created once has %d environments", len(envs))
	}
	if f := must(c.s.Flag(ctx, "shop", "twin"))(t); len(f.Environments) != 4 {
		t.Errorf("the flag created once has %d configurations", len(f.Environments))
	}
}

// testConcurrentWritesToDifferentFlags: writes to different flags at once, configurations
// in several environments and definitions reaching all of them, all succeed: they
// queue on the environments' locks (taken in one order, so never deadlocked) and each
// lands, audited, at its own version.
func testConcurrentWritesToDifferentFlags(t *testing.T, c *contract) {
	c.project("shop")
	const flags = 24
	for i := range flags {
		c.flag("shop", fmt.Sprintf("f%02d", i))
	}
	c.pending()
	before := c.envs("shop")
	envs := []string{"development", "staging", "production"}
	errs := race(flags, func(i int) error {
		key := fmt.Sprintf("f%02d", i)
		if i%4 == 3 { // a definition change: every environment
			_, err := c.s.UpdateFlag(ctx, c.o, domain.ActionFlagUpdate, "shop", key, nil, func(cur domain.FlagState) (*domain.Flag, error) {
				f := cur.Flag
				f.Description = "changed"
				return &f, nil
			})
			return err
		}
		_, err := c.s.UpdateConfig(ctx, c.o, domain.ActionConfigToggle, "shop", key, envs[i%3], nil,
			func(st domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
				cfg := st.Config
				cfg.Enabled = true
				return cfg, nil
			})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("f%02d: %v", i, err)
		}
	}
	// Each environment moved once per write that touched it.
	touched := map[string]int64{}
	for i := range flags {
		if i%4 == 3 {
			for _, e := range envs {
				touched[e]++
			}
		} else {
			touched[envs[i%3]]++
		}
	}
	after := c.envs("shop")
	for _, e := range envs {
		if after[e].Version != before[e].Version+touched[e] {
			t.Errorf("%s at version %d, want %d", e, after[e].Version, before[e].Version+touched[e])
		}
	}
	if n := len(c.trail(domain.ActionConfigToggle)) + len(c.trail(domain.ActionFlagUpdate)); n != flags {
		t.Errorf("%d audit rows for %d writes", n, flags)
	}
	for i := range flags {
		f := must(c.s.Flag(ctx, "shop", fmt.Sprintf("f%02d", i)))(t)
		if i%4 == 3 && f.Description != "changed" || i%4 != 3 && !f.Environments[envs[i%3]].Enabled {
			t.Errorf("f%02d was not written: %+v", i, f)
		}
	}
	got := c.pending()
	for _, e := range envs {
		if got[after[e].ID] != after[e].Version {
			t.Errorf("%s invalidated at %d, want its version %d", e, got[after[e].ID], after[e].Version)
		}
	}
}
