package service

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
)

// UserStore is what user, membership and token management need from storage.
type UserStore interface {
	CreateUser(ctx context.Context, o domain.Origin, u domain.User, hash string) (domain.User, error)
	Users(ctx context.Context, page domain.Page) ([]domain.User, string, error)
	User(ctx context.Context, id string) (domain.User, error)
	UpdateUser(ctx context.Context, o domain.Origin, id string, fn func(u domain.User, hash string) (postgres.UserChange, error)) (domain.User, error)
	Session(ctx context.Context, userID string) (postgres.Credentials, map[string]domain.Grant, error)
	SetMember(ctx context.Context, o domain.Origin, projectKey, userID string, g domain.Grant) (domain.Grant, error)
	RemoveMember(ctx context.Context, o domain.Origin, projectKey, userID string) error
	CreateToken(ctx context.Context, o domain.Origin, t domain.APIToken, digest []byte) (domain.APIToken, error)
	Tokens(ctx context.Context, f postgres.TokenFilter) ([]domain.APIToken, error)
	Token(ctx context.Context, id string) (domain.APIToken, error)
	RevokeToken(ctx context.Context, o domain.Origin, id string) error
}

// Guesses limits password guesses per client address, account and address, and
// account (auth.Guesses).
type Guesses interface {
	Begin(ctx context.Context, account, address string) error
	Succeeded(ctx context.Context, account, address string)
}

// Passwords hashes and checks passwords.
type Passwords interface {
	Hash(password string) string
	Verify(password, encoded string) bool
}

// Password length limits.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

func forbidden(msg string) error { return domain.Errorf(domain.CodeForbidden, "%s", msg) }

func passwordProblem(field, pw string) *domain.FieldError {
	switch {
	case len(pw) < MinPasswordLen:
		return &domain.FieldError{Field: field, Message: "must be at least 10 characters"}
	case len(pw) > MaxPasswordLen:
		return &domain.FieldError{Field: field, Message: "must be at most 1024 characters"}
	}
	return nil
}

// UserInput creates a user.
type UserInput struct {
	Email         string `json:"email"`
	Password      string `json:"password"`
	Name          string `json:"name"`
	InstanceAdmin bool   `json:"instance_admin"`
}

// CreateUser creates a user; only superusers may.
func (s *Service) CreateUser(ctx context.Context, o domain.Origin, in UserInput) (domain.User, error) {
	if !o.Superuser() {
		return domain.User{}, forbidden("only instance administrators manage users")
	}
	var fields []domain.FieldError
	in.Email = strings.TrimSpace(in.Email)
	if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
		fields = append(fields, domain.FieldError{Field: "email", Message: "must be an email address such as jane@example.com"})
	}
	if p := passwordProblem("password", in.Password); p != nil {
		fields = append(fields, *p)
	}
	if len(in.Name) > 200 {
		fields = append(fields, domain.FieldError{Field: "name", Message: "must be at most 200 characters"})
	}
	if len(fields) > 0 {
		return domain.User{}, invalid("user", fields...)
	}
	return s.users.CreateUser(ctx, o, domain.User{Email: in.Email, Name: in.Name, InstanceAdmin: in.InstanceAdmin}, s.passwords.Hash(in.Password))
}

// Users lists users; only superusers may.
func (s *Service) Users(ctx context.Context, o domain.Origin, page domain.Page) ([]domain.User, string, error) {
	if !o.Superuser() {
		return nil, "", forbidden("only instance administrators list users")
	}
	return s.users.Users(ctx, page)
}

func self(o domain.Origin, id string) bool {
	return o.Access != nil && o.Access.UserID() == id && o.Actor.Type == domain.ActorUser
}

// User returns a user; superusers see everyone, users themselves.
func (s *Service) User(ctx context.Context, o domain.Origin, id string) (domain.User, error) {
	if !o.Superuser() && !self(o, id) {
		return domain.User{}, forbidden("only instance administrators see other users")
	}
	return s.users.User(ctx, id)
}

// Me describes the caller.
type Me struct {
	Actor     domain.Actor            `json:"actor"`
	Superuser bool                    `json:"superuser"`
	User      *domain.User            `json:"user,omitempty"`
	Projects  map[string]domain.Grant `json:"projects,omitempty"`
}

// Grants names what a principal may do in each project.
type Grants interface {
	Grant(project string) (domain.Grant, bool)
}

// Me describes the caller: who it is and its roles.
func (s *Service) Me(ctx context.Context, o domain.Origin) (Me, error) {
	me := Me{Actor: o.Actor, Superuser: o.Superuser(), Projects: map[string]domain.Grant{}}
	if o.Access != nil {
		if keys, _ := o.Access.Projects(); len(keys) > 0 {
			if g, ok := o.Access.(Grants); ok {
				for _, k := range keys {
					me.Projects[k], _ = g.Grant(k)
				}
			}
		}
		if o.Actor.Type == domain.ActorUser {
			u, err := s.users.User(ctx, o.Access.UserID())
			if err != nil {
				return me, err
			}
			me.User = &u
		}
	}
	return me, nil
}

// UserPatch changes a user. Users may change their own name, and their password when
// they send the current one; superusers may change anything.
type UserPatch struct {
	Name            *string `json:"name"`
	Password        *string `json:"password"`
	CurrentPassword *string `json:"current_password"`
	Disabled        *bool   `json:"disabled"`
	InstanceAdmin   *bool   `json:"instance_admin"`
}

