package ui

import (
	"net/http"
	"net/url"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

type projectListPage struct {
	*layout
	CanCreate perm
	Form      struct{ Key, Name, Description string }
	Errors    *errs
}

// home opens the user's project: the only one, or the list to choose from.
func (h *handler) home(r *request) error {
	projects, _, err := h.svc.Projects(r.ctx(), r.origin(), domain.Keyset{Limit: 2})
	if err != nil {
		return err
	}
	if len(projects) == 1 {
		return r.Redirect(http.StatusSeeOther, "/projects/"+url.PathEscape(projects[0].Key)+"/flags")
	}
	return h.projectList(r)
}

// projectSwitch opens the project the switcher names.
func (h *handler) projectSwitch(r *request) error {
	p := r.QueryParam("project")
	if p == "" {
		return r.Redirect(http.StatusSeeOther, "/projects")
	}
	return r.Redirect(http.StatusSeeOther, "/projects/"+url.PathEscape(p)+"/flags")
}

// projectHome is a project's address; its flags are its front page.
func (h *handler) projectHome(r *request) error {
	return r.Redirect(http.StatusSeeOther, "/projects/"+url.PathEscape(r.param("project"))+"/flags")
}

// projectList lists the projects the user can see; instance administrators create
// them here.
func (h *handler) projectList(r *request) error {
	l, err := r.layout("Projects", "projects", "")
	if err != nil {
		return err
	}
	p := &projectListPage{layout: l, CanCreate: perm{OK: r.p.Superuser(), Reason: "only instance administrators create projects"}}
	return r.page("projects", p)
}

// projectCreate creates a project (instance administrators).
func (h *handler) projectCreate(r *request) error {
	in := form.Project(r.form())
	pr, err := h.svc.CreateProject(r.ctx(), r.origin(), in)
	if domain.ErrorCode(err) == domain.CodeInvalid || domain.ErrorCode(err) == domain.CodeConflict {
		l, lerr := r.layout("Projects", "projects", "")
		if lerr != nil {
			return lerr
		}
		p := &projectListPage{layout: l, CanCreate: perm{OK: true}, Errors: newErrs(err)}
		p.Form.Key, p.Form.Name, p.Form.Description = in.Key, in.Name, in.Description
		if domain.ErrorCode(err) == domain.CodeConflict {
			p.Errors = newErrs(domain.InvalidField("project", "key", domain.ErrorMessage(err)))
		}
		return r.h.render(r, statusOf(err), "projects", p)
	}
	if err != nil {
		return err
	}
	return r.seeOther("/projects/"+url.PathEscape(pr.Key)+"/flags", "Project "+pr.Key+" created, with development, staging and production.")
}
