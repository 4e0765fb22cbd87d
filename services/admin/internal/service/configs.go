package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/validate"
)

// ConfigStore is what configuration changes need from storage.
type ConfigStore interface {
	Config(ctx context.Context, projectKey, flagKey, envKey string) (domain.ConfigState, error)
	UpdateConfig(ctx context.Context, o domain.Origin, action, projectKey, flagKey, envKey string, requires []string,
		fn func(cur domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error)) (domain.ConfigState, error)
}

// ConfigInput replaces a flag's configuration in one environment. Version is the
// version being replaced (or send it as If-Match). The read-only fields a GET returns
// are accepted and ignored, so a client can send back what it read.
type ConfigInput struct {
	Enabled       bool                  `json:"enabled"`
	Rules         []domain.Rule         `json:"rules"`
	Default       *domain.Serve         `json:"default"`
	OffVariant    string                `json:"off_variant"`
	Prerequisites []domain.Prerequisite `json:"prerequisites"`
	Version       *int64                `json:"version"`

	UpdatedAt   json.RawMessage `json:"updated_at"`
	Flag        json.RawMessage `json:"flag"`
	Environment json.RawMessage `json:"environment"`
}

// expectedVersion reads the version a write replaces from the body or If-Match.
func expectedVersion(body *int64, ifMatch string) (int64, bool, error) {
	ifMatch = strings.TrimSpace(ifMatch)
	var header *int64
	if ifMatch != "" && ifMatch != "*" {
		s := strings.Trim(strings.TrimPrefix(ifMatch, "W/"), `"`)
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 1 {
			return 0, false, domain.InvalidField("request", "If-Match", `must be the version to replace, as "3"`)
		}
		header = &v
	}
	switch {
	case body != nil && header != nil && *body != *header:
		return 0, false, domain.InvalidField("request", "version", fmt.Sprintf("is %d but If-Match says %d", *body, *header))
	case body != nil:
		return *body, true, nil
	case header != nil:
		return *header, true, nil
	case ifMatch == "*":
		return 0, false, nil
	}
	return 0, false, &domain.Error{Code: domain.CodePrecondition,
		Message: "send the version you are replacing, as \"version\" in the body or an If-Match header (If-Match: * replaces any version)",
		Fields:  []domain.FieldError{{Field: "version", Message: "is required"}}}
}

func conflict(expected, current int64) error {
	return &domain.Error{Code: domain.CodeConflict,
		Message: fmt.Sprintf("version %d is not the current version %d: someone else changed this configuration; read it again and reapply your change", expected, current),
		Fields:  []domain.FieldError{{Field: "version", Message: fmt.Sprintf("the current version is %d", current)}},
		Extra:   map[string]any{"current_version": current}}
}

// fillRuleIDs names rules that came without an id: rule-1, rule-2 ... skipping ids in
// use.
func fillRuleIDs(rules []domain.Rule) {
	used := map[string]bool{}
	for _, r := range rules {
		used[r.ID] = true
	}
	n := 0
	for i := range rules {
		if rules[i].ID != "" {
			continue
		}
		for {
			n++
			id := fmt.Sprintf("rule-%d", n)
			if !used[id] {
				rules[i].ID, used[id] = id, true
				break
			}
		}
	}
}

// Config returns a flag's configuration in one environment.
func (s *Service) Config(ctx context.Context, o domain.Origin, projectKey, flagKey, envKey string) (domain.ConfigState, error) {
	if err := o.Need(projectKey, envKey, domain.RoleViewer); err != nil {
		return domain.ConfigState{}, err
	}
	return s.configs.Config(ctx, projectKey, flagKey, envKey)
}

// mayConfigure checks the role a configuration change needs: developer in the
// environment, admin where it is protected. It runs inside the change's transaction,
// on the environment as locked.
func mayConfigure(o domain.Origin, project string, env domain.Environment) error {
	need := domain.RoleDeveloper
	if env.Protected {
		need = domain.RoleAdmin
	}
	return o.Need(project, env.Key, need)
}

