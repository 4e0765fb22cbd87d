package api

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func (a *API) createFlag(c echo.Context, in service.FlagInput) (domain.FlagDetail, error) {
	project := param(c, "project")
	f, err := a.svc.CreateFlag(ctx(c), origin(c), project, in)
	return f, located(c, err, "/api/v1/projects/"+project+"/flags/"+url.PathEscape(f.Key))
}

func flagFilter(c echo.Context, q *httpapi.Query) domain.FlagFilter {
	f := domain.FlagFilter{Tag: c.QueryParam("tag"), Query: c.QueryParam("q"), Archived: q.Bool("archived")}
	if c.QueryParam("stale") != "" {
		stale := q.Bool("stale")
		f.Stale = &stale
	}
	return f
}

func (a *API) listFlags(c echo.Context, f domain.FlagFilter, page domain.Keyset) ([]domain.FlagSummary, string, error) {
	return a.svc.Flags(ctx(c), origin(c), param(c, "project"), f, page)
}

func (a *API) getFlag(c echo.Context) (domain.FlagDetail, error) {
	return a.svc.Flag(ctx(c), origin(c), param(c, "project"), param(c, "flag"))
}

func (a *API) updateFlag(c echo.Context, in service.FlagPatch) (domain.FlagDetail, error) {
	return a.svc.UpdateFlag(ctx(c), origin(c), param(c, "project"), param(c, "flag"), in)
}

func (a *API) deleteFlag(c echo.Context) error {
	return a.svc.DeleteFlag(ctx(c), origin(c), param(c, "project"), param(c, "flag"))
}

func (a *API) kill(c echo.Context) (domain.FlagDetail, error) {
	return a.svc.Kill(ctx(c), origin(c), param(c, "project"), param(c, "flag"), true)
}

func (a *API) unkill(c echo.Context) (domain.FlagDetail, error) {
	return a.svc.Kill(ctx(c), origin(c), param(c, "project"), param(c, "flag"), false)
}

func (a *API) evaluations(c echo.Context) error {
	q := httpapi.NewQuery(c)
	since, until := q.Time("since"), q.Time("until")
	if err := q.Err(); err != nil {
		return err
	}
	ev, err := a.svc.EvaluationSeries(ctx(c), origin(c), param(c, "project"), param(c, "flag"), c.QueryParam("environment"),
		since, until, domain.BucketSize(c.QueryParam("bucket")))
	return respond(c, http.StatusOK, ev, err)
}
