package service

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/validate"
)

// ProjectStore is what project management needs from storage.
type ProjectStore interface {
	CreateProject(ctx context.Context, o domain.Origin, p domain.Project, envs []domain.Environment) (domain.Project, error)
	Projects(ctx context.Context, only []string, all bool, page domain.Keyset) ([]domain.Project, string, error)
	Project(ctx context.Context, key string) (domain.Project, error)
	UpdateProject(ctx context.Context, o domain.Origin, key string, fn func(*domain.Project) error) (domain.Project, error)
	DeleteProject(ctx context.Context, o domain.Origin, key string, guard domain.Guard) error
}

// ProjectInput creates a project. StaleAfterDays defaults to
// domain.DefaultStaleAfterDays.
type ProjectInput struct {
	Key            string `json:"key"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	StaleAfterDays *int   `json:"stale_after_days"`
}

// staleAfterDays checks a project's stale_after_days.
func staleAfterDays(days int) error {
	if days < 1 || days > domain.MaxStaleAfterDays {
		return domain.InvalidField("project", "stale_after_days", fmt.Sprintf("must be a whole number of days from 1 to %d", domain.MaxStaleAfterDays))
	}
	return nil
}

// CreateProject creates a project with the development, staging and (protected)
// production environments.
func (s *Service) CreateProject(ctx context.Context, o domain.Origin, in ProjectInput) (domain.Project, error) {
	if !o.Superuser() {
		return domain.Project{}, forbidden("only instance administrators create projects")
	}
	p := domain.Project{Key: in.Key, Name: in.Name, Description: in.Description, StaleAfterDays: domain.DefaultStaleAfterDays}
	if p.Name == "" {
		p.Name = p.Key
	}
	if in.StaleAfterDays != nil {
		p.StaleAfterDays = *in.StaleAfterDays
	}
	if err := validate.Project(p); err != nil {
		return domain.Project{}, err
	}
	if err := staleAfterDays(p.StaleAfterDays); err != nil {
		return domain.Project{}, err
	}
	return s.projects.CreateProject(ctx, o, p, domain.DefaultEnvironments)
}

// Projects lists the projects the caller can see.
func (s *Service) Projects(ctx context.Context, o domain.Origin, page domain.Keyset) ([]domain.Project, string, error) {
	keys, all := visible(o)
	return s.projects.Projects(ctx, keys, all, keyset(page))
}

// Project returns a project.
func (s *Service) Project(ctx context.Context, o domain.Origin, key string) (domain.Project, error) {
	if err := o.Need(key, "", domain.RoleViewer); err != nil {
		return domain.Project{}, err
	}
	return s.projects.Project(ctx, key)
}

// ProjectPatch changes the fields it sets.
type ProjectPatch struct {
	Name           *string `json:"name"`
	Description    *string `json:"description"`
	StaleAfterDays *int    `json:"stale_after_days"`
}

// UpdateProject changes a project's name, description or stale_after_days; keys never
// change.
func (s *Service) UpdateProject(ctx context.Context, o domain.Origin, key string, in ProjectPatch) (domain.Project, error) {
	if err := o.Need(key, "", domain.RoleAdmin); err != nil {
		return domain.Project{}, err
	}
	return s.projects.UpdateProject(ctx, o, key, func(p *domain.Project) error {
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		if in.StaleAfterDays != nil {
			if err := staleAfterDays(*in.StaleAfterDays); err != nil {
				return err
			}
			p.StaleAfterDays = *in.StaleAfterDays
		}
		return validate.Project(*p)
	})
}

// DeleteProject deletes a project and everything in it: admin in the project and in
// every one of its environments, as the deletion locks them.
func (s *Service) DeleteProject(ctx context.Context, o domain.Origin, key string) error {
	if err := o.Need(key, "", domain.RoleAdmin); err != nil {
		return err
	}
	return s.projects.DeleteProject(ctx, o, key, everywhere(o, key, adminRole))
}