// ReplaceConfig replaces a flag's configuration in one environment, if the version the
// client replaces is still the current one.
func (s *Service) ReplaceConfig(ctx context.Context, o domain.Origin, projectKey, flagKey, envKey string, in ConfigInput, ifMatch string) (domain.ConfigState, error) {
	if err := o.Need(projectKey, envKey, domain.RoleDeveloper); err != nil {
		return domain.ConfigState{}, err
	}
	expected, check, err := expectedVersion(in.Version, ifMatch)
	if err != nil {
		return domain.ConfigState{}, err
	}
	if in.Default == nil {
		return domain.ConfigState{}, domain.InvalidField("configuration", "default", "is required: a variant or a rollout")
	}
	cfg, requires := replacement(domain.Config{Enabled: in.Enabled, Rules: in.Rules, Default: *in.Default,
		OffVariant: in.OffVariant, Prerequisites: in.Prerequisites})
	return s.configs.UpdateConfig(ctx, o, domain.ActionConfigUpdate, projectKey, flagKey, envKey, requires,
		replaceWith(o, projectKey, cfg, expected, check, nil, nil))
}

// replacement completes a configuration that replaces another: empty lists rather
// than none, an id for every rule. It returns the flags its prerequisites require,
// which the write loads with the flags they reach and those that depend on this one,
// to check prerequisites against (see ConfigStore.UpdateConfig).
func replacement(cfg domain.Config) (domain.Config, []string) {
	if cfg.Rules == nil {
		cfg.Rules = []domain.Rule{}
	}
	if cfg.Prerequisites == nil {
		cfg.Prerequisites = []domain.Prerequisite{}
	}
	fillRuleIDs(cfg.Rules)
	requires := make([]string, len(cfg.Prerequisites))
	for i, p := range cfg.Prerequisites {
		requires[i] = p.Flag
	}
	return cfg, requires
}

// replaceWith decides a write that replaces a configuration with cfg, in the write's
// transaction, on the state as locked: the caller's role in the environment, then
// also's check (when set), then the version the caller replaces (when check), then
// cfg against the flag as it is now, whose error invalid rewrites (when set).
func replaceWith(o domain.Origin, project string, cfg domain.Config, expected int64, check bool,
	also func(cur domain.ConfigState) error, invalid func(error) error) func(domain.ConfigState, map[string]domain.FlagConfig) (domain.Config, error) {
	return func(cur domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error) {
		if err := mayConfigure(o, project, cur.Environment); err != nil {
			return cfg, err
		}
		if also != nil {
			if err := also(cur); err != nil {
				return cfg, err
			}
		}
		if check && cur.Config.Version != expected {
			return cfg, conflict(expected, cur.Config.Version)
		}
		err := validate.Config(cur.Flag, cfg, reach)
		if err != nil && invalid != nil {
			err = invalid(err)
		}
		return cfg, err
	}
}

// ToggleInput sets enabled; without it, toggle flips the current state.
type ToggleInput struct {
	Enabled *bool `json:"enabled"`
}

// Toggle turns a flag's configuration in one environment on or off.
func (s *Service) Toggle(ctx context.Context, o domain.Origin, projectKey, flagKey, envKey string, in ToggleInput) (domain.ConfigState, error) {
	if err := o.Need(projectKey, envKey, domain.RoleDeveloper); err != nil {
		return domain.ConfigState{}, err
	}
	return s.configs.UpdateConfig(ctx, o, domain.ActionConfigToggle, projectKey, flagKey, envKey, nil,
		func(cur domain.ConfigState, _ map[string]domain.FlagConfig) (domain.Config, error) {
			if err := mayConfigure(o, projectKey, cur.Environment); err != nil {
				return cur.Config, err
			}
			cfg := cur.Config
			cfg.Enabled = !cfg.Enabled
			if in.Enabled != nil {
				cfg.Enabled = *in.Enabled
			}
			return cfg, nil
		})
}
