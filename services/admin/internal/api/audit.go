package api

import (
	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

func auditFilter(c echo.Context, q *httpapi.Query) domain.AuditFilter {
	return domain.AuditFilter{
		ProjectKey: c.QueryParam("project"), FlagKey: c.QueryParam("flag"), EnvironmentKey: c.QueryParam("environment"),
		Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Since: q.Time("since"), Until: q.Time("until"),
	}
}

func (a *API) listAudit(c echo.Context, f domain.AuditFilter, page domain.Keyset) ([]domain.AuditEntry, string, error) {
	return a.svc.Audit(ctx(c), origin(c), f, page)
}
