package api

import (
	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func (a *API) explain(c echo.Context, in service.ExplainInput) (service.Explanation, error) {
	return a.svc.Explain(ctx(c), origin(c), param(c, "project"), param(c, "env"), in)
}
