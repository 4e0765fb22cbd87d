package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// credentials returns the SDK key: Authorization: Bearer, or X-API-Key.
func credentials(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, token, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.Header.Get("X-API-Key")
}

func (a *API) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		env, err := a.keys.Authenticate(c.Request().Context(), credentials(c.Request()), c.RealIP())
		if err != nil {
			return err
		}
		c.Set("environment", env)
		return next(c)
	}
}

func environment(c echo.Context) string {
	env, _ := c.Get("environment").(string)
	return env
}
