package ui

import (
	"net/url"
	"slices"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

type tokensPage struct {
	*layout
	Tokens []domain.APIToken
	Envs   []domain.Environment
	Roles  []domain.Role
	Errors *errs
	Secret *domain.APIToken
	Form   domainTokenForm
}

type domainTokenForm struct {
	Name string
	Role domain.Role
	Envs map[string]domain.Role
}

func tokensURL(project string) string { return "/projects/" + url.PathEscape(project) + "/tokens" }

func (h *handler) tokensPage(r *request, project string) (*tokensPage, error) {
	l, err := r.layout("API tokens", "settings", project)
	if err != nil {
		return nil, err
	}
	envs, err := r.environments(project)
	if err != nil {
		return nil, err
	}
	all, err := h.svc.Tokens(r.ctx(), r.origin())
	if err != nil {
		return nil, err
	}
	p := &tokensPage{layout: l, Envs: envs, Roles: []domain.Role{domain.RoleViewer, domain.RoleDeveloper, domain.RoleAdmin},
		Form: domainTokenForm{Role: domain.RoleViewer, Envs: map[string]domain.Role{}}}
	for _, t := range all {
		if t.Project == project {
			p.Tokens = append(p.Tokens, t)
		}
	}
	return p, nil
}

// tokenList shows the project's API tokens the user may see: all of them for the
// project's admins, their own for everyone else. Anyone may create one for
// themselves, never above their own role.
func (h *handler) tokenList(r *request) error {
	p, err := h.tokensPage(r, r.param("project"))
	if err != nil {
		return err
	}
	return r.page("tokens", p)
}

// tokenCreate creates an API token and shows it, once.
func (h *handler) tokenCreate(r *request) error {
	project := r.param("project")
	keys, err := r.environmentKeys(project)
	if err != nil {
		return err
	}
	in, err := form.Token(r.form(), project, keys)
	var t domain.APIToken
	if err == nil {
		t, err = h.svc.CreateToken(r.ctx(), r.origin(), in)
	}
	if err != nil && domain.ErrorCode(err) != domain.CodeInvalid {
		return err
	}
	p, perr := h.tokensPage(r, project)
	if perr != nil {
		return perr
	}
	if err != nil {
		p.Errors = newErrs(err)
		p.Form = domainTokenForm{Name: in.Name, Role: in.Role, Envs: in.EnvironmentRoles}
		return r.h.render(r, statusOf(err), "tokens", p)
	}
	p.Secret = &t
	return r.page("tokens", p)
}

// tokenRevoke revokes a token at once.
func (h *handler) tokenRevoke(r *request) error {
	project, id := r.param("project"), r.param("id")
	if !r.confirmed() {
		return r.confirm("Revoke token", sentence("Revoke the API token ", b(r.form().Get("name")), " now? Scripts using it stop working at once."),
			"Revoke", true, tokensURL(project), "name")
	}
	// The route names a project: revoke only a token of that project.
	tokens, err := h.svc.Tokens(r.ctx(), r.origin())
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(tokens, func(t domain.APIToken) bool { return t.ID == id && t.Project == project }) {
		return domain.Errorf(domain.CodeNotFound, "no API token %q in project %s", id, project)
	}
	if err := h.svc.RevokeToken(r.ctx(), r.origin(), id); err != nil {
		return err
	}
	return r.seeOther(tokensURL(project), "Token revoked.")
}
