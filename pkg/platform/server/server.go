// Package server is the HTTP skeleton every service shares: New builds the echo
// instance with the middleware each route needs, in the order that makes them work
// together, and the /healthz and /readyz probes; Run serves it with the operations
// listener until a signal or a listener failure, and then shuts down in order.
package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/pkg/platform/openapi"
)

// Checker is a dependency /readyz checks.
type Checker interface {
	Ping(ctx context.Context) error
}

// Readiness says how /readyz weighs its checks.
type Readiness uint8

const (
	// AllReady: the service is ready only while every check passes; otherwise 503,
	// "not ready".
	AllReady Readiness = iota
	// AnyReady: the service is ready while at least one check passes ("degraded" when
	// not all do), for a service that works from any one of its dependencies; 503 only
	// when none passes.
	AnyReady
)

// readyTimeout bounds the checks of one /readyz request.
const readyTimeout = 2 * time.Second

// Options configure New.
type Options struct {
	// MaxBodyBytes caps request bodies (413 beyond).
	MaxBodyBytes int64
	// TrustedProxies are the peers whose X-Forwarded-For names the client (c.RealIP).
	// None: the connection's peer is the client.
	TrustedProxies []*net.IPNet
	// Metrics records requests and Panics counts recovered panics; both optional. The
	// metrics themselves are served on the operations listener (Run), not here.
	Metrics echo.MiddlewareFunc
	Panics  httpapi.PanicCounter
	// AccessLogLevel is the level of the access log's lines for answers below 400
	// (httpapi.AccessLog); the zero value is Info.
	AccessLogLevel slog.Level
	// WrapErrors, when set, wraps the problem+json error handler, to answer some routes
	// in another error shape.
	WrapErrors func(problem echo.HTTPErrorHandler) echo.HTTPErrorHandler
	// Document, when set, is served at /openapi.json and /docs.
	Document *openapi.Doc
	// Ready names the dependencies /readyz checks, and Readiness how it weighs them.
	Ready     map[string]Checker
	Readiness Readiness
}

// Echo is an echo instance whose global middleware, Pre and Use, is composed once,
// when it first serves, rather than on every request as echo composes it: each
// composition allocates a closure per middleware, which at the evaluator's request
// rates was a tenth of all it allocated. Routes are registered on it as on echo.
// Middleware must be added before the first request (Pre and Use panic after), and
// through Pre and Use: the embedded echo's own lists are not run.
type Echo struct {
	*echo.Echo
	pre, use []echo.MiddlewareFunc
	once     sync.Once
	composed atomic.Bool
	chain    echo.HandlerFunc
}

// Pre adds middleware that runs before routing.
func (e *Echo) Pre(m ...echo.MiddlewareFunc) { e.pre = append(e.pre, m...); e.mustBeOpen() }

// Use adds middleware that runs after routing, around the route's handler.
func (e *Echo) Use(m ...echo.MiddlewareFunc) { e.use = append(e.use, m...); e.mustBeOpen() }

// mustBeOpen panics when the chain is composed already: middleware added later would
// be silently left out.
func (e *Echo) mustBeOpen() {
	if e.composed.Load() {
		panic("server.Echo: middleware added after the first request")
	}
}

// ServeHTTP serves a request as echo does, through the composed chain.
func (e *Echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.once.Do(e.compose)
	c := e.AcquireContext()
	c.Reset(r, w)
	if err := e.chain(c); err != nil {
		e.HTTPErrorHandler(err, c)
	}
	e.ReleaseContext(c)
}

// compose builds pre → routing → use → the route's handler, the order echo runs them
// in.
func (e *Echo) compose() {
	e.composed.Store(true)
	routed := Chain(func(c echo.Context) error { return c.Handler()(c) }, e.use...)
	router := e.Router()
	e.chain = Chain(func(c echo.Context) error {
		r := c.Request()
		router.Find(r.Method, echo.GetPath(r), c)
		return routed(c)
	}, e.pre...)
}

// Chain wraps h in m, the first outermost, once: echo composes a route's own middleware
// on every request, so a hot route is registered with its middleware chained here.
func Chain(h echo.HandlerFunc, m ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(m) - 1; i >= 0; i-- {
		h = m[i](h)
	}
	return h
}

// New returns an echo instance with the error handler, the JSON serializer and the
// middleware every service uses, the OpenAPI document and the probes registered; the
// service adds its routes.
func New(log *slog.Logger, opt Options) *Echo {
	e := &Echo{Echo: echo.New()}
	// Limits that count client addresses count the connection's, or the one a trusted
	// proxy forwards, never one a client merely claims.
	e.IPExtractor = httpapi.IPExtractor(opt.TrustedProxies)
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = httpapi.ErrorHandler(log)
	if opt.WrapErrors != nil {
		e.HTTPErrorHandler = opt.WrapErrors(e.HTTPErrorHandler)
	}
	e.JSONSerializer = httpapi.JSONSerializer{}
	e.Use(httpapi.RequestID(), httpapi.AccessLog(log, opt.AccessLogLevel))
	if opt.Metrics != nil {
		e.Use(opt.Metrics)
	}
	// Recover sits inside the log and the metrics, so a panic's 500 shows in both;
	// bad bytes are refused before anything reads them.
	e.Use(httpapi.Recover(log, opt.Panics), httpapi.RejectBadText(), httpapi.BodyLimit(opt.MaxBodyBytes))
	if opt.Document != nil {
		opt.Document.Register(e.Echo)
	}
	e.GET("/healthz", healthz)
	e.GET("/readyz", readyz(opt.Ready, opt.Readiness))
	return e
}

func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers {"status": "ready" | "degraded" | "not ready", "checks": {name: "ok" |
// "unavailable"}}.
func readyz(checks map[string]Checker, policy Readiness) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
		defer cancel()
		states := make(map[string]string, len(checks))
		reachable := 0
		for name, chk := range checks {
			if err := chk.Ping(ctx); err != nil {
				states[name] = "unavailable"
				continue
			}
			states[name] = "ok"
			reachable++
		}
		status, state := http.StatusOK, "ready"
		switch {
		case reachable == len(checks):
		case policy == AnyReady && reachable > 0:
			state = "degraded"
		default:
			status, state = http.StatusServiceUnavailable, "not ready"
		}
		return c.JSON(status, map[string]any{"status": state, "checks": states})
	}
}
