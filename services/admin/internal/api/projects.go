package api

import (
	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func (a *API) createProject(c echo.Context, in service.ProjectInput) (domain.Project, error) {
	p, err := a.svc.CreateProject(ctx(c), origin(c), in)
	return p, located(c, err, "/api/v1/projects/"+p.Key)
}

func (a *API) listProjects(c echo.Context, page domain.Keyset) ([]domain.Project, string, error) {
	return a.svc.Projects(ctx(c), origin(c), page)
}

func (a *API) getProject(c echo.Context) (domain.Project, error) {
	return a.svc.Project(ctx(c), origin(c), param(c, "project"))
}

func (a *API) updateProject(c echo.Context, in service.ProjectPatch) (domain.Project, error) {
	return a.svc.UpdateProject(ctx(c), origin(c), param(c, "project"), in)
}

func (a *API) deleteProject(c echo.Context) error {
	return a.svc.DeleteProject(ctx(c), origin(c), param(c, "project"))
}
