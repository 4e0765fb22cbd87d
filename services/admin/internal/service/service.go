// Package service is the admin service's application layer: it validates and
// normalizes requests, enforces the rules that span entities (variants referenced by
// configurations, prerequisites held by other flags, optimistic concurrency), calls the
// store, and wakes the invalidation outbox once a change has committed.
package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/validate"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
)

// Store is what the service needs from storage.
type Store interface {
	CreateProject(ctx context.Context, o domain.Origin, p domain.Project, envs []domain.Environment) (domain.Project, error)
	Projects(ctx context.Context, only []string, all bool, page domain.Page) ([]domain.Project, string, error)
	Project(ctx context.Context, key string) (domain.Project, error)
	UpdateProject(ctx context.Context, o domain.Origin, key string, fn func(*domain.Project) error) (domain.Project, error)
	DeleteProject(ctx context.Context, o domain.Origin, key string) error

	CreateEnvironment(ctx context.Context, o domain.Origin, projectKey string, e domain.Environment) (domain.Environment, error)
	Environments(ctx context.Context, projectKey string, page domain.Page) ([]domain.Environment, string, error)
	AllEnvironments(ctx context.Context, projectKey string) ([]domain.Environment, error)
	Environment(ctx context.Context, projectKey, key string) (domain.Environment, error)
	UpdateEnvironment(ctx context.Context, o domain.Origin, projectKey, key string, fn func(*domain.Environment) error) (domain.Environment, error)
	DeleteEnvironment(ctx context.Context, o domain.Origin, projectKey, key string) error

	CreateFlag(ctx context.Context, o domain.Origin, projectKey string, f domain.Flag) (domain.FlagDetail, error)
	Flags(ctx context.Context, projectKey string, filter domain.FlagFilter, page domain.Page) ([]domain.FlagSummary, string, error)
	Flag(ctx context.Context, projectKey, key string) (domain.FlagDetail, error)
	UpdateFlag(ctx context.Context, o domain.Origin, action, projectKey, key string,
		fn func(f *domain.Flag, envs []domain.Environment, configs map[string]domain.Config, deps []domain.Dependent) error) (domain.FlagDetail, error)
	DeleteFlag(ctx context.Context, o domain.Origin, projectKey, key string, check func(domain.Flag, []domain.Dependent) error) error

	Config(ctx context.Context, projectKey, flagKey, envKey string) (postgres.ConfigState, error)
	UpdateConfig(ctx context.Context, o domain.Origin, action, projectKey, flagKey, envKey string,
		fn func(cur postgres.ConfigState, prerequisites postgres.Prerequisites) (domain.Config, error)) (postgres.ConfigState, error)

	Audit(ctx context.Context, f domain.AuditFilter, page domain.Page) ([]domain.AuditEntry, string, error)
	Evaluations(ctx context.Context, projectKey, flagKey, envKey string, since, until time.Time) (domain.FlagEvaluations, error)

	SDKKeyStore
	UserStore
}

// Notifier is told when changes have committed, so their invalidations go out now.
type Notifier interface{ Kick() }

// Service implements the admin API's operations.
type Service struct {
	store     Store
	keys      SDKKeyStore
	users     UserStore
	notify    Notifier
	log       *slog.Logger
	passwords Passwords
	guesses   Guesses
	newToken  NewToken
}

// New returns a Service. guesses limits guesses of a user's current password, as
// login limits guesses of any password.
func New(log *slog.Logger, store Store, notify Notifier, passwords Passwords, guesses Guesses, newToken NewToken) *Service {
	return &Service{store: store, keys: store, users: store, notify: notify, log: log, passwords: passwords, guesses: guesses, newToken: newToken}
}

// committed wakes the outbox after a successful change.
func (s *Service) committed(err error) error {
	if err == nil {
		s.notify.Kick()
	}
	return err
}

func invalid(what string, fields ...domain.FieldError) error {
	return &domain.Error{Code: domain.CodeInvalid, Message: "invalid " + what, Fields: fields}
}

// ProjectInput creates a project.
type ProjectInput struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// CreateProject creates a project with the development, staging and (protected)
// production environments.
func (s *Service) CreateProject(ctx context.Context, o domain.Origin, in ProjectInput) (domain.Project, error) {
	if !o.Superuser() {
		return domain.Project{}, domain.Errorf(domain.CodeForbidden, "only instance administrators create projects")
	}
	p := domain.Project{Key: in.Key, Name: in.Name, Description: in.Description}
	if p.Name == "" {
		p.Name = p.Key
	}
	if err := validate.Project(p); err != nil {
		return domain.Project{}, err
	}
	out, err := s.store.CreateProject(ctx, o, p, domain.DefaultEnvironments)
	return out, s.committed(err)
}

