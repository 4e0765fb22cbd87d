package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/validate"
)

// FlagStore is what flag management needs from storage.
type FlagStore interface {
	CreateFlag(ctx context.Context, o domain.Origin, projectKey string, f domain.Flag) (domain.FlagDetail, error)
	Flags(ctx context.Context, projectKey string, filter domain.FlagFilter, page domain.Keyset) ([]domain.FlagSummary, string, error)
	Flag(ctx context.Context, projectKey, key string) (domain.FlagDetail, error)
	UpdateFlag(ctx context.Context, o domain.Origin, action, projectKey, key string, guard domain.Guard,
		fn func(cur domain.FlagState) (*domain.Flag, error)) (domain.FlagDetail, error)
	DeleteFlag(ctx context.Context, o domain.Origin, projectKey, key string, guard domain.Guard,
		check func(cur domain.FlagState) error) error
}

// FlagInput creates a flag. Variants may be left out for a boolean flag.
type FlagInput struct {
	Key         string           `json:"key"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Kind        domain.Kind      `json:"kind"`
	Variants    []domain.Variant `json:"variants"`
	Tags        []string         `json:"tags"`
}

// CreateFlag creates a flag, off in every environment. Its bucketing salt is random,
// so a flag re-created under an old key does not inherit the old one's buckets.
func (s *Service) CreateFlag(ctx context.Context, o domain.Origin, projectKey string, in FlagInput) (domain.FlagDetail, error) {
	if err := o.Need(projectKey, "", domain.RoleDeveloper); err != nil {
		return domain.FlagDetail{}, err
	}
	f := domain.Flag{Key: in.Key, Name: in.Name, Description: in.Description, Kind: in.Kind,
		Variants: in.Variants, Tags: in.Tags, Salt: rand.Text()}
	if f.Name == "" {
		f.Name = f.Key
	}
	if f.Tags == nil {
		f.Tags = []string{}
	}
	f.Normalize()
	if err := validate.Flag(f); err != nil {
		return domain.FlagDetail{}, err
	}
	return s.flags.CreateFlag(ctx, o, projectKey, f)
}

// Flags lists a project's flags.
func (s *Service) Flags(ctx context.Context, o domain.Origin, projectKey string, filter domain.FlagFilter, page domain.Keyset) ([]domain.FlagSummary, string, error) {
	if err := o.Need(projectKey, "", domain.RoleViewer); err != nil {
		return nil, "", err
	}
	return s.flags.Flags(ctx, projectKey, filter, keyset(page))
}

// Flag returns a flag with its configuration in every environment.
func (s *Service) Flag(ctx context.Context, o domain.Origin, projectKey, key string) (domain.FlagDetail, error) {
	if err := o.Need(projectKey, "", domain.RoleViewer); err != nil {
		return domain.FlagDetail{}, err
	}
	return s.flags.Flag(ctx, projectKey, key)
}

// FlagPatch changes the fields it sets. Key and kind never change.
type FlagPatch struct {
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	Tags        *[]string         `json:"tags"`
	Variants    *[]domain.Variant `json:"variants"`
	Archived    *bool             `json:"archived"`
}

// UpdateFlag changes a flag's definition, or archives or restores it. Variants still
// referenced by a configuration, or by another flag's prerequisite, cannot be removed;
// a flag other flags depend on cannot be archived. A change that alters what
// environments serve needs the configuration role in every environment (access.go).
func (s *Service) UpdateFlag(ctx context.Context, o domain.Origin, projectKey, key string, in FlagPatch) (domain.FlagDetail, error) {
	if err := o.Need(projectKey, "", domain.RoleDeveloper); err != nil {
		return domain.FlagDetail{}, err
	}
	action := domain.ActionFlagUpdate
	if in.Archived != nil && in.Name == nil && in.Description == nil && in.Tags == nil && in.Variants == nil {
		action = domain.ActionFlagUnarchive
		if *in.Archived {
			action = domain.ActionFlagArchive
		}
	}
	return s.flags.UpdateFlag(ctx, o, action, projectKey, key, nil, func(cur domain.FlagState) (*domain.Flag, error) {
		f := cur.Flag
		serving := in.Archived != nil && *in.Archived != f.Archived ||
			in.Variants != nil && variantsChangeServing(f.Variants, *in.Variants)
		if serving {
			if err := needEverywhere(o, projectKey, cur.Environments, writeRole); err != nil {
				return nil, err
			}
		}
		if in.Name != nil {
			f.Name = *in.Name
		}
		if in.Description != nil {
			f.Description = *in.Description
		}
		if in.Tags != nil {
			f.Tags = *in.Tags
		}
		if in.Variants != nil {
			f.Variants = *in.Variants
		}
		if err := validate.Flag(f); err != nil {
			return nil, err
		}
		if in.Variants != nil {
			if err := variantsStillReferenced(f, cur.Configs, cur.Dependents); err != nil {
				return nil, err
			}
		}
		if in.Archived != nil && *in.Archived && !f.Archived {
			if err := noDependents("archive", f.Key, cur.Dependents); err != nil {
				return nil, err
			}
		}
		if in.Archived != nil {
			f.Archived = *in.Archived
		}
		return &f, nil
	})
}

// variantsStillReferenced checks the flag's configurations against its new variants,
// and the prerequisites other flags hold on it.
func variantsStillReferenced(f domain.Flag, configs map[string]domain.Config, deps []domain.Dependent) error {
	var fields []domain.FieldError
	for env, c := range configs {
		err := validate.Config(f, c, nil)
		for _, fe := range domain.ErrorFields(err) {
			if strings.HasPrefix(fe.Field, "prerequisites") {
				continue // about other flags; unchanged by this flag's variants
			}
			fields = append(fields, domain.FieldError{Field: "variants",
				Message: fmt.Sprintf("the configuration in %s would break: %s: %s", env, fe.Field, fe.Message)})
		}
	}
	for _, d := range deps {
		if _, ok := f.Variant(d.Variant); !ok {
			fields = append(fields, domain.FieldError{Field: "variants",
				Message: fmt.Sprintf("variant %q is a prerequisite of flag %q in %s", d.Variant, d.Flag, d.Environment)})
		}
	}
	if len(fields) > 0 {
		return domain.Invalid("variants", fields...)
	}
	return nil
}

func noDependents(verb, key string, deps []domain.Dependent) error {
	if len(deps) == 0 {
		return nil
	}
	names := make([]string, len(deps))
	for i, d := range deps {
		names[i] = d.Flag + " in " + d.Environment
	}
	return &domain.Error{Code: domain.CodeConflict,
		Message: fmt.Sprintf("cannot %s flag %q: it is a prerequisite of %s; remove those prerequisites first", verb, key, strings.Join(names, ", ")),
		Extra:   map[string]any{"dependents": deps}}
}

// DeleteFlag deletes a flag no other flag depends on: admin in the project and in every
// one of its environments, as the deletion locks them.
func (s *Service) DeleteFlag(ctx context.Context, o domain.Origin, projectKey, key string) error {
	if err := o.Need(projectKey, "", domain.RoleAdmin); err != nil {
		return err
	}
	return s.flags.DeleteFlag(ctx, o, projectKey, key, everywhere(o, projectKey, adminRole), func(cur domain.FlagState) error {
		return noDependents("delete", cur.Flag.Key, cur.Dependents)
	})
}

// Kill turns a flag off in every environment at once (on), or lifts the kill (off).
// Killing a killed flag changes nothing.
//
// The kill switch changes every environment at once, so it needs admin on every
// protected environment and developer on the others, checked against the environments
// as the change locks them: one protected or created meanwhile counts.
func (s *Service) Kill(ctx context.Context, o domain.Origin, projectKey, key string, on bool) (domain.FlagDetail, error) {
	if err := o.Need(projectKey, "", domain.RoleViewer); err != nil {
		return domain.FlagDetail{}, err
	}
	action := domain.ActionFlagUnkill
	if on {
		action = domain.ActionFlagKill
	}
	return s.flags.UpdateFlag(ctx, o, action, projectKey, key, everywhere(o, projectKey, writeRole), func(cur domain.FlagState) (*domain.Flag, error) {
		if cur.Flag.Killed == on {
			return nil, nil // as asked already: nothing to write
		}
		f := cur.Flag
		f.Killed = on
		return &f, nil
	})
}
