package api

import (
	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func (a *API) listMembers(c echo.Context) ([]domain.Member, error) {
	return a.svc.Members(ctx(c), origin(c), param(c, "project"))
}

func (a *API) setMember(c echo.Context, in service.MemberInput) (domain.Grant, error) {
	return a.svc.SetMember(ctx(c), origin(c), param(c, "project"), param(c, "user"), in)
}

func (a *API) removeMember(c echo.Context) error {
	return a.svc.RemoveMember(ctx(c), origin(c), param(c, "project"), param(c, "user"))
}
