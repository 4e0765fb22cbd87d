package service

import (
	"context"
	"net/mail"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// UserStore is what user management needs from storage.
type UserStore interface {
	CreateUser(ctx context.Context, o domain.Origin, u domain.User, hash string) (domain.User, error)
	Users(ctx context.Context, page domain.Keyset) ([]domain.User, string, error)
	User(ctx context.Context, id string) (domain.User, error)
	UpdateUser(ctx context.Context, o domain.Origin, id string, fn func(u domain.User, hash string) (domain.UserChange, error)) (domain.User, error)
	Session(ctx context.Context, userID string) (domain.Credentials, map[string]domain.Grant, error)
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
		return domain.User{}, domain.Invalid("user", fields...)
	}
	return s.users.CreateUser(ctx, o, domain.User{Email: in.Email, Name: in.Name, InstanceAdmin: in.InstanceAdmin}, s.passwords.Hash(in.Password))
}

// Users lists users; only superusers may.
func (s *Service) Users(ctx context.Context, o domain.Origin, page domain.Keyset) ([]domain.User, string, error) {
	if !o.Superuser() {
		return nil, "", forbidden("only instance administrators list users")
	}
	return s.users.Users(ctx, keyset(page))
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
			return domain.User{}, domain.InvalidField("user", "current_password", "must be your current password")
		}
		s.guesses.Succeeded(ctx, cred.User.Email, o.Address)
		checked = cred.PasswordHash
	}
	return s.users.UpdateUser(ctx, o, id, func(u domain.User, hash string) (domain.UserChange, error) {
		var ch domain.UserChange
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
			return ch, domain.Invalid("user", fields...)
		}
		ch.Disabled, ch.InstanceAdmin = in.Disabled, in.InstanceAdmin
		return ch, nil
	})
}
