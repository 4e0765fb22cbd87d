package domain

import "time"

// Role is what a principal may do in a project or environment:
// viewer < developer < admin.
type Role string

// Roles, weakest first.
const (
	RoleViewer    Role = "viewer"
	RoleDeveloper Role = "developer"
	RoleAdmin     Role = "admin"
)

// Rank orders roles; an unknown role ranks below viewer.
func (r Role) Rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleDeveloper:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.Rank() > 0 }

// Min returns the weaker of two roles.
func (r Role) Min(o Role) Role {
	if o.Rank() < r.Rank() {
		return o
	}
	return r
}

// Grant is a role in a project with overrides per environment key.
type Grant struct {
	Role             Role            `json:"role"`
	EnvironmentRoles map[string]Role `json:"environment_roles"`
}

// Member is a user's grant in one project, with who the user is.
type Member struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Grant               // role and per-environment overrides
	UpdatedAt time.Time `json:"updated_at"`
}

// In returns the role the grant gives in an environment ("" for the project itself).
func (g Grant) In(env string) Role {
	if r, ok := g.EnvironmentRoles[env]; ok && env != "" {
		return r
	}
	return g.Role
}

// Access decides what the caller of a change may do. A nil Access allows everything
// (the service itself: seeding, migrations).
type Access interface {
	// Need returns nil when the caller holds at least role need in the project (in the
	// environment, when env is not empty), else a forbidden error naming the role needed.
	Need(project, env string, need Role) error
	// Superuser reports whether the caller may do anything (the bootstrap token, an
	// instance administrator).
	Superuser() bool
	// Projects lists the projects the caller can see; all is true for superusers.
	Projects() (keys []string, all bool)
	// UserID is the user behind the caller, when there is one.
	UserID() string
}

// Forbidden builds the 403 of a missing role.
func Forbidden(project, env string, need, have Role) error {
	where := "project " + project
	if env != "" {
		where = "environment " + env + " of project " + project
	}
	if have == "" {
		return Errorf(CodeForbidden, "the %s role in %s is needed; you have no role there", need, where)
	}
	return Errorf(CodeForbidden, "the %s role in %s is needed; you have %s", need, where, have)
}

// User is a person who logs in to the admin API.
type User struct {
	ID            string           `json:"id"`
	Email         string           `json:"email"`
	Name          string           `json:"name"`
	InstanceAdmin bool             `json:"instance_admin"`
	Disabled      bool             `json:"disabled"`
	Projects      map[string]Grant `json:"projects,omitempty"`
	CreatedAt     time.Time        `json:"created_at,omitzero"`
	UpdatedAt     time.Time        `json:"updated_at,omitzero"`
}

// APIToken is a token that acts in one project with a role. Token, the secret, is set
// only in the answer that creates it.
type APIToken struct {
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	Prefix           string          `json:"prefix"`
	Project          string          `json:"project"`
	Role             Role            `json:"role"`
	EnvironmentRoles map[string]Role `json:"environment_roles"`
	OwnerID          string          `json:"owner_id,omitempty"`
	CreatedBy        string          `json:"created_by"`
	CreatedAt        time.Time       `json:"created_at"`
	ExpiresAt        *time.Time      `json:"expires_at"`
	RevokedAt        *time.Time      `json:"revoked_at"`
	LastUsedAt       *time.Time      `json:"last_used_at"`
	Token            string          `json:"token,omitempty"`
}

// Access actions of the audit trail.
const (
	ActionUserCreate   = "user.create"
	ActionUserUpdate   = "user.update"
	ActionMemberSet    = "member.set"
	ActionMemberRemove = "member.remove"
	ActionTokenCreate  = "token.create"
	ActionTokenRevoke  = "token.revoke"
)
