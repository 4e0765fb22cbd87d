package api

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// configView is a configuration as the API shows it: the wire contract's shape plus
// the flag and environment it belongs to.
type configView struct {
	domain.Config
	Flag        string `json:"flag"`
	Environment string `json:"environment"`
}

// configAnswer shows a configuration, with its version as the ETag.
func configAnswer(c echo.Context, st domain.ConfigState, err error) (configView, error) {
	if err != nil {
		return configView{}, err
	}
	c.Response().Header().Set("ETag", strconv.Quote(strconv.FormatInt(st.Config.Version, 10)))
	return configView{Config: st.Config, Flag: st.Flag.Key, Environment: st.Environment.Key}, nil
}

func (a *API) getConfig(c echo.Context) (configView, error) {
	st, err := a.svc.Config(ctx(c), origin(c), param(c, "project"), param(c, "flag"), param(c, "env"))
	return configAnswer(c, st, err)
}

func (a *API) replaceConfig(c echo.Context, in service.ConfigInput) (configView, error) {
	st, err := a.svc.ReplaceConfig(ctx(c), origin(c), param(c, "project"), param(c, "flag"), param(c, "env"),
		in, c.Request().Header.Get("If-Match"))
	return configAnswer(c, st, err)
}

func (a *API) toggle(c echo.Context, in service.ToggleInput) (configView, error) {
	st, err := a.svc.Toggle(ctx(c), origin(c), param(c, "project"), param(c, "flag"), param(c, "env"), in)
	return configAnswer(c, st, err)
}

func (a *API) revertConfig(c echo.Context, in service.RevertInput) (configView, error) {
	st, err := a.svc.RevertConfig(ctx(c), origin(c), param(c, "project"), param(c, "flag"), param(c, "env"),
		in, c.Request().Header.Get("If-Match"))
	return configAnswer(c, st, err)
}
