package api

import (
	"github.com/labstack/echo/v4"
	"github.com/switchyard/switchyard/services/admin/internal/auth"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) login(c echo.Context, in loginRequest) (map[string]any, error) {
	token, exp, err := a.auth.Login(ctx(c), in.Email, in.Password, httpapi.ClientKey(c.RealIP()))
	if err != nil {
		return nil, err
	}
	return map[string]any{"token": token, "expires_at": exp.UTC()}, noStore(c, nil)
}

// logout ends the login session the request carries, server-side: its token stops
// working at once, here and in the dashboard. Other credentials are not sessions.
func (a *API) logout(c echo.Context) error {
	if p, _ := c.Get("principal").(*auth.Principal); p == nil {
		return domain.Errorf(domain.CodeUnauthorized, "not signed in")
	} else if _, ok := p.Session(); !ok {
		return domain.InvalidField("request", "Authorization",
			"is not a login session: revoke API tokens with DELETE /api/v1/tokens/{id}; the bootstrap token cannot be ended")
	}
	return a.auth.Logout(ctx(c), credentials(c.Request()))
}

func (a *API) me(c echo.Context) (service.Me, error) {
	return a.svc.Me(ctx(c), origin(c))
}

func (a *API) createUser(c echo.Context, in service.UserInput) (domain.User, error) {
	u, err := a.svc.CreateUser(ctx(c), origin(c), in)
	return u, located(c, err, "/api/v1/users/"+u.ID)
}

func (a *API) listUsers(c echo.Context, page domain.Keyset) ([]domain.User, string, error) {
	return a.svc.Users(ctx(c), origin(c), page)
}

func (a *API) getUser(c echo.Context) (domain.User, error) {
	return a.svc.User(ctx(c), origin(c), param(c, "id"))
}

func (a *API) updateUser(c echo.Context, in service.UserPatch) (domain.User, error) {
	return a.svc.UpdateUser(ctx(c), origin(c), param(c, "id"), in)
}
