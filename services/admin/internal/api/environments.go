package api

import (
	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func (a *API) createEnvironment(c echo.Context, in service.EnvironmentInput) (domain.Environment, error) {
	project := param(c, "project")
	e, err := a.svc.CreateEnvironment(ctx(c), origin(c), project, in)
	return e, located(c, err, "/api/v1/projects/"+project+"/environments/"+e.Key)
}

func (a *API) listEnvironments(c echo.Context, page domain.Keyset) ([]domain.Environment, string, error) {
	return a.svc.Environments(ctx(c), origin(c), param(c, "project"), page)
}

func (a *API) getEnvironment(c echo.Context) (domain.Environment, error) {
	return a.svc.Environment(ctx(c), origin(c), param(c, "project"), param(c, "env"))
}

func (a *API) updateEnvironment(c echo.Context, in service.EnvironmentPatch) (domain.Environment, error) {
	return a.svc.UpdateEnvironment(ctx(c), origin(c), param(c, "project"), param(c, "env"), in)
}

func (a *API) deleteEnvironment(c echo.Context) error {
	return a.svc.DeleteEnvironment(ctx(c), origin(c), param(c, "project"), param(c, "env"))
}
