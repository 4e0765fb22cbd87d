package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
)

const (
	benchProject = "bench"     // benchFlags flags: the load runs
	bigProject   = "bench-big" // o.bigFlags flags: the memory measurement
	benchFlags   = 100
	benchEnv     = "production"
	singleFlag   = "flag-000"
)

// seeded is what the measurements use.
type seeded struct {
	benchKey, bigKey string // SDK keys of the two environments
}

// flagConfig is a realistic configuration: three rules over strings, sets and
// versions, then a 25% rollout.
func flagConfig() map[string]any {
	cond := func(attr, op string, values ...any) map[string]any {
		return map[string]any{"attribute": attr, "operator": op, "values": values}
	}
	return map[string]any{
		"enabled": true,
		"rules": []map[string]any{
			{"id": "staff", "conditions": []any{cond("email", "ends_with", "@example.com")}, "serve": map[string]any{"variant": "on"}},
			{"id": "eu-pro", "conditions": []any{cond("plan", "in", "pro", "enterprise"), cond("country", "in", "DE", "FR", "NL", "SE")},
				"serve": map[string]any{"variant": "on"}},
			{"id": "old-app", "conditions": []any{cond("app_version", "semver_lt", "2.0.0")}, "serve": map[string]any{"variant": "off"}},
		},
		"default":     map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 25, "off": 75}}},
		"off_variant": "off",
	}
}

// seedProject creates a project with n configured boolean flags, 8 at a time, and an
// SDK key for its production environment. It is idempotent.
func seedProject(ctx context.Context, admin *adminclient.Client, project string, n int) (string, error) {
	if err := admin.EnsureProject(ctx, project); err != nil {
		return "", err
	}
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				key := fmt.Sprintf("flag-%03d", i)
				if err := admin.EnsureFlag(ctx, project, map[string]any{"key": key, "kind": "boolean", "tags": []string{"bench"}}); err != nil {
					errs <- err
					continue
				}
				if _, err := admin.Configure(ctx, project, key, benchEnv, flagConfig()); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return "", err
	}
	return admin.SDKKey(ctx, project, benchEnv, "benchmark")
}

func seed(ctx context.Context, o options) (seeded, error) {
	admin := adminclient.New(o.admin, o.token)
	var s seeded
	var err error
	if s.benchKey, err = seedProject(ctx, admin, benchProject, benchFlags); err != nil {
		return s, err
	}
	if s.bigKey, err = seedProject(ctx, admin, bigProject, o.bigFlags); err != nil {
		return s, err
	}
	return s, nil
}
