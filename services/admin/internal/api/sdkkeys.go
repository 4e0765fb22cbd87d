package api

import (
	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func (a *API) createSDKKey(c echo.Context, in service.SDKKeyInput) (domain.SDKKey, error) {
	project, env := param(c, "project"), param(c, "env")
	k, err := a.svc.CreateSDKKey(ctx(c), origin(c), project, env, in)
	return k, noStore(c, located(c, err, "/api/v1/projects/"+project+"/environments/"+env+"/sdk-keys/"+k.ID))
}

func (a *API) listSDKKeys(c echo.Context) ([]domain.SDKKey, error) {
	return a.svc.SDKKeys(ctx(c), origin(c), param(c, "project"), param(c, "env"))
}

func (a *API) rotateSDKKey(c echo.Context, in service.RotateInput) (map[string]domain.SDKKey, error) {
	fresh, old, err := a.svc.RotateSDKKey(ctx(c), origin(c), param(c, "project"), param(c, "env"), param(c, "id"), in)
	return map[string]domain.SDKKey{"key": fresh, "previous": old}, noStore(c, err)
}

func (a *API) revokeSDKKey(c echo.Context) error {
	return a.svc.RevokeSDKKey(ctx(c), origin(c), param(c, "project"), param(c, "env"), param(c, "id"))
}
