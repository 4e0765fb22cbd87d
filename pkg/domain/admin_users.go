package domain

import "time"

// Credentials is what login and session checks need to know about a user.
type Credentials struct {
	User              User
	PasswordHash      string
	PasswordChangedAt time.Time
}

// UserChange is what a change to a user sets; nil fields stay as they are.
type UserChange struct {
	Name          *string
	Disabled      *bool
	InstanceAdmin *bool
	PasswordHash  *string
}

// TokenFilter selects API tokens: those of the projects named, or owned by the user;
// all when All is set.
type TokenFilter struct {
	All      bool
	Projects []string
	OwnerID  string
}
