package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

func list[T any](c echo.Context, items []T, next string, err error) error {
	if err != nil {
		return err
	}
	if items == nil {
		items = []T{}
	}
	return c.JSON(http.StatusOK, httpapi.List[T]{Items: items, NextCursor: next})
}

func created(c echo.Context, location string, v any) error {
	c.Response().Header().Set(echo.HeaderLocation, location)
	return c.JSON(http.StatusCreated, v)
}

// Projects.

func (a *API) createProject(c echo.Context) error {
	var in service.ProjectInput
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	p, err := a.svc.CreateProject(c.Request().Context(), origin(c), in)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/projects/"+p.Key, p)
}

func (a *API) listProjects(c echo.Context) error {
	page, err := httpapi.PageOf(c)
	if err != nil {
		return err
	}
	items, next, err := a.svc.Projects(c.Request().Context(), origin(c), page)
	return list(c, items, next, err)
}

func (a *API) getProject(c echo.Context) error {
	p, err := a.svc.Project(c.Request().Context(), origin(c), param(c, "project"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a *API) updateProject(c echo.Context) error {
	var in service.ProjectPatch
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	p, err := a.svc.UpdateProject(c.Request().Context(), origin(c), param(c, "project"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (a *API) deleteProject(c echo.Context) error {
	if err := a.svc.DeleteProject(c.Request().Context(), origin(c), param(c, "project")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Environments.

func (a *API) createEnvironment(c echo.Context) error {
	var in service.EnvironmentInput
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	project := param(c, "project")
	e, err := a.svc.CreateEnvironment(c.Request().Context(), origin(c), project, in)
	if err != nil {
		return err
	}
	return created(c, fmt.Sprintf("/api/v1/projects/%s/environments/%s", project, e.Key), e)
}

func (a *API) listEnvironments(c echo.Context) error {
	page, err := httpapi.PageOf(c)
	if err != nil {
		return err
	}
	items, next, err := a.svc.Environments(c.Request().Context(), origin(c), param(c, "project"), page)
	return list(c, items, next, err)
}

func (a *API) getEnvironment(c echo.Context) error {
	e, err := a.svc.Environment(c.Request().Context(), origin(c), param(c, "project"), param(c, "env"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (a *API) updateEnvironment(c echo.Context) error {
	var in service.EnvironmentPatch
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	e, err := a.svc.UpdateEnvironment(c.Request().Context(), origin(c), param(c, "project"), param(c, "env"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (a *API) deleteEnvironment(c echo.Context) error {
	if err := a.svc.DeleteEnvironment(c.Request().Context(), origin(c), param(c, "project"), param(c, "env")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Flags.

func (a *API) createFlag(c echo.Context) error {
	var in service.FlagInput
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	project := param(c, "project")
	f, err := a.svc.CreateFlag(c.Request().Context(), origin(c), project, in)
	if err != nil {
		return err
	}
	return created(c, fmt.Sprintf("/api/v1/projects/%s/flags/%s", project, url.PathEscape(f.Key)), f)
}

func (a *API) listFlags(c echo.Context) error {
	q := httpapi.NewQuery(c)
	page := q.Page()
	filter := domain.FlagFilter{Tag: c.QueryParam("tag"), Query: c.QueryParam("q"), Archived: q.Bool("archived")}
	if err := q.Err(); err != nil {
		return err
	}
	items, next, err := a.svc.Flags(c.Request().Context(), origin(c), param(c, "project"), filter, page)
	return list(c, items, next, err)
}

func (a *API) getFlag(c echo.Context) error {
	f, err := a.svc.Flag(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

func (a *API) updateFlag(c echo.Context) error {
	var in service.FlagPatch
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	f, err := a.svc.UpdateFlag(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

func (a *API) deleteFlag(c echo.Context) error {
	if err := a.svc.DeleteFlag(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) kill(c echo.Context) error {
	f, err := a.svc.Kill(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag"), true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

func (a *API) unkill(c echo.Context) error {
	f, err := a.svc.Kill(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag"), false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

// Configurations.

// configView is a configuration as the API shows it: the wire contract's shape plus
// the flag and environment it belongs to.
type configView struct {
	domain.Config
	Flag        string `json:"flag"`
	Environment string `json:"environment"`
}

func configJSON(c echo.Context, st postgres.ConfigState) error {
	c.Response().Header().Set("ETag", strconv.Quote(strconv.FormatInt(st.Config.Version, 10)))
	return c.JSON(http.StatusOK, configView{Config: st.Config, Flag: st.Flag.Key, Environment: st.Environment.Key})
}

func (a *API) getConfig(c echo.Context) error {
	st, err := a.svc.Config(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag"), param(c, "env"))
	if err != nil {
		return err
	}
	return configJSON(c, st)
}

func (a *API) replaceConfig(c echo.Context) error {
	var in service.ConfigInput
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	st, err := a.svc.ReplaceConfig(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag"), param(c, "env"),
		in, c.Request().Header.Get("If-Match"))
	if err != nil {
		return err
	}
	return configJSON(c, st)
}

func (a *API) toggle(c echo.Context) error {
	var in service.ToggleInput
	if c.Request().ContentLength != 0 {
		if err := httpapi.Decode(c, &in); err != nil {
			return err
		}
	}
	st, err := a.svc.Toggle(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag"), param(c, "env"), in)
	if err != nil {
		return err
	}
	return configJSON(c, st)
}

// Audit.

func (a *API) listAudit(c echo.Context) error {
	q := httpapi.NewQuery(c)
	page := q.Page()
	f := domain.AuditFilter{
		ProjectKey: c.QueryParam("project"), FlagKey: c.QueryParam("flag"), EnvironmentKey: c.QueryParam("environment"),
		Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Since: q.Time("since"), Until: q.Time("until"),
	}
	if err := q.Err(); err != nil {
		return err
	}
	items, next, err := a.svc.Audit(c.Request().Context(), origin(c), f, page)
	return list(c, items, next, err)
}

// SDK keys.

func (a *API) createSDKKey(c echo.Context) error {
	var in service.SDKKeyInput
	if c.Request().ContentLength != 0 {
		if err := httpapi.Decode(c, &in); err != nil {
			return err
		}
	}
	project, env := param(c, "project"), param(c, "env")
	k, err := a.svc.CreateSDKKey(c.Request().Context(), origin(c), project, env, in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return created(c, fmt.Sprintf("/api/v1/projects/%s/environments/%s/sdk-keys/%s", project, env, k.ID), k)
}

func (a *API) listSDKKeys(c echo.Context) error {
	keys, err := a.svc.SDKKeys(c.Request().Context(), origin(c), param(c, "project"), param(c, "env"))
	return list(c, keys, "", err)
}

func (a *API) rotateSDKKey(c echo.Context) error {
	var in service.RotateInput
	if c.Request().ContentLength != 0 {
		if err := httpapi.Decode(c, &in); err != nil {
			return err
		}
	}
	fresh, old, err := a.svc.RotateSDKKey(c.Request().Context(), origin(c), param(c, "project"), param(c, "env"), param(c, "id"), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]domain.SDKKey{"key": fresh, "previous": old})
}

func (a *API) revokeSDKKey(c echo.Context) error {
	if err := a.svc.RevokeSDKKey(c.Request().Context(), origin(c), param(c, "project"), param(c, "env"), param(c, "id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Analytics.

func (a *API) evaluations(c echo.Context) error {
	q := httpapi.NewQuery(c)
	since, until := q.Time("since"), q.Time("until")
	if err := q.Err(); err != nil {
		return err
	}
	ev, err := a.svc.Evaluations(c.Request().Context(), origin(c), param(c, "project"), param(c, "flag"), c.QueryParam("environment"), since, until)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ev)
}

// Users, sessions, memberships and tokens.

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) login(c echo.Context) error {
	var in loginRequest
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	token, exp, err := a.opt.Auth.Login(c.Request().Context(), in.Email, in.Password, httpapi.ClientKey(c.RealIP()))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"token": token, "expires_at": exp.UTC()})
}

func (a *API) me(c echo.Context) error {
	me, err := a.svc.Me(c.Request().Context(), origin(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, me)
}

func (a *API) createUser(c echo.Context) error {
	var in service.UserInput
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(c.Request().Context(), origin(c), in)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/users/"+u.ID, u)
}

func (a *API) listUsers(c echo.Context) error {
	page, err := httpapi.PageOf(c)
	if err != nil {
		return err
	}
	items, next, err := a.svc.Users(c.Request().Context(), origin(c), page)
	return list(c, items, next, err)
}

func (a *API) getUser(c echo.Context) error {
	u, err := a.svc.User(c.Request().Context(), origin(c), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (a *API) updateUser(c echo.Context) error {
	var in service.UserPatch
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(c.Request().Context(), origin(c), param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (a *API) setMember(c echo.Context) error {
	var in service.MemberInput
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	g, err := a.svc.SetMember(c.Request().Context(), origin(c), param(c, "project"), param(c, "user"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (a *API) removeMember(c echo.Context) error {
	if err := a.svc.RemoveMember(c.Request().Context(), origin(c), param(c, "project"), param(c, "user")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) createToken(c echo.Context) error {
	var in service.TokenInput
	if err := httpapi.Decode(c, &in); err != nil {
		return err
	}
	t, err := a.svc.CreateToken(c.Request().Context(), origin(c), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return created(c, "/api/v1/tokens/"+t.ID, t)
}

func (a *API) listTokens(c echo.Context) error {
	tokens, err := a.svc.Tokens(c.Request().Context(), origin(c))
	return list(c, tokens, "", err)
}

func (a *API) revokeToken(c echo.Context) error {
	if err := a.svc.RevokeToken(c.Request().Context(), origin(c), param(c, "id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
