package service

import (
	"context"
	"slices"

	"github.com/switchyard/switchyard/pkg/domain"
)

// MemberStore is what membership management needs from storage.
type MemberStore interface {
	SetMember(ctx context.Context, o domain.Origin, projectKey, userID string, g domain.Grant) (domain.Grant, error)
	RemoveMember(ctx context.Context, o domain.Origin, projectKey, userID string) error
	Members(ctx context.Context, projectKey string) ([]domain.Member, error)
}

// Members lists the project's members and their roles; any member of the project may
// see who else is one.
func (s *Service) Members(ctx context.Context, o domain.Origin, project string) ([]domain.Member, error) {
	if err := o.Need(project, "", domain.RoleViewer); err != nil {
		return nil, err
	}
	return s.members.Members(ctx, project)
}

// MemberInput grants a role in a project, with overrides per environment.
type MemberInput struct {
	Role             domain.Role            `json:"role"`
	EnvironmentRoles map[string]domain.Role `json:"environment_roles"`
}

// grantProblems checks roles and that overrides name environments of the project.
func (s *Service) grantProblems(ctx context.Context, project string, g domain.Grant) ([]domain.FieldError, error) {
	var fields []domain.FieldError
	if !g.Role.Valid() {
		fields = append(fields, domain.FieldError{Field: "role", Message: "must be viewer, developer or admin"})
	}
	envs, err := s.environments.AllEnvironments(ctx, project)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(envs))
	for i, e := range envs {
		keys[i] = e.Key
	}
	for env, r := range g.EnvironmentRoles {
		switch {
		case !slices.Contains(keys, env):
			fields = append(fields, domain.FieldError{Field: "environment_roles." + env, Message: "is not an environment of project " + project})
		case !r.Valid():
			fields = append(fields, domain.FieldError{Field: "environment_roles." + env, Message: "must be viewer, developer or admin"})
		}
	}
	return fields, nil
}

// SetMember gives a user a role in a project; admins of the project and of every one
// of its environments may (so an admin lowered somewhere cannot raise anyone there,
// themselves included).
func (s *Service) SetMember(ctx context.Context, o domain.Origin, project, userID string, in MemberInput) (domain.Grant, error) {
	if err := s.mayAdminister(ctx, o, project); err != nil {
		return domain.Grant{}, err
	}
	g := domain.Grant{Role: in.Role, EnvironmentRoles: in.EnvironmentRoles}
	fields, err := s.grantProblems(ctx, project, g)
	if err != nil {
		return domain.Grant{}, err
	}
	if len(fields) > 0 {
		return domain.Grant{}, domain.Invalid("membership", fields...)
	}
	return s.members.SetMember(ctx, o, project, userID, g)
}

// RemoveMember takes a user's role in a project away; admins of the project and of
// every one of its environments may.
func (s *Service) RemoveMember(ctx context.Context, o domain.Origin, project, userID string) error {
	if err := s.mayAdminister(ctx, o, project); err != nil {
		return err
	}
	return s.members.RemoveMember(ctx, o, project, userID)
}
