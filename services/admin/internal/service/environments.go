package service

import (
	"context"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/validate"
)

// EnvironmentStore is what environment management needs from storage.
type EnvironmentStore interface {
	CreateEnvironment(ctx context.Context, o domain.Origin, projectKey string, e domain.Environment) (domain.Environment, error)
	Environments(ctx context.Context, projectKey string, page domain.Keyset) ([]domain.Environment, string, error)
	AllEnvironments(ctx context.Context, projectKey string) ([]domain.Environment, error)
	Environment(ctx context.Context, projectKey, key string) (domain.Environment, error)
	UpdateEnvironment(ctx context.Context, o domain.Origin, projectKey, key string, fn func(*domain.Environment) error) (domain.Environment, error)
	DeleteEnvironment(ctx context.Context, o domain.Origin, projectKey, key string) error
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
	return s.environments.CreateEnvironment(ctx, o, projectKey, e)
}

// Environments lists a project's environments.
func (s *Service) Environments(ctx context.Context, o domain.Origin, projectKey string, page domain.Keyset) ([]domain.Environment, string, error) {
	if err := o.Need(projectKey, "", domain.RoleViewer); err != nil {
		return nil, "", err
	}
	return s.environments.Environments(ctx, projectKey, keyset(page))
}

// Environment returns an environment.
func (s *Service) Environment(ctx context.Context, o domain.Origin, projectKey, key string) (domain.Environment, error) {
	if err := o.Need(projectKey, key, domain.RoleViewer); err != nil {
		return domain.Environment{}, err
	}
	return s.environments.Environment(ctx, projectKey, key)
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
	return s.environments.UpdateEnvironment(ctx, o, projectKey, key, func(e *domain.Environment) error {
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
}

// DeleteEnvironment deletes an environment and the flags' configurations in it: admin
// in that environment.
func (s *Service) DeleteEnvironment(ctx context.Context, o domain.Origin, projectKey, key string) error {
	if err := o.Need(projectKey, key, domain.RoleAdmin); err != nil {
		return err
	}
	return s.environments.DeleteEnvironment(ctx, o, projectKey, key)
}
