package service

import (
	"context"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/secret"
)

// TokenStore is what API token management needs from storage. It keeps a token's
// digest and display prefix, never its secret, which the service makes.
type TokenStore interface {
	CreateToken(ctx context.Context, o domain.Origin, t domain.APIToken, digest []byte) (domain.APIToken, error)
	Tokens(ctx context.Context, f domain.TokenFilter) ([]domain.APIToken, error)
	Token(ctx context.Context, id string) (domain.APIToken, error)
	RevokeToken(ctx context.Context, o domain.Origin, id string) error
}

// TokenInput creates an API token acting in one project.
type TokenInput struct {
	Name             string                 `json:"name"`
	Project          string                 `json:"project"`
	Role             domain.Role            `json:"role"`
	EnvironmentRoles map[string]domain.Role `json:"environment_roles"`
	ExpiresAt        *time.Time             `json:"expires_at"`
}

// CreateToken creates an API token. Project admins create tokens of any role; other
// users create tokens for themselves, never above their own role in any environment.
// The answer is the only time the token is shown.
func (s *Service) CreateToken(ctx context.Context, o domain.Origin, in TokenInput) (domain.APIToken, error) {
	var fields []domain.FieldError
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 200 {
		fields = append(fields, domain.FieldError{Field: "name", Message: "is required, at most 200 characters"})
	}
	if in.Project == "" {
		fields = append(fields, domain.FieldError{Field: "project", Message: "is required"})
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		fields = append(fields, domain.FieldError{Field: "expires_at", Message: "must be in the future"})
	}
	if len(fields) > 0 {
		return domain.APIToken{}, domain.Invalid("token", fields...)
	}
	if err := o.Need(in.Project, "", domain.RoleViewer); err != nil {
		return domain.APIToken{}, err
	}
	g := domain.Grant{Role: in.Role, EnvironmentRoles: in.EnvironmentRoles}
	if g.EnvironmentRoles == nil {
		g.EnvironmentRoles = map[string]domain.Role{}
	}
	more, err := s.grantProblems(ctx, in.Project, g)
	if err != nil {
		return domain.APIToken{}, err
	}
	if len(more) > 0 {
		return domain.APIToken{}, domain.Invalid("token", more...)
	}
	owner := ""
	if o.Access != nil {
		owner = o.Access.UserID()
	}
	if err := s.mayAdminister(ctx, o, in.Project); err != nil {
		if domain.ErrorCode(err) != domain.CodeForbidden {
			return domain.APIToken{}, err
		}
		// Not an admin everywhere: only for oneself, and never above one's own role.
		if o.Actor.Type != domain.ActorUser {
			return domain.APIToken{}, forbidden("only users and project admins create tokens")
		}
		if err := o.Need(in.Project, "", g.Role); err != nil {
			return domain.APIToken{}, forbidden("a token cannot have more rights than you: " + domain.ErrorMessage(err))
		}
		envs, err := s.environments.AllEnvironments(ctx, in.Project)
		if err != nil {
			return domain.APIToken{}, err
		}
		for _, e := range envs {
			if err := o.Need(in.Project, e.Key, g.In(e.Key)); err != nil {
				return domain.APIToken{}, forbidden("a token cannot have more rights than you: " + domain.ErrorMessage(err))
			}
		}
	}
	token, prefix, digest := secret.AdminToken.New()
	t, err := s.tokens.CreateToken(ctx, o, domain.APIToken{Name: strings.TrimSpace(in.Name), Prefix: prefix, Project: in.Project,
		Role: g.Role, EnvironmentRoles: g.EnvironmentRoles, OwnerID: owner, ExpiresAt: in.ExpiresAt}, digest)
	if err != nil {
		return t, err
	}
	t.Token = token
	return t, nil
}

// Tokens lists the tokens the caller may see: all for superusers; else those of the
// projects it administers and its own.
func (s *Service) Tokens(ctx context.Context, o domain.Origin) ([]domain.APIToken, error) {
	if o.Superuser() {
		return s.tokens.Tokens(ctx, domain.TokenFilter{All: true})
	}
	keys, _ := o.Access.Projects()
	f := domain.TokenFilter{OwnerID: o.Access.UserID()}
	for _, k := range keys {
		switch err := s.mayAdminister(ctx, o, k); {
		case err == nil:
			f.Projects = append(f.Projects, k)
		case domain.ErrorCode(err) != domain.CodeForbidden:
			return nil, err
		}
	}
	return s.tokens.Tokens(ctx, f)
}

// RevokeToken revokes a token; its owner, its project's admins and superusers may.
func (s *Service) RevokeToken(ctx context.Context, o domain.Origin, id string) error {
	t, err := s.tokens.Token(ctx, id)
	if err != nil {
		return err
	}
	owner := o.Access != nil && t.OwnerID != "" && o.Access.UserID() == t.OwnerID && o.Actor.Type == domain.ActorUser
	if !owner {
		if err := s.mayAdminister(ctx, o, t.Project); err != nil {
			return err
		}
	}
	return s.tokens.RevokeToken(ctx, o, id)
}
