package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/services/admin/internal/auth"
)

// Handlers have one shape: decode the request, make one call into the service, encode
// the answer. The helpers below are that shape; the handlers of each resource are the
// call, and the route table (api.go) says which shape each route has.

// body handles a request with a JSON body: decode it, call, answer status with the
// result.
func body[In, Out any](status int, call func(c echo.Context, in In) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in In
		if err := httpapi.Decode(c, &in); err != nil {
			return err
		}
		out, err := call(c, in)
		return respond(c, status, out, err)
	}
}

// optionalBody is body for requests whose body may be left out.
func optionalBody[In, Out any](status int, call func(c echo.Context, in In) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		var in In
		if c.Request().ContentLength != 0 {
			if err := httpapi.Decode(c, &in); err != nil {
				return err
			}
		}
		out, err := call(c, in)
		return respond(c, status, out, err)
	}
}

// noBody handles a request without a body: call, answer status with the result.
func noBody[Out any](status int, call func(c echo.Context) (Out, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		out, err := call(c)
		return respond(c, status, out, err)
	}
}

// noContent handles a request whose success has nothing to show: call, answer 204.
func noContent(call func(c echo.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := call(c); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// respond answers status with a call's result, or returns its error.
func respond[Out any](c echo.Context, status int, out Out, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(status, out)
}

// paged handles a paged list: the query's limit and cursor, the service's page, and
// the cursor of the next one. The service deals in keys; cursors are this layer's.
func paged[T any](list func(c echo.Context, page domain.Keyset) ([]T, string, error)) echo.HandlerFunc {
	return filtered(noFilter, func(c echo.Context, _ struct{}, page domain.Keyset) ([]T, string, error) { return list(c, page) })
}

func noFilter(echo.Context, *httpapi.Query) struct{} { return struct{}{} }

// filtered is paged for lists that read a filter from the query too; every problem of
// the query is reported at once.
func filtered[F, T any](filter func(c echo.Context, q *httpapi.Query) F,
	list func(c echo.Context, f F, page domain.Keyset) ([]T, string, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := httpapi.NewQuery(c)
		page := q.Page()
		f := filter(c, q)
		if err := q.Err(); err != nil {
			return err
		}
		after, err := httpapi.DecodeCursor(page.Cursor)
		if err != nil {
			return err
		}
		items, next, err := list(c, f, domain.Keyset{After: after, Limit: page.Limit})
		if err != nil {
			return err
		}
		return listed(c, items, httpapi.EncodeCursor(next))
	}
}

// unpaged handles a list that is never paged.
func unpaged[T any](list func(c echo.Context) ([]T, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		items, err := list(c)
		if err != nil {
			return err
		}
		return listed(c, items, "")
	}
}

func listed[T any](c echo.Context, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	return c.JSON(http.StatusOK, httpapi.List[T]{Items: items, NextCursor: next})
}

// located sets the Location of what a successful call created.
func located(c echo.Context, err error, location string) error {
	if err == nil {
		c.Response().Header().Set(echo.HeaderLocation, location)
	}
	return err
}

// noStore keeps a successful answer holding a secret out of caches.
func noStore(c echo.Context, err error) error {
	if err == nil {
		c.Response().Header().Set("Cache-Control", "no-store")
	}
	return err
}

// ctx is the request's context.
func ctx(c echo.Context) context.Context { return c.Request().Context() }

// origin names the caller behind a request, and what it may do.
func origin(c echo.Context) domain.Origin {
	p, _ := c.Get("principal").(*auth.Principal)
	if p == nil {
		return domain.Origin{RequestID: httpapi.RequestIDOf(c), Address: httpapi.ClientKey(c.RealIP()), Access: auth.Member(domain.Actor{}, "", nil)}
	}
	return domain.Origin{Actor: p.Actor, RequestID: httpapi.RequestIDOf(c), Address: httpapi.ClientKey(c.RealIP()), Access: p}
}

// param returns a path parameter, unescaped: flag keys may hold "/", sent as %2F.
func param(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}