// UpdateUser changes a user.
func (s *Service) UpdateUser(ctx context.Context, o domain.Origin, id string, in UserPatch) (domain.User, error) {
	super, itself := o.Superuser(), self(o, id)
	switch {
	case !super && !itself:
		return domain.User{}, forbidden("only instance administrators change other users")
	case !super && (in.Disabled != nil || in.InstanceAdmin != nil):
		return domain.User{}, forbidden("only instance administrators disable users or make them administrators")
	}
	// A user changing their own password proves it with the current one: a password
	// guess like a login's, with the same limits, counted once, before the
	// transaction (which may be retried).
	var checked string
	if !super && in.Password != nil {
		cred, _, err := s.users.Session(ctx, id)
		if err != nil {
			return domain.User{}, err
		}
		if err := s.guesses.Begin(ctx, cred.User.Email, o.Address); err != nil {
			return domain.User{}, err
		}
		if in.CurrentPassword == nil || !s.passwords.Verify(*in.CurrentPassword, cred.PasswordHash) {
			return domain.User{}, invalid("user", domain.FieldError{Field: "current_password", Message: "must be your current password"})
		}
		s.guesses.Succeeded(ctx, cred.User.Email, o.Address)
		checked = cred.PasswordHash
	}
	return s.users.UpdateUser(ctx, o, id, func(u domain.User, hash string) (postgres.UserChange, error) {
		var ch postgres.UserChange
		var fields []domain.FieldError
		if in.Name != nil {
			if len(*in.Name) > 200 {
				fields = append(fields, domain.FieldError{Field: "name", Message: "must be at most 200 characters"})
			}
			ch.Name = in.Name
		}
		if in.Password != nil {
			if p := passwordProblem("password", *in.Password); p != nil {
				fields = append(fields, *p)
			}
			if !super && hash != checked {
				// The password changed since it was checked: check again, uncounted.
				if in.CurrentPassword == nil || !s.passwords.Verify(*in.CurrentPassword, hash) {
					fields = append(fields, domain.FieldError{Field: "current_password", Message: "must be your current password"})
				}
			}
			h := s.passwords.Hash(*in.Password)
			ch.PasswordHash = &h
		}
		if len(fields) > 0 {
			return ch, invalid("user", fields...)
		}
		ch.Disabled, ch.InstanceAdmin = in.Disabled, in.InstanceAdmin
		return ch, nil
	})
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
	envs, err := s.store.AllEnvironments(ctx, project)
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
		return domain.Grant{}, invalid("membership", fields...)
	}
	return s.users.SetMember(ctx, o, project, userID, g)
}

// RemoveMember takes a user's role in a project away; admins of the project and of
// every one of its environments may.
func (s *Service) RemoveMember(ctx context.Context, o domain.Origin, project, userID string) error {
	if err := s.mayAdminister(ctx, o, project); err != nil {
		return err
	}
	return s.users.RemoveMember(ctx, o, project, userID)
}

// TokenInput creates an API token acting in one project.
type TokenInput struct {
	Name             string                 `json:"name"`
	Project          string                 `json:"project"`
	Role             domain.Role            `json:"role"`
	EnvironmentRoles map[string]domain.Role `json:"environment_roles"`
	ExpiresAt        *time.Time             `json:"expires_at"`
}

// NewToken makes a token's secret, display prefix and digest.
type NewToken func() (token, prefix string, digest []byte)

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
		return domain.APIToken{}, invalid("token", fields...)
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
		return domain.APIToken{}, invalid("token", more...)
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
		envs, err := s.store.AllEnvironments(ctx, in.Project)
		if err != nil {
			return domain.APIToken{}, err
		}
		for _, e := range envs {
			if err := o.Need(in.Project, e.Key, g.In(e.Key)); err != nil {
				return domain.APIToken{}, forbidden("a token cannot have more rights than you: " + domain.ErrorMessage(err))
			}
		}
	}
	secret, prefix, digest := s.newToken()
	t, err := s.users.CreateToken(ctx, o, domain.APIToken{Name: strings.TrimSpace(in.Name), Prefix: prefix, Project: in.Project,
		Role: g.Role, EnvironmentRoles: g.EnvironmentRoles, OwnerID: owner, ExpiresAt: in.ExpiresAt}, digest)
	if err != nil {
		return t, err
	}
	t.Token = secret
	return t, nil
}

// Tokens lists the tokens the caller may see: all for superusers; else those of the
// projects it administers and its own.
func (s *Service) Tokens(ctx context.Context, o domain.Origin) ([]domain.APIToken, error) {
	if o.Superuser() {
		return s.users.Tokens(ctx, postgres.TokenFilter{All: true})
	}
	keys, _ := o.Access.Projects()
	f := postgres.TokenFilter{OwnerID: o.Access.UserID()}
	for _, k := range keys {
		switch err := s.mayAdminister(ctx, o, k); {
		case err == nil:
			f.Projects = append(f.Projects, k)
		case domain.ErrorCode(err) != domain.CodeForbidden:
			return nil, err
		}
	}
	return s.users.Tokens(ctx, f)
}

// RevokeToken revokes a token; its owner, its project's admins and superusers may.
func (s *Service) RevokeToken(ctx context.Context, o domain.Origin, id string) error {
	t, err := s.users.Token(ctx, id)
	if err != nil {
		return err
	}
	owner := o.Access != nil && t.OwnerID != "" && o.Access.UserID() == t.OwnerID && o.Actor.Type == domain.ActorUser
	if !owner {
		if err := s.mayAdminister(ctx, o, t.Project); err != nil {
			return err
		}
	}
	return s.users.RevokeToken(ctx, o, id)
}
