package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// origins are the web origins whose pages may call the evaluator (CORS); nil allows
// none, and "*" any.
type origins struct {
	any  bool
	list map[string]bool
}

func newOrigins(list []string) origins {
	o := origins{list: map[string]bool{}}
	for _, s := range list {
		if s == "*" {
			o.any = true
		}
		o.list[s] = true
	}
	return o
}

func (o origins) allow(origin string) bool {
	return o.any || o.list[strings.ToLower(origin)]
}

// browserPath reports whether browsers may call the path: evaluations, their stream
// and evaluation counts, never definitions or their stream.
func browserPath(p string) bool {
	return strings.HasPrefix(p, "/ofrep/v1/") || p == "/api/v1/evaluate" || strings.HasPrefix(p, "/api/v1/evaluate/") ||
		p == "/api/v1/events"
}

// corsHeaders answers CORS for the allowed origins on the paths browsers may call.
// Which key may be used from a browser is the authentication's business: a server key
// with an Origin is refused there, with these headers, so the page can read why.
func (a *API) corsHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !browserPath(r.URL.Path) {
			return next(c)
		}
		// Answers differ by origin: caches must keep them apart, even the answer to a
		// request without one.
		h := c.Response().Header()
		if _, ok := h[echo.HeaderVary]; ok {
			h.Add(echo.HeaderVary, echo.HeaderOrigin)
		} else {
			h[echo.HeaderVary] = varyOrigin
		}
		origin := r.Header.Get(echo.HeaderOrigin)
		if origin == "" {
			return next(c)
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get(echo.HeaderAccessControlRequestMethod) != ""
		if !a.cors.allow(origin) {
			if preflight {
				return domain.Errorf(domain.CodeForbidden, "origin %s is not in CORS_ALLOWED_ORIGINS", origin)
			}
			return next(c)
		}
		h.Set(echo.HeaderAccessControlAllowOrigin, origin)
		h.Set(echo.HeaderAccessControlExposeHeaders, "ETag, Retry-After")
		if preflight {
			h.Add(echo.HeaderVary, echo.HeaderAccessControlRequestMethod)
			h.Add(echo.HeaderVary, echo.HeaderAccessControlRequestHeaders)
			h.Set(echo.HeaderAccessControlAllowMethods, "GET, POST, OPTIONS")
			h.Set(echo.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, If-None-Match, X-API-Key, Last-Event-ID")
			h.Set(echo.HeaderAccessControlMaxAge, "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

// varyOrigin is the Vary header of every answer browsers may cache, one slice shared by
// all of them: Add appends to a copy (its length is its capacity), so none is changed.
var varyOrigin = []string{echo.HeaderOrigin}