// Projects lists the projects the caller can see.
func (s *Service) Projects(ctx context.Context, o domain.Origin, page domain.Page) ([]domain.Project, string, error) {
	if o.Access == nil {
		return s.store.Projects(ctx, nil, true, page)
	}
	keys, all := o.Access.Projects()
	return s.store.Projects(ctx, keys, all, page)
}

// Project returns a project.
func (s *Service) Project(ctx context.Context, o domain.Origin, key string) (domain.Project, error) {
	if err := o.Need(key, "", domain.RoleViewer); err != nil {
		return domain.Project{}, err
	}
	return s.store.Project(ctx, key)
}

// ProjectPatch changes the fields it sets.
type ProjectPatch struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// UpdateProject changes a project's name or description; keys never change.
func (s *Service) UpdateProject(ctx context.Context, o domain.Origin, key string, in ProjectPatch) (domain.Project, error) {
	if err := o.Need(key, "", domain.RoleAdmin); err != nil {
		return domain.Project{}, err
	}
	out, err := s.store.UpdateProject(ctx, o, key, func(p *domain.Project) error {
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		return validate.Project(*p)
	})
	return out, s.committed(err)
}

// DeleteProject deletes a project and everything in it: admin in every environment.
func (s *Service) DeleteProject(ctx context.Context, o domain.Origin, key string) error {
	if err := s.mayAdminister(ctx, o, key); err != nil {
		return err
	}
	return s.committed(s.store.DeleteProject(ctx, o, key))
}

// EnvironmentInput creates an environment.
type EnvironmentInput struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Protected   bool   `json:"protected"`
}

// CreateEnvironment adds an environment to a project.
func (s *Service) CreateEnvironment(ctx context.Context, o domain.Origin, projectKey string, in EnvironmentInput) (domain.Environment, error) {
	if err := o.Need(projectKey, "", domain.RoleAdmin); err != nil {
		return domain.Environment{}, err
	}
	e := domain.Environment{Key: in.Key, Name: in.Name, Description: in.Description, Protected: in.Protected}
	if e.Name == "" {
		e.Name = e.Key
	}
	if err := validate.Environment(e); err != nil {
		return domain.Environment{}, err
	}
	out, err := s.store.CreateEnvironment(ctx, o, projectKey, e)
	return out, s.committed(err)
}

// Environments lists a project's environments.
func (s *Service) Environments(ctx context.Context, o domain.Origin, projectKey string, page domain.Page) ([]domain.Environment, string, error) {
	if err := o.Need(projectKey, "", domain.RoleViewer); err != nil {
		return nil, "", err
	}
	return s.store.Environments(ctx, projectKey, page)
}

// Environment returns an environment.
func (s *Service) Environment(ctx context.Context, o domain.Origin, projectKey, key string) (domain.Environment, error) {
	if err := o.Need(projectKey, key, domain.RoleViewer); err != nil {
		return domain.Environment{}, err
	}
	return s.store.Environment(ctx, projectKey, key)
}

// EnvironmentPatch changes the fields it sets.
type EnvironmentPatch struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Protected   *bool   `json:"protected"`
}

// UpdateEnvironment changes an environment's name, description or protection: admin
// in that environment.
func (s *Service) UpdateEnvironment(ctx context.Context, o domain.Origin, projectKey, key string, in EnvironmentPatch) (domain.Environment, error) {
	if err := o.Need(projectKey, key, domain.RoleAdmin); err != nil {
		return domain.Environment{}, err
	}
	out, err := s.store.UpdateEnvironment(ctx, o, projectKey, key, func(e *domain.Environment) error {
		if in.Name != nil {
			e.Name = *in.Name
		}
		if in.Description != nil {
			e.Description = *in.Description
		}
		if in.Protected != nil {
			e.Protected = *in.Protected
		}
		return validate.Environment(*e)
	})
	return out, s.committed(err)
}

