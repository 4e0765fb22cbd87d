package auth

import (
	"slices"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Principal is an authenticated caller: who it is, for the audit trail, and its roles.
// It implements domain.Access.
type Principal struct {
	Actor     domain.Actor
	superuser bool
	userID    string
	grants    map[string]domain.Grant // by project key
	session   Session                 // the login session, for users logged in with one
}

// Superuser returns a principal that may do anything.
func Superuser(actor domain.Actor) *Principal { return &Principal{Actor: actor, superuser: true} }

// Member returns a principal with grants per project.
func Member(actor domain.Actor, userID string, grants map[string]domain.Grant) *Principal {
	return &Principal{Actor: actor, userID: userID, grants: grants}
}

// Need implements domain.Access.
func (p *Principal) Need(project, env string, need domain.Role) error {
	if p.superuser {
		return nil
	}
	g, ok := p.grants[project]
	if !ok {
		return domain.Forbidden(project, env, need, "")
	}
	if have := g.In(env); have.Rank() < need.Rank() {
		return domain.Forbidden(project, env, need, have)
	}
	return nil
}

// Superuser implements domain.Access.
func (p *Principal) Superuser() bool { return p.superuser }

// UserID implements domain.Access.
func (p *Principal) UserID() string { return p.userID }

// Session returns the login session the principal authenticated with, and false
// for the bootstrap token and API tokens.
func (p *Principal) Session() (Session, bool) { return p.session, p.session.ID != "" }

// Projects implements domain.Access.
func (p *Principal) Projects() ([]string, bool) {
	if p.superuser {
		return nil, true
	}
	keys := make([]string, 0, len(p.grants))
	for k := range p.grants {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, false
}

// Grant returns the principal's grant in a project.
func (p *Principal) Grant(project string) (domain.Grant, bool) {
	if p.superuser {
		return domain.Grant{Role: domain.RoleAdmin}, true
	}
	g, ok := p.grants[project]
	return g, ok
}

// Cap limits a grant to another: the weaker role wherever either names one. A token
// acts with its own grant capped by its owner's current one.
func Cap(g, limit domain.Grant) domain.Grant {
	out := domain.Grant{Role: g.Role.Min(limit.Role), EnvironmentRoles: map[string]domain.Role{}}
	for env := range g.EnvironmentRoles {
		out.EnvironmentRoles[env] = g.In(env).Min(limit.In(env))
	}
	for env := range limit.EnvironmentRoles {
		out.EnvironmentRoles[env] = g.In(env).Min(limit.In(env))
	}
	return out
}
