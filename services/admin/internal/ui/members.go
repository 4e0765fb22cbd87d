package ui

import (
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

type membersPage struct {
	*layout
	Members []member
	Envs    []domain.Environment
	Roles   []domain.Role
	Can     perm
	Errors  *errs
	// Form pre-fills the membership form: a member being edited, or what was posted.
	Form struct {
		User  string
		Role  domain.Role
		Envs  map[string]domain.Role
		Email string
	}
}

type member struct {
	UserID string
	Email  string
	Name   string
	Grant  domain.Grant
	Since  time.Time // when the role was last set
}

// Overrides lists a member's per-environment roles, sorted.
func (m member) Overrides() []string {
	var out []string
	for e, r := range m.Grant.EnvironmentRoles {
		out = append(out, string(r)+" in "+e)
	}
	sort.Strings(out)
	return out
}

func membersURL(project string) string { return "/projects/" + url.PathEscape(project) + "/members" }

// members lists the project's members (Service.Members), by email.
func (h *handler) members(r *request, project string) ([]member, error) {
	ms, err := h.svc.Members(r.ctx(), r.origin(), project)
	if err != nil {
		return nil, err
	}
	out := make([]member, len(ms))
	for i, m := range ms {
		out[i] = member{UserID: m.UserID, Email: m.Email, Name: m.Name, Grant: m.Grant, Since: m.UpdatedAt}
	}
	return out, nil
}

func (h *handler) membersPage(r *request, project string) (*membersPage, error) {
	l, err := r.layout("Members", "settings", project)
	if err != nil {
		return nil, err
	}
	envs, err := r.environments(project)
	if err != nil {
		return nil, err
	}
	ms, err := h.members(r, project)
	if err != nil {
		return nil, err
	}
	p := &membersPage{layout: l, Members: ms, Envs: envs, Roles: []domain.Role{domain.RoleViewer, domain.RoleDeveloper, domain.RoleAdmin},
		Can: allow(service.MayAdministerEverywhere(r.origin(), project, envs))}
	p.Form.Role, p.Form.Envs = domain.RoleViewer, map[string]domain.Role{}
	return p, nil
}

// memberList shows who has which role in the project; ?user= opens one in the form.
func (h *handler) memberList(r *request) error {
	p, err := h.membersPage(r, r.param("project"))
	if err != nil {
		return err
	}
	if id := r.QueryParam("user"); id != "" {
		for _, m := range p.Members {
			if m.UserID == id {
				p.Form.User, p.Form.Email, p.Form.Role, p.Form.Envs = m.UserID, m.Email, m.Grant.Role, m.Grant.EnvironmentRoles
			}
		}
	}
	return r.page("members", p)
}

// memberSave gives a user a role in the project (replacing any earlier one).
func (h *handler) memberSave(r *request) error {
	project := r.param("project")
	keys, err := r.environmentKeys(project)
	if err != nil {
		return err
	}
	m, err := form.NewMember(r.form(), keys)
	if err == nil {
		m.User, err = h.userID(r, m.User)
	}
	if err == nil {
		if _, err = h.svc.SetMember(r.ctx(), r.origin(), project, m.User, m.Input); err == nil {
			return r.seeOther(membersURL(project), "Role saved.")
		}
	}
	switch domain.ErrorCode(err) {
	case domain.CodeInvalid, domain.CodeNotFound:
	default:
		return err
	}
	p, perr := h.membersPage(r, project)
	if perr != nil {
		return perr
	}
	p.Errors = newErrs(err)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		p.Errors = newErrs(domain.InvalidField("membership", "user", domain.ErrorMessage(err)))
	}
	p.Form.User, p.Form.Role, p.Form.Envs = r.form().Get("user"), m.Input.Role, m.Input.EnvironmentRoles
	return r.h.render(r, statusOf(err), "members", p)
}

// userID resolves the membership form's user: an id as it is; an email, for instance
// administrators, who may list users.
func (h *handler) userID(r *request, s string) (string, error) {
	if !strings.Contains(s, "@") {
		return s, nil
	}
	if !r.p.Superuser() {
		return "", domain.InvalidField("membership", "user", "give the user's id: only instance administrators may look users up by email")
	}
	want := strings.ToLower(s)
	page := domain.Keyset{Limit: domain.MaxPageLimit}
	for {
		users, next, err := h.svc.Users(r.ctx(), r.origin(), page)
		if err != nil {
			return "", err
		}
		if i := slices.IndexFunc(users, func(u domain.User) bool { return strings.ToLower(u.Email) == want }); i >= 0 {
			return users[i].ID, nil
		}
		// Users page in the database's collation, not Go's byte order: read to the end.
		if next == "" {
			return "", domain.InvalidField("membership", "user", "no user has the email "+s)
		}
		page.After = next
	}
}

// memberRemove takes a user's role in the project away.
func (h *handler) memberRemove(r *request) error {
	project, user := r.param("project"), r.param("user")
	if !r.confirmed() {
		return r.confirm("Remove member", sentence("Remove ", b(r.form().Get("email")), " from ", b(project), "? They lose every role in it at once."),
			"Remove", true, membersURL(project), "email")
	}
	if err := h.svc.RemoveMember(r.ctx(), r.origin(), project, user); err != nil {
		return err
	}
	return r.seeOther(membersURL(project), "Member removed.")
}
