package main

import (
	"context"
	"fmt"
	"io"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/config"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// seedProject is the key of the demo project.
const seedProject = "demo"

func seedCommand(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	created, err := seed(ctx, a.Service)
	if err != nil {
		return err
	}
	a.Worker.Drain(ctx)
	if created {
		fmt.Fprintln(stdout, "seeded the demo project: new-checkout, dark-mode, button-color")
	} else {
		fmt.Fprintln(stdout, "the demo project exists; left as it is")
	}
	return nil
}

// seed creates the demo project, unless it exists: a boolean flag with targeting rules,
// a percentage rollout, and a string flag with variants. It goes through the service,
// so the seed is validated and audited like any change.
func seed(ctx context.Context, svc *service.Service) (bool, error) {
	o := domain.Origin{Actor: domain.Actor{Type: domain.ActorSystem, ID: "seed", Name: "demo seed"}}
	if _, err := svc.Project(ctx, o, seedProject); err == nil {
		return false, nil
	} else if domain.ErrorCode(err) != domain.CodeNotFound {
		return false, err
	}
	if _, err := svc.CreateProject(ctx, o, service.ProjectInput{Key: seedProject, Name: "Demo shop",
		Description: "Created by make run: three flags to try the API with"}); err != nil {
		return false, fmt.Errorf("seed project: %w", err)
	}
	flags := []service.FlagInput{
		{Key: "new-checkout", Name: "New checkout", Kind: domain.KindBoolean, Tags: []string{"checkout", "team:web"},
			Description: "The redesigned checkout: staff first, then premium customers, then 10% of everyone"},
		{Key: "dark-mode", Name: "Dark mode", Kind: domain.KindBoolean, Tags: []string{"ui"},
			Description: "A percentage rollout of the dark theme"},
		{Key: "button-color", Name: "Buy button colour", Kind: domain.KindString, Tags: []string{"ui", "experiment"},
			Description: "An A/B test of the buy button's colour",
			Variants:    []domain.Variant{{Key: "red", Value: "red"}, {Key: "blue", Value: "blue"}, {Key: "green", Value: "green"}}},
	}
	for _, f := range flags {
		if _, err := svc.CreateFlag(ctx, o, seedProject, f); err != nil {
			return false, fmt.Errorf("seed flag %s: %w", f.Key, err)
		}
	}
	v1 := int64(1)
	configs := map[string]service.ConfigInput{
		"new-checkout": {Enabled: true, OffVariant: "off", Version: &v1,
			Rules: []domain.Rule{
				{ID: "staff", Conditions: []domain.Condition{{Attribute: "email", Operator: domain.OpEndsWith, Values: []any{"@example.com"}}},
					Serve: domain.Serve{Variant: "on"}},
				{ID: "premium", Conditions: []domain.Condition{{Attribute: "plan", Operator: domain.OpIn, Values: []any{"premium", "enterprise"}}},
					Serve: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 50, "off": 50}, BucketBy: "company.id"}}},
			},
			Default: &domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 10, "off": 90}}}},
		"dark-mode": {Enabled: true, OffVariant: "off", Version: &v1,
			Default: &domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 25, "off": 75}}}},
		"button-color": {Enabled: true, OffVariant: "red", Version: &v1,
			Rules: []domain.Rule{{ID: "benelux", Conditions: []domain.Condition{{Attribute: "country", Operator: domain.OpIn, Values: []any{"NL", "BE", "LU"}}},
				Serve: domain.Serve{Variant: "green"}}},
			Default: &domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"red": 50, "blue": 50}}}},
	}
	for _, env := range []string{"development", "staging", "production"} {
		for _, key := range []string{"new-checkout", "dark-mode", "button-color"} {
			if _, err := svc.ReplaceConfig(ctx, o, seedProject, key, env, configs[key], ""); err != nil {
				return false, fmt.Errorf("seed %s in %s: %w", key, env, err)
			}
		}
	}
	return true, nil
}
