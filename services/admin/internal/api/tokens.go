package api

import (
	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func (a *API) createToken(c echo.Context, in service.TokenInput) (domain.APIToken, error) {
	t, err := a.svc.CreateToken(ctx(c), origin(c), in)
	return t, noStore(c, located(c, err, "/api/v1/tokens/"+t.ID))
}

func (a *API) listTokens(c echo.Context) ([]domain.APIToken, error) {
	return a.svc.Tokens(ctx(c), origin(c))
}

func (a *API) revokeToken(c echo.Context) error {
	return a.svc.RevokeToken(ctx(c), origin(c), param(c, "id"))
}
