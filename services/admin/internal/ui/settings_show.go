package ui

import (
	"net/url"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

type settingsPage struct {
	*layout
	Envs      []envSetting
	CanCreate perm // environments, and the project's own settings (admin in the project)
	CanAdmin  perm // members (admin in the project and every environment)
	Form      service.EnvironmentInput
	Errors    *errs
	// ProjectErrors are the problems of the project's settings form.
	ProjectErrors *errs
}

type envSetting struct {
	domain.Environment
	URL string
	Can perm
}

// settingsShow shows a project's environments, and the ways to its members and tokens.
func (h *handler) settingsShow(r *request) error {
	p, err := h.settingsPage(r, r.param("project"))
	if err != nil {
		return err
	}
	return r.page("settings", p)
}

func (h *handler) settingsPage(r *request, project string) (*settingsPage, error) {
	l, err := r.layout("Settings", "settings", project)
	if err != nil {
		return nil, err
	}
	envs, err := r.environments(project)
	if err != nil {
		return nil, err
	}
	o := r.origin()
	p := &settingsPage{layout: l, CanCreate: allow(o.Need(project, "", domain.RoleAdmin)),
		CanAdmin: allow(service.MayAdministerEverywhere(o, project, envs))}
	for _, e := range envs {
		p.Envs = append(p.Envs, envSetting{Environment: e, URL: "/projects/" + url.PathEscape(project) + "/environments/" + url.PathEscape(e.Key),
			Can: allow(o.Need(project, e.Key, domain.RoleAdmin))})
	}
	return p, nil
}

// environmentCreate adds an environment to the project.
func (h *handler) environmentCreate(r *request) error {
	project := r.param("project")
	in := form.Environment(r.form())
	e, err := h.svc.CreateEnvironment(r.ctx(), r.origin(), project, in)
	if err == nil {
		return r.seeOther("/projects/"+url.PathEscape(project)+"/settings", "Environment "+e.Key+" created: every flag is off there.")
	}
	switch domain.ErrorCode(err) {
	case domain.CodeInvalid, domain.CodeConflict, domain.CodeLimit:
	default:
		return err
	}
	p, perr := h.settingsPage(r, project)
	if perr != nil {
		return perr
	}
	p.Form, p.Errors = in, newErrs(err)
	if len(domain.ErrorFields(err)) == 0 {
		p.Errors = newErrs(domain.InvalidField("environment", "key", domain.ErrorMessage(err)))
	}
	return r.h.render(r, statusOf(err), "settings", p)
}

// projectUpdate changes a project's name, description and how long a flag may go
// unevaluated before the list calls it stale.
func (h *handler) projectUpdate(r *request) error {
	project := r.param("project")
	in, err := form.ProjectPatch(r.form())
	if err == nil {
		if _, err = h.svc.UpdateProject(r.ctx(), r.origin(), project, in); err == nil {
			return r.seeOther("/projects/"+url.PathEscape(project)+"/settings", "Project settings saved.")
		}
	}
	if domain.ErrorCode(err) != domain.CodeInvalid {
		return err
	}
	p, perr := h.settingsPage(r, project)
	if perr != nil {
		return perr
	}
	p.ProjectErrors = newErrs(err)
	p.Project.Name, p.Project.Description = *in.Name, *in.Description
	return r.h.render(r, statusOf(err), "settings", p)
}
