package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// PanicCounter counts recovered panics (a Prometheus counter).
type PanicCounter interface{ Inc() }

// Recover turns a panic in a handler, or in a middleware after it, into a 500 answered
// through the error handler (so in the route's own error shape), instead of a dropped
// connection. It logs the panic with the request id, the route and the stack; never the
// headers, which carry credentials. panics may be nil.
func Recover(log *slog.Logger, panics PanicCounter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				if e, ok := r.(error); ok && errors.Is(e, http.ErrAbortHandler) {
					panic(r) // net/http's way to abort a response on purpose
				}
				if panics != nil {
					panics.Inc()
				}
				log.LogAttrs(c.Request().Context(), slog.LevelError, "panic",
					slog.String("request_id", RequestIDOf(c)),
					slog.String("method", c.Request().Method),
					slog.String("route", c.Path()),
					slog.Any("panic", r),
					slog.String("stack", string(debug.Stack())))
				err = domain.Errorf(domain.CodeInternal, "internal error")
			}()
			return next(c)
		}
	}
}