// DeleteEnvironment deletes an environment and the flags' configurations in it: admin
// in that environment.
func (s *Service) DeleteEnvironment(ctx context.Context, o domain.Origin, projectKey, key string) error {
	if err := o.Need(projectKey, key, domain.RoleAdmin); err != nil {
		return err
	}
	return s.committed(s.store.DeleteEnvironment(ctx, o, projectKey, key))
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

// newSalt returns a random bucketing salt, so a flag re-created under an old key does
// not inherit the old one's buckets.
func newSalt() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateFlag creates a flag, off in every environment.
func (s *Service) CreateFlag(ctx context.Context, o domain.Origin, projectKey string, in FlagInput) (domain.FlagDetail, error) {
	if err := o.Need(projectKey, "", domain.RoleDeveloper); err != nil {
		return domain.FlagDetail{}, err
	}
	f := domain.Flag{Key: in.Key, Name: in.Name, Description: in.Description, Kind: in.Kind,
		Variants: in.Variants, Tags: in.Tags, Salt: newSalt()}
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
	out, err := s.store.CreateFlag(ctx, o, projectKey, f)
	return out, s.committed(err)
}

// Flags lists a project's flags.
func (s *Service) Flags(ctx context.Context, o domain.Origin, projectKey string, filter domain.FlagFilter, page domain.Page) ([]domain.FlagSummary, string, error) {
	if err := o.Need(projectKey, "", domain.RoleViewer); err != nil {
		return nil, "", err
	}
	return s.store.Flags(ctx, projectKey, filter, page)
}

// Flag returns a flag with its configuration in every environment.
func (s *Service) Flag(ctx context.Context, o domain.Origin, projectKey, key string) (domain.FlagDetail, error) {
	if err := o.Need(projectKey, "", domain.RoleViewer); err != nil {
		return domain.FlagDetail{}, err
	}
	return s.store.Flag(ctx, projectKey, key)
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
	out, err := s.store.UpdateFlag(ctx, o, action, projectKey, key, func(f *domain.Flag, envs []domain.Environment, configs map[string]domain.Config, deps []domain.Dependent) error {
		serving := in.Archived != nil && *in.Archived != f.Archived ||
			in.Variants != nil && variantsChangeServing(f.Variants, *in.Variants)
		if serving {
			if err := needEverywhere(o, projectKey, envs, writeRole); err != nil {
				return err
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
		if err := validate.Flag(*f); err != nil {
			return err
		}
		if in.Variants != nil {
			if err := variantsStillReferenced(*f, configs, deps); err != nil {
				return err
			}
		}
		if in.Archived != nil && *in.Archived && !f.Archived {
			if err := noDependents("archive", f.Key, deps); err != nil {
				return err
			}
		}
		if in.Archived != nil {
			f.Archived = *in.Archived
		}
		return nil
	})
	return out, s.committed(err)
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
		return invalid("variants", fields...)
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

// DeleteFlag deletes a flag no other flag depends on: admin in every environment.
func (s *Service) DeleteFlag(ctx context.Context, o domain.Origin, projectKey, key string) error {
	if err := s.mayAdminister(ctx, o, projectKey); err != nil {
		return err
	}
	return s.committed(s.store.DeleteFlag(ctx, o, projectKey, key, func(f domain.Flag, deps []domain.Dependent) error {
		return noDependents("delete", f.Key, deps)
	}))
}

// Kill turns a flag off in every environment at once (on), or lifts the kill (off).
// Killing a killed flag changes nothing.
//
// The kill switch changes every environment at once, so it needs admin on every
// protected environment and developer on the others.
func (s *Service) Kill(ctx context.Context, o domain.Origin, projectKey, key string, on bool) (domain.FlagDetail, error) {
	if err := s.everywhere(ctx, o, projectKey, domain.RoleViewer, writeRole); err != nil {
		return domain.FlagDetail{}, err
	}
	cur, err := s.store.Flag(ctx, projectKey, key)
	if err != nil {
		return domain.FlagDetail{}, err
	}
	if cur.Killed == on {
		return cur, nil
	}
	action := domain.ActionFlagUnkill
	if on {
		action = domain.ActionFlagKill
	}
	out, err := s.store.UpdateFlag(ctx, o, action, projectKey, key, func(f *domain.Flag, envs []domain.Environment, _ map[string]domain.Config, _ []domain.Dependent) error {
		// Again inside the transaction, against the environments as locked: one
		// protected or created meanwhile counts.
		if err := needEverywhere(o, projectKey, envs, writeRole); err != nil {
			return err
		}
		f.Killed = on
		return nil
	})
	return out, s.committed(err)
}

// Audit lists the audit trail: of one project for its viewers; of every project the
// caller can see otherwise. Rows outside projects (users) are for superusers.
func (s *Service) Audit(ctx context.Context, o domain.Origin, f domain.AuditFilter, page domain.Page) ([]domain.AuditEntry, string, error) {
	if f.ProjectKey != "" {
		if err := o.Need(f.ProjectKey, "", domain.RoleViewer); err != nil {
			return nil, "", err
		}
	}
	if o.Access == nil {
		f.AllProjects = true
	} else {
		f.Projects, f.AllProjects = o.Access.Projects()
	}
	return s.store.Audit(ctx, f, page)
}

// Evaluations reports how a flag was evaluated over [since, until), by default the last
// 24 hours.
func (s *Service) Evaluations(ctx context.Context, o domain.Origin, projectKey, flagKey, envKey string, since, until time.Time) (domain.FlagEvaluations, error) {
	if err := o.Need(projectKey, envKey, domain.RoleViewer); err != nil {
		return domain.FlagEvaluations{}, err
	}
	if until.IsZero() {
		until = time.Now().UTC()
	}
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
	}
	if !since.Before(until) {
		return domain.FlagEvaluations{}, invalid("query", domain.FieldError{Field: "since", Message: "must be before until"})
	}
	return s.store.Evaluations(ctx, projectKey, flagKey, envKey, since, until)
}
