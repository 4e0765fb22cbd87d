package form

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// Login is the sign-in form.
type Login struct {
	Email    string
	Password string
}

// NewLogin reads the sign-in form.
func NewLogin(v url.Values) Login {
	return Login{Email: strings.TrimSpace(v.Get("email")), Password: v.Get("password")}
}

// Validate names what is missing.
func (l Login) Validate() error {
	var p Problems
	if l.Email == "" {
		p.Add("email", "is required")
	}
	if l.Password == "" {
		p.Add("password", "is required")
	}
	return p.Err("sign-in")
}

// Project creates a project.
func Project(v url.Values) service.ProjectInput {
	return service.ProjectInput{Key: strings.TrimSpace(v.Get("key")), Name: strings.TrimSpace(v.Get("name")),
		Description: v.Get("description")}
}

// ProjectPatch changes a project: name, description, and the days a flag may go
// unevaluated before it is called stale.
func ProjectPatch(v url.Values) (service.ProjectPatch, error) {
	var p Problems
	name, desc := strings.TrimSpace(v.Get("name")), v.Get("description")
	in := service.ProjectPatch{Name: &name, Description: &desc}
	if s := strings.TrimSpace(v.Get("stale_after_days")); s != "" {
		days, err := strconv.Atoi(s)
		if err != nil {
			p.Add("stale_after_days", "must be a whole number of days")
		}
		in.StaleAfterDays = &days
	}
	return in, p.Err("project")
}

// Environment creates an environment.
func Environment(v url.Values) service.EnvironmentInput {
	return service.EnvironmentInput{Key: strings.TrimSpace(v.Get("key")), Name: strings.TrimSpace(v.Get("name")),
		Description: v.Get("description"), Protected: checked(v, "protected")}
}

// EnvironmentPatch changes an environment: name, description and protection, all
// posted by its settings form.
func EnvironmentPatch(v url.Values) service.EnvironmentPatch {
	name, desc, protected := strings.TrimSpace(v.Get("name")), v.Get("description"), checked(v, "protected")
	return service.EnvironmentPatch{Name: &name, Description: &desc, Protected: &protected}
}

// SDKKey creates an SDK key; the service checks its kind (empty: server).
func SDKKey(v url.Values) (service.SDKKeyInput, error) {
	var p Problems
	in := service.SDKKeyInput{Name: strings.TrimSpace(v.Get("name")), Kind: strings.TrimSpace(v.Get("kind")),
		ExpiresAt: optionalTime(v, "expires_at", &p)}
	return in, p.Err("SDK key")
}

// Rotation rotates an SDK key.
func Rotation(v url.Values) service.RotateInput {
	return service.RotateInput{GracePeriod: strings.TrimSpace(v.Get("grace_period"))}
}

// Member is the membership form: a user (by id; instance administrators may give an
// email, which the handler looks up), a project role and optional overrides per
// environment (role_<env>; empty inherits the project role).
type Member struct {
	User  string
	Input service.MemberInput
}

// NewMember reads the membership form for a project with environments envs.
func NewMember(v url.Values, envs []string) (Member, error) {
	var p Problems
	m := Member{User: strings.TrimSpace(v.Get("user")), Input: service.MemberInput{Role: role(v, "role"),
		EnvironmentRoles: map[string]domain.Role{}}}
	if m.User == "" {
		p.Add("user", "is required: a user id, or an email for instance administrators")
	}
	for _, e := range envs {
		if r := role(v, "role_"+e); r != "" {
			m.Input.EnvironmentRoles[e] = r
		}
	}
	return m, p.Err("membership")
}

// Token creates an API token in a project with environments envs.
func Token(v url.Values, project string, envs []string) (service.TokenInput, error) {
	var p Problems
	in := service.TokenInput{Name: strings.TrimSpace(v.Get("name")), Project: project, Role: role(v, "role"),
		EnvironmentRoles: map[string]domain.Role{}, ExpiresAt: optionalTime(v, "expires_at", &p)}
	for _, e := range envs {
		if r := role(v, "role_"+e); r != "" {
			in.EnvironmentRoles[e] = r
		}
	}
	return in, p.Err("token")
}

// User creates a user.
func User(v url.Values) service.UserInput {
	return service.UserInput{Email: strings.TrimSpace(v.Get("email")), Name: strings.TrimSpace(v.Get("name")),
		Password: v.Get("password"), InstanceAdmin: checked(v, "instance_admin")}
}

// UserPatch is what an instance administrator changes of a user: one action per form
// (action=disable, enable, password, profile).
func UserPatch(v url.Values) (service.UserPatch, error) {
	var p Problems
	var in service.UserPatch
	switch v.Get("action") {
	case "disable", "enable":
		d := v.Get("action") == "disable"
		in.Disabled = &d
	case "password":
		pw := v.Get("password")
		in.Password = &pw
	case "profile":
		name := strings.TrimSpace(v.Get("name"))
		admin := checked(v, "instance_admin")
		in.Name, in.InstanceAdmin = &name, &admin
	default:
		p.Add("action", "is not one of disable, enable, password, profile")
	}
	return in, p.Err("user")
}
